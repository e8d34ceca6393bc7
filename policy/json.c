/*
 * json.c — strict JSON reading (SPEC §9). A pre-scan checks what cJSON does not (UTF-8, raw
 * control characters and \u0000 in strings, a BOM), cJSON builds the tree, and a walk over
 * the tree refuses duplicate keys.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_error(json_error *err, const char *text, size_t offset, const char *msg)
{
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    err->line = line;
    err->column = col;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

/* Length of the valid UTF-8 sequence at p (at most `left` bytes), or 0 when it is invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid, as in RFC 3629). */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* What cJSON does not check: UTF-8 everywhere, and inside strings no raw control character
 * and no escaped NUL. Escapes are followed exactly, so "\\u0000" (an escaped backslash then
 * "u0000") is not mistaken for an escape. */
static bool prescan(const char *text, size_t len, json_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
        set_error(err, text, 0, "a byte-order mark is not allowed before JSON");
        return false;
    }
    bool in_string = false;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t n = utf8_seq(s + i, len - i);
            if (n == 0) {
                set_error(err, text, i, "invalid UTF-8");
                return false;
            }
            i += n;
            continue;
        }
        if (!in_string) {
            if (c == '"')
                in_string = true;
            i++;
            continue;
        }
        if (c == '"') {
            in_string = false;
            i++;
        } else if (c < 0x20) {
            set_error(err, text, i, "control character in a string must be escaped");
            return false;
        } else if (c == '\\') {
            if (i + 1 < len && s[i + 1] == 'u') {
                if (i + 5 < len && is_hex(s[i + 2]) && is_hex(s[i + 3]) && is_hex(s[i + 4]) &&
                    is_hex(s[i + 5]) && memcmp(s + i + 2, "0000", 4) == 0) {
                    set_error(err, text, i, "\\u0000 in a string is not accepted");
                    return false;
                }
                i += 2;
            } else {
                i += 2; /* the escaped character; cJSON checks which ones are valid */
            }
        } else {
            i++;
        }
    }
    return true;
}

static int cmp_names(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Depth-first search for an object with two members of the same name. Sorting the names
 * keeps a large object (say, 100k annotations) at n log n. Recursion depth is bounded by
 * cJSON's nesting limit. Returns the duplicated name, or NULL. On allocation failure
 * *oom is set. */
static const char *find_duplicate(const cJSON *item, bool *oom)
{
    if (cJSON_IsObject(item)) {
        size_t n = 0;
        for (const cJSON *c = item->child; c; c = c->next)
            n++;
        if (n > 1) {
            const cJSON **v = malloc(n * sizeof *v);
            if (!v) {
                *oom = true;
                return NULL;
            }
            size_t i = 0;
            for (const cJSON *c = item->child; c; c = c->next)
                v[i++] = c;
            qsort(v, n, sizeof *v, cmp_names);
            const char *dup = NULL;
            for (i = 1; i < n && !dup; i++)
                if (strcmp(v[i - 1]->string, v[i]->string) == 0)
                    dup = v[i]->string;
            free(v);
            if (dup)
                return dup;
        }
    }
    if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        for (const cJSON *c = item->child; c; c = c->next) {
            const char *d = find_duplicate(c, oom);
            if (d || *oom)
                return d;
        }
    }
    return NULL;
}

cJSON *json_parse_strict(const char *text, size_t len, json_error *err)
{
    memset(err, 0, sizeof *err);
    size_t start = 0;
    while (start < len && strchr(" \t\r\n", text[start]))
        start++;
    if (start == len) {
        set_error(err, text, len, "empty JSON document");
        return NULL;
    }
    if (!prescan(text, len, err))
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        set_error(err, text, off, "malformed JSON");
        return NULL;
    }
    size_t off = (size_t)(end - text);
    while (off < len && strchr(" \t\r\n", text[off]))
        off++;
    if (off < len) {
        set_error(err, text, off, "unexpected data after the JSON value");
        cJSON_Delete(root);
        return NULL;
    }
    bool oom = false;
    const char *dup = find_duplicate(root, &oom);
    if (dup || oom) {
        char msg[sizeof err->message];
        if (oom)
            snprintf(msg, sizeof msg, "out of memory checking for duplicate keys");
        else
            snprintf(msg, sizeof msg, "duplicate key \"%.120s\"", dup);
        /* cJSON keeps no positions; the line is that of the first occurrence's text. */
        char *needle = NULL;
        size_t pos = 0;
        if (dup && asprintf(&needle, "\"%s\"", dup) >= 0) {
            const char *hit = memmem(text, len, needle, strlen(needle));
            const char *hit2 =
                hit ? memmem(hit + 1, len - (size_t)(hit + 1 - text), needle, strlen(needle))
                    : NULL;
            pos = hit2 ? (size_t)(hit2 - text) : hit ? (size_t)(hit - text) : 0;
        }
        free(needle);
        set_error(err, text, pos, msg);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

cJSON *json_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

bool json_is_absent(const cJSON *item)
{
    return item == NULL || cJSON_IsNull(item);
}

const char *json_string(const cJSON *item)
{
    return cJSON_IsString(item) ? item->valuestring : NULL;
}
