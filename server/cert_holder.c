/*
 * cert_holder.c — certificate generations shared by the handshakes and swapped on reload (see
 * cert_holder.h).
 *
 * Why generations are counted by reference. libmicrohttpd hands certificate selection to a
 * GnuTLS retrieve function (MHD_OPTION_HTTPS_CERT_CALLBACK2). What it returns is either freed by
 * GnuTLS after the handshake (GNUTLS_CERT_RETR_DEINIT_ALL: then every handshake must import the
 * chain and key afresh, measured here at ~90 µs for the chain and 15–50 µs for the key, a third
 * of an ECDSA handshake) or kept, unfreed, in the session for its whole life (flags 0). We
 * import each pair once and return the same objects to every handshake; each connection holds
 * a reference to the generation it was given (http.c: taken in the retrieve function, dropped
 * when libmicrohttpd reports the connection closed), so a generation is freed exactly when the
 * last connection using it is gone, however long a keep-alive connection lasts.
 *
 * Taking a reference without a lock. The current generation is published through two slots and
 * a generation counter `gen`, as in policy_holder.c: generation number g lives in slot g & 1,
 * and each slot has a count of the readers inside it.
 *
 *   acquire:  loop { g = gen; readers[g&1] += 1;
 *                    if (gen == g) { p = slot[g&1]; p->refs += 1; readers[g&1] -= 1; return p; }
 *                    readers[g&1] -= 1; }
 *   swap:     (one writer) g = gen; old = slot[g&1];
 *             slot[(g+1)&1] = new; gen = g+1;
 *             wait until readers[g&1] == 0; slot[g&1] = NULL; release(old)
 *
 * Why `old` is never freed under a reader. Every atomic here is seq_cst, so they all fall into
 * one total order agreeing with each thread's program order. A reader only touches the slot of
 * parity g&1 when its re-check of `gen` returned g, which came before the writer's store of
 * g+1; its increment of readers[g&1] came earlier still, and its decrement comes after its
 * p->refs += 1. The writer reads readers[g&1] only after that store, so it sees the reader
 * counted until the reader holds its own reference — and only then drops the holder's. A
 * reader whose re-check returns g+1 reads the other slot, written before the store. Readers
 * that took `gen` before the store and re-check after it back out without touching a slot, so
 * the wait ends: new readers count themselves in the other slot (no starvation). A reader that
 * re-checked g-1 and passed was waited for by the previous swap in the same way.
 *
 * The generation is freed by whoever drops its last reference: the writer (a pair no connection
 * used) or the thread closing the last connection that used it. Each generation also holds a
 * reference to the holder, so the holder outlives its generations whatever the order.
 */
#include "cert_holder.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_LINE 64
/* The most certificates imported from a chain (tls.c reads at most 16 too). */
#define CERT_HOLDER_MAX_CHAIN 16

/* The unit test compiles this file with a hook here that makes the thread yield now and then,
 * widening the windows of acquire so that its stress test meets the interleavings the
 * re-check exists for. Nothing in the real build. */
#ifndef CERT_HOLDER_RACE_WINDOW
#define CERT_HOLDER_RACE_WINDOW() ((void)0)
#endif

struct cert_gen {
    atomic_uint_fast64_t refs;
    cert_holder *holder;
    gnutls_pcert_st chain[CERT_HOLDER_MAX_CHAIN];
    unsigned chain_len;
    gnutls_privkey_t key;
    tls_pair pair; /* a copy of the descriptive fields and cert_pem; key_pem stays NULL */
};

typedef struct {
    atomic_uint_fast64_t readers;
    char pad[CACHE_LINE - sizeof(atomic_uint_fast64_t)];
} reader_count;

