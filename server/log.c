/*
 * log.c — JSON-lines logging to stderr (see log.h).
 *
 * A line is built in memory and handed to the kernel with one write(2), so lines from different
 * threads never interleave (a pipe keeps writes of up to PIPE_BUF bytes whole; longer lines are
 * rare and still written in one call). The level threshold is a plain variable set once at start,
 * before any thread exists.
 *
 * The server batches (log_batch_start): debug and info lines collect in one buffer, written
 * whole by a flusher thread every LOG_BATCH_MS, or at once when LOG_BATCH_BYTES have collected.
 * A warning or an error first writes what is pending, then itself, so lines keep their order.
 * (The sandbox's sandbox_violation line is written by its SIGSYS handler, which may not take a
 * lock: it can come before info lines still pending.) One write(2) per review line to the pipe a
 * container runtime reads cost 4–8 µs of the server's CPU per review, a quarter to a third of its
 * throughput (bench/RESULTS.md).
 *
 * Lines are built by log_line (log_begin … log_end) straight into a buffer; log_json() splices
 * in the members of a cJSON object printed by cJSON. Strings are escaped as RFC 8259 asks
 * (quote, backslash, C0 controls) and other bytes copied as they are. A message that is not
 * valid UTF-8 (say, a client's bytes quoted by libmicrohttpd) would make the line invalid JSON,
 * so every byte of an invalid UTF-8 sequence is replaced with '?': as strings are written, and
 * in the text cJSON printed. Only string contents can hold bytes >= 0x80, so this never touches
 * the JSON structure.
 */
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

static log_level min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level lvl)
{
    min_level = lvl;
}

int log_parse_level(const char *s, log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (s != NULL && strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_enabled(log_level lvl)
{
    return lvl >= min_level;
}

/* RFC 3339 UTC with microseconds: 2024-05-01T12:34:56.123456Z (27 characters + NUL; `len` is
 * at least 28). The date and time to the second are formatted once per second per thread. */
static void format_ts(char *buf, size_t len)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[24]; /* 2024-05-01T12:34:56 */
    static _Thread_local size_t cached_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    memcpy(buf, cached, cached_len);
    unsigned long us = (unsigned long)ts.tv_nsec / 1000;
    char *p = buf + cached_len;
    *p++ = '.';
    for (int i = 5; i >= 0; i--, us /= 10)
        p[i] = (char)('0' + us % 10);
    p[6] = 'Z';
    p[7] = '\0';
    (void)len;
}

static void sanitize_utf8(char *s, size_t len)
{
    unsigned char *p = (unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = json_utf8_len(p + i, len - i);
        if (n == 0) {
            p[i++] = '?';
            continue;
        }
        i += n;
    }
}

/* How long a write waits for a full stderr that its opener made non-blocking (O_NONBLOCK on a
 * pipe the reader is slow to drain): what a blocking stderr would do, but bounded, so that a
 * reader that has stopped cannot hold the writers for ever. Past it, the rest of the write is
 * dropped, and so are later writes that find stderr full, without waiting, until one gets
 * through. */
#define LOG_FULL_WAIT_MS 1000

static atomic_bool stderr_stalled;
/* A write gave up inside a line (a pipe takes part of a write longer than PIPE_BUF): the next
 * write first ends that fragment, so that the line it carries is not glued to it. */
static atomic_bool line_cut;

/* Write `buf` to stderr, waiting for room as above; returns how many bytes went out. */
static size_t write_some(const char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(STDERR_FILENO, buf + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && !atomic_load(&stderr_stalled)) {
                struct pollfd out = {.fd = STDERR_FILENO, .events = POLLOUT};
                int ready;
                while ((ready = poll(&out, 1, LOG_FULL_WAIT_MS)) < 0 && errno == EINTR)
                    ;
                if (ready > 0)
                    continue;
                atomic_store(&stderr_stalled, true);
            }
            break; /* nowhere left to report it */
        }
        atomic_store(&stderr_stalled, false);
        done += (size_t)w;
    }
    return done;
}

/* Write whole lines (`buf` ends in '\n'), or as much of them as stderr takes. */
static void write_all(const char *buf, size_t len)
{
    /* Taken, so that of two writers only one ends the fragment (without batching, lines are
     * written without a lock). */
    if (atomic_exchange(&line_cut, false) && write_some("\n", 1) != 1) {
        atomic_store(&line_cut, true);
        return; /* still no room: this line goes too, rather than glued to the fragment */
    }
    size_t done = write_some(buf, len);
    if (done > 0 && done < len && buf[done - 1] != '\n')
        atomic_store(&line_cut, true);
}

/* ------------------------------------------------------------------------------------------ */
/* Batching                                                                                    */

#define LOG_BATCH_MS    50
#define LOG_BATCH_BYTES (16 * 1024)

static atomic_bool batching;
static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER; /* the fields below */
static pthread_cond_t batch_wake;
static pthread_t flusher;
static bool stopping;
static char *pending; /* LOG_BATCH_BYTES * 2, allocated on first use */
static size_t pending_len;

