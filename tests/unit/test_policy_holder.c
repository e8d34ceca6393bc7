/*
 * test_policy_holder.c — the policy shared by request threads and swapped on reload
 * (server/policy_holder.h): a request sees the policy current when it acquired, whole, until it
 * releases; a swap frees the policy before last only once its holders are gone; and under a
 * storm of acquires and swaps from several threads no reader ever sees a freed or half-built
 * policy (each policy carries canary values that readers check; the sanitizer build turns any
 * read of freed memory into a failure as well).
 *
 * The holder's source is compiled into this test with POLICY_HOLDER_RACE_WINDOW() defined to
 * yield the CPU on one acquire in 16, between reading the generation and counting in: without
 * it, a reader is almost never descheduled in that window of two instructions, and the stress
 * test could not tell a holder that re-checks the generation from one that does not.
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
#include <time.h>

#include <pthread.h>

#include <cmocka.h>

#include <sched.h>

#include "policy.h"

/* One acquire in 16 yields inside the race window (per thread, no shared state). */
static _Thread_local unsigned race_window_calls;
#define POLICY_HOLDER_RACE_WINDOW()                                                                \
    do {                                                                                           \
        if ((++race_window_calls & 15u) == 0)                                                      \
            sched_yield();                                                                         \
    } while (0)
#include "policy_holder.c"

/* A policy that says which one it is: hash "canary:<n>", mode n % 3, and the built-in exempt
 * namespace. canary_ok() checks all three agree. */
static policy *canary_policy(unsigned long n)
{
    policy *p = policy_builtin();
    assert_non_null(p);
    snprintf(p->hash, sizeof p->hash, "canary:%lu", n);
    p->defaults.mode = (policy_mode)(n % 3);
    return p;
}

/* The policy's number, or -1 when any canary is wrong. */
static long canary_number(const policy *p)
{
    if (p == NULL || strncmp(p->hash, "canary:", 7) != 0)
        return -1;
    char *end;
    unsigned long n = strtoul(p->hash + 7, &end, 10);
    if (*end != '\0' || p->defaults.mode != (policy_mode)(n % 3))
        return -1;
    if (p->exempt_namespaces.count != 1 || strcmp(p->exempt_namespaces.items[0], "kube-system"))
        return -1;
    return (long)n;
}

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

/* ---------------------------------------------------------------------------------------- */
/* One thread                                                                                */

static void test_new_refuses_null(void **state)
{
    (void)state;
    assert_null(policy_holder_new(NULL));
}

static void test_acquire_gives_the_initial_policy(void **state)
{
    (void)state;
    policy *p0 = canary_policy(0);
    policy_holder *h = policy_holder_new(p0);
    assert_non_null(h);
    policy_ref r = policy_holder_acquire(h);
    assert_ptr_equal(r.policy, p0);
    assert_ptr_equal(policy_holder_current(h), p0);
    policy_holder_release(h, r);
    policy_holder_free(h);
}

static void test_acquire_after_swap_gives_the_new_policy(void **state)
{
    (void)state;
    policy_holder *h = policy_holder_new(canary_policy(0));
    assert_non_null(h);
    for (unsigned long n = 1; n <= 5; n++) {
        policy_holder_swap(h, canary_policy(n));
        policy_ref r = policy_holder_acquire(h);
        assert_int_equal(canary_number(r.policy), (long)n);
        assert_ptr_equal(policy_holder_current(h), r.policy);
        policy_holder_release(h, r);
    }
    policy_holder_free(h);
}

static void test_holder_keeps_its_policy_across_one_swap(void **state)
{
    (void)state;
    policy_holder *h = policy_holder_new(canary_policy(0));
    assert_non_null(h);
    policy_ref old = policy_holder_acquire(h);
    policy_holder_swap(h, canary_policy(1)); /* does not wait: slot 1 had no readers */
    assert_int_equal(canary_number(old.policy), 0);
    policy_ref cur = policy_holder_acquire(h);
    assert_int_equal(canary_number(cur.policy), 1);
    policy_holder_release(h, cur);
    policy_holder_release(h, old);
    policy_holder_free(h);
}

static void test_reload_counters(void **state)
{
    (void)state;
    policy_holder *h = policy_holder_new(canary_policy(0));
    assert_non_null(h);
    uint64_t ok = 99, failed = 99;
    policy_holder_reloads(h, &ok, &failed);
    assert_int_equal(ok, 0);
    assert_int_equal(failed, 0);
    policy_holder_count_reload(h, 1);
    policy_holder_count_reload(h, 1);
    policy_holder_count_reload(h, 0);
    policy_holder_reloads(h, &ok, NULL);
    policy_holder_reloads(h, NULL, &failed);
    assert_int_equal(ok, 2);
    assert_int_equal(failed, 1);
    policy_holder_free(h);
}