struct cert_holder {
    reader_count readers[2];     /* first: aligned_alloc() puts them on their own lines */
    _Atomic(cert_gen *) slot[2]; /* generation g's pair is slot[g & 1] */
    atomic_uint_fast64_t gen;    /* the current generation number */
    atomic_int_fast64_t not_after;
    atomic_uint_fast64_t reloads_ok;
    atomic_uint_fast64_t reloads_failed;
    atomic_uint live;          /* generations not yet freed */
    atomic_uint_fast64_t refs; /* 1 for the owner + 1 per live generation */
};

/* ------------------------------------------------------------------------------------------ */
/* Generations                                                                                */
/* ------------------------------------------------------------------------------------------ */

static void holder_unref(cert_holder *h)
{
    if (atomic_fetch_sub(&h->refs, 1) == 1)
        free(h);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void gen_free(cert_gen *g)
{
    for (unsigned i = 0; i < g->chain_len; i++)
        gnutls_pcert_deinit(&g->chain[i]);
    if (g->key != NULL)
        gnutls_privkey_deinit(g->key);
    tls_pair_free(&g->pair);
    cert_holder *h = g->holder;
    free(g);
    if (h != NULL) {
        atomic_fetch_sub(&h->live, 1);
        holder_unref(h);
    }
}

/* Import `p` into a new generation with one reference (the caller's). */
static cert_gen *gen_new(cert_holder *h, const tls_pair *p, char *err, size_t errlen)
{
    if (p == NULL || p->cert_pem == NULL || p->key_pem == NULL) {
        snprintf(err, errlen, "no certificate or key");
        return NULL;
    }
    cert_gen *g = calloc(1, sizeof *g);
    if (g == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&g->refs, 1);
    gnutls_datum_t cert = {(unsigned char *)p->cert_pem, (unsigned)strlen(p->cert_pem)};
    unsigned n = CERT_HOLDER_MAX_CHAIN;
    int rc = gnutls_pcert_list_import_x509_raw(g->chain, &n, &cert, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0) {
        snprintf(err, errlen, "GnuTLS cannot use the certificate: %s", gnutls_strerror(rc));
        gen_free(g);
        return NULL;
    }
    g->chain_len = n;
    gnutls_datum_t key = {(unsigned char *)p->key_pem, (unsigned)strlen(p->key_pem)};
    rc = gnutls_privkey_init(&g->key);
    if (rc >= 0)
        rc = gnutls_privkey_import_x509_raw(g->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        snprintf(err, errlen, "GnuTLS cannot use the key: %s", gnutls_strerror(rc));
        gen_free(g);
        return NULL;
    }
    g->pair = *p;
    g->pair.key_pem = NULL;
    g->pair.cert_pem = dup_or_null(p->cert_pem);
    g->pair.subject = dup_or_null(p->subject);
    g->pair.sans = dup_or_null(p->sans);
    if (g->pair.cert_pem == NULL || (p->subject != NULL && g->pair.subject == NULL) ||
        (p->sans != NULL && g->pair.sans == NULL)) {
        snprintf(err, errlen, "out of memory");
        gen_free(g);
        return NULL;
    }
    /* Only now: a failed import above frees the generation without touching the holder. */
    g->holder = h;
    atomic_fetch_add(&h->refs, 1);
    atomic_fetch_add(&h->live, 1);
    return g;
}

void cert_gen_release(cert_gen *g)
{
    if (g != NULL && atomic_fetch_sub(&g->refs, 1) == 1)
        gen_free(g);
}

void cert_gen_objects(cert_gen *g, gnutls_pcert_st **chain, unsigned *chain_len,
                      gnutls_privkey_t *key)
{
    *chain = g->chain;
    *chain_len = g->chain_len;
    *key = g->key;
}

/* ------------------------------------------------------------------------------------------ */
/* The holder                                                                                 */
/* ------------------------------------------------------------------------------------------ */

cert_holder *cert_holder_new(const tls_pair *initial, char *err, size_t errlen)
{
    size_t size = (sizeof(cert_holder) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    cert_holder *h = aligned_alloc(CACHE_LINE, size);
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(h, 0, size);
    atomic_init(&h->readers[0].readers, 0);
    atomic_init(&h->readers[1].readers, 0);
    atomic_init(&h->slot[0], NULL);
    atomic_init(&h->slot[1], NULL);
    atomic_init(&h->gen, 0);
    atomic_init(&h->not_after, 0);
    atomic_init(&h->reloads_ok, 0);
    atomic_init(&h->reloads_failed, 0);
    atomic_init(&h->live, 0);
    atomic_init(&h->refs, 1);
    cert_gen *g = gen_new(h, initial, err, errlen);
    if (g == NULL) {
        holder_unref(h);
        return NULL;
    }
    atomic_store(&h->slot[0], g);
    atomic_store(&h->not_after, initial->not_after);
    return h;
}

cert_gen *cert_holder_acquire(cert_holder *h)
{
    for (;;) {
        uint_fast64_t g = atomic_load(&h->gen);
        unsigned s = (unsigned)(g & 1u);
        CERT_HOLDER_RACE_WINDOW();
        atomic_fetch_add(&h->readers[s].readers, 1);
        if (atomic_load(&h->gen) == g) {
            cert_gen *p = atomic_load(&h->slot[s]);
            CERT_HOLDER_RACE_WINDOW();
            atomic_fetch_add(&p->refs, 1);
            atomic_fetch_sub(&h->readers[s].readers, 1);
            return p;
        }
        /* A swap happened in between: this slot may be emptied at any moment. */
        atomic_fetch_sub(&h->readers[s].readers, 1);
    }
}

const tls_pair *cert_holder_current(const cert_holder *h)
{
    cert_holder *m = (cert_holder *)h; /* atomic loads take non-const pointers in C11 */
    uint_fast64_t g = atomic_load(&m->gen);
    return &atomic_load(&m->slot[g & 1u])->pair;
}

int cert_holder_swap(cert_holder *h, const tls_pair *next, char *err, size_t errlen)
{
    uint_fast64_t g = atomic_load(&h->gen);
    unsigned cur_slot = (unsigned)(g & 1u);
    cert_gen *old = atomic_load(&h->slot[cur_slot]);
    if (memcmp(old->pair.identity, next->identity, sizeof next->identity) == 0)
        return 0;
    cert_gen *fresh = gen_new(h, next, err, errlen);
    if (fresh == NULL)
        return -1;
    atomic_store(&h->slot[cur_slot ^ 1u], fresh);
    atomic_store(&h->gen, g + 1);
    atomic_store(&h->not_after, next->not_after);
    /* Readers that saw generation g are taking their reference now; wait for them. */
    while (atomic_load(&h->readers[cur_slot].readers) != 0) {
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000L};
        nanosleep(&ms, NULL);
    }
    atomic_store(&h->slot[cur_slot], NULL);
    cert_gen_release(old); /* the holder's reference; connections may hold more */
    return 1;
}

int64_t cert_holder_not_after(const cert_holder *h)
{
    return (int64_t)atomic_load(&((cert_holder *)h)->not_after);
}

void cert_holder_count_reload(cert_holder *h, int ok)
{
    atomic_fetch_add(ok ? &h->reloads_ok : &h->reloads_failed, 1);
}

void cert_holder_reloads(const cert_holder *h, uint64_t *ok, uint64_t *failed)
{
    cert_holder *m = (cert_holder *)h;
    if (ok != NULL)
        *ok = (uint64_t)atomic_load(&m->reloads_ok);
    if (failed != NULL)
        *failed = (uint64_t)atomic_load(&m->reloads_failed);
}

unsigned cert_holder_live_generations(const cert_holder *h)
{
    return atomic_load(&((cert_holder *)h)->live);
}

void cert_holder_free(cert_holder *h)
{
    if (h == NULL)
        return;
    uint_fast64_t g = atomic_load(&h->gen);
    cert_gen *cur = atomic_exchange(&h->slot[g & 1u], NULL);
    cert_gen_release(cur);
    holder_unref(h);
}
