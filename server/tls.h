/*
 * tls.h — the serving certificate, handled with OpenSSL (SPEC §3, §4).
 *
 * libmicrohttpd does the TLS itself (with GnuTLS) from a certificate and key given as PEM text;
 * this module makes that text: a self-signed development certificate generated in memory when
 * no certificate is given, or a certificate and key read from files and checked first (the key
 * matches the certificate, the expiry date is known) so that a mistake is reported in one clear
 * line rather than as a GnuTLS error code at start.
 */
#ifndef SW_TLS_H
#define SW_TLS_H

#include <stddef.h>
#include <stdint.h>

/* The length of a SHA-256 fingerprint written as OpenSSL does ("AB:CD:...:EF"), with its NUL. */
#define TLS_FINGERPRINT_LEN (32 * 3)

/*
 * A certificate (chain) and its private key as PEM text, both owned and NUL-terminated, with
 * what the logs say about the leaf.
 */
typedef struct {
    char *cert_pem;     /* the leaf first, then any intermediates, re-encoded by OpenSSL */
    char *key_pem;      /* PKCS#8, unencrypted; wiped when freed */
    int64_t not_before; /* the leaf's notBefore, seconds since the Unix epoch */
    int64_t not_after;  /* the leaf's notAfter, seconds since the Unix epoch */
    char *subject;      /* the leaf's subject, RFC 2253 ("CN=webhook.ns.svc,O=example") */
    char *sans; /* its subjectAltNames, comma-separated ("DNS:a,IP:127.0.0.1"); "" if none */
    unsigned chain_len; /* certificates in cert_pem, the leaf included */
    /* SHA-256 of the leaf's DER, as `openssl x509 -noout -fingerprint -sha256` prints it. */
    char fingerprint[TLS_FINGERPRINT_LEN];
    /* SHA-256 over the DER of every certificate and over key_pem: equal identities mean the same
     * pair, so a reload that finds the same content changes nothing. */
    unsigned char identity[32];
} tls_pair;

/*
 * tls_generate_dev — a self-signed development certificate: EC P-256 key, SANs DNS:localhost and
 * IP:127.0.0.1, valid for one year from now, random serial. The certificate is its own CA, so
 * `curl --cacert CERT.pem https://127.0.0.1:PORT/` trusts it. Fills `out` (free it with
 * tls_pair_free()). Returns 0, or -1 with a one-line reason in `err`.
 */
int tls_generate_dev(tls_pair *out, char *err, size_t errlen);

/*
 * tls_load_files — read a PEM certificate file (leaf first, then any intermediates) and a PEM
 * private key file (unencrypted; PKCS#8, SEC1 or PKCS#1), check that the key belongs to the leaf
 * (X509_check_private_key) and that its private half goes with its public half
 * (EVP_PKEY_pairwise_check), and read the leaf's dates, subject, SANs and fingerprint. Files are
 * capped at 1 MiB. A half-written file is refused: every PEM block must be complete (a cut
 * inside a block fails to decode) and nothing that looks like a PEM line ("-----") may follow
 * the last complete block of either file (a file cut inside a BEGIN line). Fills `out` with both
 * re-encoded as PEM (free with tls_pair_free()). Returns 0, or -1 with a one-line reason naming the
 * file in `err`. An expired certificate is not an error here; callers compare `not_after` with the
 * clock.
 */
int tls_load_files(const char *cert_path, const char *key_path, tls_pair *out, char *err,
                   size_t errlen);

/* tls_pair_free — wipe the key text, free every string and zero `p`. NULL is accepted. */
void tls_pair_free(tls_pair *p);

/*
 * tls_load_ca_file — read a PEM file of one or more CA certificates (the trust for client
 * certificates, --client-ca). Every block must be a readable certificate; at least one is
 * needed; capped at 1 MiB. Returns the certificates re-encoded as PEM (caller frees) with
 * their count in *count and their subjects, RFC 2253, separated by "; " in *subjects (caller
 * frees), or NULL with a one-line reason naming the file in `err`.
 */
char *tls_load_ca_file(const char *path, unsigned *count, char **subjects, char *err,
                       size_t errlen);

/* tls_format_time — `t` (Unix seconds) as RFC 3339 UTC ("2025-01-31T12:00:00Z") into buf. */
void tls_format_time(int64_t t, char *buf, size_t len);

#endif
