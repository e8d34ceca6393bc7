/*
 * http.c — the libmicrohttpd daemon of `serve`: routing, limits, lifecycle (see http.h).
 *
 * libmicrohttpd calls on_request() several times per request (WEBHOOK-SERVER-NOTES §4.5):
 *   1. once the headers are in (*con_cls == NULL): route, check the method, the Content-Type
 *      and the Content-Length, and answer protocol errors at once — libmicrohttpd then discards
 *      any body and closes the connection, so an oversized body is never read;
 *   2. once per piece of body (*upload_data_size > 0): no response may be queued here, so the
 *      body is appended to a buffer that grows with what arrives, up to the limit; past it the
 *      rest is consumed and dropped and the 413 waits for the final call;
 *   3. once the body is complete (*upload_data_size == 0): answer.
 * Per-request state lives in *con_cls and is freed in on_completed() (NOTIFY_COMPLETED), which
 * libmicrohttpd calls for every request it started, however it ended.
 *
 * The request deadline: libmicrohttpd's own timeout is an idle timeout that restarts with every
 * byte, so a client trickling its body would hold a worker's connection for ever. While a body
 * is expected, the connection's timeout is set to the time left before the deadline (silence
 * closes it), and every piece of body that arrives after the deadline drops the connection
 * (trickling does not help). A response cannot be queued while body data is being delivered,
 * so a late request is dropped rather than answered with 408; both ways are logged as
 * "request_timeout".
 *
 * TLS: the certificate comes from the certificate holder (cert_holder.h) at every handshake,
 * through a GnuTLS retrieve function (MHD_OPTION_HTTPS_CERT_CALLBACK2), so a reloaded pair
 * reaches new connections at once; each connection keeps a reference to the pair it was given
 * (http_conn, from MHD_OPTION_NOTIFY_CONNECTION) until it closes. With a client CA,
 * libmicrohttpd asks every client for a certificate and on_headers() checks it for the review
 * routes before anything else (client_cert_ok()).
 *
 * Threads: the daemon runs a pool of epoll worker threads; every request is handled on one of
 * them. The draining flag is read through C11 atomics; the policy is taken from the policy holder
 * (policy_holder.h) for each engine call and given back right after it, so a reload can swap it
 * at any time without a lock on this path.
 */
#include "http.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "admission.h"
#include "cert_holder.h"
#include "log.h"
#include "policy_holder.h"
#include "tls_priorities.h"

/* After a request body this large, malloc_trim() gives freed memory back to the kernel. */
#define HTTP_TRIM_AFTER_BYTES (256 * 1024)

/* The memory libmicrohttpd gives each connection for its request line, headers and read buffer
 * (MHD_OPTION_CONNECTION_MEMORY_LIMIT; its default is 32 KiB). The API server's requests carry
 * a few hundred bytes of headers (a bearer token adds a KiB or two), and the body is copied out
 * as it arrives, so 16 KiB is ample. It cuts the peak resident memory under 64 busy keep-alive
 * connections by about 1 MiB and makes large bodies no slower (bench/RESULTS.md). Headers that
 * do not fit are answered 431. */
#define HTTP_CONNECTION_MEMORY (16 * 1024)
/* The first allocation for a body: most AdmissionReviews are 2–20 KiB. */
#define HTTP_BODY_INITIAL (16 * 1024)
/* A Content-Length up to this size is allocated at once; above it the buffer grows by
 * doubling as data arrives, so a claimed length never reserves memory by itself. */
#define HTTP_BODY_TRUST_LENGTH (256 * 1024)
/* How much of a request path a log line quotes. */
#define HTTP_LOG_PATH_MAX 200

static const char OOM_BODY[] = "{\"error\":\"out of memory\"}";

/* How long a verified client certificate is trusted on its connection before it is verified
 * again (capped at the certificate's notAfter): the peer's certificate cannot change within a
 * connection, so this only bounds how late a CA's own expiry is noticed. */
#define HTTP_CLIENT_CERT_RECHECK_NS (60ull * 1000000000ull)

struct http_server {
    struct MHD_Daemon *daemon;
    MHD_socket quiesced_fd;  /* returned by MHD_quiesce_daemon(); closed after MHD_stop_daemon() */
    policy_holder *policies; /* borrowed */
    cert_holder *certs;      /* borrowed */
    metrics *metrics;        /* borrowed */
    bool client_auth;        /* --client-ca given */
    atomic_bool cert_loaded;
    atomic_bool draining;
    atomic_uint in_flight;
    atomic_ulong completed; /* requests completed since start */
    size_t max_body;
    unsigned idle_timeout;
    unsigned request_timeout;
    unsigned port;
};

typedef enum {
    ROUTE_NONE = 0,
    ROUTE_MUTATE,
    ROUTE_VALIDATE,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_METRICS,
} http_route;

static const struct {
    const char *path;
    http_route route;
    const char *allow; /* the methods, for 405's Allow header */
} routes[] = {
    {"/mutate", ROUTE_MUTATE, "POST"},        {"/validate", ROUTE_VALIDATE, "POST"},
    {"/healthz", ROUTE_HEALTHZ, "GET, HEAD"}, {"/readyz", ROUTE_READYZ, "GET, HEAD"},
    {"/metrics", ROUTE_METRICS, "GET, HEAD"},
};

