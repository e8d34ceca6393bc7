/*
 * metrics.c — counters, a latency histogram and gauges, rendered in the Prometheus text
 * format. Label sets are fixed (closed lists of endpoints, operations, kinds and decisions),
 * except the namespaces of violations, which go into a bounded table filled with
 * compare-and-swap; nothing on the request path takes a lock or allocates, except that first
 * insertion of a (namespace, rule) pair.
 */
#include "metrics.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text.h"

static const char *const endpoints[] = {"mutate", "validate"};
static const char *const operations[] = {"CREATE", "UPDATE", "DELETE", "CONNECT", "other"};
static const char *const kinds[] = {"Pod",
                                    "Deployment",
                                    "ReplicaSet",
                                    "StatefulSet",
                                    "DaemonSet",
                                    "Job",
                                    "ReplicationController",
                                    "CronJob",
                                    "PodTemplate",
                                    "other"};
static const char *const decisions[] = {"allowed", "denied", "patched", "error"};

#define N_EP   (sizeof endpoints / sizeof endpoints[0])
#define N_OP   (sizeof operations / sizeof operations[0])
#define N_KIND (sizeof kinds / sizeof kinds[0])

/* Latency buckets from 100 µs to 1 s (upper bounds in seconds); +Inf is implicit. */
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                 0.025,  0.05,    0.1,    0.25,  0.5,    1.0};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

/* The violation table: a fixed number of (namespace, rule) series. The last VIOLATION_SPARE
 * slots are kept for namespace "_other", so that once the table is full new namespaces are
 * still counted, under one label. */
#define VIOLATION_SLOTS 2048
#define VIOLATION_SPARE 64

typedef struct {
    _Atomic(char *) key; /* "namespace\x1frule", published once, never changed */
    atomic_uint_fast64_t count;
} violation_slot;

struct metrics {
    double start_time;
    atomic_uint_fast64_t requests[N_EP][N_OP][N_KIND][METRICS_DECISIONS];
    atomic_uint_fast64_t latency[N_EP][N_BUCKETS + 1]; /* per bucket, not cumulative */
    atomic_uint_fast64_t latency_ns[N_EP];
    atomic_int in_flight;
    atomic_uint used_slots;
    violation_slot violations[VIOLATION_SLOTS];
};

metrics *metrics_create(double start_time)
{
    metrics *m = calloc(1, sizeof *m);
    if (m)
        m->start_time = start_time;
    return m;
}

void metrics_free(metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < VIOLATION_SLOTS; i++)
        free(atomic_load(&m->violations[i].key));
    free(m);
}

static size_t index_of(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s && strcmp(names[i], s) == 0)
            return i;
    return n - 1; /* "other" (or, for endpoints, the last one) */
}

void metrics_review(metrics *m, const char *endpoint, const char *operation, const char *kind,
                    metrics_decision decision, double seconds)
{
    size_t e = endpoint && strcmp(endpoint, "mutate") == 0 ? 0 : 1;
    size_t o = index_of(operations, N_OP, operation);
    size_t k = index_of(kinds, N_KIND, kind);
    if ((unsigned)decision >= METRICS_DECISIONS)
        decision = METRICS_ERROR;
    atomic_fetch_add_explicit(&m->requests[e][o][k][decision], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < N_BUCKETS && seconds > buckets[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[e][b], 1, memory_order_relaxed);
    uint64_t ns = seconds > 0 ? (uint64_t)(seconds * 1e9) : 0;
    atomic_fetch_add_explicit(&m->latency_ns[e], ns, memory_order_relaxed);
}

void metrics_in_flight(metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->in_flight, delta, memory_order_relaxed);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot for `key` among slots [first, first + n), inserting it when absent; NULL when that
 * range is full. */
static violation_slot *find_slot(metrics *m, const char *key, size_t first, size_t n, bool spare)
{
    size_t start = (size_t)(fnv1a(key) % n);
    for (size_t i = 0; i < n; i++) {
        violation_slot *s = &m->violations[first + (start + i) % n];
        char *k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k) {
            if (strcmp(k, key) == 0)
                return s;
            continue;
        }
        if (!spare && atomic_load(&m->used_slots) >= VIOLATION_SLOTS - VIOLATION_SPARE)
            return NULL;
        char *mine = strdup(key);
        if (!mine)
            return NULL;
        char *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&s->key, &expected, mine, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            atomic_fetch_add(&m->used_slots, 1);
            return s;
        }
        free(mine);
        if (strcmp(expected, key) == 0) /* another thread inserted the same key */
            return s;
    }
    return NULL;
}

void metrics_violation(metrics *m, const char *ns, const char *rule)
{
    char key[320];
    snprintf(key, sizeof key, "%.253s\x1f%.60s", ns ? ns : "", rule ? rule : "");
    violation_slot *s = find_slot(m, key, 0, VIOLATION_SLOTS - VIOLATION_SPARE, false);
    if (!s) {
        snprintf(key, sizeof key, "_other\x1f%.60s", rule ? rule : "");
        s = find_slot(m, key, VIOLATION_SLOTS - VIOLATION_SPARE, VIOLATION_SPARE, true);
    }
    if (s)
        atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------------------------------------ */
/* Rendering                                                                                   */

/* A label value escaped as the text format demands: backslash, double quote and line feed. */
static void label_value(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            sb_append(sb, "\\\\");
        else if (*s == '"')
            sb_append(sb, "\\\"");
        else if (*s == '\n')
            sb_append(sb, "\\n");
        else
            sb_append_n(sb, s, 1);
    }
}

