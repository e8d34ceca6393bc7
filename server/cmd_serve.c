/*
 * cmd_serve.c — the `serve` command (SPEC §3, §4): flags, start-up, signals, graceful stop.
 *
 * Start-up order: flags → the policy file's watcher is created (it records the file's identity,
 * so a change made from here on is seen) → policy (refuse to start on a bad file) → the
 * certificate files' watcher, likewise → certificate (files, or a development certificate
 * generated in memory whose PEM is written to a file named in the first log line) into the
 * certificate holder (cert_holder.h) → --client-ca → block SIGTERM/SIGINT in every thread →
 * start the daemon → start the watchers' threads → install the self-sandbox (sandbox.h; every
 * thread exists by then) → wait for a signal.
 *
 * Certificate reload (SPEC §3): when the certificate watcher sees --tls-cert or --tls-key change
 * (the kubelet's `..data` swap of a mounted Secret included), on_cert_change() loads both again
 * as one pair on the watcher's thread. A pair that does not load — unreadable, half-written,
 * mismatched — is logged ("certificate_rejected", with the reason) and the pair being served
 * stays; a good one whose content differs is swapped into the holder, which new handshakes read
 * (connections already open keep their pair), and logged ("certificate_loaded", as at start).
 *
 * Policy reload (SPEC §5): when the watcher sees the --config file change (watch.h: inotify on
 * its directory, so the kubelet's `..data` symlink swap is seen, plus a check every
 * --config-check-interval seconds), on_config_change() loads it on the watcher's thread. A bad
 * file keeps the policy being served and is logged ("policy_rejected", with every error as
 * FILE:LINE:COL) and counted; a good one whose hash differs is swapped in through the policy
 * holder (policy_holder.h), which requests read without a lock, and logged ("policy_loaded").
 * /readyz is not affected either way.
 *
 * Signals are taken with sigwait() in the main thread, never in a handler: the workers are
 * created with the signals blocked, so only the main thread sees them. On the first signal
 * /readyz turns 503 at once and every response carries `Connection: close`; requests are
 * served for --shutdown-delay seconds (the API server keeps using open connections until the
 * endpoint is gone); then the daemon stops accepting, in-flight requests finish (at most
 * HTTP_DRAIN_MAX_SECONDS), and the process exits 0. A second signal skips what is left of the
 * delay.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "cert_holder.h"
#include "commands.h"
#include "cpus.h"
#include "http.h"
#include "json_arena.h"
#include "log.h"
#include "policy.h"
#include "policy_holder.h"
#include "sandbox.h"
#include "tls.h"
#include "watch.h"

#ifndef SW_VERSION
#define SW_VERSION "dev"
#endif

/* How long the stop waits for in-flight requests once the daemon no longer accepts. */
#define HTTP_DRAIN_MAX_SECONDS 30

typedef struct {
    const char *listen;
    const char *tls_cert;
    const char *tls_key;
    const char *client_ca;
    const char *config;
    unsigned long shutdown_delay;
    unsigned long max_body_bytes;
    unsigned long threads; /* 0: cpus_available() */
    unsigned long idle_timeout;
    unsigned long max_connections;
    unsigned long max_connections_per_ip;
    unsigned long request_timeout;
    unsigned long config_check_interval;
    unsigned long cert_check_interval;
    log_level level;
    bool no_self_sandbox;
    bool sandbox_selftest;
    bool help;
} serve_opts;