/* Write what is pending. With batch_lock held: appenders wait for the write, which keeps the
 * order of lines (and, as without batching, a reader that stops reading stalls the writers). */
static void flush_locked(void)
{
    /* In writes of whole lines, each at most PIPE_BUF bytes where the lines allow: a pipe keeps
     * such a write whole, so a line written without the lock (the sandbox's SIGSYS handler)
     * lands between lines, never inside one. A batch is still a few writes, not one a line. */
    size_t at = 0;
    while (at < pending_len) {
        size_t end = at;
        for (;;) {
            const char *nl = memchr(pending + end, '\n', pending_len - end);
            size_t next = nl ? (size_t)(nl - pending) + 1 : pending_len;
            if (end > at && next - at > PIPE_BUF)
                break;
            end = next;
            if (end == pending_len || end - at >= PIPE_BUF)
                break;
        }
        write_all(pending + at, end - at);
        at = end;
    }
    pending_len = 0;
}

void log_flush(void)
{
    if (!atomic_load(&batching))
        return;
    pthread_mutex_lock(&batch_lock);
    flush_locked();
    pthread_mutex_unlock(&batch_lock);
}

/* Append a line to the pending ones; false when there is no buffer (the caller writes it). */
static bool append_locked(const char *buf, size_t len)
{
    /* What is pending stays below LOG_BATCH_BYTES between calls and `len` is below it too
     * (emit()), so the buffer never grows past its first size. */
    if (pending == NULL && (pending = malloc(LOG_BATCH_BYTES * 2)) == NULL)
        return false;
    memcpy(pending + pending_len, buf, len);
    pending_len += len;
    return true;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&batch_lock);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += LOG_BATCH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&batch_wake, &batch_lock, &until);
        flush_locked();
    }
    pthread_mutex_unlock(&batch_lock);
    return NULL;
}

int log_batch_start(void)
{
    if (atomic_load(&batching))
        return 0;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                     pthread_cond_init(&batch_wake, &attr) == 0
                 ? 0
                 : -1;
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return -1;
    stopping = false;
    /* The flusher takes no asynchronous signal: those are for the thread that waits for them.
     * SIGSYS (the sandbox's report of a refused system call) and the fault signals stay. */
    sigset_t all, old;
    sigfillset(&all);
    static const int synchronous[] = {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof synchronous / sizeof synchronous[0]; i++)
        sigdelset(&all, synchronous[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&flusher, NULL, flusher_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&batch_wake);
        return -1;
    }
    atomic_store(&batching, true);
    return 0;
}

void log_batch_stop(void)
{
    if (!atomic_load(&batching))
        return;
    pthread_mutex_lock(&batch_lock);
    stopping = true;
    pthread_cond_signal(&batch_wake);
    pthread_mutex_unlock(&batch_lock);
    pthread_join(flusher, NULL);
    pthread_mutex_lock(&batch_lock);
    atomic_store(&batching, false);
    flush_locked();
    free(pending);
    pending = NULL;
    pthread_mutex_unlock(&batch_lock);
    pthread_cond_destroy(&batch_wake);
}

/* Hand a finished line at `lvl` to the kernel, now or with the next batch. */
static void emit(log_level lvl, const char *buf, size_t len)
{
    if (!atomic_load(&batching)) {
        write_all(buf, len);
        return;
    }
    pthread_mutex_lock(&batch_lock);
    if (!atomic_load(&batching)) { /* stopped meanwhile: everything pending is written */
        write_all(buf, len);
    } else if (lvl >= LOG_WARN || len >= LOG_BATCH_BYTES || !append_locked(buf, len)) {
        /* A warning, a line as large as a batch (kept out of the buffer, which stays small),
         * or no buffer: what is pending, then this line. */
        flush_locked();
        write_all(buf, len);
    } else if (pending_len >= LOG_BATCH_BYTES) {
        flush_locked();
    }
    pthread_mutex_unlock(&batch_lock);
}

/* Last resort when building a line fails (out of memory): a fixed line without the fields. */
static void write_fallback(log_level lvl)
{
    char ts[40], line[128];
    format_ts(ts, sizeof ts);
    int n =
        snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"log_failed\"}\n",
                 ts, level_names[lvl]);
    if (n > 0 && (size_t)n < sizeof line)
        emit(lvl, line, (size_t)n);
}

/* Room for `n` more bytes in the line; false (and oom latched) when it cannot grow. */
static bool reserve(log_line *l, size_t n)
{
    if (l->oom)
        return false;
    if (l->cap - l->len >= n)
        return true;
    size_t cap = l->cap * 2;
    while (cap - l->len < n)
        cap *= 2;
    char *nb = l->buf == l->inline_buf ? malloc(cap) : realloc(l->buf, cap);
    if (nb == NULL) {
        l->oom = 1;
        return false;
    }
    if (l->buf == l->inline_buf)
        memcpy(nb, l->buf, l->len);
    l->buf = nb;
    l->cap = cap;
    return true;
}

