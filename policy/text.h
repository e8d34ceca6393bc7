/*
 * text.h — strings for messages: a growable buffer, escaping of user data, UTF-8-safe cuts.
 *
 * Everything a user sent (container names, annotation keys and values, paths) goes through
 * text_escape() before it reaches a message, a warning (which travels as an HTTP header) or a
 * log line (SPEC §7.4).
 */
#ifndef SW_TEXT_H
#define SW_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* A growable NUL-terminated buffer. `oom` latches the first allocation failure; later appends
 * are ignored, so callers check once at the end. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} strbuf;

void sb_append(strbuf *sb, const char *s);
void sb_append_n(strbuf *sb, const char *s, size_t n);
void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sb_append_uint — append `v` in decimal (what sb_printf("%zu") gives, without the printf). */
void sb_append_uint(strbuf *sb, size_t v);
/* sb_append_escaped — append `s` with control characters (C0, DEL, C1) shown as \xNN / \u00NN,
 * and each byte that is not part of a valid UTF-8 sequence (a file name may hold any) as \xNN. */
void sb_append_escaped(strbuf *sb, const char *s);
/* sb_take — the buffer's string (owned by the caller; "" if empty) or NULL after an allocation
 * failure; `sb` is reset either way. */
char *sb_take(strbuf *sb);
void sb_free(strbuf *sb);

/* text_escape — a new string: `s` with control characters escaped (see sb_append_escaped).
 * NULL when out of memory. */
char *text_escape(const char *s);

/* text_cut_utf8 — the largest length <= max at which `s` (valid UTF-8, length len) can be cut
 * without splitting a character, or an escape that sb_append_escaped() wrote. */
size_t text_cut_utf8(const char *s, size_t len, size_t max);

/* text_has_control — true when `s` holds a control character: C0, DEL or C1 (U+0080–U+009F). */
bool text_has_control(const char *s);

/* A growable list of owned strings. */
typedef struct {
    char **items;
    size_t count;
    size_t cap;
    bool oom;
} strlist;

/* strlist_push — append a copy of `s`. */
void strlist_push(strlist *l, const char *s);
/* strlist_push_owned — append `s`, taking ownership (NULL marks the list out of memory). */
void strlist_push_owned(strlist *l, char *s);
void strlist_free(strlist *l);

#endif
