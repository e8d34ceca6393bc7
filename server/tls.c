/*
 * tls.c — certificates with OpenSSL 3 (see tls.h).
 *
 * OpenSSL only prepares and checks the PEM text here; the TLS sessions are GnuTLS's, inside
 * libmicrohttpd. Both the certificate chain and the key are re-encoded after parsing, so GnuTLS
 * receives exactly what OpenSSL understood: no stray blocks (an "EC PARAMETERS" block before the
 * key, text between certificates) and a single key format (PKCS#8).
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#define TLS_MAX_FILE_BYTES (1024 * 1024)
#define TLS_DEV_DAYS       365

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* The reason of the most recent OpenSSL error ("no start line", "key values mismatch"), and
 * clear the error queue: it is per thread and must not leak into later calls. */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "unknown OpenSSL error";
}

void tls_format_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)t);
}

static int asn1_time_to_unix(const ASN1_TIME *a, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* The contents of a memory BIO as a new NUL-terminated string (NULL when out of memory). */
static char *bio_to_string(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    if (n > 0)
        memcpy(s, data, (size_t)n);
    s[n] = '\0';
    return s;
}

void tls_pair_free(tls_pair *p)
{
    if (p == NULL)
        return;
    if (p->key_pem != NULL) {
        OPENSSL_cleanse(p->key_pem, strlen(p->key_pem));
        free(p->key_pem);
    }
    free(p->cert_pem);
    free(p->subject);
    free(p->sans);
    memset(p, 0, sizeof *p);
}

/* Read a whole file of at most TLS_MAX_FILE_BYTES. A FIFO or device is refused without
 * blocking on it (O_NONBLOCK on open, then the type is checked). Returns the bytes (caller frees,
 * wiping them first if secret) or NULL with the reason in err. */
static char *read_small_file(const char *path, const char *what, size_t *len_out, char *err,
                             size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s is not a regular file", what, path);
        close(fd);
        return NULL;
    }
    if (st.st_size > TLS_MAX_FILE_BYTES) {
        snprintf(err, errlen, "%s %s is larger than %d bytes", what, path, TLS_MAX_FILE_BYTES);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory reading %s %s", what, path);
        close(fd);
        return NULL;
    }
    for (;;) {
        if (len == cap) { /* the file grew while being read */
            if (cap > TLS_MAX_FILE_BYTES) {
                snprintf(err, errlen, "%s %s is larger than %d bytes", what, path,
                         TLS_MAX_FILE_BYTES);
                goto fail;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                snprintf(err, errlen, "out of memory reading %s %s", what, path);
                goto fail;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    *len_out = len;
    return buf;
fail:
    OPENSSL_cleanse(buf, cap);
    free(buf);
    close(fd);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* What the logs say about a pair                                                             */
/* ------------------------------------------------------------------------------------------ */

/* A name as RFC 2253 text ("CN=localhost,O=example"), or NULL when out of memory. */
static char *name_to_string(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return NULL;
    char *s = NULL;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
        s = bio_to_string(b);
    BIO_free(b);
    return s;
}

/* The subjectAltNames as "DNS:a,IP:127.0.0.1,URI:...,email:..." ("" when there are none), or
 * NULL when the extension cannot be read (malformed, given twice, or out of memory) or the text
 * cannot be built: never fewer names than the certificate has. Other name types are shown as
 * "other". */
static char *sans_to_string(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return NULL;
    int crit = -1; /* -1: no such extension; -2: more than one (RFC 5280 §4.2 forbids it) */
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    if (names == NULL && crit != -1) {
        BIO_free(b);
        return NULL;
    }
    bool ok = true;
    int n = names != NULL ? sk_GENERAL_NAME_num(names) : 0;
    for (int i = 0; i < n; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (i > 0)
            ok &= BIO_puts(b, ",") == 1;
        const ASN1_STRING *str = NULL;
        const char *prefix = "other";
        switch (g->type) {
        case GEN_DNS:
            prefix = "DNS:";
            str = g->d.dNSName;
            break;
        case GEN_URI:
            prefix = "URI:";
            str = g->d.uniformResourceIdentifier;
            break;
        case GEN_EMAIL:
            prefix = "email:";
            str = g->d.rfc822Name;
            break;
        case GEN_IPADD: {
            char ip[INET6_ADDRSTRLEN] = "?";
            const ASN1_OCTET_STRING *a = g->d.iPAddress;
            if (a->length == 4)
                inet_ntop(AF_INET, a->data, ip, sizeof ip);
            else if (a->length == 16)
                inet_ntop(AF_INET6, a->data, ip, sizeof ip);
            ok &= BIO_printf(b, "IP:%s", ip) > 0;
            continue;
        }
        default:
            break;
        }
        ok &= BIO_puts(b, prefix) > 0;
        if (str != NULL) {
            /* Printable ASCII only: a SAN is IA5String; anything else is shown as '?'. */
            for (int k = 0; k < ASN1_STRING_length(str); k++) {
                unsigned char c = ASN1_STRING_get0_data(str)[k];
                char ch = c >= 0x20 && c < 0x7f ? (char)c : '?';
                ok &= BIO_write(b, &ch, 1) == 1;
            }
        }
    }
    GENERAL_NAMES_free(names);
    char *s = ok ? bio_to_string(b) : NULL;
    BIO_free(b);
    return s;
}

/* Hash `len` bytes of DER into the running identity. */
static int identity_add(EVP_MD_CTX *md, const unsigned char *der, int len)
{
    return len > 0 && EVP_DigestUpdate(md, der, (size_t)len) == 1 ? 0 : -1;
}

/* Fill the descriptive fields of `out` from the chain (leaf first) and out->key_pem, which is
 * set. Returns 0, or -1 with the step that failed in *why. */
static int describe_pair(tls_pair *out, X509 *const *chain, unsigned n, const char **why)
{
    X509 *leaf = chain[0];
    *why = "reading the certificate's dates";
    if (asn1_time_to_unix(X509_get0_notBefore(leaf), &out->not_before) != 0 ||
        asn1_time_to_unix(X509_get0_notAfter(leaf), &out->not_after) != 0)
        return -1;
    *why = "reading its subject and subjectAltNames";
    out->subject = name_to_string(X509_get_subject_name(leaf));
    out->sans = sans_to_string(leaf);
    if (out->subject == NULL || out->sans == NULL)
        return -1;
    out->chain_len = n;

    *why = "computing the fingerprint";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (X509_digest(leaf, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
        return -1;
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < mdlen; i++) {
        out->fingerprint[3 * i] = hex[md[i] >> 4];
        out->fingerprint[3 * i + 1] = hex[md[i] & 15];
        out->fingerprint[3 * i + 2] = i + 1 < mdlen ? ':' : '\0';
    }

    /* The identity: every certificate's DER, then the key as it is served (out->key_pem, its
     * PEM re-encoding). The key counts: X509_check_private_key() compares only the public half
     * a key file carries, so a file with the right public half and a wrong private value (which
     * EVP_PKEY_pairwise_check() now refuses) would otherwise never be replaced by the right one.
     * Not i2d_PrivateKey(): when an allocation fails OpenSSL 3 falls back to another encoder,
     * and the same key could get another identity (tests/unit/test_oom.c). */
    *why = "computing the pair's identity";
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(chain[i], &der);
        rc = identity_add(ctx, der, len);
        OPENSSL_free(der);
    }
    if (rc == 0)
        rc = identity_add(ctx, (const unsigned char *)out->key_pem, (int)strlen(out->key_pem));
    unsigned int idlen = 0;
    if (rc == 0 && (EVP_DigestFinal_ex(ctx, out->identity, &idlen) != 1 || idlen != 32))
        rc = -1;
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Whether what follows the last "-----END ...-----" line of `text` is free of PEM-looking
 * lines: a file cut inside the BEGIN line of a next block ("-----BEGIN CERT") reads as if it
 * ended before that block, so it is refused here instead. */
static bool clean_tail(const char *text, size_t len)
{
    const char *last_end = NULL;
    for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), "-----END ", 9)) != NULL;
         p += 9)
        last_end = p;
    if (last_end == NULL)
        return true; /* nothing parsed from it anyway */
    const char *eol = memchr(last_end, '\n', len - (size_t)(last_end - text));
    if (eol == NULL)
        return true; /* the END line is the last line */
    return memmem(eol, len - (size_t)(eol - text), "-----", 5) == NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* PEM password callback: never prompt on a terminal (OpenSSL's default would); remember that
 * the key is encrypted so the message can say so. */
static int no_password_cb(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(bool *)u = true;
    return -1;
}

/* The most certificates a chain may hold (the leaf included); real chains have two or three. */
#define TLS_MAX_CHAIN 16
/* The most certificates a --client-ca bundle may hold (during a CA rotation: old and new). */
#define TLS_MAX_CA 64

/* Read every certificate of a PEM text into `chain` (at most `max`; caller frees each)
 * and, when `pem_out` is given, write them re-encoded to it. `what` and `path` name the file in
 * messages. Returns the count (>= 1), or -1 with a reason in `err`. */
static int read_cert_chain(const char *text, size_t len, const char *what, const char *path,
                           X509 **chain, int max, BIO *pem_out, char *err, size_t errlen)
{
    BIO *in = BIO_new_mem_buf(text, (int)len);
    if (in == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int count = 0;
    for (;;) {
        X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);
        if (x == NULL) {
            unsigned long e = ERR_peek_last_error();
            if (count > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error(); /* the normal end of the file */
                break;
            }
            if (count == 0)
                snprintf(err, errlen, "%s %s: no PEM certificate (%s)", what, path, ossl_reason());
            else
                snprintf(err, errlen, "%s %s: certificate %d: %s (incomplete file?)", what, path,
                         count + 1, ossl_reason());
            goto fail;
        }
        if (count == max) {
            X509_free(x);
            snprintf(err, errlen, "%s %s: more than %d certificates", what, path, max);
            goto fail;
        }
        chain[count++] = x;
        if (pem_out != NULL && PEM_write_bio_X509(pem_out, x) != 1) {
            snprintf(err, errlen, "%s %s: %s", what, path, ossl_reason());
            goto fail;
        }
    }
    BIO_free(in);
    if (!clean_tail(text, len)) {
        snprintf(err, errlen,
                 "%s %s: an incomplete PEM block follows certificate %d (a file still being "
                 "written?)",
                 what, path, count);
        for (int i = 0; i < count; i++)
            X509_free(chain[i]);
        return -1;
    }
    return count;
fail:
    BIO_free(in);
    for (int i = 0; i < count; i++)
        X509_free(chain[i]);
    return -1;
}

int tls_load_files(const char *cert_path, const char *key_path, tls_pair *out, char *err,
                   size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    size_t cert_len = 0, key_len = 0;
    char *cert_text = NULL, *key_text = NULL;
    BIO *in = NULL, *cert_out = NULL, *key_out = NULL;
    X509 *chain[TLS_MAX_CHAIN];
    int count = 0;
    EVP_PKEY *pkey = NULL;

    ERR_clear_error();
    cert_text = read_small_file(cert_path, "certificate file", &cert_len, err, errlen);
    if (cert_text == NULL)
        goto done;
    key_text = read_small_file(key_path, "key file", &key_len, err, errlen);
    if (key_text == NULL)
        goto done;

    /* The certificate chain: the leaf, then intermediates. */
    cert_out = BIO_new(BIO_s_mem());
    if (cert_out == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    count = read_cert_chain(cert_text, cert_len, "certificate file", cert_path, chain,
                            TLS_MAX_CHAIN, cert_out, err, errlen);
    if (count < 0) {
        count = 0;
        goto done;
    }

    /* The key. */
    in = BIO_new_mem_buf(key_text, (int)key_len);
    if (in == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    bool encrypted = false;
    pkey = PEM_read_bio_PrivateKey(in, NULL, no_password_cb, &encrypted);
    if (pkey == NULL) {
        if (encrypted) {
            ERR_clear_error();
            snprintf(err, errlen, "key file %s: encrypted private keys are not supported",
                     key_path);
        } else if (memmem(key_text, key_len, "PRIVATE KEY-----", 16) == NULL) {
            ERR_clear_error();
            snprintf(err, errlen,
                     "key file %s: no PEM private key (no \"-----BEGIN ... PRIVATE "
                     "KEY-----\" block)",
                     key_path);
        } else {
            snprintf(err, errlen, "key file %s: unreadable private key (%s; incomplete file?)",
                     key_path, ossl_reason());
        }
        goto done;
    }
    if (!clean_tail(key_text, key_len)) {
        snprintf(err, errlen,
                 "key file %s: an incomplete PEM block follows the key (a file still being "
                 "written?)",
                 key_path);
        goto done;
    }
    if (X509_check_private_key(chain[0], pkey) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "key file %s does not match the certificate in %s", key_path,
                 cert_path);
        goto done;
    }
    /* X509_check_private_key() compares the public halves only: a key file whose private value
     * does not go with its public half passes it, then fails every handshake. */
    EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int consistent = check != NULL ? EVP_PKEY_pairwise_check(check) : -1;
    EVP_PKEY_CTX_free(check);
    if (consistent != 1) {
        snprintf(err, errlen, "key file %s: %s (%s)", key_path,
                 consistent == 0 ? "the private key does not go with its own public key"
                                 : "cannot check the private key",
                 ossl_reason());
        goto done;
    }
    key_out = BIO_new(BIO_s_secmem()); /* wiped when freed */
    if (key_out == NULL ||
        PEM_write_bio_PrivateKey(key_out, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        snprintf(err, errlen, "key file %s: cannot re-encode the key (%s)", key_path,
                 ossl_reason());
        goto fail_out;
    }
    out->cert_pem = bio_to_string(cert_out);
    out->key_pem = bio_to_string(key_out);
    if (out->cert_pem == NULL || out->key_pem == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail_out;
    }
    const char *why = NULL;
    if (describe_pair(out, chain, (unsigned)count, &why) != 0) {
        snprintf(err, errlen, "certificate file %s: %s failed (%s)", cert_path, why, ossl_reason());
        goto fail_out;
    }
    rc = 0;
    goto done;
fail_out:
    tls_pair_free(out);
done:
    BIO_free(in);
    BIO_free(cert_out);
    BIO_free(key_out);
    for (int i = 0; i < count; i++)
        X509_free(chain[i]);
    EVP_PKEY_free(pkey);
    if (key_text != NULL) {
        OPENSSL_cleanse(key_text, key_len);
        free(key_text);
    }
    free(cert_text);
    ERR_clear_error();
    return rc;
}

char *tls_load_ca_file(const char *path, unsigned *count, char **subjects, char *err, size_t errlen)
{
    *count = 0;
    *subjects = NULL;
    size_t len = 0;
    char *result = NULL;
    ERR_clear_error();
    char *text = read_small_file(path, "client CA file", &len, err, errlen);
    if (text == NULL)
        return NULL;
    X509 *certs[TLS_MAX_CA];
    BIO *pem = BIO_new(BIO_s_mem());
    BIO *names = BIO_new(BIO_s_mem());
    int n = -1;
    if (pem == NULL || names == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    n = read_cert_chain(text, len, "client CA file", path, certs, TLS_MAX_CA, pem, err, errlen);
    if (n < 0)
        goto done;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            BIO_puts(names, "; ");
        X509_NAME_print_ex(names, X509_get_subject_name(certs[i]), 0, XN_FLAG_RFC2253);
    }
    result = bio_to_string(pem);
    *subjects = bio_to_string(names);
    if (result == NULL || *subjects == NULL) {
        free(result);
        free(*subjects);
        result = NULL;
        *subjects = NULL;
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    *count = (unsigned)n;
done:
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    BIO_free(pem);
    BIO_free(names);
    free(text);
    ERR_clear_error();
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* Generating                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0); /* self-signed: issuer == subject */
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* A random positive serial of 128 bits (RFC 5280 §4.1.2.2: at most 20 octets, positive). */
static int set_random_serial(X509 *x)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[0] &= 0x7f; /* positive */
    b[0] |= 0x40; /* and never zero or short */
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    if (bn == NULL)
        return -1;
    int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

int tls_generate_dev(tls_pair *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    EVP_PKEY *pkey = NULL;
    X509 *x = NULL;
    BIO *cert_out = NULL, *key_out = NULL;
    const char *step = "generating the key";

    ERR_clear_error();
    pkey = EVP_EC_gen("P-256");
    if (pkey == NULL)
        goto fail;
    step = "building the certificate";
    x = X509_new();
    if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 || set_random_serial(x) != 0)
        goto fail;
    time_t now = time(NULL);
    /* A minute of slack in notBefore for clocks slightly behind ours. */
    if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -60, &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), TLS_DEV_DAYS, 0, &now) == NULL)
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   (const unsigned char *)"seccomp-webhook", -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"seccomp-webhook development", -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pkey) != 1)
        goto fail;
    /* Its own CA, so that the PEM works as a trust anchor (`curl --cacert`), like the
     * certificate `openssl req -x509` makes; the SANs are what clients check (Go ignores CN). */
    step = "adding the certificate extensions";
    if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
        add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") != 0 ||
        add_ext(x, NID_ext_key_usage, "serverAuth") != 0 ||
        add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") != 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(x, NID_authority_key_identifier, "keyid:always") != 0)
        goto fail;
    step = "signing the certificate";
    if (X509_sign(x, pkey, EVP_sha256()) <= 0)
        goto fail;
    step = "encoding the certificate";
    cert_out = BIO_new(BIO_s_mem());
    key_out = BIO_new(BIO_s_secmem());
    if (cert_out == NULL || key_out == NULL || PEM_write_bio_X509(cert_out, x) != 1 ||
        PEM_write_bio_PrivateKey(key_out, pkey, NULL, NULL, 0, NULL, NULL) != 1)
        goto fail;
    out->cert_pem = bio_to_string(cert_out);
    out->key_pem = bio_to_string(key_out);
    if (out->cert_pem == NULL || out->key_pem == NULL) {
        tls_pair_free(out);
        snprintf(err, errlen, "development certificate: out of memory");
        goto done;
    }
    step = "describing the certificate";
    const char *why = NULL;
    if (describe_pair(out, &x, 1, &why) != 0) {
        tls_pair_free(out);
        goto fail;
    }
    rc = 0;
    goto done;
fail:
    snprintf(err, errlen, "development certificate: %s failed: %s", step, ossl_reason());
done:
    BIO_free(cert_out);
    BIO_free(key_out);
    X509_free(x);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return rc;
}