/* One connection's state, in its socket_context from MHD_CONNECTION_NOTIFY_STARTED to
 * MHD_CONNECTION_NOTIFY_CLOSED, and reachable from its TLS session through the session's
 * database pointer (gnutls_db_set_ptr(): libmicrohttpd uses the session's user pointer itself,
 * and never the database one, having no session cache). Used only on the connection's worker
 * thread (and after the workers have stopped, by http_stop()). */
typedef struct {
    http_server *server;
    cert_gen *cert;           /* the certificate generation its handshake was given */
    uint64_t client_ok_until; /* monotonic ns: its client certificate verified until then */
} http_conn;

/* One request's state, in *con_cls from the first call to on_completed(). */
typedef struct {
    http_route route;
    uint64_t start_ns;     /* monotonic, at the first call */
    uint64_t deadline_ns;  /* start + request timeout */
    unsigned conn_timeout; /* the connection's timeout as last set, seconds */
    char *buf;             /* the body so far (review routes only) */
    size_t len, cap;       /* bytes in buf, bytes allocated */
    size_t received;       /* body bytes seen, stored or not */
    size_t length_hint;    /* Content-Length when given and small, else 0 */
    bool too_large;        /* the body passed the limit: answer 413 */
    bool out_of_memory;    /* the buffer could not grow: answer 500 */
    bool answered;         /* a response was queued */
    bool close;            /* answer with Connection: close (the stream cannot be trusted) */
    bool timeout_logged;   /* "request_timeout" already logged */
    bool in_flight;        /* a review counted in seccomp_webhook_requests_in_flight */
    char path[HTTP_LOG_PATH_MAX + 1];
    char method[16];
} http_request;

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double micros_since(uint64_t start_ns)
{
    return (double)((now_ns() - start_ns) / 1000u);
}

static void copy_trunc(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* "application/json", any case, optionally followed by parameters ("; charset=utf-8"). */
static bool is_json_content_type(const char *ct)
{
    static const char want[] = "application/json";
    if (ct == NULL)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    ct += sizeof want - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* The request's Content-Length: 1 and the value (saturated at SIZE_MAX) when present and a
 * plain decimal number, 0 otherwise (absent, or chunked transfer). libmicrohttpd has already
 * refused a malformed one with 400 before calling us. */
static int content_length(struct MHD_Connection *c, size_t *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (v == NULL)
        return 0;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v < '0' || *v > '9')
        return 0;
    size_t n = 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        size_t d = (size_t)(*v - '0');
        n = n > (SIZE_MAX - d) / 10 ? SIZE_MAX : n * 10 + d;
    }
    *out = n;
    return 1;
}

/* What framing headers a request has, for ambiguous_framing(). */
typedef struct {
    const char *length; /* the first Content-Length */
    bool lengths_differ;
    bool transfer_encoding;
} framing;

static enum MHD_Result note_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->length && strcmp(f->length, value ? value : "") != 0)
            f->lengths_differ = true;
        if (!f->length)
            f->length = value ? value : "";
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding = true;
    }
    return MHD_YES;
}

/* A reason to refuse a body whose length is ambiguous, or NULL: two different Content-Length
 * headers, or Content-Length beside Transfer-Encoding (RFC 9112 §6.1, §6.3: a server and a
 * proxy in front of it could read different bodies — request smuggling). libmicrohttpd 0.9.75
 * takes the first length, or reads the chunked body and keeps the connection open. */
static const char *ambiguous_framing(struct MHD_Connection *c)
{
    framing f = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, note_framing, &f);
    if (f.lengths_differ)
        return "two different Content-Length headers";
    if (f.length && f.transfer_encoding)
        return "both Content-Length and Transfer-Encoding";
    return NULL;
}

/* Set the connection's timeout (seconds) if it differs from what was last set. */
static void set_conn_timeout(struct MHD_Connection *c, http_request *r, unsigned secs)
{
    if (secs == 0)
        secs = 1; /* 0 would mean "never" */
    if (r->conn_timeout == secs)
        return;
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, secs);
    r->conn_timeout = secs;
}

/* ------------------------------------------------------------------------------------------ */
/* Responses                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* Queue a JSON response. `mode` says whether libmicrohttpd copies `body` or keeps the pointer
 * (static text only). Returns what MHD_queue_response() returns; MHD_NO makes libmicrohttpd
 * close the connection, which is the only answer left when even this fails. */
static enum MHD_Result send_body(http_server *s, struct MHD_Connection *c, http_request *r,
                                 unsigned status, const char *content_type, const char *body,
                                 size_t len, enum MHD_ResponseMemoryMode mode, const char *allow)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (resp == NULL)
        return MHD_NO;
    enum MHD_Result ok = MHD_YES;
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES)
        ok = MHD_NO;
    if (allow != NULL && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)
        ok = MHD_NO;
    /* While draining, every answer closes its connection: the API server keeps reusing open
     * connections to a terminating pod until its endpoint is removed (SPEC §4). */
    if ((r->close || atomic_load_explicit(&s->draining, memory_order_relaxed)) &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)
        ok = MHD_NO;
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES)
        r->answered = true;
    return ok;
}

