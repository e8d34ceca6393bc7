/*
 * log.c — JSON-lines logging to stderr (see log.h).
 *
 * A line is built in memory and handed to the kernel with one write(2), so lines from different
 * threads never interleave (a pipe keeps writes of up to PIPE_BUF bytes whole; longer lines are
 * rare and still written in one call). The level threshold is a plain variable set once at start,
 * before any thread exists.
 *
 * Values are encoded by cJSON, which escapes control characters but copies other bytes as they
 * are; a message that is not valid UTF-8 (say, a client's bytes quoted by libmicrohttpd) would
 * make the line invalid JSON, so every byte of an invalid UTF-8 sequence is replaced with '?'
 * before the line is written. Only string contents can hold bytes >= 0x80, so this never touches
 * the JSON structure.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* RFC 3339 UTC with microseconds: 2024-05-01T12:34:56.123456Z (27 characters + NUL). */
static void format_ts(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%06ldZ", ts.tv_nsec / 1000);
}

/* Length of the valid UTF-8 sequence starting at s (at most `left` bytes), or 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid, RFC 3629). */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (left < n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

static void sanitize_utf8(char *s, size_t len)
{
    unsigned char *p = (unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0) {
            p[i++] = '?';
            continue;
        }
        i += n;
    }
}

static void write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report it */
        }
        buf += (size_t)w;
        len -= (size_t)w;
    }
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
        write_all(line, (size_t)n);
}

void log_json(log_level lvl, const char *event, cJSON *fields)
{
    if ((int)lvl < 0 || lvl > LOG_ERROR)
        lvl = LOG_ERROR;
    if (!log_enabled(lvl)) {
        cJSON_Delete(fields);
        return;
    }
    char ts[40];
    format_ts(ts, sizeof ts);

    /* The head {"ts":…,"level":…,"event":…} is printed apart so that these three keys come
     * first whatever `fields` holds; the two objects are then spliced into one. */
    cJSON *head = cJSON_CreateObject();
    char *h = NULL, *f = NULL, *line = NULL;
    if (head == NULL || cJSON_AddStringToObject(head, "ts", ts) == NULL ||
        cJSON_AddStringToObject(head, "level", level_names[lvl]) == NULL ||
        cJSON_AddStringToObject(head, "event", event ? event : "") == NULL)
        goto fail;
    h = cJSON_PrintUnformatted(head);
    if (h == NULL)
        goto fail;
    if (fields != NULL && cJSON_IsObject(fields) && fields->child != NULL) {
        f = cJSON_PrintUnformatted(fields);
        if (f == NULL)
            goto fail;
    }
    size_t hl = strlen(h); /* "{…}" */
    size_t fl = f ? strlen(f) : 0;
    line = malloc(hl + fl + 2);
    if (line == NULL)
        goto fail;
    size_t n;
    if (f != NULL) {
        memcpy(line, h, hl - 1); /* without the closing brace */
        line[hl - 1] = ',';
        memcpy(line + hl, f + 1, fl - 1); /* without the opening brace */
        n = hl + fl - 1;
    } else {
        memcpy(line, h, hl);
        n = hl;
    }
    line[n++] = '\n';
    sanitize_utf8(line, n);
    write_all(line, n);
    free(line);
    cJSON_free(h);
    cJSON_free(f);
    cJSON_Delete(head);
    cJSON_Delete(fields);
    return;
fail:
    write_fallback(lvl);
    cJSON_free(h);
    cJSON_free(f);
    cJSON_Delete(head);
    cJSON_Delete(fields);
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