static const char usage[] =
    "Usage: seccomp-webhook serve [flags]\n"
    "\n"
    "Run the admission webhook server: POST /mutate, POST /validate, GET /healthz, GET /readyz,\n"
    "GET /metrics, over HTTPS (TLS 1.2 or newer). Logs go to stderr as JSON lines.\n"
    "\n"
    "Flags:\n"
    "  --listen ADDR:PORT          where to listen (default :8443 = every IPv4 and IPv6\n"
    "                              address; e.g. 127.0.0.1:8443, [::1]:8443)\n"
    "  --tls-cert FILE             PEM certificate (leaf first, then intermediates)\n"
    "  --tls-key FILE              PEM private key (unencrypted); both or neither. Without\n"
    "                              them a self-signed development certificate for localhost\n"
    "                              and 127.0.0.1 is made and its PEM written to a file named\n"
    "                              in the first log line (\"dev_ca_file\"), for curl --cacert.\n"
    "                              Both are reloaded when they change (including a mounted\n"
    "                              Secret's ..data symlink swap): new connections get the new\n"
    "                              pair, open ones keep theirs; a pair that does not load\n"
    "                              (mismatched, half-written) is logged (certificate_rejected)\n"
    "                              and the pair being served is kept\n"
    "  --cert-check-interval SECONDS\n"
    "                              also compare the certificate and key files' identity this\n"
    "                              often (default 10)\n"
    "  --client-ca FILE            PEM CA certificate(s): POST /mutate and /validate must\n"
    "                              present a client certificate issued by one of them, valid\n"
    "                              now and for clientAuth, else 403 (/healthz, /readyz and\n"
    "                              /metrics need none). Read once at start: a new CA needs a\n"
    "                              restart\n"
    "  --config FILE               policy file (default: the built-in policy); reloaded when\n"
    "                              it changes, including a ConfigMap's ..data symlink swap;\n"
    "                              a bad new file is logged (policy_rejected) and the last\n"
    "                              good policy kept\n"
    "  --config-check-interval SECONDS\n"
    "                              also compare the policy file's identity this often, as a\n"
    "                              safety net for changes inotify does not report (default 10)\n"
    "  --shutdown-delay SECONDS    keep serving after SIGTERM, with Connection: close and\n"
    "                              /readyz 503, before stopping (default 5)\n"
    "  --max-body-bytes N          largest request body (default 7340032 = 7 MiB)\n"
    "  --threads N                 worker threads (default: the CPUs this process may use)\n"
    "  --idle-timeout SECONDS      close connections idle this long (default 120)\n"
    "  --request-timeout SECONDS   a request's body must arrive within this (default 10)\n"
    "  --max-connections N         concurrent connections (default 1024)\n"
    "  --max-connections-per-ip N  concurrent connections per client address, 0 = no limit\n"
    "                              (default 64)\n"
    "  --log-level LEVEL           debug, info, warn or error (default info)\n"
    "  --no-self-sandbox           do not install the server's own seccomp filter (for\n"
    "                              sanitizer and valgrind runs). By default, once serving, the\n"
    "                              server allows itself only the system calls that serving,\n"
    "                              logging and reloading need; any other is refused with EPERM\n"
    "                              and logged (sandbox_violation, with the call's name)\n"
    "  --sandbox-selftest          after installing the filter, make one forbidden call\n"
    "                              (personality) so that its sandbox_violation line shows the\n"
    "                              filter at work; serving is not affected\n"
    "  --help                      show this help\n"
    "\n"
    "Example:\n"
    "  seccomp-webhook serve --listen 127.0.0.1:8443 --config policy.yaml\n";

/* ------------------------------------------------------------------------------------------ */
/* Flags                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef enum { OPT_STRING, OPT_NUMBER, OPT_LEVEL, OPT_FLAG } opt_kind;

typedef struct {
    const char *name;
    opt_kind kind;
    size_t offset; /* into serve_opts */
    unsigned long min, max;
} opt_def;

#define OFF(field) offsetof(serve_opts, field)

static const opt_def opt_defs[] = {
    {"listen", OPT_STRING, OFF(listen), 0, 0},
    {"tls-cert", OPT_STRING, OFF(tls_cert), 0, 0},
    {"tls-key", OPT_STRING, OFF(tls_key), 0, 0},
    {"client-ca", OPT_STRING, OFF(client_ca), 0, 0},
    {"config", OPT_STRING, OFF(config), 0, 0},
    {"config-check-interval", OPT_NUMBER, OFF(config_check_interval), 1, 86400},
    {"cert-check-interval", OPT_NUMBER, OFF(cert_check_interval), 1, 86400},
    {"shutdown-delay", OPT_NUMBER, OFF(shutdown_delay), 0, 3600},
    {"max-body-bytes", OPT_NUMBER, OFF(max_body_bytes), 1, 1UL << 30},
    {"threads", OPT_NUMBER, OFF(threads), 1, 1024},
    {"idle-timeout", OPT_NUMBER, OFF(idle_timeout), 1, 86400},
    {"request-timeout", OPT_NUMBER, OFF(request_timeout), 1, 3600},
    {"max-connections", OPT_NUMBER, OFF(max_connections), 1, 1000000},
    {"max-connections-per-ip", OPT_NUMBER, OFF(max_connections_per_ip), 0, 1000000},
    {"log-level", OPT_LEVEL, OFF(level), 0, 0},
    {"no-self-sandbox", OPT_FLAG, OFF(no_self_sandbox), 0, 0},
    {"sandbox-selftest", OPT_FLAG, OFF(sandbox_selftest), 0, 0},
    {"help", OPT_FLAG, OFF(help), 0, 0},
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "seccomp-webhook serve: %s (see --help)\n", msg);
    return -1;
}