static enum MHD_Result send_json(http_server *s, struct MHD_Connection *c, http_request *r,
                                 unsigned status, const char *body, size_t len,
                                 enum MHD_ResponseMemoryMode mode, const char *allow)
{
    return send_body(s, c, r, status, "application/json", body, len, mode, allow);
}

static bool review_route(const http_request *r)
{
    return r->route == ROUTE_MUTATE || r->route == ROUTE_VALIDATE;
}

/* Count an answered review (SPEC §8): by endpoint, operation, kind and decision, with its
 * latency from the request's first byte. */
static void count_review(http_server *s, const http_request *r, const char *operation,
                         const char *kind, metrics_decision decision)
{
    metrics_review(s->metrics, r->route == ROUTE_MUTATE ? "mutate" : "validate", operation, kind,
                   decision, (double)(now_ns() - r->start_ns) / 1e9);
}

/* Answer a protocol error with {"error": msg} and log it. */
static enum MHD_Result send_error(http_server *s, struct MHD_Connection *c, http_request *r,
                                  unsigned status, const char *msg, const char *allow)
{
    if (review_route(r) && status != MHD_HTTP_METHOD_NOT_ALLOWED)
        count_review(s, r, NULL, NULL, METRICS_ERROR);
    log_level lvl = status >= 500 ? LOG_ERROR : (status == 413 ? LOG_INFO : LOG_DEBUG);
    if (log_enabled(lvl)) {
        cJSON *f = cJSON_CreateObject();
        if (f != NULL) {
            cJSON_AddStringToObject(f, "method", r->method);
            cJSON_AddStringToObject(f, "path", r->path);
            cJSON_AddNumberToObject(f, "status", status);
            cJSON_AddStringToObject(f, "error", msg);
        }
        log_json(lvl, "http_error", f);
    }
    char *body = admission_error_body(msg);
    if (body == NULL)
        return send_json(s, c, r, status, OOM_BODY, sizeof OOM_BODY - 1, MHD_RESPMEM_PERSISTENT,
                         allow);
    enum MHD_Result ret =
        send_json(s, c, r, status, body, strlen(body), MHD_RESPMEM_MUST_COPY, allow);
    cJSON_free(body);
    return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* Handlers                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static enum MHD_Result handle_healthz(http_server *s, struct MHD_Connection *c, http_request *r)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    return send_json(s, c, r, MHD_HTTP_OK, ok, sizeof ok - 1, MHD_RESPMEM_PERSISTENT, NULL);
}

static enum MHD_Result handle_readyz(http_server *s, struct MHD_Connection *c, http_request *r)
{
    static const char draining[] = "{\"status\":\"draining\"}";
    static const char no_cert[] = "{\"status\":\"no certificate loaded\"}";
    const char *body = NULL;
    if (atomic_load(&s->draining))
        body = draining;
    else if (!atomic_load(&s->cert_loaded))
        body = no_cert;
    if (body != NULL)
        return send_json(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, body, strlen(body),
                         MHD_RESPMEM_PERSISTENT, NULL);
    /* Ready: name the policy being served, for operators (the hash is hex, no escaping). */
    char ready[128];
    policy_ref ref = policy_holder_acquire(s->policies);
    int n =
        snprintf(ready, sizeof ready, "{\"status\":\"ok\",\"policy\":\"%s\"}", ref.policy->hash);
    policy_holder_release(s->policies, ref);
    if (n < 0 || (size_t)n >= sizeof ready)
        n = snprintf(ready, sizeof ready, "{\"status\":\"ok\"}");
    return send_json(s, c, r, MHD_HTTP_OK, ready, (size_t)n, MHD_RESPMEM_MUST_COPY, NULL);
}