static void put_n(log_line *l, const char *s, size_t n)
{
    if (reserve(l, n)) {
        memcpy(l->buf + l->len, s, n);
        l->len += n;
    }
}

static void put(log_line *l, const char *s)
{
    put_n(l, s, strlen(s));
}

/* `s` as a JSON string (RFC 8259 §7): '"', '\\' and the C0 controls escaped, and each byte of
 * an invalid UTF-8 sequence replaced with '?'; other bytes as they are. */
static void put_string(log_line *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put_n(l, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p; /* bytes not yet copied */
    for (;;) {
        unsigned char c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            p++;
            continue;
        }
        if (c >= 0x80) {
            /* At most 4 bytes are read, and none past a NUL (not a continuation byte). */
            size_t n = json_utf8_len(p, 4);
            if (n != 0) {
                p += n;
                continue;
            }
        }
        put_n(l, (const char *)run, (size_t)(p - run));
        if (c == '\0')
            break;
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
        case '\\':
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c >= 0x80) { /* a byte of an invalid UTF-8 sequence */
                esc[0] = '?';
                n = 1;
                break;
            }
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        put_n(l, esc, n);
        run = ++p;
    }
    put_n(l, "\"", 1);
}

/* ,"key": — `key` is one of this program's field names, written as it is. */
static void put_key(log_line *l, const char *key)
{
    size_t n = strlen(key);
    if (!reserve(l, n + 4))
        return;
    char *d = l->buf + l->len;
    d[0] = ',';
    d[1] = '"';
    memcpy(d + 2, key, n);
    d[n + 2] = '"';
    d[n + 3] = ':';
    l->len += n + 4;
}

int log_begin(log_line *l, log_level lvl, const char *event)
{
    if ((int)lvl < 0 || lvl > LOG_ERROR)
        lvl = LOG_ERROR;
    if (!log_enabled(lvl))
        return 0;
    l->buf = l->inline_buf;
    l->cap = sizeof l->inline_buf;
    l->len = 0;
    l->oom = 0;
    l->lvl = lvl;
    char ts[40];
    format_ts(ts, sizeof ts);
    put(l, "{\"ts\":\"");
    put(l, ts);
    put(l, "\",\"level\":\"");
    put(l, level_names[lvl]);
    put(l, "\",\"event\":");
    put_string(l, event != NULL ? event : "");
    return 1;
}

void log_add_str(log_line *l, const char *key, const char *value)
{
    put_key(l, key);
    put_string(l, value != NULL ? value : "");
}

void log_add_uint(log_line *l, const char *key, unsigned long long value)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    put_key(l, key);
    put_n(l, digits + i, sizeof digits - i);
}

void log_add_bool(log_line *l, const char *key, int value)
{
    put_key(l, key);
    put(l, value ? "true" : "false");
}

void log_end(log_line *l)
{
    put_n(l, "}\n", 2);
    if (l->oom)
        write_fallback(l->lvl);
    else
        emit(l->lvl, l->buf, l->len);
    if (l->buf != l->inline_buf)
        free(l->buf);
    l->buf = NULL;
}

void log_json(log_level lvl, const char *event, cJSON *fields)
{
    log_line l;
    if (!log_begin(&l, lvl, event)) {
        cJSON_Delete(fields);
        return;
    }
    /* The fields object's members, spliced in after the head: its text without the braces. */
    if (fields != NULL && cJSON_IsObject(fields) && fields->child != NULL) {
        char *f = cJSON_PrintUnformatted(fields);
        if (f == NULL) {
            l.oom = 1;
        } else {
            /* cJSON escapes controls but copies other bytes: replace invalid UTF-8 here. */
            size_t n = strlen(f) - 2;
            sanitize_utf8(f + 1, n);
            put_n(&l, ",", 1);
            put_n(&l, f + 1, n);
        }
        cJSON_free(f);
    }
    cJSON_Delete(fields);
    log_end(&l);
}

void log_msg(log_level lvl, const char *event, const char *fmt, ...)
{
    if ((int)lvl < 0 || lvl > LOG_ERROR)
        lvl = LOG_ERROR;
    if (!log_enabled(lvl))
        return;
    char small[512];
    char *msg = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        small[0] = '\0';
    } else if ((size_t)n >= sizeof small) {
        char *big = malloc((size_t)n + 1);
        if (big != NULL) {
            va_start(ap, fmt);
            vsnprintf(big, (size_t)n + 1, fmt, ap);
            va_end(ap);
            msg = big;
        } /* else: keep the truncated text */
    }
    cJSON *fields = cJSON_CreateObject();
    if (fields != NULL && cJSON_AddStringToObject(fields, "msg", msg) == NULL) {
        cJSON_Delete(fields);
        fields = NULL;
    }
    if (fields == NULL)
        write_fallback(lvl);
    else
        log_json(lvl, event, fields);
    if (msg != small)
        free(msg);
}