/* A plain decimal number in [min, max]; no sign, no suffix. */
static int parse_number(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    unsigned long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned long d = (unsigned long)(*s - '0');
        if (v > (ULONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_flags(int argc, char **argv, serve_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0) {
            o->help = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return usage_error("unexpected argument '%s'; serve takes only flags", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        const opt_def *d = NULL;
        for (size_t k = 0; k < sizeof opt_defs / sizeof opt_defs[0]; k++) {
            if (strlen(opt_defs[k].name) == name_len &&
                strncmp(opt_defs[k].name, name, name_len) == 0) {
                d = &opt_defs[k];
                break;
            }
        }
        if (d == NULL)
            return usage_error("unknown flag --%.*s", (int)name_len, name);
        char *field = (char *)o + d->offset;
        if (d->kind == OPT_FLAG) {
            if (eq != NULL)
                return usage_error("--%s takes no value", d->name);
            *(bool *)field = true;
            continue;
        }
        const char *value;
        if (eq != NULL) {
            value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return usage_error("--%s needs a value", d->name);
            value = argv[++i];
        }
        switch (d->kind) {
        case OPT_STRING:
            if (value[0] == '\0')
                return usage_error("--%s needs a non-empty value", d->name);
            *(const char **)field = value;
            break;
        case OPT_NUMBER:
            if (parse_number(value, d->min, d->max, (unsigned long *)field) != 0)
                return usage_error("--%s '%s': expected a whole number from %lu to %lu", d->name,
                                   value, d->min, d->max);
            break;
        case OPT_LEVEL:
            if (log_parse_level(value, (log_level *)field) != 0)
                return usage_error("--log-level '%s': expected debug, info, warn or error", value);
            break;
        case OPT_FLAG:
            break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Start-up helpers                                                                           */
/* ------------------------------------------------------------------------------------------ */

/* Write the development certificate's PEM to $TMPDIR (or /tmp) as
 * seccomp-webhook-dev-<pid>.pem, created exclusively (O_EXCL, no symlink followed) with mode
 * 0644. In a container the pid is often the same at every start, so a name already taken gets
 * a numbered suffix instead of failing. Returns the path (caller frees) or NULL with a reason. */
static char *write_dev_cert(const char *pem, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] != '/')
        dir = "/tmp";
    char path[PATH_MAX];
    for (int attempt = 0; attempt < 100; attempt++) {
        int n = attempt == 0 ? snprintf(path, sizeof path, "%s/seccomp-webhook-dev-%ld.pem", dir,
                                        (long)getpid())
                             : snprintf(path, sizeof path, "%s/seccomp-webhook-dev-%ld-%d.pem", dir,
                                        (long)getpid(), attempt);
        if (n < 0 || (size_t)n >= sizeof path) {
            snprintf(err, errlen, "the directory name %s is too long", dir);
            return NULL;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return NULL;
        }
        (void)fchmod(fd, 0644); /* whatever the umask: it is a public certificate */
        size_t len = strlen(pem), off = 0;
        while (off < len) {
            ssize_t w = write(fd, pem + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                snprintf(err, errlen, "cannot write %s: %s", path,
                         w < 0 ? strerror(errno) : "short write");
                close(fd);
                unlink(path);
                return NULL;
            }
            off += (size_t)w;
        }
        if (close(fd) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            unlink(path);
            return NULL;
        }
        char *copy = strdup(path);
        if (copy == NULL) {
            unlink(path);
            snprintf(err, errlen, "out of memory");
        }
        return copy;
    }
    snprintf(err, errlen, "cannot create a file %s/seccomp-webhook-dev-%ld-N.pem: all names taken",
             dir, (long)getpid());
    return NULL;
}

static void print_policy_errors(const policy_errors *errs, const char *path)
{
    if (errs->count == 0) {
        fprintf(stderr, "%s: cannot load the policy\n", path);
        return;
    }
    for (size_t i = 0; i < errs->count; i++) {
        const policy_error *e = &errs->items[i];
        const char *file = e->file != NULL ? e->file : path;
        const char *msg = e->message != NULL ? e->message : "invalid";
        if (e->line > 0)
            fprintf(stderr, "%s:%u:%u: %s\n", file, e->line, e->column, msg);
        else
            fprintf(stderr, "%s: %s\n", file, msg);
    }
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait up to `ms` milliseconds for a signal of `set` (blocked in every thread). Returns the
 * signal, or 0 when the time is up. */
static int wait_signal(const sigset_t *set, uint64_t ms)
{
    uint64_t end = mono_ms() + ms;
    for (;;) {
        uint64_t now = mono_ms();
        uint64_t left = now >= end ? 0 : end - now;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000),
                              .tv_nsec = (long)(left % 1000) * 1000000L};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig > 0)
            return sig;
        if (errno == EINTR && left > 0)
            continue;
        return 0;
    }
}

/* How often the serving loop looks for a finished burst of requests (memory_after_burst()). */
#define SERVE_TRIM_INTERVAL_MS 1000

/* Once requests have been served since the last trim and none is in progress, return the
 * memory they freed to the kernel: the JSON arena's spare blocks (json_arena_trim) and what
 * malloc keeps (malloc_trim). Under load, glibc keeps what connections and requests free for
 * reuse, which is right; after a burst (64 busy connections, 40-container pods) that would
 * stay resident for good, about 4 MiB here, so that the resident size would tell the burst
 * rather than the load (SPEC §9: flat under load). The trim comes within a second of the
 * burst's end, even while a trickle of requests goes on. Under a steady load it runs at most
 * once a second, between requests; with nothing to give back it costs microseconds, and the
 * spares it frees are taken again from malloc by the next large review. */
static void memory_after_burst(const http_server *srv, unsigned long *trimmed_at)
{
    unsigned long done = http_requests_completed(srv);
    if (done == *trimmed_at || http_requests_in_flight(srv) != 0)
        return;
    json_arena_trim();
    malloc_trim(0);
    *trimmed_at = done;
}

static void log_start(const serve_opts *o, const tls_pair *pair, const char *dev_file,
                      const char *dev_err, const policy *p, unsigned threads,
                      unsigned client_ca_count, const char *client_ca_subjects)
{
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        char when[40];
        tls_format_time(pair->not_after, when, sizeof when);
        cJSON_AddStringToObject(f, "version", SW_VERSION);
        cJSON_AddNumberToObject(f, "pid", (double)getpid());
        if (o->tls_cert == NULL) {
            if (dev_file != NULL)
                cJSON_AddStringToObject(f, "dev_ca_file", dev_file);
            else
                cJSON_AddNullToObject(f, "dev_ca_file");
            if (dev_err != NULL)
                cJSON_AddStringToObject(f, "dev_ca_error", dev_err);
            cJSON_AddStringToObject(f, "tls", "development certificate (self-signed)");
        } else {
            cJSON_AddStringToObject(f, "tls", "files");
            cJSON_AddStringToObject(f, "tls_cert", o->tls_cert);
            cJSON_AddStringToObject(f, "tls_key", o->tls_key);
        }
        cJSON_AddStringToObject(f, "cert_not_after", when);
        if (o->tls_cert != NULL)
            cJSON_AddNumberToObject(f, "cert_check_interval", (double)o->cert_check_interval);
        if (o->client_ca != NULL) {
            cJSON_AddStringToObject(f, "client_ca", o->client_ca);
            cJSON_AddNumberToObject(f, "client_ca_certs", client_ca_count);
            cJSON_AddStringToObject(f, "client_ca_subjects", client_ca_subjects);
        } else {
            cJSON_AddNullToObject(f, "client_ca");
        }
        cJSON_AddStringToObject(f, "config", o->config != NULL ? o->config : "builtin");
        if (o->config != NULL)
            cJSON_AddNumberToObject(f, "config_check_interval", (double)o->config_check_interval);
        cJSON_AddStringToObject(f, "policy_hash", p->hash);
        cJSON_AddStringToObject(f, "listen", o->listen);
        cJSON_AddNumberToObject(f, "threads", threads);
        cJSON_AddNumberToObject(f, "max_body_bytes", (double)o->max_body_bytes);
        cJSON_AddNumberToObject(f, "idle_timeout", (double)o->idle_timeout);
        cJSON_AddNumberToObject(f, "request_timeout", (double)o->request_timeout);
        cJSON_AddNumberToObject(f, "max_connections", (double)o->max_connections);
        cJSON_AddNumberToObject(f, "max_connections_per_ip", (double)o->max_connections_per_ip);
        cJSON_AddNumberToObject(f, "shutdown_delay", (double)o->shutdown_delay);
        cJSON_AddBoolToObject(f, "self_sandbox", !o->no_self_sandbox);
    }
    log_json(LOG_INFO, "start", f);
}

/* ------------------------------------------------------------------------------------------ */
/* Policy reload                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* What the watcher's callback needs. */
typedef struct {
    const char *path; /* --config */
    policy_holder *holder;
} reload_ctx;

/* "FILE:LINE:COL: message" (or "FILE: message" without a position) as a new string, or NULL
 * when out of memory. */
static char *format_policy_error(const policy_error *e, const char *path)
{
    const char *file = e->file != NULL ? e->file : path;
    const char *msg = e->message != NULL ? e->message : "invalid";
    int n = e->line > 0 ? snprintf(NULL, 0, "%s:%u:%u: %s", file, e->line, e->column, msg)
                        : snprintf(NULL, 0, "%s: %s", file, msg);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    if (e->line > 0)
        snprintf(s, (size_t)n + 1, "%s:%u:%u: %s", file, e->line, e->column, msg);
    else
        snprintf(s, (size_t)n + 1, "%s: %s", file, msg);
    return s;
}

/* The "policy_loaded" line: at start (source "start") and after each swap (source "reload"). */
static void log_policy_loaded(const char *source, const char *config, const policy *p,
                              const char *previous_hash)
{
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "source", source);
        cJSON_AddStringToObject(f, "config", config != NULL ? config : "builtin");
        cJSON_AddStringToObject(f, "hash", p->hash);
        cJSON_AddNumberToObject(f, "namespace_rules", (double)p->rule_count);
        if (previous_hash != NULL)
            cJSON_AddStringToObject(f, "previous_hash", previous_hash);
    }
    log_json(LOG_INFO, "policy_loaded", f);
}

