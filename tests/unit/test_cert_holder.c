/*
 * test_cert_holder.c — the serving certificate shared by TLS handshakes and swapped on reload
 * (server/cert_holder.h): a swap reaches the next acquire; a generation stays whole while a
 * connection holds it and is freed when the last one lets go (even after the holder itself);
 * the same pair again changes nothing; a pair GnuTLS cannot use is refused and the current one
 * kept; and under a storm of acquires, long-held references and swaps from several threads no
 * reader ever sees a freed or mixed generation, and every old generation is freed in the end
 * (the sanitizer build turns any use of freed memory into a failure as well).
 *
 * The holder's source is compiled into this test with CERT_HOLDER_RACE_WINDOW() defined to
 * yield the CPU now and then inside acquire, as test_policy_holder.c does for its holder.
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
#include <sched.h>

#include <cmocka.h>

/* One pass in 16 through a race window yields (per thread, no shared state). */
static _Thread_local unsigned race_window_calls;
#define CERT_HOLDER_RACE_WINDOW()                                                                  \
    do {                                                                                           \
        if ((++race_window_calls & 15u) == 0)                                                      \
            sched_yield();                                                                         \
    } while (0)
#include "cert_holder.c"

static tls_pair pair_a, pair_b;

static int setup(void **state)
{
    (void)state;
    char err[256];
    if (tls_generate_dev(&pair_a, err, sizeof err) != 0 ||
        tls_generate_dev(&pair_b, err, sizeof err) != 0) {
        fprintf(stderr, "tls_generate_dev: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tls_pair_free(&pair_a);
    tls_pair_free(&pair_b);
    return 0;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The generation's pair is A (0), B (1), or neither (-1). */
static int which(const cert_gen *g)
{
    if (strcmp(g->pair.fingerprint, pair_a.fingerprint) == 0)
        return 0;
    if (strcmp(g->pair.fingerprint, pair_b.fingerprint) == 0)
        return 1;
    return -1;
}

/* ---------------------------------------------------------------------------------------- */

static void test_swap_reaches_next_acquire(void **state)
{
    (void)state;
    char err[256];
    cert_holder *h = cert_holder_new(&pair_a, err, sizeof err);
    assert_non_null(h);
    assert_int_equal(cert_holder_live_generations(h), 1);
    assert_true(cert_holder_not_after(h) == pair_a.not_after);
    assert_string_equal(cert_holder_current(h)->fingerprint, pair_a.fingerprint);
    assert_null(cert_holder_current(h)->key_pem); /* the holder keeps no key text */

    /* A connection's handshake takes generation A. */
    cert_gen *conn = cert_holder_acquire(h);
    gnutls_pcert_st *chain = NULL;
    unsigned n = 0;
    gnutls_privkey_t key = NULL;
    cert_gen_objects(conn, &chain, &n, &key);
    assert_non_null(chain);
    assert_int_equal(n, 1);
    assert_non_null(key);
    assert_int_equal(which(conn), 0);

    /* The same pair again: nothing to do. */
    assert_int_equal(cert_holder_swap(h, &pair_a, err, sizeof err), 0);
    assert_int_equal(cert_holder_live_generations(h), 1);

    /* B: the next handshake gets it; the open connection keeps A, alive and whole. */
    assert_int_equal(cert_holder_swap(h, &pair_b, err, sizeof err), 1);
    assert_string_equal(cert_holder_current(h)->fingerprint, pair_b.fingerprint);
    assert_true(cert_holder_not_after(h) == pair_b.not_after);
    cert_gen *next = cert_holder_acquire(h);
    assert_int_equal(which(next), 1);
    assert_int_equal(which(conn), 0);
    assert_int_equal(cert_holder_live_generations(h), 2);

    /* The connection closes: A is freed. */
    cert_gen_release(conn);
    assert_int_equal(cert_holder_live_generations(h), 1);
    cert_gen_release(next);
    assert_int_equal(cert_holder_live_generations(h), 1); /* the holder's own */

    /* Back to A, then a generation nobody used is freed by the swap that replaces it. */
    assert_int_equal(cert_holder_swap(h, &pair_a, err, sizeof err), 1);
    assert_int_equal(cert_holder_live_generations(h), 1);

    cert_holder_count_reload(h, 1);
    cert_holder_count_reload(h, 1);
    cert_holder_count_reload(h, 0);
    uint64_t ok = 0, failed = 0;
    cert_holder_reloads(h, &ok, &failed);
    assert_int_equal(ok, 2);
    assert_int_equal(failed, 1);
    cert_holder_free(h);
}

static void test_unusable_pair_keeps_current(void **state)
{
    (void)state;
    char err[256];
    cert_holder *h = cert_holder_new(&pair_a, err, sizeof err);
    assert_non_null(h);

    tls_pair bad = pair_b; /* shallow: only the PEM pointers are replaced below */
    bad.cert_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
    err[0] = '\0';
    assert_int_equal(cert_holder_swap(h, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "certificate"));

    bad = pair_b;
    bad.key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    err[0] = '\0';
    assert_int_equal(cert_holder_swap(h, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "key"));

    assert_string_equal(cert_holder_current(h)->fingerprint, pair_a.fingerprint);
    assert_true(cert_holder_not_after(h) == pair_a.not_after);
    assert_int_equal(cert_holder_live_generations(h), 1);
    cert_holder_free(h);

    /* Nor can a holder start from one. */
    bad = pair_a;
    bad.key_pem = NULL;
    assert_null(cert_holder_new(&bad, err, sizeof err));
}

static void test_generation_outlives_holder(void **state)
{
    (void)state;
    char err[256];
    cert_holder *h = cert_holder_new(&pair_a, err, sizeof err);
    assert_non_null(h);
    cert_gen *conn = cert_holder_acquire(h);
    cert_holder_free(h); /* the server stops while a connection is still being torn down */
    gnutls_pcert_st *chain = NULL;
    unsigned n = 0;
    gnutls_privkey_t key = NULL;
    cert_gen_objects(conn, &chain, &n, &key);
    assert_int_equal(n, 1);
    assert_int_equal(which(conn), 0);
    cert_gen_release(conn); /* frees the generation, then the holder */
}

/* ---------------------------------------------------------------------------------------- */
/* Stress                                                                                     */
/* ---------------------------------------------------------------------------------------- */

#define READERS 4
#define HELD    8 /* references a reader keeps at once, like open keep-alive connections */

typedef struct {
    cert_holder *h;
    atomic_bool stop;
    atomic_ulong acquires;
    atomic_ulong bad;
} stress_ctx;

static void *reader(void *arg)
{
    stress_ctx *c = arg;
    cert_gen *held[HELD] = {NULL};
    unsigned long i = 0;
    while (!atomic_load(&c->stop)) {
        cert_gen *g = cert_holder_acquire(c->h);
        gnutls_pcert_st *chain = NULL;
        unsigned n = 0;
        gnutls_privkey_t key = NULL;
        cert_gen_objects(g, &chain, &n, &key);
        if (which(g) < 0 || n != 1 || chain == NULL || key == NULL || atomic_load(&g->refs) < 1)
            atomic_fetch_add(&c->bad, 1);
        /* Most handshakes' connections close soon; some stay open for a while. */
        unsigned slot = (unsigned)(i % HELD);
        cert_gen_release(held[slot]);
        held[slot] = g;
        i++;
        atomic_fetch_add(&c->acquires, 1);
    }
    for (unsigned k = 0; k < HELD; k++) {
        if (held[k] != NULL && which(held[k]) < 0)
            atomic_fetch_add(&c->bad, 1);
        cert_gen_release(held[k]);
    }
    return NULL;
}

static void test_stress_swaps_and_handshakes(void **state)
{
    (void)state;
    char err[256];
    stress_ctx c = {.h = cert_holder_new(&pair_a, err, sizeof err)};
    assert_non_null(c.h);
    atomic_init(&c.stop, false);
    atomic_init(&c.acquires, 0);
    atomic_init(&c.bad, 0);
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &c), 0);
    unsigned swaps = 0;
    uint64_t end = mono_ms() + 1500;
    while (mono_ms() < end) {
        assert_int_equal(cert_holder_swap(c.h, swaps % 2 == 0 ? &pair_b : &pair_a, err, sizeof err),
                         1);
        swaps++;
    }
    atomic_store(&c.stop, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    printf("# %u swaps, %lu acquires\n", swaps, atomic_load(&c.acquires));
    assert_true(swaps > 100);
    assert_true(atomic_load(&c.acquires) > 1000);
    assert_int_equal(atomic_load(&c.bad), 0);
    /* Every generation but the current one was freed when its last reference went. */
    assert_int_equal(cert_holder_live_generations(c.h), 1);
    assert_int_equal(which(atomic_load(&c.h->slot[atomic_load(&c.h->gen) & 1u])),
                     swaps % 2 == 0 ? 0 : 1);
    cert_holder_free(c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swap_reaches_next_acquire),
        cmocka_unit_test(test_unusable_pair_keeps_current),
        cmocka_unit_test(test_generation_outlives_holder),
        cmocka_unit_test(test_stress_swaps_and_handshakes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
