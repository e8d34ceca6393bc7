/*
 * http.h — the HTTPS server of `serve` (SPEC §4), on libmicrohttpd with its GnuTLS TLS.
 *
 * Routing (the query string never matters):
 *   POST /mutate, POST /validate  AdmissionReview in and out, through admission_handle()
 *   GET  /healthz                 200 {"status":"ok"} while the process serves
 *   GET  /readyz                  200 {"status":"ok","policy":"sha256:..."} (the hash of the
 *                                 policy being served) with a certificate loaded and not
 *                                 draining, else 503
 * With a client CA (--client-ca), /mutate and /validate first check the connection's client
 * certificate: none, or one that does not verify against the CA (GnuTLS's status word: expired,
 * unknown issuer, wrong purpose, ...), gets 403 {"error": ...} and a "client_cert_rejected"
 * log line with the reason. /healthz and /readyz never need one.
 * Protocol errors answer with {"error": "..."}: 404 unknown path, 405 wrong method (with an
 * Allow header), 415 a Content-Type other than application/json, 413 a body over the limit
 * (from Content-Length before the body is read, or once a chunked body passes it), 500 out of
 * memory. A body that has not fully arrived within the request timeout of the request's start
 * gets its connection dropped (logged as "request_timeout").
 *
 * Lifecycle: http_start() → (serving) → http_set_draining() on SIGTERM → http_quiesce() →
 * wait for http_requests_in_flight() to reach 0 → http_stop().
 */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cert_holder.h"
#include "metrics.h"
#include "policy_holder.h"

/* Where to listen, as parsed from --listen ADDR:PORT. */
typedef struct {
    bool any;                     /* ":PORT": every IPv4 and IPv6 address (dual stack) */
    struct sockaddr_storage addr; /* the address otherwise (AF_INET or AF_INET6) */
    unsigned short port;          /* host byte order; 0 picks a free port */
    char text[64];                /* as given, for logs */
} http_listen;

typedef struct {
    http_listen listen;
    /* The serving certificate: new handshakes take the holder's current pair, so a swap there
     * (a reload) reaches new connections at once. Borrowed; must outlive the server. */
    cert_holder *certs;
    /* The same pair as PEM, used only when libmicrohttpd cannot take a certificate callback
     * (http_cert_reload_supported() false): then the pair is fixed at start. Borrowed. */
    const char *cert_pem;
    const char *key_pem;
    /* --client-ca: PEM CA certificates. When set, POST /mutate and /validate need a client
     * certificate that verifies against them (else 403); NULL: none needed. Borrowed. */
    const char *client_ca_pem;
    policy_holder *policies;         /* the current policy; borrowed, must outlive the server */
    metrics *metrics;                /* counted into, served on GET /metrics; borrowed, likewise */
    unsigned threads;                /* worker threads (a thread pool when > 1) */
    unsigned idle_timeout;           /* seconds a connection may stay idle */
    unsigned request_timeout;        /* seconds from a request's start to its complete body */
    unsigned max_connections;        /* concurrent connections in total */
    unsigned max_connections_per_ip; /* per client address; 0 = no limit */
    size_t max_body_bytes;
} http_config;

typedef struct http_server http_server;

/*
 * http_parse_listen — parse --listen: "ADDR:PORT" with ADDR an IPv4 literal ("127.0.0.1:8443"),
 * a bracketed IPv6 literal ("[::1]:8443") or empty (":8443", every address). Returns 0, or -1
 * with a one-line reason in `err`.
 */
int http_parse_listen(const char *text, http_listen *out, char *err, size_t errlen);

/*
 * http_start — start the daemon with its own worker threads. Block the signals the caller wants
 * to handle before calling: the workers inherit the signal mask. When listening on every address
 * fails (a host without IPv6), it retries on every IPv4 address and logs a warning.
 * Returns the server (stop it with http_stop()), or NULL with a one-line reason in `err`
 * (libmicrohttpd's own explanation is in the log, event "mhd").
 */
http_server *http_start(const http_config *cfg, char *err, size_t errlen);

/*
 * http_cert_reload_supported — whether the linked libmicrohttpd takes a certificate callback
 * (MHD_FEATURE_HTTPS_CERT_CALLBACK2, libmicrohttpd >= 0.9.71 with GnuTLS >= 3.6.3), which is
 * how a reloaded certificate reaches new handshakes. Without it the pair given at start is
 * served until the process restarts.
 */
bool http_cert_reload_supported(void);

/* http_bound_port — the port the daemon listens on (useful with port 0). */
unsigned http_bound_port(const http_server *s);

/* http_set_draining — from now on /readyz answers 503 and every response carries
 * `Connection: close`. Safe from any thread. */
void http_set_draining(http_server *s);

/* http_quiesce — stop accepting new connections; requests on open connections go on.
 * Returns 0, or -1 if libmicrohttpd cannot quiesce (then http_stop() still works). */
int http_quiesce(http_server *s);

/* http_requests_in_flight — requests begun (headers received) and not yet completed. */
unsigned http_requests_in_flight(const http_server *s);

/* http_requests_completed — requests completed since start (any route, any outcome). */
unsigned long http_requests_completed(const http_server *s);

/* http_stop — stop the daemon (closing every connection), join its threads and free `s`.
 * NULL is accepted. */
void http_stop(http_server *s);

#endif
