/*
 * test_watch.c — the file watcher (server/watch.h) on real files in a temporary directory:
 * the kubelet's `..data` symlink swap of a mounted ConfigMap is seen through inotify (with the
 * periodic check set far away), so are a rename over the file and an in-place rewrite; the
 * periodic check alone catches a change; unrelated files in the directory call nothing; a
 * burst of changes calls the callback once; and stopping is prompt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "watch.h"

/* Long enough that only inotify can explain a callback within a test. */
#define FAR_MS 600000u
/* How long a test waits for a callback that must come. */
#define WAIT_MS 5000u

typedef struct {
    char dir[64];
    atomic_int calls;
} fixture;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_change(void *arg)
{
    fixture *f = arg;
    atomic_fetch_add(&f->calls, 1);
}

/* Wait until the callback has run `n` times; returns the milliseconds it took, or -1. */
static long wait_calls(fixture *f, int n)
{
    uint64_t start = mono_ms();
    while (mono_ms() - start < WAIT_MS) {
        if (atomic_load(&f->calls) >= n)
            return (long)(mono_ms() - start);
        sleep_ms(5);
    }
    return -1;
}

static void path_in(const fixture *f, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s", f->dir, name);
    assert_true(n > 0 && (size_t)n < size);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static void remove_version(const fixture *f, const char *stamp)
{
    char p[256];
    snprintf(p, sizeof p, "%s/..%s/policy.yaml", f->dir, stamp);
    assert_int_equal(unlink(p), 0);
    snprintf(p, sizeof p, "%s/..%s", f->dir, stamp);
    assert_int_equal(rmdir(p), 0);
}

/* Lay out a version the way the kubelet's AtomicWriter does: `..<stamp>/policy.yaml`, then a
 * `..data_tmp` symlink to it renamed over `..data`; `policy.yaml -> ..data/policy.yaml` is made
 * once. The old version's directory is removed afterwards, as the kubelet does. */
static void kubelet_write(const fixture *f, const char *stamp, const char *old_stamp,
                          const char *text)
{
    char p[256], q[256];
    snprintf(p, sizeof p, "%s/..%s", f->dir, stamp);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/..%s/policy.yaml", f->dir, stamp);
    write_file(p, text);
    snprintf(p, sizeof p, "..%s", stamp);
    path_in(f, "..data_tmp", q, sizeof q);
    assert_int_equal(symlink(p, q), 0);
    path_in(f, "..data", p, sizeof p);
    assert_int_equal(rename(q, p), 0);
    path_in(f, "policy.yaml", p, sizeof p);
    struct stat st;
    if (lstat(p, &st) != 0)
        assert_int_equal(symlink("..data/policy.yaml", p), 0);
    if (old_stamp != NULL)
        remove_version(f, old_stamp);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/sw-watch-XXXXXX",
             tmp != NULL && tmp[0] == '/' && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    atomic_init(&f->calls, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static watch *start_watch_debounce(fixture *f, const char *name, unsigned interval_ms,
                                   bool no_inotify, unsigned debounce_ms)
{
    char path[128];
    path_in(f, name, path, sizeof path);
    const char *paths[] = {path};
    watch_options opt = {
        .interval_ms = interval_ms, .debounce_ms = debounce_ms, .no_inotify = no_inotify};
    char err[256] = "";
    watch *w = watch_create(paths, 1, &opt, on_change, f, err, sizeof err);
    if (w == NULL)
        print_error("watch_create: %s\n", err);
    assert_non_null(w);
    if (watch_start(w, err, sizeof err) != 0)
        print_error("watch_start: %s\n", err);
    return w;
}

static watch *start_watch(fixture *f, const char *name, unsigned interval_ms, bool no_inotify)
{
    return start_watch_debounce(f, name, interval_ms, no_inotify, 50);
}

/* ---------------------------------------------------------------------------------------- */

static void test_create_refuses_no_paths(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(watch_create(NULL, 0, NULL, on_change, NULL, err, sizeof err));
    assert_string_not_equal(err, "");
}

static void test_stop_without_start(void **state)
{
    fixture *f = *state;
    const char *paths[] = {"/nonexistent/policy.yaml"};
    char err[128];
    watch *w = watch_create(paths, 1, NULL, on_change, f, err, sizeof err);
    assert_non_null(w);
    watch_stop(w);
    watch_stop(NULL);
}

static void test_configmap_symlink_swap_calls_back(void **state)
{
    fixture *f = *state;
    kubelet_write(f, "2026_11_29_18_00_00.000000001", NULL, "mode: enforce\n");
    watch *w = start_watch(f, "policy.yaml", FAR_MS, false);
    sleep_ms(100);
    assert_int_equal(atomic_load(&f->calls), 0);
    /* The rename of ..data alone must be seen: the old version stays until the callback ran
     * (a watch on the file itself would only notice the old version's removal). */
    kubelet_write(f, "2026_11_29_18_05_00.000000002", NULL, "mode: warn\n");
    long ms = wait_calls(f, 1);
    print_message("..data swap seen after %ld ms\n", ms);
    assert_true(ms >= 0);
    remove_version(f, "2026_11_29_18_00_00.000000001");
    /* A second swap is seen too: the watch survives the old target directory's removal. */
    kubelet_write(f, "2026_11_29_18_10_00.000000003", "2026_11_29_18_05_00.000000002",
                  "mode: audit\n");
    assert_true(wait_calls(f, 2) >= 0);
    sleep_ms(300);
    assert_int_equal(atomic_load(&f->calls), 2);
    watch_stop(w);
}

static void test_rename_over_the_file_calls_back(void **state)
{
    fixture *f = *state;
    char p[128], q[128];
    path_in(f, "policy.yaml", p, sizeof p);
    path_in(f, ".policy.yaml.tmp", q, sizeof q);
    write_file(p, "a\n");
    watch *w = start_watch(f, "policy.yaml", FAR_MS, false);
    write_file(q, "b\n");
    assert_int_equal(rename(q, p), 0);
    assert_true(wait_calls(f, 1) >= 0);
    watch_stop(w);
}

static void test_in_place_rewrite_calls_back(void **state)
{
    fixture *f = *state;
    char p[128];
    path_in(f, "policy.yaml", p, sizeof p);
    write_file(p, "a\n");
    watch *w = start_watch(f, "policy.yaml", FAR_MS, false);
    write_file(p, "bb\n");
    assert_true(wait_calls(f, 1) >= 0);
    watch_stop(w);
}

static void test_deleted_then_recreated_calls_back_each_time(void **state)
{
    fixture *f = *state;
    char p[128];
    path_in(f, "policy.yaml", p, sizeof p);
    write_file(p, "a\n");
    watch *w = start_watch(f, "policy.yaml", FAR_MS, false);
    assert_int_equal(unlink(p), 0);
    assert_true(wait_calls(f, 1) >= 0);
    write_file(p, "a\n");
    assert_true(wait_calls(f, 2) >= 0);
    watch_stop(w);
}

static void test_unrelated_file_does_not_call_back(void **state)
{
    fixture *f = *state;
    char p[128], q[128];
    path_in(f, "policy.yaml", p, sizeof p);
    path_in(f, "other.yaml", q, sizeof q);
    write_file(p, "a\n");
    watch *w = start_watch(f, "policy.yaml", FAR_MS, false);
    write_file(q, "x\n");
    assert_int_equal(unlink(q), 0);
    sleep_ms(400);
    assert_int_equal(atomic_load(&f->calls), 0);
    watch_stop(w);
}

static void test_burst_calls_back_once(void **state)
{
    fixture *f = *state;
    char p[128];
    path_in(f, "policy.yaml", p, sizeof p);
    write_file(p, "0\n");
    watch *w = start_watch_debounce(f, "policy.yaml", FAR_MS, false, 400);
    /* Ten writes 5 ms apart: well inside the 400 ms debounce. */
    for (int i = 1; i <= 10; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d%*s\n", i, i, "");
        write_file(p, text);
        sleep_ms(5);
    }
    assert_true(wait_calls(f, 1) >= 0);
    sleep_ms(600);
    assert_int_equal(atomic_load(&f->calls), 1);
    watch_stop(w);
}

static void test_periodic_check_alone_sees_a_swap(void **state)
{
    fixture *f = *state;
    kubelet_write(f, "2026_11_29_18_00_00.000000001", NULL, "mode: enforce\n");
    watch *w = start_watch(f, "policy.yaml", 100, true);
    sleep_ms(250); /* two ticks with nothing changed: no call */
    assert_int_equal(atomic_load(&f->calls), 0);
    kubelet_write(f, "2026_11_29_18_05_00.000000002", "2026_11_29_18_00_00.000000001",
                  "mode: warn\n");
    assert_true(wait_calls(f, 1) >= 0);
    watch_stop(w);
}

static void test_change_before_start_is_not_missed(void **state)
{
    fixture *f = *state;
    char p[128];
    path_in(f, "policy.yaml", p, sizeof p);
    write_file(p, "a\n");
    const char *paths[] = {p};
    watch_options opt = {.interval_ms = 100, .debounce_ms = 50};
    char err[128];
    watch *w = watch_create(paths, 1, &opt, on_change, f, err, sizeof err);
    assert_non_null(w);
    write_file(p, "changed while the caller was loading\n");
    assert_int_equal(watch_start(w, err, sizeof err), 0);
    assert_true(wait_calls(f, 1) >= 0);
    watch_stop(w);
}

static void test_stop_is_prompt(void **state)
{
    fixture *f = *state;
    char p[128];
    path_in(f, "policy.yaml", p, sizeof p);
    write_file(p, "a\n");
    watch *w = start_watch(f, "policy.yaml", FAR_MS, false);
    uint64_t t0 = mono_ms();
    watch_stop(w);
    assert_true(mono_ms() - t0 < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_refuses_no_paths),
        cmocka_unit_test_setup_teardown(test_stop_without_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configmap_symlink_swap_calls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_over_the_file_calls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_place_rewrite_calls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_then_recreated_calls_back_each_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unrelated_file_does_not_call_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_calls_back_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_check_alone_sees_a_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_before_start_is_not_missed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_is_prompt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