static enum MHD_Result handle_metrics(http_server *s, struct MHD_Connection *c, http_request *r)
{
    metrics_state st = {0};
    policy_holder_reloads(s->policies, &st.reloads_ok, &st.reloads_failed);
    st.cert_not_after = (double)cert_holder_not_after(s->certs);
    policy_ref ref = policy_holder_acquire(s->policies);
    st.policy_hash = ref.policy->hash;
    char *text = metrics_render(s->metrics, &st);
    policy_holder_release(s->policies, ref);
    if (text == NULL)
        return send_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
    enum MHD_Result ret =
        send_body(s, c, r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text,
                  strlen(text), MHD_RESPMEM_MUST_COPY, NULL);
    free(text);
    return ret;
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* The review log line (SPEC §8): one per AdmissionReview answered. */
static void log_review(const http_request *r, const admission_reply *rep, unsigned status)
{
    log_line l;
    if (!log_begin(&l, LOG_INFO, "review"))
        return;
    log_add_str(&l, "endpoint", r->route == ROUTE_MUTATE ? "mutate" : "validate");
    log_add_str(&l, "uid", rep->uid);
    log_add_str(&l, "kind", rep->kind);
    log_add_str(&l, "namespace", rep->namespace_);
    log_add_str(&l, "name", rep->name);
    log_add_str(&l, "operation", rep->operation);
    log_add_bool(&l, "dryRun", rep->dry_run);
    log_add_str(&l, "decision", rep->decision);
    log_add_uint(&l, "violations", rep->violation_count);
    if (rep->violations != NULL && rep->violations[0] != '\0')
        log_add_str(&l, "violation_messages", rep->violations);
    log_add_uint(&l, "patch_ops", rep->patch_ops);
    log_add_uint(&l, "status", status);
    log_add_uint(&l, "bytes", r->received);
    log_add_uint(&l, "micros", (now_ns() - r->start_ns) / 1000u);
    log_end(&l);
}

static enum MHD_Result handle_review(http_server *s, struct MHD_Connection *c, http_request *r)
{
    if (r->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes", s->max_body);
        return send_error(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL);
    }
    if (r->out_of_memory)
        return send_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
    admission_reply rep;
    memset(&rep, 0, sizeof rep);
    engine_endpoint ep = r->route == ROUTE_MUTATE ? ENGINE_MUTATE : ENGINE_VALIDATE;
    /* One policy for the whole engine call, held only for it: a reload may swap the current
     * policy at any moment, and waits for the holders of the one before. */
    policy_ref ref = policy_holder_acquire(s->policies);
    int rc = admission_handle(ref.policy, ep, r->buf != NULL ? r->buf : "", r->len, &rep);
    policy_holder_release(s->policies, ref);
    free(r->buf); /* the body is no longer needed: give the memory back before answering */
    r->buf = NULL;
    r->len = r->cap = 0;
    if (rc != 0) {
        admission_reply_free(&rep);
        return send_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
    }
    unsigned status = rep.http_status;
    enum MHD_Result ret;
    if (rep.body == NULL || status < 200 || status > 599) {
        admission_reply_free(&rep);
        return send_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "internal error: no answer from the AdmissionReview codec", NULL);
    }
    ret = send_json(s, c, r, status, rep.body, rep.body_len, MHD_RESPMEM_MUST_COPY, NULL);
    log_review(r, &rep, status);
    static const struct {
        const char *name;
        metrics_decision d;
    } decisions[] = {
        {"allowed", METRICS_ALLOWED}, {"denied", METRICS_DENIED}, {"patched", METRICS_PATCHED}};
    metrics_decision d = METRICS_ERROR;
    for (size_t i = 0; i < sizeof decisions / sizeof decisions[0]; i++)
        if (rep.decision && strcmp(rep.decision, decisions[i].name) == 0)
            d = decisions[i].d;
    count_review(s, r, rep.operation, rep.kind, d);
    for (size_t i = 0; rep.rules && i < rep.violation_count; i++)
        metrics_violation(s->metrics, str_or_empty(rep.namespace_), rep.rules[i]);
    admission_reply_free(&rep);
    return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* Client certificates (--client-ca)                                                          */
/* ------------------------------------------------------------------------------------------ */

/* The verification status bits (gnutls_certificate_status_t) in the order their reason is
 * given, with a short code for the log and the text for the 403 body. */
static const struct {
    unsigned bit;
    const char *code;
    const char *text;
} client_cert_problems[] = {
    {GNUTLS_CERT_EXPIRED, "expired", "expired"},
    {GNUTLS_CERT_NOT_ACTIVATED, "not_yet_valid", "not yet valid"},
    {GNUTLS_CERT_REVOKED, "revoked", "revoked"},
    {GNUTLS_CERT_SIGNER_NOT_FOUND, "unknown_ca", "not issued by a CA of --client-ca"},
    {GNUTLS_CERT_SIGNER_NOT_CA, "signer_not_ca", "its issuer is not a CA"},
    {GNUTLS_CERT_SIGNATURE_FAILURE, "bad_signature", "its signature does not verify"},
    {GNUTLS_CERT_INSECURE_ALGORITHM, "insecure_algorithm", "signed with an insecure algorithm"},
    {GNUTLS_CERT_PURPOSE_MISMATCH, "wrong_purpose",
     "not for client authentication (extendedKeyUsage lacks clientAuth)"},
    {GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, "constraints",
     "its issuer's constraints do not allow it"},
};

/* Why a client certificate was refused: a short code and a sentence. */
typedef struct {
    const char *code;
    char text[256];
    unsigned status; /* GnuTLS's status word (0 when not verified at all) */
} client_cert_verdict;

/* The client's address as text, for the log. */
static void client_address(struct MHD_Connection *c, char *buf, size_t len)
{
    snprintf(buf, len, "?");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)len);
}

/* The leaf's subject and issuer (RFC 4514) and notAfter, from the peer's first certificate. */
static void describe_peer(const gnutls_datum_t *der, cJSON *f, time_t *not_after)
{
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) >= 0) {
        gnutls_datum_t dn = {NULL, 0};
        if (f != NULL && gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
            cJSON_AddStringToObject(f, "subject", (const char *)dn.data);
            gnutls_free(dn.data);
        }
        if (f != NULL && gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) >= 0) {
            cJSON_AddStringToObject(f, "issuer", (const char *)dn.data);
            gnutls_free(dn.data);
        }
        if (not_after != NULL)
            *not_after = gnutls_x509_crt_get_expiration_time(crt);
    }
    gnutls_x509_crt_deinit(crt);
}