static void test_free_null(void **state)
{
    (void)state;
    policy_holder_free(NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* A swap waits for the holders of the policy before last                                   */

typedef struct {
    policy_holder *h;
    atomic_bool done;
} swapper;

static void *swap_to_2(void *arg)
{
    swapper *s = arg;
    policy_holder_swap(s->h, canary_policy(2));
    atomic_store(&s->done, true);
    return NULL;
}

static void test_swap_waits_for_holders_of_the_policy_before_last(void **state)
{
    (void)state;
    swapper s = {.h = policy_holder_new(canary_policy(0))};
    assert_non_null(s.h);
    atomic_init(&s.done, false);
    policy_ref old = policy_holder_acquire(s.h); /* generation 0 */
    policy_holder_swap(s.h, canary_policy(1));
    /* The next swap would free generation 0, which `old` still holds: it must wait. */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, swap_to_2, &s), 0);
    sleep_ms(100);
    assert_false(atomic_load(&s.done));
    assert_int_equal(canary_number(old.policy), 0); /* still whole */
    /* Meanwhile new requests get generation 1, without waiting. */
    policy_ref cur = policy_holder_acquire(s.h);
    assert_int_equal(canary_number(cur.policy), 1);
    policy_holder_release(s.h, cur);
    policy_holder_release(s.h, old);
    uint64_t end = mono_ms() + 5000;
    while (!atomic_load(&s.done) && mono_ms() < end)
        sleep_ms(1);
    assert_true(atomic_load(&s.done));
    pthread_join(t, NULL);
    cur = policy_holder_acquire(s.h);
    assert_int_equal(canary_number(cur.policy), 2);
    policy_holder_release(s.h, cur);
    policy_holder_free(s.h);
}

/* ---------------------------------------------------------------------------------------- */
/* Many readers, one writer                                                                  */

#define STRESS_READERS 4
#define STRESS_MS      1000    /* the writer swaps for this long, once every reader runs */
#define STRESS_SWAPS   1000000 /* a bound, whatever the speed */

typedef struct {
    policy_holder *h;
    atomic_bool *stop;
    atomic_int *started;
    unsigned long acquires;
    unsigned long bad;       /* a canary was wrong: freed or half-built */
    unsigned long backwards; /* saw an older policy after a newer one */
    long last;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    r->last = -1;
    atomic_fetch_add(r->started, 1);
    while (!atomic_load(r->stop)) {
        policy_ref ref = policy_holder_acquire(r->h);
        long n = canary_number(ref.policy);
        /* Hold it a little, as a request does, and look again: it must not change. */
        for (int k = 0; k < 8; k++)
            if (canary_number(ref.policy) != n)
                n = -1;
        policy_holder_release(r->h, ref);
        r->acquires++;
        if (n < 0)
            r->bad++;
        else if (n < r->last)
            r->backwards++;
        else
            r->last = n;
    }
    return NULL;
}

static void test_stress_readers_never_see_a_freed_policy(void **state)
{
    (void)state;
    atomic_bool stop;
    atomic_int started;
    atomic_init(&stop, false);
    atomic_init(&started, 0);
    policy_holder *h = policy_holder_new(canary_policy(0));
    assert_non_null(h);
    reader readers[STRESS_READERS];
    pthread_t threads[STRESS_READERS];
    for (int i = 0; i < STRESS_READERS; i++) {
        readers[i] = (reader){.h = h, .stop = &stop, .started = &started};
        assert_int_equal(pthread_create(&threads[i], NULL, reader_main, &readers[i]), 0);
    }
    /* Swap only while every reader runs: a writer done before they start proves nothing. */
    while (atomic_load(&started) < STRESS_READERS)
        sleep_ms(1);
    unsigned long swaps = 0;
    uint64_t end = mono_ms() + STRESS_MS;
    while (swaps < STRESS_SWAPS && mono_ms() < end)
        policy_holder_swap(h, canary_policy(++swaps));
    atomic_store(&stop, true);
    unsigned long acquires = 0, bad = 0, backwards = 0, idle = 0;
    for (int i = 0; i < STRESS_READERS; i++) {
        pthread_join(threads[i], NULL);
        acquires += readers[i].acquires;
        idle += readers[i].acquires == 0;
        bad += readers[i].bad;
        backwards += readers[i].backwards;
    }
    print_message("stress: %lu swaps, %lu acquires by %d readers\n", swaps, acquires,
                  STRESS_READERS);
    assert_int_equal(bad, 0);
    assert_int_equal(backwards, 0);
    assert_true(swaps >= 100);
    assert_int_equal(idle, 0);
    policy_ref r = policy_holder_acquire(h);
    assert_int_equal(canary_number(r.policy), (long)swaps);
    policy_holder_release(h, r);
    policy_holder_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses_null),
        cmocka_unit_test(test_acquire_gives_the_initial_policy),
        cmocka_unit_test(test_acquire_after_swap_gives_the_new_policy),
        cmocka_unit_test(test_holder_keeps_its_policy_across_one_swap),
        cmocka_unit_test(test_reload_counters),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_swap_waits_for_holders_of_the_policy_before_last),
        cmocka_unit_test(test_stress_readers_never_see_a_freed_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
