/*
 * policy_holder.c — the current policy, swapped on reload without a lock on the request path
 * and without freeing a policy that a request still uses (see policy_holder.h).
 *
 * The scheme: a generation counter `gen` and two slots. Generation g lives in slot g & 1; each
 * slot has its policy pointer and a count of the readers inside it.
 *
 *   acquire:  loop { g = gen; readers[g&1] += 1; if (gen == g) return slot[g&1];
 *                    readers[g&1] -= 1; }
 *   release:  readers[slot] -= 1
 *   swap:     (one writer) g = gen; n = (g+1) & 1;
 *             wait until readers[n] == 0; free(slot[n]); slot[n] = new; gen = g+1
 *
 * Why a request never sees a freed policy. Every atomic here is seq_cst, so all of them fall
 * into one total order that agrees with each thread's program order. The writer frees slot n
 * (generation g-1's policy) only after reading readers[n] == 0 while gen was g. Take a reader
 * whose increment of readers[n] came later in that order than the writer's read of 0: the
 * reader's check of gen comes later still, so it sees g or g+1. g has the other parity, so the
 * reader backs out without touching the slot. g+1 (after the writer's store) means the slot
 * already holds the new policy, written before the store. So a reader only ever uses slot n if
 * its increment came before the writer's read — and then the writer saw it and waited. The
 * counter is 64 bits wide, so a stale g that comes round to the same value again cannot happen.
 *
 * Why a request sees the old or the new policy, never a mix: it uses one pointer for its whole
 * engine call, and a policy is immutable once built (policy.h).
 *
 * What it costs. A request does two atomic read-modify-writes (plus a load) and no lock; a
 * request never waits for the writer. The writer waits only for readers of the generation
 * before the current one — requests that acquired before the previous swap and are still in
 * their engine call, which takes microseconds — by sleeping 1 ms at a time. The two counters sit
 * on their own cache lines, away from the rarely written pointers and generation.
 */
#include "policy_holder.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_LINE 64

/* The unit test compiles this file with a hook here that makes the thread yield now and then,
 * widening the window between reading the generation and counting in, so that its stress test
 * meets the interleavings the re-check exists for. Nothing in the real build. */
#ifndef POLICY_HOLDER_RACE_WINDOW
#define POLICY_HOLDER_RACE_WINDOW() ((void)0)
#endif

typedef struct {
    atomic_uint_fast64_t readers;
    char pad[CACHE_LINE - sizeof(atomic_uint_fast64_t)];
} reader_count;

struct policy_holder {
    reader_count readers[2];             /* first: aligned_alloc() puts them on their own lines */
    _Atomic(policy *) slot[2];           /* generation g's policy is slot[g & 1] */
    atomic_uint_fast64_t gen;            /* the current generation */
    atomic_uint_fast64_t reloads_ok;     /* counted by policy_holder_count_reload() */
    atomic_uint_fast64_t reloads_failed; /* likewise */
};

policy_holder *policy_holder_new(policy *initial)
{
    if (initial == NULL)
        return NULL;
    size_t size = (sizeof(policy_holder) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    policy_holder *h = aligned_alloc(CACHE_LINE, size);
    if (h == NULL)
        return NULL;
    memset(h, 0, size);
    atomic_init(&h->readers[0].readers, 0);
    atomic_init(&h->readers[1].readers, 0);
    atomic_init(&h->slot[0], initial);
    atomic_init(&h->slot[1], NULL);
    atomic_init(&h->gen, 0);
    atomic_init(&h->reloads_ok, 0);
    atomic_init(&h->reloads_failed, 0);
    return h;
}

policy_ref policy_holder_acquire(policy_holder *h)
{
    for (;;) {
        uint_fast64_t g = atomic_load(&h->gen);
        unsigned s = (unsigned)(g & 1u);
        POLICY_HOLDER_RACE_WINDOW();
        atomic_fetch_add(&h->readers[s].readers, 1);
        if (atomic_load(&h->gen) == g)
            return (policy_ref){.policy = atomic_load(&h->slot[s]), .slot = s};
        /* A swap happened in between: this slot may be about to be reused. */
        atomic_fetch_sub(&h->readers[s].readers, 1);
    }
}

void policy_holder_release(policy_holder *h, policy_ref ref)
{
    atomic_fetch_sub(&h->readers[ref.slot & 1u].readers, 1);
}

const policy *policy_holder_current(policy_holder *h)
{
    uint_fast64_t g = atomic_load(&h->gen);
    return atomic_load(&h->slot[g & 1u]);
}

void policy_holder_swap(policy_holder *h, policy *next)
{
    uint_fast64_t g = atomic_load(&h->gen);
    unsigned n = (unsigned)((g + 1) & 1u);
    /* Readers still in slot n hold generation g-1, acquired before the previous swap. */
    while (atomic_load(&h->readers[n].readers) != 0) {
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000L};
        nanosleep(&ms, NULL);
    }
    policy_free(atomic_load(&h->slot[n]));
    atomic_store(&h->slot[n], next);
    atomic_store(&h->gen, g + 1);
}

void policy_holder_count_reload(policy_holder *h, int ok)
{
    atomic_fetch_add(ok ? &h->reloads_ok : &h->reloads_failed, 1);
}

void policy_holder_reloads(const policy_holder *h, uint64_t *ok, uint64_t *failed)
{
    policy_holder *m = (policy_holder *)h; /* atomic loads take non-const pointers in C11 */
    if (ok != NULL)
        *ok = (uint64_t)atomic_load(&m->reloads_ok);
    if (failed != NULL)
        *failed = (uint64_t)atomic_load(&m->reloads_failed);
}

void policy_holder_free(policy_holder *h)
{
    if (h == NULL)
        return;
    policy_free(atomic_load(&h->slot[0]));
    policy_free(atomic_load(&h->slot[1]));
    free(h);
}
