/*
 * cert_holder.h — the serving certificate and key, shared by the TLS handshakes and replaced on
 * reload (SPEC §3: --tls-cert/--tls-key are reloaded when they change on disk).
 *
 * A certificate generation is one pair, imported once into GnuTLS objects (the chain as
 * gnutls_pcert_st, the key as gnutls_privkey_t) and counted by reference. A handshake takes the
 * current generation with cert_holder_acquire() — lock-free — and the connection keeps it until
 * it closes (cert_gen_release()), because GnuTLS keeps pointers to the objects it was handed for
 * as long as the session lives. A reload swaps in a new generation with cert_holder_swap(): new
 * handshakes get it at once, connections open before keep theirs, and each old generation is
 * freed when its last connection closes. How and why: cert_holder.c.
 *
 * The holder also keeps the served certificate's notAfter (an atomic, for the metrics) and
 * counts reloads.
 */
#ifndef SW_CERT_HOLDER_H
#define SW_CERT_HOLDER_H

#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "tls.h"

typedef struct cert_holder cert_holder;
typedef struct cert_gen cert_gen;

/*
 * cert_holder_new — a holder whose current generation is made from `initial` (copied: the
 * caller keeps and frees its pair). Returns the holder, or NULL with a one-line reason in `err`
 * (GnuTLS cannot import the pair, out of memory).
 */
cert_holder *cert_holder_new(const tls_pair *initial, char *err, size_t errlen);

/*
 * cert_holder_swap — make `next` (copied) the current pair, unless it is the same pair as the
 * current one (equal tls_pair.identity). Returns 1 when swapped, 0 when unchanged, -1 with a
 * reason in `err` when GnuTLS cannot import it (the current pair stays). Handshakes that begin
 * after it returns 1 use `next`; connections already open keep the pair they have. Only one
 * thread may call it (the reload thread); it waits (sleeping ~1 ms at a time) only for
 * handshakes that are in the middle of cert_holder_acquire(), never for connections.
 */
int cert_holder_swap(cert_holder *h, const tls_pair *next, char *err, size_t errlen);

/*
 * cert_holder_current — the pair being served (its PEM, subject, fingerprint, ...). Only for
 * the thread that calls cert_holder_swap(): the result stays valid until its own next swap.
 */
const tls_pair *cert_holder_current(const cert_holder *h);

/*
 * cert_holder_acquire — the current generation, with one more reference for the caller, who
 * gives it back with cert_gen_release(). Lock-free: a few atomic operations; any thread.
 */
cert_gen *cert_holder_acquire(cert_holder *h);

/* cert_gen_release — drop one reference; the last one frees the generation. NULL is accepted. */
void cert_gen_release(cert_gen *g);

/*
 * cert_gen_objects — the generation's GnuTLS objects: the chain (leaf first) and its length,
 * and the key. They stay valid while the caller holds its reference; GnuTLS must not free them
 * (return them from a retrieve function without GNUTLS_CERT_RETR_DEINIT_ALL).
 */
void cert_gen_objects(cert_gen *g, gnutls_pcert_st **chain, unsigned *chain_len,
                      gnutls_privkey_t *key);

/* cert_holder_not_after — the served certificate's notAfter (Unix seconds). Any thread. */
int64_t cert_holder_not_after(const cert_holder *h);

/* cert_holder_count_reload — count one reload of the files: ok when they loaded (whether or not
 * they differed from the current pair), failed when they were rejected. Any thread. */
void cert_holder_count_reload(cert_holder *h, int ok);

/* cert_holder_reloads — the counts so far; either pointer may be NULL. Any thread. */
void cert_holder_reloads(const cert_holder *h, uint64_t *ok, uint64_t *failed);

/* cert_holder_live_generations — generations not yet freed (the current one included): a
 * measure for tests and debugging that old pairs are let go. Any thread. */
unsigned cert_holder_live_generations(const cert_holder *h);

/*
 * cert_holder_free — drop the holder's reference to the current generation and free the
 * holder. Generations still referenced (connections not yet closed) are freed by their last
 * cert_gen_release(). Call it after the server has stopped. NULL is accepted.
 */
void cert_holder_free(cert_holder *h);

#endif