/* Whether the connection's client certificate verifies against --client-ca. GnuTLS only asked
 * for one (GNUTLS_CERT_REQUEST: the handshake completes without one, and with one it cannot
 * verify), so this checks that one was sent and that the status word of
 * gnutls_certificate_verify_peers() — not merely its return value — is 0, with the purpose
 * TLS WWW client. A success is remembered on the connection (HTTP_CLIENT_CERT_RECHECK_NS). */
static bool client_cert_ok(struct MHD_Connection *c, client_cert_verdict *v)
{
    memset(v, 0, sizeof *v);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    http_conn *conn = ci != NULL ? ci->socket_context : NULL;
    uint64_t now = now_ns();
    if (conn != NULL && now < conn->client_ok_until)
        return true;

    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t session = ci != NULL ? (gnutls_session_t)ci->tls_session : NULL;
    unsigned n = 0;
    const gnutls_datum_t *peers =
        session != NULL ? gnutls_certificate_get_peers(session, &n) : NULL;
    if (peers == NULL || n == 0) {
        v->code = "missing";
        snprintf(v->text, sizeof v->text, "a client certificate is required");
        return false;
    }
    gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                     .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
                                     .size = 0};
    unsigned status = 0;
    int rc = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
    if (rc < 0) {
        v->code = "verify_error";
        snprintf(v->text, sizeof v->text, "client certificate not verified: %s",
                 gnutls_strerror(rc));
        return false;
    }
    if (status != 0) {
        v->status = status;
        v->code = "invalid";
        size_t off = (size_t)snprintf(v->text, sizeof v->text, "client certificate rejected:");
        bool first = true;
        for (size_t i = 0; i < sizeof client_cert_problems / sizeof client_cert_problems[0]; i++) {
            if (!(status & client_cert_problems[i].bit) || off >= sizeof v->text)
                continue;
            if (first)
                v->code = client_cert_problems[i].code;
            off += (size_t)snprintf(v->text + off, sizeof v->text - off, "%s %s", first ? "" : ";",
                                    client_cert_problems[i].text);
            first = false;
        }
        if (first) /* a bit not in the table: GnuTLS's own words */
        {
            gnutls_datum_t out = {NULL, 0};
            if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) >=
                0) {
                snprintf(v->text + off, sizeof v->text - off, " %s", (const char *)out.data);
                gnutls_free(out.data);
            }
        }
        return false;
    }
    if (conn != NULL) {
        time_t not_after = (time_t)-1;
        describe_peer(&peers[0], NULL, &not_after);
        uint64_t ttl = HTTP_CLIENT_CERT_RECHECK_NS;
        time_t wall = time(NULL);
        if (not_after != (time_t)-1 && not_after > wall &&
            (uint64_t)(not_after - wall) * 1000000000ull < ttl)
            ttl = (uint64_t)(not_after - wall) * 1000000000ull;
        conn->client_ok_until = now + ttl;
    }
    return true;
}

/* The "client_cert_rejected" line: the reason, GnuTLS's status word, who. */
static void log_client_cert_rejected(struct MHD_Connection *c, const http_request *r,
                                     const client_cert_verdict *v)
{
    if (!log_enabled(LOG_WARN))
        return;
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        char addr[INET6_ADDRSTRLEN + 1];
        client_address(c, addr, sizeof addr);
        cJSON_AddStringToObject(f, "path", r->path);
        cJSON_AddStringToObject(f, "client", addr);
        cJSON_AddStringToObject(f, "reason", v->code);
        cJSON_AddStringToObject(f, "msg", v->text);
        if (v->status != 0) {
            char hex[16];
            snprintf(hex, sizeof hex, "0x%x", v->status);
            cJSON_AddStringToObject(f, "gnutls_status", hex);
            const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
            unsigned n = 0;
            const gnutls_datum_t *peers =
                ci != NULL ? gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n)
                           : NULL;
            if (peers != NULL && n > 0)
                describe_peer(&peers[0], f, NULL);
        }
    }
    log_json(LOG_WARN, "client_cert_rejected", f);
}