/* The "policy_rejected" line: every error of the new file, and the hash of the policy kept. */
static void log_policy_rejected(const char *config, const policy_errors *errs, const char *kept)
{
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "config", config);
        cJSON *list = cJSON_AddArrayToObject(f, "errors");
        for (size_t i = 0; list != NULL && i < errs->count; i++) {
            char *line = format_policy_error(&errs->items[i], config);
            if (line != NULL)
                cJSON_AddItemToArray(list, cJSON_CreateString(line));
            free(line);
        }
        if (list != NULL && errs->count == 0)
            cJSON_AddItemToArray(list, cJSON_CreateString("cannot load the policy"));
        cJSON_AddStringToObject(f, "kept_hash", kept);
        cJSON_AddStringToObject(f, "msg",
                                "the new policy file is invalid; the last good policy "
                                "stays in force");
    }
    log_json(LOG_ERROR, "policy_rejected", f);
}

/* The watcher's callback (on its thread, the only one that swaps): load the file again; keep
 * the current policy when it is bad, swap when its content differs. */
static void on_config_change(void *arg)
{
    reload_ctx *ctx = arg;
    policy_errors errs = {0};
    policy *next = policy_load_file(ctx->path, &errs);
    /* Only this thread swaps, so the current policy stays valid here without acquiring it. */
    const policy *cur = policy_holder_current(ctx->holder);
    if (next == NULL) {
        policy_holder_count_reload(ctx->holder, 0);
        log_policy_rejected(ctx->path, &errs, cur->hash);
        policy_errors_free(&errs);
        return;
    }
    policy_errors_free(&errs);
    policy_holder_count_reload(ctx->holder, 1);
    if (strcmp(next->hash, cur->hash) == 0) {
        if (log_enabled(LOG_DEBUG)) {
            cJSON *f = cJSON_CreateObject();
            if (f != NULL) {
                cJSON_AddStringToObject(f, "config", ctx->path);
                cJSON_AddStringToObject(f, "hash", next->hash);
            }
            log_json(LOG_DEBUG, "policy_unchanged", f);
        }
        policy_free(next);
        return;
    }
    char previous[sizeof cur->hash];
    memcpy(previous, cur->hash, sizeof previous);
    /* `next` belongs to the holder now; it stays valid on this thread until our next swap. */
    policy_holder_swap(ctx->holder, next);
    log_policy_loaded("reload", ctx->path, next, previous);
}