static void header(strbuf *sb, const char *name, const char *type, const char *help)
{
    sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long resident_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    int n = fscanf(f, "%ld %ld", &pages, &rss);
    fclose(f);
    return n == 2 ? rss * sysconf(_SC_PAGESIZE) : -1;
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* not counting the descriptor opendir() itself holds */
}

static void render_requests(strbuf *sb, metrics *m)
{
    header(sb, "seccomp_webhook_requests_total", "counter",
           "AdmissionReviews answered, by endpoint, operation, kind and decision.");
    for (size_t e = 0; e < N_EP; e++)
        for (size_t o = 0; o < N_OP; o++)
            for (size_t k = 0; k < N_KIND; k++)
                for (size_t d = 0; d < METRICS_DECISIONS; d++) {
                    uint64_t v =
                        atomic_load_explicit(&m->requests[e][o][k][d], memory_order_relaxed);
                    if (v)
                        sb_printf(sb,
                                  "seccomp_webhook_requests_total{endpoint=\"%s\",operation="
                                  "\"%s\",kind=\"%s\",decision=\"%s\"} %llu\n",
                                  endpoints[e], operations[o], kinds[k], decisions[d],
                                  (unsigned long long)v);
                }
    header(sb, "seccomp_webhook_request_duration_seconds", "histogram",
           "Time from a review's arrival to its answer.");
    for (size_t e = 0; e < N_EP; e++) {
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= N_BUCKETS; b++) {
            cumulative += atomic_load_explicit(&m->latency[e][b], memory_order_relaxed);
            if (b < N_BUCKETS)
                sb_printf(sb,
                          "seccomp_webhook_request_duration_seconds_bucket{endpoint=\"%s\","
                          "le=\"%g\"} %llu\n",
                          endpoints[e], buckets[b], (unsigned long long)cumulative);
            else
                sb_printf(sb,
                          "seccomp_webhook_request_duration_seconds_bucket{endpoint=\"%s\","
                          "le=\"+Inf\"} %llu\n",
                          endpoints[e], (unsigned long long)cumulative);
        }
        double sum = (double)atomic_load_explicit(&m->latency_ns[e], memory_order_relaxed) / 1e9;
        sb_printf(sb, "seccomp_webhook_request_duration_seconds_sum{endpoint=\"%s\"} %.9f\n",
                  endpoints[e], sum);
        sb_printf(sb, "seccomp_webhook_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                  endpoints[e], (unsigned long long)cumulative);
    }
    header(sb, "seccomp_webhook_requests_in_flight", "gauge", "Reviews being answered now.");
    sb_printf(sb, "seccomp_webhook_requests_in_flight %d\n", atomic_load(&m->in_flight));
}

static void render_violations(strbuf *sb, metrics *m)
{
    header(sb, "seccomp_webhook_violations_total", "counter",
           "Policy violations found, by namespace and rule.");
    for (size_t i = 0; i < VIOLATION_SLOTS; i++) {
        const char *k = atomic_load_explicit(&m->violations[i].key, memory_order_acquire);
        if (!k)
            continue;
        size_t ns_len = strcspn(k, "\x1f"); /* the key holds one separator */
        char ns[256];
        snprintf(ns, sizeof ns, "%.*s", (int)ns_len, k);
        sb_append(sb, "seccomp_webhook_violations_total{namespace=\"");
        label_value(sb, ns);
        sb_append(sb, "\",rule=\"");
        label_value(sb, k + ns_len + 1);
        sb_printf(sb, "\"} %llu\n",
                  (unsigned long long)atomic_load_explicit(&m->violations[i].count,
                                                           memory_order_relaxed));
    }
}

char *metrics_render(metrics *m, const metrics_state *st)
{
    strbuf sb = {0};
    render_requests(&sb, m);
    render_violations(&sb, m);
    header(&sb, "seccomp_webhook_policy_reloads_total", "counter",
           "Policy file reloads, by outcome (a rejected file keeps the last good policy).");
    sb_printf(&sb, "seccomp_webhook_policy_reloads_total{outcome=\"ok\"} %llu\n",
              (unsigned long long)st->reloads_ok);
    sb_printf(&sb, "seccomp_webhook_policy_reloads_total{outcome=\"failed\"} %llu\n",
              (unsigned long long)st->reloads_failed);
    header(&sb, "seccomp_webhook_policy_info", "gauge",
           "The policy in force, identified by the hash of its file.");
    sb_append(&sb, "seccomp_webhook_policy_info{hash=\"");
    label_value(&sb, st->policy_hash ? st->policy_hash : "");
    sb_append(&sb, "\"} 1\n");
    if (st->cert_not_after > 0) {
        header(&sb, "seccomp_webhook_certificate_expiry_timestamp_seconds", "gauge",
               "When the served certificate expires (notAfter), as a Unix time.");
        sb_printf(&sb, "seccomp_webhook_certificate_expiry_timestamp_seconds %.0f\n",
                  st->cert_not_after);
    }
    header(&sb, "seccomp_webhook_process_resident_memory_bytes", "gauge",
           "Resident memory of the process.");
    sb_printf(&sb, "seccomp_webhook_process_resident_memory_bytes %ld\n", resident_bytes());
    header(&sb, "seccomp_webhook_process_open_fds", "gauge", "Open file descriptors.");
    sb_printf(&sb, "seccomp_webhook_process_open_fds %ld\n", open_fds());
    header(&sb, "seccomp_webhook_process_start_time_seconds", "gauge",
           "When the process started, as a Unix time.");
    sb_printf(&sb, "seccomp_webhook_process_start_time_seconds %.3f\n", m->start_time);
    return sb_take(&sb);
}