/* ------------------------------------------------------------------------------------------ */
/* libmicrohttpd callbacks                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void log_request_timeout(http_request *r, const char *how)
{
    if (r->timeout_logged)
        return;
    r->timeout_logged = true;
    if (!log_enabled(LOG_WARN))
        return;
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "method", r->method);
        cJSON_AddStringToObject(f, "path", r->path);
        cJSON_AddNumberToObject(f, "received", (double)r->received);
        cJSON_AddNumberToObject(f, "micros", micros_since(r->start_ns));
        cJSON_AddStringToObject(f, "action", how);
    }
    log_json(LOG_WARN, "request_timeout", f);
}

/* Call 1: the headers are in. Route, check, and either answer now or wait for the body. */
static enum MHD_Result on_headers(http_server *s, struct MHD_Connection *c, http_request *r,
                                  const char *url, const char *method)
{
    const char *allow = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].path) == 0) {
            r->route = routes[i].route;
            allow = routes[i].allow;
            break;
        }
    }
    if (r->route == ROUTE_NONE)
        return send_error(s, c, r, MHD_HTTP_NOT_FOUND, "not found", NULL);

    bool review = r->route == ROUTE_MUTATE || r->route == ROUTE_VALIDATE;
    client_cert_verdict verdict;
    if (review && s->client_auth && !client_cert_ok(c, &verdict)) {
        log_client_cert_rejected(c, r, &verdict);
        return send_error(s, c, r, MHD_HTTP_FORBIDDEN, verdict.text, NULL);
    }
    bool method_ok = review ? strcmp(method, MHD_HTTP_METHOD_POST) == 0
                            : (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                               strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
    if (!method_ok) {
        char msg[64];
        snprintf(msg, sizeof msg, "method not allowed; use %s", allow);
        return send_error(s, c, r, MHD_HTTP_METHOD_NOT_ALLOWED, msg, allow);
    }
    if (!review)
        return MHD_YES; /* answered on the final call, once any body is consumed */
    if (strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
        r->in_flight = true;
        metrics_in_flight(s->metrics, 1);
    }

    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!is_json_content_type(ct))
        return send_error(s, c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                          "Content-Type must be application/json", NULL);
    const char *ambiguous = ambiguous_framing(c);
    if (ambiguous != NULL) {
        /* The rest of the stream cannot be trusted: answer and close. */
        r->close = true;
        return send_error(s, c, r, MHD_HTTP_BAD_REQUEST, ambiguous, NULL);
    }
    size_t clen;
    if (content_length(c, &clen)) {
        if (clen > s->max_body) {
            char msg[96];
            snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes", s->max_body);
            return send_error(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL);
        }
        if (clen <= HTTP_BODY_TRUST_LENGTH)
            r->length_hint = clen;
    }
    set_conn_timeout(c, r,
                     s->request_timeout < s->idle_timeout ? s->request_timeout : s->idle_timeout);
    return MHD_YES;
}

/* Append body bytes, growing the buffer geometrically up to the limit. */
static void body_append(http_server *s, http_request *r, const char *data, size_t n)
{
    if (r->too_large || r->out_of_memory)
        return;
    if (n > s->max_body - r->len) {
        r->too_large = true;
        free(r->buf);
        r->buf = NULL;
        r->len = r->cap = 0;
        return;
    }
    size_t need = r->len + n;
    if (need > r->cap) {
        size_t cap = r->cap;
        if (cap == 0)
            cap = r->length_hint >= need ? r->length_hint : HTTP_BODY_INITIAL;
        while (cap < need)
            cap = cap > s->max_body / 2 ? s->max_body : cap * 2;
        if (cap > s->max_body)
            cap = s->max_body;
        char *nb = realloc(r->buf, cap);
        if (nb == NULL) {
            r->out_of_memory = true;
            free(r->buf);
            r->buf = NULL;
            r->len = r->cap = 0;
            return;
        }
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len = need;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    http_server *s = cls;
    http_request *r = *con_cls;

    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL)
            return MHD_NO; /* nothing sensible to answer with: drop the connection */
        *con_cls = r;
        atomic_fetch_add(&s->in_flight, 1);
        r->start_ns = now_ns();
        r->deadline_ns = r->start_ns + (uint64_t)s->request_timeout * 1000000000u;
        r->conn_timeout = s->idle_timeout;
        copy_trunc(r->path, sizeof r->path, url);
        copy_trunc(r->method, sizeof r->method, method);
        return on_headers(s, c, r, url != NULL ? url : "", method != NULL ? method : "");
    }

    if (*data_size != 0) {
        size_t n = *data_size;
        *data_size = 0;
        uint64_t now = now_ns();
        if (now >= r->deadline_ns) {
            log_request_timeout(r, "dropped");
            return MHD_NO;
        }
        /* Silence until the deadline closes the connection too. */
        uint64_t left = r->deadline_ns - now;
        set_conn_timeout(c, r, (unsigned)((left + 999999999u) / 1000000000u));
        r->received += n;
        if (r->route == ROUTE_MUTATE || r->route == ROUTE_VALIDATE)
            body_append(s, r, data, n);
        return MHD_YES; /* other routes: a body nobody asked for, consumed and dropped */
    }

    /* The request is complete. */
    if (r->answered)
        return MHD_YES; /* not expected: libmicrohttpd stops calling once answered */
    set_conn_timeout(c, r, s->idle_timeout);
    switch (r->route) {
    case ROUTE_HEALTHZ:
        return handle_healthz(s, c, r);
    case ROUTE_READYZ:
        return handle_readyz(s, c, r);
    case ROUTE_METRICS:
        return handle_metrics(s, c, r);
    case ROUTE_MUTATE:
    case ROUTE_VALIDATE:
        return handle_review(s, c, r);
    case ROUTE_NONE:
        break;
    }
    return send_error(s, c, r, MHD_HTTP_NOT_FOUND, "not found", NULL);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    http_server *s = cls;
    http_request *r = *con_cls;
    if (r == NULL)
        return;
    if (r->in_flight)
        metrics_in_flight(s->metrics, -1);
    /* A large body (a multi-MiB object) leaves free memory in this worker's malloc arena: give
     * it back to the kernel, so resident memory returns to where it was (issue 8). Rare. */
    if (r->received > HTTP_TRIM_AFTER_BYTES)
        malloc_trim(0);
    if (!r->answered) {
        if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) {
            log_request_timeout(r, "timed out");
        } else if (!r->timeout_logged && log_enabled(LOG_DEBUG)) {
            cJSON *f = cJSON_CreateObject();
            if (f != NULL) {
                cJSON_AddStringToObject(f, "method", r->method);
                cJSON_AddStringToObject(f, "path", r->path);
                cJSON_AddNumberToObject(f, "received", (double)r->received);
                cJSON_AddNumberToObject(f, "termination", (double)toe);
            }
            log_json(LOG_DEBUG, "request_aborted", f);
        }
    }
    free(r->buf);
    free(r);
    *con_cls = NULL;
    atomic_fetch_add(&s->completed, 1);
    atomic_fetch_sub(&s->in_flight, 1);
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection's own state (http_conn), from its start to its
 * close. At start the TLS session exists but no handshake has happened yet. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        http_conn *conn = calloc(1, sizeof *conn);
        *socket_context = conn;
        if (conn == NULL)
            return; /* its handshake is refused (on_cert_retrieve) */
        conn->server = s;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (ci != NULL && ci->tls_session != NULL)
            gnutls_db_set_ptr((gnutls_session_t)ci->tls_session, conn);
        return;
    }
    http_conn *conn = *socket_context;
    if (conn == NULL)
        return;
    /* The session may already be gone (libmicrohttpd deinitialises it around this call): only
     * our own state is touched. GnuTLS never frees what on_cert_retrieve() handed it. */
    cert_gen_release(conn->cert);
    free(conn);
    *socket_context = NULL;
}