/* ------------------------------------------------------------------------------------------ */
/* Certificate reload                                                                         */
/* ------------------------------------------------------------------------------------------ */

/* What the certificate watcher's callback needs. */
typedef struct {
    const char *cert_path; /* --tls-cert */
    const char *key_path;  /* --tls-key */
    cert_holder *holder;
} cert_reload_ctx;

/* The fields that describe a pair in the certificate_* lines. */
static void add_pair_fields(cJSON *f, const tls_pair *p)
{
    char when[40];
    cJSON_AddStringToObject(f, "subject", p->subject != NULL ? p->subject : "");
    cJSON *sans = cJSON_AddArrayToObject(f, "sans");
    if (sans != NULL && p->sans != NULL && p->sans[0] != '\0') {
        const char *start = p->sans;
        for (;;) {
            const char *comma = strchr(start, ',');
            size_t len = comma != NULL ? (size_t)(comma - start) : strlen(start);
            char *one = strndup(start, len);
            if (one != NULL)
                cJSON_AddItemToArray(sans, cJSON_CreateString(one));
            free(one);
            if (comma == NULL)
                break;
            start = comma + 1;
        }
    }
    tls_format_time(p->not_before, when, sizeof when);
    cJSON_AddStringToObject(f, "not_before", when);
    tls_format_time(p->not_after, when, sizeof when);
    cJSON_AddStringToObject(f, "not_after", when);
    cJSON_AddNumberToObject(f, "not_after_unix", (double)p->not_after);
    cJSON_AddStringToObject(f, "fingerprint_sha256", p->fingerprint);
    cJSON_AddNumberToObject(f, "chain_length", p->chain_len);
}

/* "certificate_loaded": at start (source "start") and after each swap (source "reload"); and a
 * warning when the certificate is expired or not yet valid, which clients will refuse. */
static void log_certificate_loaded(const char *source, const char *cert, const char *key,
                                   const tls_pair *p, const char *previous_fingerprint)
{
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "source", source);
        cJSON_AddStringToObject(f, "cert", cert != NULL ? cert : "(development)");
        if (key != NULL)
            cJSON_AddStringToObject(f, "key", key);
        add_pair_fields(f, p);
        if (previous_fingerprint != NULL)
            cJSON_AddStringToObject(f, "previous_fingerprint_sha256", previous_fingerprint);
    }
    log_json(LOG_INFO, "certificate_loaded", f);
    int64_t now = (int64_t)time(NULL);
    if (now > p->not_after || now < p->not_before) {
        f = cJSON_CreateObject();
        if (f != NULL) {
            cJSON_AddStringToObject(f, "cert", cert != NULL ? cert : "(development)");
            add_pair_fields(f, p);
            cJSON_AddStringToObject(f, "msg",
                                    now > p->not_after
                                        ? "the certificate has expired; clients will refuse it"
                                        : "the certificate is not valid yet; clients will refuse "
                                          "it");
        }
        log_json(LOG_WARN, "certificate_not_valid_now", f);
    }
}

/* "certificate_rejected": why the new files were refused, and the pair kept. */
static void log_certificate_rejected(const cert_reload_ctx *ctx, const char *reason,
                                     const tls_pair *kept)
{
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "cert", ctx->cert_path);
        cJSON_AddStringToObject(f, "key", ctx->key_path);
        cJSON_AddStringToObject(f, "reason", reason);
        cJSON_AddStringToObject(f, "kept_fingerprint_sha256", kept->fingerprint);
        char when[40];
        tls_format_time(kept->not_after, when, sizeof when);
        cJSON_AddStringToObject(f, "kept_not_after", when);
        cJSON_AddStringToObject(f, "msg",
                                "the new certificate or key cannot be used; the pair being "
                                "served stays in force");
    }
    log_json(LOG_ERROR, "certificate_rejected", f);
}

