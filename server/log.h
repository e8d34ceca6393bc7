/*
 * log.h — JSON-lines logging to stderr.
 *
 * Every line is one JSON object with at least "ts" (RFC 3339, UTC, microseconds), "level" and
 * "event". Lines are written with a single write(2) each, or in batches of whole lines
 * (log_batch_start), so threads never interleave.
 * Control characters in values are escaped by the JSON encoder.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <cjson/cJSON.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* log_set_level — lines below `lvl` are dropped. Default LOG_INFO. Call before threads start. */
void log_set_level(log_level lvl);

/* log_parse_level — "debug", "info", "warn", "error" → 0 and *out; -1 for anything else. */
int log_parse_level(const char *s, log_level *out);

/* log_enabled — true when a line at `lvl` would be written (to skip building it otherwise). */
int log_enabled(log_level lvl);

/*
 * log_json — write one line made of `fields` (a JSON object; ownership is taken, it is freed
 * here) plus "ts", "level" and "event".
 */
void log_json(log_level lvl, const char *event, cJSON *fields);

/*
 * A line built field by field, without an intermediate tree: the request path's form of
 * log_json() (the review line, SPEC §8). Fields appear in the order they are added, after
 * "ts", "level" and "event"; string values are JSON-escaped here. Lines up to
 * sizeof inline_buf bytes need no allocation; longer ones grow on the heap, and if that fails
 * the line is written as log_json() writes it when out of memory ("event":"log_failed").
 *
 *   log_line l;
 *   if (log_begin(&l, LOG_INFO, "review")) {
 *       log_add_str(&l, "uid", uid);
 *       log_add_uint(&l, "status", 200);
 *       log_end(&l);
 *   }
 */
typedef struct {
    char *buf; /* inline_buf, or heap memory once the line outgrew it */
    size_t len;
    size_t cap;
    int oom;
    log_level lvl;
    char inline_buf[1024];
} log_line;

/* log_begin — start a line at `lvl` with "ts", "level" and "event". Returns 0 (and nothing to
 * end) when `lvl` is below the threshold, else 1: log_end() must follow. */
int log_begin(log_line *l, log_level lvl, const char *event);
/* log_add_str — "key": value as a JSON string (NULL is written as ""). */
void log_add_str(log_line *l, const char *key, const char *value);
/* log_add_uint — "key": value as a JSON number. */
void log_add_uint(log_line *l, const char *key, unsigned long long value);
/* log_add_bool — "key": true or false. */
void log_add_bool(log_line *l, const char *key, int value);
/* log_end — close the line, write it with one write(2) (or add it to the batch) and free what
 * it allocated. */
void log_end(log_line *l);

/*
 * log_batch_start — from now on, debug and info lines are written in batches by a thread of
 * this module's: at least every 50 ms, and at once when 16 KiB have collected. Warnings and
 * errors are written at once, after what is pending, so the order of lines stays. Lines pending
 * when the process dies without log_batch_stop() are lost. For the server, whose review line
 * (SPEC §8) is otherwise one write(2) per request. Returns 0, or -1 when the thread cannot
 * start (lines are then written one by one, as before).
 */
int log_batch_start(void);

/* log_batch_stop — write what is pending, stop the thread, and write lines one by one again. */
void log_batch_stop(void);

/* log_flush — write what is pending now (no-op when not batching). */
void log_flush(void);

/* log_msg — write one line {"event": event, "msg": <printf-formatted text>}. */
void log_msg(log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