/* The certificate for a handshake (MHD_OPTION_HTTPS_CERT_CALLBACK2, a GnuTLS retrieve
 * function): the holder's current generation, which the connection keeps a reference to until
 * it closes; GnuTLS is told not to free it (flags 0). Runs on the connection's worker thread. */
static int on_cert_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                            gnutls_pcert_st **certs, unsigned int *pcert_length,
                            gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                            gnutls_privkey_t *privkey, unsigned int *flags)
{
    (void)info;
    http_conn *conn = gnutls_db_get_ptr(session);
    if (conn == NULL) {
        /* No connection state (out of memory at accept): nothing would release a reference,
         * so no certificate; the handshake fails and the client may retry. */
        return -1;
    }
    cert_gen *g = cert_holder_acquire(conn->server->certs);
    /* A second handshake on one connection (TLS 1.2 renegotiation): GnuTLS has dropped the
     * first selection before asking again. */
    cert_gen_release(conn->cert);
    conn->cert = g;
    cert_gen_objects(g, certs, pcert_length, privkey);
    *ocsp = NULL;
    *ocsp_length = 0;
    *flags = 0;
    return 0;
}

/* libmicrohttpd's messages (and the GnuTLS errors it reports) into our log. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return;
    size_t len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    log_msg(LOG_WARN, "mhd", "%s", buf);
}

/* GnuTLS's audit messages (security-relevant protocol events, e.g. a record that fails to
 * decrypt); its debug log stays off. */
static void on_gnutls_audit(gnutls_session_t session, const char *msg)
{
    (void)session;
    char buf[512];
    copy_trunc(buf, sizeof buf, msg);
    size_t len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    log_msg(LOG_WARN, "gnutls", "%s", buf);
}

/* ------------------------------------------------------------------------------------------ */
/* Public functions                                                                           */
/* ------------------------------------------------------------------------------------------ */

static int parse_port(const char *p, unsigned short *out)
{
    if (*p == '\0')
        return -1;
    unsigned long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535)
            return -1;
    }
    *out = (unsigned short)v;
    return 0;
}

int http_parse_listen(const char *text, http_listen *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (text == NULL || strlen(text) >= sizeof out->text) {
        snprintf(err, errlen, "--listen: expected ADDR:PORT, e.g. :8443 or 127.0.0.1:8443");
        return -1;
    }
    copy_trunc(out->text, sizeof out->text, text);
    char host[64];
    const char *port;
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (end == NULL || end[1] != ':') {
            snprintf(err, errlen, "--listen %s: expected [IPV6]:PORT", text);
            return -1;
        }
        size_t hl = (size_t)(end - text - 1);
        memcpy(host, text + 1, hl);
        host[hl] = '\0';
        port = end + 2;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->addr;
        a6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
            snprintf(err, errlen, "--listen %s: '%s' is not an IPv6 address", text, host);
            return -1;
        }
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL) {
            snprintf(err, errlen, "--listen %s: expected ADDR:PORT, e.g. :8443 or 127.0.0.1:8443",
                     text);
            return -1;
        }
        size_t hl = (size_t)(colon - text);
        memcpy(host, text, hl);
        host[hl] = '\0';
        port = colon + 1;
        if (hl == 0) {
            out->any = true;
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&out->addr;
            a4->sin_family = AF_INET;
            if (strchr(host, ':') != NULL) {
                snprintf(err, errlen,
                         "--listen %s: write an IPv6 address in brackets, e.g. [::1]:8443", text);
                return -1;
            }
            if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
                snprintf(err, errlen,
                         "--listen %s: '%s' is not an IPv4 address (use an IP, not a name)", text,
                         host);
                return -1;
            }
        }
    }
    if (parse_port(port, &out->port) != 0) {
        snprintf(err, errlen, "--listen %s: the port must be a number from 0 to 65535", text);
        return -1;
    }
    if (out->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&out->addr)->sin_port = htons(out->port);
    else if (out->addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&out->addr)->sin6_port = htons(out->port);
    return 0;
}