/* The certificate watcher's callback (on its thread, the only one that swaps): load both files
 * again, as one pair; keep the current pair on any error; swap when the content differs. A
 * Secret updated by the kubelet changes both files in one `..data` rename; files replaced one
 * after the other may be seen half-way (a new certificate with the old key): that pair does
 * not match and is rejected, and the second change loads the complete one. */
static void on_cert_change(void *arg)
{
    cert_reload_ctx *ctx = arg;
    char err[512];
    tls_pair next;
    /* Only this thread swaps, so the current pair stays valid here. */
    const tls_pair *cur = cert_holder_current(ctx->holder);
    if (tls_load_files(ctx->cert_path, ctx->key_path, &next, err, sizeof err) != 0) {
        cert_holder_count_reload(ctx->holder, 0);
        log_certificate_rejected(ctx, err, cur);
        return;
    }
    char previous[TLS_FINGERPRINT_LEN];
    memcpy(previous, cur->fingerprint, sizeof previous);
    int rc = cert_holder_swap(ctx->holder, &next, err, sizeof err);
    if (rc < 0) {
        cert_holder_count_reload(ctx->holder, 0);
        log_certificate_rejected(ctx, err, cur);
    } else if (rc == 0) {
        cert_holder_count_reload(ctx->holder, 1);
        if (log_enabled(LOG_DEBUG)) {
            cJSON *f = cJSON_CreateObject();
            if (f != NULL) {
                cJSON_AddStringToObject(f, "cert", ctx->cert_path);
                cJSON_AddStringToObject(f, "fingerprint_sha256", next.fingerprint);
            }
            log_json(LOG_DEBUG, "certificate_unchanged", f);
        }
    } else {
        cert_holder_count_reload(ctx->holder, 1);
        log_certificate_loaded("reload", ctx->cert_path, ctx->key_path, &next, previous);
    }
    tls_pair_free(&next);
}

/* ------------------------------------------------------------------------------------------ */
/* The command                                                                                */
/* ------------------------------------------------------------------------------------------ */

