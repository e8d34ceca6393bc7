/*
 * json.c — strict JSON reading (SPEC §9). A syntax pass checks the text against RFC 8259 and
 * what cJSON lets through, cJSON builds the tree, and a walk over the tree refuses duplicate
 * keys (reported at their position, found by a second syntax pass).
 */
#include "json.h"

#include "text.h"

#include <stdint.h>
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

/*
 * A syntax pass over the text, to RFC 8259 exactly, before cJSON builds the tree. cJSON is
 * more lenient than Go in ways that matter here: it skips any byte <= 0x20 as white space,
 * hands numbers such as "01" or "1." to strtod, reads a malformed \u escape as U+0000 (which
 * ends its C string: the \u0000 hole again), and checks no UTF-8. This pass refuses all of
 * that, plus an escaped \u0000 and a byte-order mark, and counts object keys in document order
 * so that a duplicate found later in the tree can be reported at its position.
 */
typedef struct {
    const unsigned char *s;
    size_t len;
    size_t pos;
    unsigned depth;
    size_t keys;     /* object keys seen so far */
    size_t want_key; /* record the offset of key number want_key (SIZE_MAX: none) */
    size_t key_offset;
    const char *error;
} syntax;

#define JSON_MAX_DEPTH 1000 /* as cJSON's CJSON_NESTING_LIMIT */

static void skip_ws(syntax *x)
{
    while (x->pos < x->len && (x->s[x->pos] == ' ' || x->s[x->pos] == '\t' ||
                               x->s[x->pos] == '\n' || x->s[x->pos] == '\r'))
        x->pos++;
}

static bool fail(syntax *x, const char *why)
{
    x->error = why;
    return false;
}

static bool syn_string(syntax *x)
{
    x->pos++; /* the opening quote */
    while (x->pos < x->len) {
        unsigned char c = x->s[x->pos];
        if (c == '"') {
            x->pos++;
            return true;
        }
        if (c < 0x20)
            return fail(x, "control character in a string must be escaped");
        if (c >= 0x80) {
            size_t n = utf8_seq(x->s + x->pos, x->len - x->pos);
            if (n == 0)
                return fail(x, "invalid UTF-8");
            x->pos += n;
            continue;
        }
        if (c != '\\') {
            x->pos++;
            continue;
        }
        if (x->pos + 1 >= x->len)
            break;
        unsigned char e = x->s[x->pos + 1];
        if (e == 'u') {
            const unsigned char *h = x->s + x->pos + 2;
            if (x->pos + 6 > x->len || !is_hex(h[0]) || !is_hex(h[1]) || !is_hex(h[2]) ||
                !is_hex(h[3]))
                return fail(x, "invalid \\u escape in a string");
            if (memcmp(h, "0000", 4) == 0)
                return fail(x, "\\u0000 in a string is not accepted");
            x->pos += 6;
        } else if (strchr("\"\\/bfnrt", e) && e != '\0') {
            x->pos += 2;
        } else {
            return fail(x, "invalid escape in a string");
        }
    }
    return fail(x, "unterminated string");
}

static bool digits(syntax *x)
{
    size_t start = x->pos;
    while (x->pos < x->len && x->s[x->pos] >= '0' && x->s[x->pos] <= '9')
        x->pos++;
    return x->pos > start;
}

static bool syn_number(syntax *x)
{
    if (x->s[x->pos] == '-')
        x->pos++;
    if (x->pos < x->len && x->s[x->pos] == '0')
        x->pos++;
    else if (!digits(x))
        return fail(x, "invalid number");
    if (x->pos < x->len && x->s[x->pos] == '.') {
        x->pos++;
        if (!digits(x))
            return fail(x, "invalid number");
    }
    if (x->pos < x->len && (x->s[x->pos] == 'e' || x->s[x->pos] == 'E')) {
        x->pos++;
        if (x->pos < x->len && (x->s[x->pos] == '+' || x->s[x->pos] == '-'))
            x->pos++;
        if (!digits(x))
            return fail(x, "invalid number");
    }
    return true;
}

static bool syn_value(syntax *x);