static bool ipv6_available(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

bool http_cert_reload_supported(void)
{
    return MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK2) == MHD_YES;
}

static struct MHD_Daemon *start_daemon(http_server *s, const http_config *cfg, unsigned flags,
                                       const struct sockaddr *sa, unsigned threads)
{
    /* The options that depend on the configuration: a pool only with more than one thread
     * (libmicrohttpd warns about a pool of one), an address only when not every address, the
     * client CA only with --client-ca (libmicrohttpd then asks every client for a
     * certificate, GNUTLS_CERT_REQUEST, and loads the CA as the trust that
     * gnutls_certificate_verify_peers() checks against). */
    struct MHD_OptionItem extra[5];
    size_t n = 0;
    extra[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                         (intptr_t)HTTP_CONNECTION_MEMORY, NULL};
    if (threads > 1)
        extra[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL};
    if (sa != NULL)
        extra[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)sa};
    if (cfg->client_ca_pem != NULL)
        extra[n++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)cfg->client_ca_pem};
    extra[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    /* The logger comes first so that messages about the other options reach it. The
     * certificate comes from on_cert_retrieve() for every handshake, so that a reload reaches
     * new connections; without that callback, the PEM given at start. */
    if (http_cert_reload_supported())
        return MHD_start_daemon(
            flags, cfg->listen.port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
            on_mhd_log, s, MHD_OPTION_HTTPS_CERT_CALLBACK2, on_cert_retrieve,
            MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES, MHD_OPTION_CONNECTION_TIMEOUT,
            cfg->idle_timeout, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, s, MHD_OPTION_ARRAY, extra, MHD_OPTION_END);
    return MHD_start_daemon(
        flags, cfg->listen.port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        s, MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem,
        MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->idle_timeout, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_ARRAY, extra, MHD_OPTION_END);
}

http_server *http_start(const http_config *cfg, char *err, size_t errlen)
{
    if (cfg->certs == NULL || cfg->cert_pem == NULL || cfg->key_pem == NULL ||
        cfg->policies == NULL || cfg->max_body_bytes == 0 || cfg->idle_timeout == 0 ||
        cfg->request_timeout == 0 || cfg->max_connections == 0) {
        snprintf(err, errlen, "invalid server configuration");
        return NULL;
    }
    http_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->quiesced_fd = MHD_INVALID_SOCKET;
    s->policies = cfg->policies;
    s->certs = cfg->certs;
    s->metrics = cfg->metrics;
    s->client_auth = cfg->client_ca_pem != NULL;
    atomic_init(&s->cert_loaded, true);
    atomic_init(&s->draining, false);
    atomic_init(&s->in_flight, 0u);
    atomic_init(&s->completed, 0ul);
    s->max_body = cfg->max_body_bytes;
    s->idle_timeout = cfg->idle_timeout;
    s->request_timeout = cfg->request_timeout;

    gnutls_global_set_audit_log_function(on_gnutls_audit);

    /* In pool mode libmicrohttpd splits the connection limit between the workers. */
    unsigned threads = cfg->threads == 0 ? 1 : cfg->threads;
    if (threads > cfg->max_connections)
        threads = cfg->max_connections;

    unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    const struct sockaddr *sa = NULL;
    if (cfg->listen.any) {
        if (ipv6_available()) {
            flags |= MHD_USE_DUAL_STACK;
        } else {
            log_msg(LOG_WARN, "listen", "IPv6 is not available here; listening on IPv4 only");
        }
    } else {
        sa = (const struct sockaddr *)&cfg->listen.addr;
        if (cfg->listen.addr.ss_family == AF_INET6)
            flags |= MHD_USE_IPv6;
    }
    s->daemon = start_daemon(s, cfg, flags, sa, threads);
    if (s->daemon == NULL) {
        snprintf(err, errlen, "cannot start the HTTPS server on %s (the \"mhd\" log line says why)",
                 cfg->listen.text);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : cfg->listen.port;
    return s;
}

unsigned http_bound_port(const http_server *s)
{
    return s->port;
}

void http_set_draining(http_server *s)
{
    atomic_store(&s->draining, true);
}

int http_quiesce(http_server *s)
{
    if (s->quiesced_fd != MHD_INVALID_SOCKET)
        return 0;
    s->quiesced_fd = MHD_quiesce_daemon(s->daemon);
    return s->quiesced_fd == MHD_INVALID_SOCKET ? -1 : 0;
}

unsigned http_requests_in_flight(const http_server *s)
{
    return atomic_load(&((http_server *)s)->in_flight);
}

unsigned long http_requests_completed(const http_server *s)
{
    return atomic_load(&((http_server *)s)->completed);
}

void http_stop(http_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->daemon);
    /* After MHD_stop_daemon(): in threaded modes the workers may use it until they stop. */
    if (s->quiesced_fd != MHD_INVALID_SOCKET)
        close(s->quiesced_fd);
    free(s);
}