int cmd_serve(int argc, char **argv)
{
    serve_opts o = {
        .listen = ":8443",
        .shutdown_delay = 5,
        .max_body_bytes = 7UL * 1024 * 1024,
        .threads = 0,
        .idle_timeout = 120,
        .max_connections = 1024,
        .max_connections_per_ip = 64,
        .request_timeout = 10,
        .config_check_interval = 10,
        .cert_check_interval = 10,
        .level = LOG_INFO,
    };
    if (parse_flags(argc, argv, &o) != 0)
        return 2;
    if (o.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (o.sandbox_selftest && o.no_self_sandbox) {
        usage_error("--sandbox-selftest needs the self-sandbox: drop --no-self-sandbox");
        return 2;
    }
    if ((o.tls_cert == NULL) != (o.tls_key == NULL)) {
        usage_error("--tls-cert and --tls-key go together: give both or neither");
        return 2;
    }
    http_listen listen_addr;
    char err[512];
    if (http_parse_listen(o.listen, &listen_addr, err, sizeof err) != 0) {
        usage_error("%s", err);
        return 2;
    }
    log_set_level(o.level);

    /* The watcher first: it records the file's identity now, so a change made while the file
     * is being loaded below is seen. Its thread starts once the server runs. */
    reload_ctx reload = {.path = o.config, .holder = NULL};
    watch *watcher = NULL;
    if (o.config != NULL) {
        const char *paths[] = {o.config};
        watch_options wopt = {.interval_ms = (unsigned)o.config_check_interval * 1000u};
        watcher = watch_create(paths, 1, &wopt, on_config_change, &reload, err, sizeof err);
        if (watcher == NULL) {
            fprintf(stderr, "seccomp-webhook serve: %s\n", err);
            return 2;
        }
    }

    /* The policy: a bad file stops the start (SPEC §5). */
    policy *pol;
    if (o.config != NULL) {
        policy_errors errs = {0};
        pol = policy_load_file(o.config, &errs);
        if (pol == NULL) {
            print_policy_errors(&errs, o.config);
            policy_errors_free(&errs);
            watch_stop(watcher);
            return 2;
        }
        policy_errors_free(&errs);
    } else {
        pol = policy_builtin();
    }
    policy_holder *holder = pol != NULL ? policy_holder_new(pol) : NULL;
    if (holder == NULL) {
        policy_free(pol);
        watch_stop(watcher);
        fprintf(stderr, "seccomp-webhook serve: out of memory\n");
        return 2;
    }
    reload.holder = holder;
    pol = NULL; /* the holder's now */

    /* The certificate. Its watcher first, for the same reason as the policy's. A server that
     * cannot start (a certificate, the port, a watcher, the sandbox) exits 2, as commands do on
     * an input error (SPEC §3): 1 is a policy violation found. */
    int rc = 2;
    tls_pair pair = {0};
    char *dev_file = NULL;
    const char *dev_err = NULL;
    char dev_err_buf[PATH_MAX + 256];
    http_server *srv = NULL;
    cert_holder *certs = NULL;
    struct timespec started;
    clock_gettime(CLOCK_REALTIME, &started);
    metrics *stats = metrics_create((double)started.tv_sec + (double)started.tv_nsec / 1e9);
    watch *cert_watcher = NULL;
    cert_reload_ctx cert_reload = {.cert_path = o.tls_cert, .key_path = o.tls_key};
    char *client_ca_pem = NULL, *client_ca_subjects = NULL;
    unsigned client_ca_count = 0;
    sigset_t sigs, old_mask;
    bool masked = false;
    if (o.tls_cert != NULL) {
        const char *paths[] = {o.tls_cert, o.tls_key};
        watch_options wopt = {.interval_ms = (unsigned)o.cert_check_interval * 1000u};
        cert_watcher = watch_create(paths, 2, &wopt, on_cert_change, &cert_reload, err, sizeof err);
        if (cert_watcher == NULL) {
            fprintf(stderr, "seccomp-webhook serve: %s\n", err);
            goto out;
        }
        if (tls_load_files(o.tls_cert, o.tls_key, &pair, err, sizeof err) != 0) {
            fprintf(stderr, "seccomp-webhook serve: %s\n", err);
            rc = 2;
            goto out;
        }
    } else {
        if (tls_generate_dev(&pair, err, sizeof err) != 0) {
            fprintf(stderr, "seccomp-webhook serve: %s\n", err);
            goto out;
        }
        /* Not fatal: the server works without the file, only `curl --cacert` needs it. */
        dev_file = write_dev_cert(pair.cert_pem, dev_err_buf, sizeof dev_err_buf);
        if (dev_file == NULL)
            dev_err = dev_err_buf;
    }
    certs = cert_holder_new(&pair, err, sizeof err);
    if (certs == NULL) {
        fprintf(stderr, "seccomp-webhook serve: %s: %s\n",
                o.tls_cert != NULL ? o.tls_cert : "development certificate", err);
        rc = 2;
        goto out;
    }
    cert_reload.holder = certs;
    if (o.client_ca != NULL) {
        client_ca_pem =
            tls_load_ca_file(o.client_ca, &client_ca_count, &client_ca_subjects, err, sizeof err);
        if (client_ca_pem == NULL) {
            fprintf(stderr, "seccomp-webhook serve: --client-ca: %s\n", err);
            rc = 2;
            goto out;
        }
    }
    unsigned threads = o.threads != 0 ? (unsigned)o.threads : cpus_available();
    /* libmicrohttpd splits the connection limit between the pool's threads. */
    if (threads > o.max_connections)
        threads = (unsigned)o.max_connections;

    log_start(&o, &pair, dev_file, dev_err, policy_holder_current(holder), threads, client_ca_count,
              client_ca_subjects);
    log_policy_loaded("start", o.config, policy_holder_current(holder), NULL);
    log_certificate_loaded("start", o.tls_cert, o.tls_key, &pair, NULL);

    /* Block the signals before the workers exist, so that only sigwait() sees them. A peer
     * that closes early must not kill the process with SIGPIPE. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &sigs, &old_mask) != 0) {
        log_msg(LOG_ERROR, "start_failed", "cannot block SIGTERM and SIGINT");
        goto out;
    }
    masked = true;
    signal(SIGPIPE, SIG_IGN);
    /* The review lines in batches (log.h); before the sandbox, which allows no new thread. */
    if (log_batch_start() != 0)
        log_msg(LOG_WARN, "log", "cannot start the log flusher: writing lines one by one");

    http_config cfg = {
        .listen = listen_addr,
        .certs = certs,
        .cert_pem = pair.cert_pem,
        .key_pem = pair.key_pem,
        .client_ca_pem = client_ca_pem,
        .policies = holder,
        .metrics = stats,
        .threads = threads,
        .idle_timeout = (unsigned)o.idle_timeout,
        .request_timeout = (unsigned)o.request_timeout,
        .max_connections = (unsigned)o.max_connections,
        .max_connections_per_ip = (unsigned)o.max_connections_per_ip,
        .max_body_bytes = (size_t)o.max_body_bytes,
    };
    /* A fixed mmap threshold: buffers of 128 KiB and more (large bodies, large cJSON arena
     * blocks) are mapped on their own and unmapped when freed. glibc's default threshold rises
     * with the largest block freed, after which multi-MiB requests stay resident for good. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    srv = stats != NULL ? http_start(&cfg, err, sizeof err) : NULL;
    if (stats == NULL)
        snprintf(err, sizeof err, "out of memory");
    if (srv == NULL) {
        log_msg(LOG_ERROR, "start_failed", "%s", err);
        goto out;
    }
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "address", listen_addr.text);
        cJSON_AddNumberToObject(f, "port", http_bound_port(srv));
        cJSON_AddBoolToObject(f, "dual_stack", listen_addr.any);
        cJSON_AddNumberToObject(f, "threads", threads);
    }
    log_json(LOG_INFO, "listen", f);
    /* After the signal mask is set: the watcher's thread inherits it. */
    if (watcher != NULL && watch_start(watcher, err, sizeof err) != 0) {
        log_msg(LOG_ERROR, "start_failed", "cannot watch the policy file %s: %s", o.config, err);
        goto out;
    }
    if (cert_watcher != NULL && !http_cert_reload_supported()) {
        log_msg(LOG_WARN, "certificate",
                "this libmicrohttpd cannot take a certificate callback "
                "(MHD_FEATURE_HTTPS_CERT_CALLBACK2): %s and %s are served as loaded now; a new "
                "pair needs a restart",
                o.tls_cert, o.tls_key);
        watch_stop(cert_watcher);
        cert_watcher = NULL;
    }
    if (cert_watcher != NULL && watch_start(cert_watcher, err, sizeof err) != 0) {
        log_msg(LOG_ERROR, "start_failed", "cannot watch the certificate files %s and %s: %s",
                o.tls_cert, o.tls_key, err);
        goto out;
    }

    /* Every thread exists now: confine them all (SPEC §8). */
    if (!o.no_self_sandbox) {
        sandbox_options sopt = {.allow_unlink = dev_file != NULL};
        int allowed = sandbox_install(&sopt, err, sizeof err);
        if (allowed < 0) {
            log_msg(LOG_ERROR, "start_failed",
                    "cannot install the self-sandbox: %s (--no-self-sandbox runs without it)", err);
            goto out;
        }
        f = cJSON_CreateObject();
        if (f != NULL) {
            cJSON_AddNumberToObject(f, "allowed_syscalls", allowed);
            cJSON_AddStringToObject(f, "default_action", "SIGSYS: logged, refused with EPERM");
            cJSON_AddStringToObject(f, "killed", "execve, execveat");
        }
        log_json(LOG_INFO, "sandbox_installed", f);
        if (o.sandbox_selftest) {
            log_flush(); /* its sandbox_violation line is written at once, from a handler */
            bool refused = sandbox_selftest();
            f = cJSON_CreateObject();
            if (f != NULL) {
                cJSON_AddStringToObject(f, "syscall", "personality");
                cJSON_AddBoolToObject(f, "refused", refused);
            }
            log_json(refused ? LOG_INFO : LOG_ERROR, "sandbox_selftest", f);
        }
    }

    /* Serve until SIGTERM or SIGINT. Between signals, give memory freed by a burst of requests
     * back to the kernel once the burst is over (memory_after_burst()). */
    int sig = 0;
    unsigned long trimmed_at = 0;
    while (sig == 0) {
        sig = wait_signal(&sigs, SERVE_TRIM_INTERVAL_MS);
        if (sig == 0)
            memory_after_burst(srv, &trimmed_at);
    }
    http_set_draining(srv);
    f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        cJSON_AddNumberToObject(f, "shutdown_delay", (double)o.shutdown_delay);
    }
    log_json(LOG_INFO, "draining", f);

    if (o.shutdown_delay > 0 && wait_signal(&sigs, (uint64_t)o.shutdown_delay * 1000u) != 0)
        log_msg(LOG_WARN, "draining", "second signal: skipping the rest of the shutdown delay");

    if (http_quiesce(srv) != 0)
        log_msg(LOG_WARN, "quiesce", "cannot stop accepting connections; stopping at once");
    else {
        uint64_t end = mono_ms() + HTTP_DRAIN_MAX_SECONDS * 1000u;
        while (http_requests_in_flight(srv) > 0 && mono_ms() < end) {
            /* A signal here means: stop waiting. */
            if (wait_signal(&sigs, 10) != 0) {
                log_msg(LOG_WARN, "draining", "another signal: not waiting for in-flight requests");
                break;
            }
        }
    }
    unsigned abandoned = http_requests_in_flight(srv);
    watch_stop(watcher); /* no reload from here on */
    watcher = NULL;
    watch_stop(cert_watcher);
    cert_watcher = NULL;
    http_stop(srv);
    srv = NULL;
    f = cJSON_CreateObject();
    if (f != NULL)
        cJSON_AddNumberToObject(f, "abandoned_requests", abandoned);
    log_json(LOG_INFO, "shutdown", f);
    rc = 0;

out:
    watch_stop(watcher);
    watch_stop(cert_watcher);
    http_stop(srv);
    cert_holder_free(certs); /* after http_stop(): every connection has let its pair go */
    free(client_ca_pem);
    free(client_ca_subjects);
    log_batch_stop(); /* what is pending, before a late signal could end the process */
    if (masked) {
        /* A signal sent after the last look (a second SIGTERM while stopping) has nothing
         * left to hurry: take it, so that unblocking does not kill the process mid-cleanup. */
        struct timespec now = {0, 0};
        while (sigtimedwait(&sigs, NULL, &now) > 0)
            continue;
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    }
    if (dev_file != NULL) {
        unlink(dev_file);
        free(dev_file);
    }
    tls_pair_free(&pair);
    policy_holder_free(holder); /* after http_stop(): no request holds a policy any more */
    metrics_free(stats);        /* likewise: no request counts any more */
    json_arena_trim();          /* the spare blocks the workers left */
    return rc;
}
