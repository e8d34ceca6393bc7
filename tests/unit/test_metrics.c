/*
 * test_metrics.c — the metrics registry: exact counts from concurrent threads, cumulative
 * histogram buckets, the bounded violation table, and label values escaped in the output.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static metrics_state state = {.reloads_ok = 2, .reloads_failed = 1, .policy_hash = "sha256:ab"};

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static void test_reviews_are_counted_by_labels_and_unknown_values_become_other(void **state_)
{
    (void)state_;
    metrics *m = metrics_create(1700000000.0);
    metrics_review(m, "mutate", "CREATE", "Pod", METRICS_PATCHED, 0.0002);
    metrics_review(m, "mutate", "CREATE", "Pod", METRICS_PATCHED, 0.0002);
    metrics_review(m, "validate", "PATCH", "Secret", METRICS_ERROR, 2.0);
    char *t = metrics_render(m, &state);
    assert_true(has_line(t, "seccomp_webhook_requests_total{endpoint=\"mutate\",operation="
                            "\"CREATE\",kind=\"Pod\",decision=\"patched\"} 2"));
    assert_true(has_line(t, "seccomp_webhook_requests_total{endpoint=\"validate\",operation="
                            "\"other\",kind=\"other\",decision=\"error\"} 1"));
    assert_null(strstr(t, "Secret"));
    free(t);
    metrics_free(m);
}

static void test_histogram_buckets_are_cumulative(void **state_)
{
    (void)state_;
    metrics *m = metrics_create(0);
    metrics_review(m, "validate", "CREATE", "Pod", METRICS_ALLOWED, 0.00005); /* <= 100 µs */
    metrics_review(m, "validate", "CREATE", "Pod", METRICS_ALLOWED, 0.0003);  /* <= 500 µs */
    metrics_review(m, "validate", "CREATE", "Pod", METRICS_DENIED, 5.0);      /* +Inf only */
    char *t = metrics_render(m, &state);
    assert_true(has_line(t, "seccomp_webhook_request_duration_seconds_bucket{endpoint="
                            "\"validate\",le=\"0.0001\"} 1"));
    assert_true(has_line(t, "seccomp_webhook_request_duration_seconds_bucket{endpoint="
                            "\"validate\",le=\"0.00025\"} 1"));
    assert_true(has_line(t, "seccomp_webhook_request_duration_seconds_bucket{endpoint="
                            "\"validate\",le=\"0.0005\"} 2"));
    assert_true(has_line(t, "seccomp_webhook_request_duration_seconds_bucket{endpoint="
                            "\"validate\",le=\"1\"} 2"));
    assert_true(has_line(t, "seccomp_webhook_request_duration_seconds_bucket{endpoint="
                            "\"validate\",le=\"+Inf\"} 3"));
    assert_true(has_line(t, "seccomp_webhook_request_duration_seconds_count{endpoint="
                            "\"validate\"} 3"));
    free(t);
    metrics_free(m);
}

typedef struct {
    metrics *m;
    int id;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    char ns[32];
    for (int i = 0; i < 20000; i++) {
        metrics_in_flight(a->m, 1);
        metrics_review(a->m, "validate", "CREATE", "Pod", METRICS_DENIED, 0.001);
        snprintf(ns, sizeof ns, "team-%d", i % 8);
        metrics_violation(a->m, ns, "unconfined");
        metrics_in_flight(a->m, -1);
    }
    return NULL;
}

static void test_concurrent_updates_lose_nothing(void **state_)
{
    (void)state_;
    metrics *m = metrics_create(0);
    pthread_t t[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){m, i};
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char *text = metrics_render(m, &state);
    assert_true(has_line(text, "seccomp_webhook_requests_total{endpoint=\"validate\",operation="
                               "\"CREATE\",kind=\"Pod\",decision=\"denied\"} 80000"));
    for (int i = 0; i < 8; i++) {
        char line[128];
        snprintf(line, sizeof line,
                 "seccomp_webhook_violations_total{namespace=\"team-%d\",rule=\"unconfined\"} "
                 "10000",
                 i);
        assert_true(has_line(text, line));
    }
    assert_true(has_line(text, "seccomp_webhook_requests_in_flight 0"));
    free(text);
    metrics_free(m);
}

static void test_violation_namespaces_are_bounded(void **state_)
{
    (void)state_;
    metrics *m = metrics_create(0);
    char ns[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(ns, sizeof ns, "ns-%d", i);
        metrics_violation(m, ns, "privileged");
    }
    char *t = metrics_render(m, &state);
    /* 1984 series have their own namespace; the other 3016 violations are under "_other". */
    assert_true(has_line(t, "seccomp_webhook_violations_total{namespace=\"_other\",rule="
                            "\"privileged\"} 3016"));
    free(t);
    metrics_free(m);
}

static void test_label_values_are_escaped(void **state_)
{
    (void)state_;
    metrics *m = metrics_create(0);
    metrics_violation(m, "a\"b\\c\nd", "rule");
    metrics_state st = state;
    st.policy_hash = "x\"y";
    st.cert_not_after = 1800000000;
    char *t = metrics_render(m, &st);
    assert_true(has_line(t, "seccomp_webhook_violations_total{namespace=\"a\\\"b\\\\c\\nd\","
                            "rule=\"rule\"} 1"));
    assert_true(has_line(t, "seccomp_webhook_policy_info{hash=\"x\\\"y\"} 1"));
    assert_true(has_line(t, "seccomp_webhook_certificate_expiry_timestamp_seconds 1800000000"));
    assert_true(has_line(t, "seccomp_webhook_policy_reloads_total{outcome=\"failed\"} 1"));
    assert_non_null(strstr(t, "seccomp_webhook_process_resident_memory_bytes "));
    free(t);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reviews_are_counted_by_labels_and_unknown_values_become_other),
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_concurrent_updates_lose_nothing),
        cmocka_unit_test(test_violation_namespaces_are_bounded),
        cmocka_unit_test(test_label_values_are_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
