/*
 * log.h — JSON-lines logging to stderr.
 *
 * Every line is one JSON object with at least "ts" (RFC 3339, UTC, microseconds), "level" and
 * "event". Lines are written with a single write(2) each, so threads never interleave.
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

/* log_msg — write one line {"event": event, "msg": <printf-formatted text>}. */
void log_msg(log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
