/*
 * policy_holder.h — the current policy, shared by the request threads and replaced on reload.
 *
 * Request threads take the policy with policy_holder_acquire() and give it back with
 * policy_holder_release() as soon as the engine is done with it; no lock is taken and a policy
 * is never freed while a request holds it. One thread — the reload thread — swaps in a new
 * policy with policy_holder_swap(). How and why it works: policy_holder.c.
 *
 * The holder also counts reloads (ok / failed) for the metrics endpoint.
 */
#ifndef SW_POLICY_HOLDER_H
#define SW_POLICY_HOLDER_H

#include <stdint.h>

#include "policy.h"

typedef struct policy_holder policy_holder;

/* What policy_holder_acquire() hands out: the policy, and the slot to give back. */
typedef struct {
    const policy *policy; /* never NULL; valid until policy_holder_release() */
    unsigned slot;
} policy_ref;

/*
 * policy_holder_new — a holder whose current policy is `initial` (not NULL). Ownership of
 * `initial` passes to the holder, which frees it when it is replaced and then one more swap
 * has happened, or in policy_holder_free(). Returns NULL when out of memory (then `initial` is
 * still the caller's).
 */
policy_holder *policy_holder_new(policy *initial);

/*
 * policy_holder_acquire — the current policy, for one request. Lock-free (two atomic
 * read-modify-writes in the common case); safe from any number of threads at once. Every
 * acquire must be followed by exactly one policy_holder_release() of the returned ref, and
 * the holder should be held briefly (for one engine call): a swap waits for the holders of
 * the policy before last.
 */
policy_ref policy_holder_acquire(policy_holder *h);

/* policy_holder_release — give back what policy_holder_acquire() returned. */
void policy_holder_release(policy_holder *h, policy_ref ref);

/*
 * policy_holder_current — the current policy, without acquiring it. Only for the thread that
 * calls policy_holder_swap() (it is the only one that frees policies, so the result stays valid
 * until its own next swap), e.g. to compare hashes before swapping.
 */
const policy *policy_holder_current(policy_holder *h);

/*
 * policy_holder_swap — make `next` (not NULL) the current policy; ownership passes to the
 * holder. Requests that acquire after this returns see `next`; requests still holding the
 * previous policy keep it, unchanged, until they release it. The policy before the previous one
 * is freed here, after waiting (sleeping ~1 ms at a time) for its last holders to release it.
 * Only one thread may call it (the reload thread); it must not hold an acquired ref itself.
 */
void policy_holder_swap(policy_holder *h, policy *next);

/* policy_holder_count_reload — count one reload of the policy file: ok when it loaded (whether
 * or not its content differed from the current policy's), failed when it was rejected. */
void policy_holder_count_reload(policy_holder *h, int ok);

/* policy_holder_reloads — the counts so far; either pointer may be NULL. Any thread. */
void policy_holder_reloads(const policy_holder *h, uint64_t *ok, uint64_t *failed);

/*
 * policy_holder_free — free the holder and the policies it holds. No thread may hold a ref
 * or call any other function on it any more (stop the server first). NULL is accepted.
 */
void policy_holder_free(policy_holder *h);

#endif