static bool syn_container(syntax *x, bool object)
{
    if (++x->depth > JSON_MAX_DEPTH)
        return fail(x, "nested deeper than 1000 levels");
    x->pos++; /* '{' or '[' */
    skip_ws(x);
    unsigned char close = object ? '}' : ']';
    if (x->pos < x->len && x->s[x->pos] == close) {
        x->pos++;
        x->depth--;
        return true;
    }
    for (;;) {
        if (object) {
            if (x->pos >= x->len || x->s[x->pos] != '"')
                return fail(x, "expected a string key");
            if (x->keys++ == x->want_key)
                x->key_offset = x->pos;
            if (!syn_string(x))
                return false;
            skip_ws(x);
            if (x->pos >= x->len || x->s[x->pos] != ':')
                return fail(x, "expected ':' after a key");
            x->pos++;
            skip_ws(x);
        }
        if (!syn_value(x))
            return false;
        skip_ws(x);
        if (x->pos < x->len && x->s[x->pos] == ',') {
            x->pos++;
            skip_ws(x);
            continue;
        }
        if (x->pos < x->len && x->s[x->pos] == close) {
            x->pos++;
            x->depth--;
            return true;
        }
        return fail(x, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool syn_literal(syntax *x, const char *word)
{
    size_t n = strlen(word);
    if (x->len - x->pos < n || memcmp(x->s + x->pos, word, n) != 0)
        return fail(x, "invalid literal");
    x->pos += n;
    return true;
}

static bool syn_value(syntax *x)
{
    if (x->pos >= x->len)
        return fail(x, "unexpected end of input");
    unsigned char c = x->s[x->pos];
    switch (c) {
    case '{':
        return syn_container(x, true);
    case '[':
        return syn_container(x, false);
    case '"':
        return syn_string(x);
    case 't':
        return syn_literal(x, "true");
    case 'f':
        return syn_literal(x, "false");
    case 'n':
        return syn_literal(x, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return syn_number(x);
        return fail(x, c >= 0x80 ? "unexpected byte (not JSON; a byte-order mark?)"
                                 : "unexpected character");
    }
}

/* Check the whole text. Returns true when it is one JSON value and nothing but white space. */
static bool syntax_check(const char *text, size_t len, size_t want_key, syntax *x)
{
    memset(x, 0, sizeof *x);
    x->s = (const unsigned char *)text;
    x->len = len;
    x->want_key = want_key;
    if (len >= 3 && x->s[0] == 0xef && x->s[1] == 0xbb && x->s[2] == 0xbf)
        return fail(x, "a byte-order mark is not allowed before JSON");
    skip_ws(x);
    if (x->pos == len)
        return fail(x, "empty JSON document");
    if (!syn_value(x))
        return false;
    skip_ws(x);
    if (x->pos < len)
        return fail(x, "unexpected data after the JSON value");
    return true;
}

static int cmp_names(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Depth-first search for an object with two members of the same name; returns the later of
 * the two in document order, or NULL. Sorting the names keeps a large object (say, 100k
 * annotations) at n log n. Recursion depth is bounded by the syntax pass's limit. On
 * allocation failure *oom is set. */
static const cJSON *find_duplicate(const cJSON *item, bool *oom)
{
    if (cJSON_IsObject(item)) {
        size_t n = 0;
        for (const cJSON *c = item->child; c; c = c->next)
            n++;
        if (n > 1 && n <= 8) { /* small objects, most of them: compare pairwise */
            for (const cJSON *a = item->child; a; a = a->next)
                for (const cJSON *b = a->next; b; b = b->next)
                    if (strcmp(a->string, b->string) == 0)
                        return b;
        } else if (n > 8) {
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
            if (dup) {
                const cJSON *first = NULL;
                for (const cJSON *c = item->child; c; c = c->next) {
                    if (strcmp(c->string, dup) != 0)
                        continue;
                    if (first)
                        return c;
                    first = c;
                }
            }
        }
    }
    if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        for (const cJSON *c = item->child; c; c = c->next) {
            const cJSON *d = find_duplicate(c, oom);
            if (d || *oom)
                return d;
        }
    }
    return NULL;
}

/* The number of object members before `target` in document order (a pre-order walk visits
 * members in the order their keys appear in the text). Returns true once found. */
static bool key_index(const cJSON *item, const cJSON *target, size_t *count)
{
    for (const cJSON *c = item->child; c; c = c->next) {
        if (cJSON_IsObject(item)) {
            if (c == target)
                return true;
            (*count)++;
        }
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && key_index(c, target, count))
            return true;
    }
    return false;
}

cJSON *json_parse_strict(const char *text, size_t len, json_error *err)
{
    memset(err, 0, sizeof *err);
    syntax x;
    if (!syntax_check(text, len, SIZE_MAX, &x)) {
        set_error(err, text, x.pos, x.error);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        /* Valid JSON cJSON still refuses: an unpaired UTF-16 surrogate escape, or memory. */
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        set_error(err, text, off, "JSON that cannot be decoded (an unpaired \\u surrogate?)");
        return NULL;
    }
    bool oom = false;
    const cJSON *dup = find_duplicate(root, &oom);
    if (oom) {
        set_error(err, text, 0, "out of memory checking for duplicate keys");
        cJSON_Delete(root);
        return NULL;
    }
    if (dup) {
        /* The key is user data: escaped, and cut on a character boundary. */
        char msg[sizeof err->message];
        char *shown = text_escape(dup->string);
        size_t n = shown ? text_cut_utf8(shown, strlen(shown), 120) : 0;
        snprintf(msg, sizeof msg, "duplicate key \"%.*s\"", (int)n, shown ? shown : "");
        free(shown);
        size_t index = 0;
        key_index(root, dup, &index);
        syntax_check(text, len, index, &x);
        set_error(err, text, x.key_offset, msg);
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
