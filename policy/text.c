/*
 * text.c — string building, escaping of user data and UTF-8-safe truncation for messages.
 */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static bool sb_reserve(strbuf *sb, size_t extra)
{
    if (sb->oom)
        return false;
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p) {
        sb->oom = true;
        return false;
    }
    sb->data = p;
    sb->cap = cap;
    return true;
}

void sb_append_n(strbuf *sb, const char *s, size_t n)
{
    if (!sb_reserve(sb, n))
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void sb_append(strbuf *sb, const char *s)
{
    sb_append_n(sb, s, strlen(s));
}

void sb_append_uint(strbuf *sb, size_t v)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sb_append_n(sb, digits + i, sizeof digits - i);
}

void sb_printf(strbuf *sb, const char *fmt, ...)
{
    /* Format into the room there is; only when it does not fit, grow and format again (sizing
     * with vsnprintf(NULL, 0) first costs a second pass on every call). */
    if (sb->oom || !sb_reserve(sb, 64))
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = sb->cap - sb->len;
    int n = vsnprintf(sb->data + sb->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->data[sb->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        if (!sb_reserve(sb, (size_t)n)) {
            sb->data[sb->len] = '\0';
            return;
        }
        va_start(ap, fmt);
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    sb->len += (size_t)n;
}

/* The length of the character at `p` when it can be shown as it is; 0 for a control character
 * (C0, DEL, C1), for a byte of no valid UTF-8 sequence, and at the end. json_utf8_len() reads no
 * further than the first byte that is not a continuation: never past the terminating NUL. */
static size_t shown_len(const unsigned char *p)
{
    if (*p < 0x80)
        return *p >= 0x20 && *p != 0x7f;
    if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
        return 0;
    return json_utf8_len(p, 4);
}

void sb_append_escaped(strbuf *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *run = p;
        for (size_t n; (n = shown_len(p)) != 0;)
            p += n;
        sb_append_n(sb, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* C1, U+0080..U+009F */
            sb_printf(sb, "\\u%04x", (unsigned)p[1]);
            p += 2;
        } else { /* C0, DEL, or a byte of no valid UTF-8 sequence */
            sb_printf(sb, "\\x%02x", (unsigned)*p);
            p++;
        }
    }
}

char *sb_take(strbuf *sb)
{
    char *out = NULL;
    if (!sb->oom)
        out = sb->data ? sb->data : strdup("");
    else
        free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->oom = false;
    return out;
}

void sb_free(strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->oom = false;
}

char *text_escape(const char *s)
{
    strbuf sb = {0};
    sb_append(&sb, "");
    sb_append_escaped(&sb, s);
    return sb_take(&sb);
}

size_t text_cut_utf8(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    /* Step back over continuation bytes (10xxxxxx) to the start of a character. */
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    /* And to the start of an escape of sb_append_escaped() (\xNN, \u00NN) the cut would split. */
    for (size_t i = cut > 5 ? cut - 5 : 0; i < cut; i++) {
        if (s[i] == '\\' &&
            ((s[i + 1] == 'x' && i + 4 > cut) || (s[i + 1] == 'u' && i + 6 > cut))) {
            cut = i;
            break;
        }
    }
    return cut;
}

bool text_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return true;
    return false;
}

void strlist_push_owned(strlist *l, char *s)
{
    if (l->oom || !s) {
        l->oom = true;
        free(s);
        return;
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        char **p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            l->oom = true;
            free(s);
            return;
        }
        l->items = p;
        l->cap = cap;
    }
    l->items[l->count++] = s;
}

void strlist_push(strlist *l, const char *s)
{
    strlist_push_owned(l, strdup(s));
}

void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
    l->oom = false;
}
