/*
 * json.c — strict JSON reading (SPEC §9). One pass checks the text against RFC 8259, builds
 * cJSON's tree and refuses duplicate keys in small objects as it reads them; a walk over the
 * tree checks the large objects, if any (a duplicate there is reported at its position, found
 * by reading the text again).
 */
#include "json.h"

#include "text.h"

#include <locale.h>
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

/* json_utf8_len(), inlined into the reader's string loop: called there, it makes GCC keep the
 * reader's state on the stack, a few instructions more per string. */
static inline __attribute__((always_inline)) size_t utf8_seq(const unsigned char *p, size_t left)
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

size_t json_utf8_len(const unsigned char *p, size_t left)
{
    return utf8_seq(p, left);
}

/*
 * The reader: RFC 8259 exactly, building cJSON's tree as it goes (nodes and strings from
 * cJSON's allocator, linked as cJSON's own parser links them: a container's first child's
 * `prev` is its last). It is stricter than cJSON's parser, which is more lenient than Go in
 * ways that matter here: cJSON skips any byte <= 0x20 as white space, hands numbers such as
 * "01" or "1." to strtod, reads a malformed \u escape as U+0000 (which ends its C string: the
 * \u0000 hole again), and checks no UTF-8. This reader refuses all of that, plus an escaped
 * \u0000, an unpaired UTF-16 surrogate escape and a byte-order mark. It counts object keys in
 * document order so that a duplicate found later in the tree can be reported at its position.
 * Numbers are converted by strtod() from their text, as cJSON converts them.
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
    char *dup_key;     /* when reading stopped at a duplicate key: that key (cJSON_malloc) */
    bool large_object; /* an object had more members than are checked as they are read */
    bool oom;          /* reading stopped because an allocation failed */
} reader;

/* Objects up to this many members are checked for duplicate keys as each key is read, against
 * the ones before it (most objects are this small: it costs less than a walk of the tree
 * afterwards, and gives the position at once); larger ones by sorting, after the reading. */
#define JSON_INLINE_DUP_MEMBERS 16

#define JSON_MAX_DEPTH 1000 /* as cJSON's CJSON_NESTING_LIMIT */

static void skip_ws(reader *x)
{
    while (x->pos < x->len && (x->s[x->pos] == ' ' || x->s[x->pos] == '\t' ||
                               x->s[x->pos] == '\n' || x->s[x->pos] == '\r'))
        x->pos++;
}

static cJSON *fail(reader *x, const char *why)
{
    x->error = why;
    return NULL;
}

static cJSON *fail_oom(reader *x)
{
    x->oom = true;
    return fail(x, "out of memory");
}

static bool refuse(reader *x, const char *why)
{
    x->error = why;
    return false;
}

/* The four hex digits at p as a number, or -1 when one is not a hex digit. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The \u escape at p (at most `left` bytes): its code point, or -1 when it is not "\u" and
 * four hex digits. */
static long u_escape(const unsigned char *p, size_t left)
{
    if (left < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    return hex4(p + 2);
}

/*
 * Check the string whose opening quote is at x->pos and move past its closing quote. On
 * success *start and *end delimit its text between the quotes and *plain says whether it holds
 * no escape; on failure x->pos is at the offending byte and x->error says why.
 */
/* 1 for the bytes a string holds as they are (printable ASCII but '"' and '\\'): the fast
 * path of scan_string(). */
static const unsigned char plain_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static bool scan_string(reader *x, size_t *start, size_t *end, bool *plain)
{
    const unsigned char *s = x->s;
    size_t len = x->len;
    size_t p = x->pos + 1;
    *start = p;
    *plain = true;
    while (p < len) {
        if (plain_byte[s[p]]) {
            p++;
            continue;
        }
        unsigned char c = s[p];
        if (c == '"') {
            *end = p;
            x->pos = p + 1;
            return true;
        }
        x->pos = p;
        if (c < 0x20)
            return refuse(x, "control character in a string must be escaped");
        if (c >= 0x80) {
            size_t n = utf8_seq(s + p, len - p);
            if (n == 0)
                return refuse(x, "invalid UTF-8");
            p += n;
            continue;
        }
        /* A backslash. */
        *plain = false;
        if (p + 1 >= len)
            break;
        unsigned char e = s[p + 1];
        if (e != 'u') {
            if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
                return refuse(x, "invalid escape in a string");
            p += 2;
            continue;
        }
        long cp = u_escape(s + p, len - p);
        if (cp < 0)
            return refuse(x, "invalid \\u escape in a string");
        if (cp == 0)
            return refuse(x, "\\u0000 in a string is not accepted");
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return refuse(x, "unpaired UTF-16 surrogate in a \\u escape");
        if (cp >= 0xd800 && cp <= 0xdbff) {
            long lo = u_escape(s + p + 6, len - p - 6);
            if (lo < 0 && len - p - 6 >= 2 && s[p + 6] == '\\' && s[p + 7] == 'u') {
                x->pos = p + 6;
                return refuse(x, "invalid \\u escape in a string");
            }
            if (lo < 0xdc00 || lo > 0xdfff)
                return refuse(x, "unpaired UTF-16 surrogate in a \\u escape");
            p += 12;
        } else {
            p += 6;
        }
    }
    x->pos = p;
    return refuse(x, "unterminated string");
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The string at x->pos, checked and decoded into memory from cJSON's allocator; NULL on
 * failure (x->error says why). Decoded text is never longer than its escaped form. */
static char *read_string(reader *x)
{
    size_t start, end;
    bool plain;
    if (!scan_string(x, &start, &end, &plain))
        return NULL;
    char *out = cJSON_malloc(end - start + 1);
    if (out == NULL) {
        fail_oom(x);
        return NULL;
    }
    if (plain) {
        memcpy(out, x->s + start, end - start);
        out[end - start] = '\0';
        return out;
    }
    size_t o = 0;
    for (size_t p = start; p < end;) {
        const unsigned char *e = memchr(x->s + p, '\\', end - p);
        size_t run = e != NULL ? (size_t)(e - x->s) - p : end - p;
        memcpy(out + o, x->s + p, run);
        o += run;
        p += run;
        if (p == end)
            break;
        /* An escape, checked by scan_string(). */
        static const char simple_from[] = "\"\\/bfnrt";
        static const char simple_to[] = "\"\\/\b\f\n\r\t";
        unsigned char c = x->s[p + 1];
        if (c != 'u') {
            out[o++] = simple_to[strchr(simple_from, c) - simple_from];
            p += 2;
            continue;
        }
        unsigned long cp = (unsigned long)hex4(x->s + p + 2);
        p += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned long lo = (unsigned long)hex4(x->s + p + 2);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
        }
        o += put_utf8(out + o, cp);
    }
    out[o] = '\0';
    return out;
}

static bool digits(reader *x)
{
    size_t start = x->pos;
    while (x->pos < x->len && x->s[x->pos] >= '0' && x->s[x->pos] <= '9')
        x->pos++;
    return x->pos > start;
}

static cJSON *read_number(reader *x)
{
    size_t start = x->pos;
    bool fraction = false;
    if (x->s[x->pos] == '-')
        x->pos++;
    if (x->pos < x->len && x->s[x->pos] == '0')
        x->pos++;
    else if (!digits(x))
        return fail(x, "invalid number");
    if (x->pos < x->len && x->s[x->pos] == '.') {
        x->pos++;
        fraction = true;
        if (!digits(x))
            return fail(x, "invalid number");
    }
    bool exponent = false;
    if (x->pos < x->len && (x->s[x->pos] == 'e' || x->s[x->pos] == 'E')) {
        x->pos++;
        exponent = true;
        if (x->pos < x->len && (x->s[x->pos] == '+' || x->s[x->pos] == '-'))
            x->pos++;
        if (!digits(x))
            return fail(x, "invalid number");
    }
    /* An integer of at most 15 digits (ports, replica counts, sizes) is exact as a double, so
     * converting it directly gives strtod()'s very bits, "-0" included, for a tenth of the
     * cost. */
    bool negative = x->s[start] == '-';
    size_t ndigits = x->pos - start - negative;
    if (!fraction && !exponent && ndigits <= 15) {
        long long v = 0;
        for (size_t i = start + negative; i < x->pos; i++)
            v = v * 10 + (x->s[i] - '0');
        cJSON *item = cJSON_CreateNumber(negative ? -(double)v : (double)v);
        return item != NULL ? item : fail_oom(x);
    }
    /* strtod() wants a C string and reads the decimal point of the current locale, as cJSON
     * does (only "C" in this project's programs, but a host program may set another). */
    size_t n = x->pos - start;
    char small[64];
    char *text = n < sizeof small ? small : malloc(n + 1);
    if (text == NULL)
        return fail_oom(x);
    memcpy(text, x->s + start, n);
    text[n] = '\0';
    if (fraction) {
        char point = localeconv()->decimal_point[0];
        if (point != '.' && point != '\0')
            *strchr(text, '.') = point;
    }
    cJSON *item = cJSON_CreateNumber(strtod(text, NULL));
    if (text != small)
        free(text);
    return item != NULL ? item : fail_oom(x);
}

static cJSON *read_value(reader *x);

static cJSON *read_container(reader *x, bool object)
{
    if (++x->depth > JSON_MAX_DEPTH)
        return fail(x, "nested deeper than 1000 levels");
    cJSON *c = object ? cJSON_CreateObject() : cJSON_CreateArray();
    if (c == NULL)
        return fail_oom(x);
    x->pos++; /* '{' or '[' */
    skip_ws(x);
    unsigned char close = object ? '}' : ']';
    if (x->pos < x->len && x->s[x->pos] == close) {
        x->pos++;
        x->depth--;
        return c;
    }
    cJSON *last = NULL;
    size_t members = 0;
    for (;;) {
        char *key = NULL;
        if (object) {
            if (x->pos >= x->len || x->s[x->pos] != '"') {
                fail(x, "expected a string key");
                break;
            }
            size_t key_start = x->pos;
            if (x->keys++ == x->want_key)
                x->key_offset = x->pos;
            key = read_string(x);
            if (key == NULL)
                break;
            if (members < JSON_INLINE_DUP_MEMBERS) {
                const cJSON *m = c->child;
                while (m != NULL && (m->string[0] != key[0] || strcmp(m->string, key) != 0))
                    m = m->next;
                if (m != NULL) {
                    x->dup_key = key; /* json_parse_strict() words the error */
                    x->pos = key_start;
                    fail(x, "duplicate key");
                    break;
                }
            } else {
                x->large_object = true;
            }
            members++;
            skip_ws(x);
            if (x->pos >= x->len || x->s[x->pos] != ':') {
                cJSON_free(key);
                fail(x, "expected ':' after a key");
                break;
            }
            x->pos++;
            skip_ws(x);
        }
        cJSON *v = read_value(x);
        if (v == NULL) {
            cJSON_free(key);
            break;
        }
        v->string = key;
        if (last == NULL) {
            c->child = v;
        } else {
            last->next = v;
            v->prev = last;
        }
        last = v;
        c->child->prev = last;
        skip_ws(x);
        if (x->pos < x->len && x->s[x->pos] == ',') {
            x->pos++;
            skip_ws(x);
            continue;
        }
        if (x->pos < x->len && x->s[x->pos] == close) {
            x->pos++;
            x->depth--;
            return c;
        }
        fail(x, object ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    cJSON_Delete(c);
    return NULL;
}

static cJSON *read_literal(reader *x, const char *word, cJSON *(*make)(void))
{
    size_t n = strlen(word);
    if (x->len - x->pos < n || memcmp(x->s + x->pos, word, n) != 0)
        return fail(x, "invalid literal");
    x->pos += n;
    cJSON *item = make();
    if (item == NULL)
        return fail_oom(x);
    if (cJSON_IsTrue(item))
        item->valueint = 1; /* as cJSON's parser leaves it */
    return item;
}

static cJSON *read_value(reader *x)
{
    if (x->pos >= x->len)
        return fail(x, "unexpected end of input");
    unsigned char c = x->s[x->pos];
    switch (c) {
    case '{':
        return read_container(x, true);
    case '[':
        return read_container(x, false);
    case '"': {
        char *text = read_string(x);
        if (text == NULL)
            return NULL;
        cJSON *item = cJSON_CreateNull();
        if (item == NULL) {
            cJSON_free(text);
            return fail_oom(x);
        }
        item->type = cJSON_String;
        item->valuestring = text;
        return item;
    }
    case 't':
        return read_literal(x, "true", cJSON_CreateTrue);
    case 'f':
        return read_literal(x, "false", cJSON_CreateFalse);
    case 'n':
        return read_literal(x, "null", cJSON_CreateNull);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return read_number(x);
        return fail(x, c >= 0x80 ? "unexpected byte (not JSON; a byte-order mark?)"
                                 : "unexpected character");
    }
}

/* Read the whole text: one JSON value and nothing but white space. NULL on failure, with
 * x->pos and x->error saying where and why. */
static cJSON *read_document(const char *text, size_t len, size_t want_key, reader *x)
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
    cJSON *root = read_value(x);
    if (root == NULL)
        return NULL;
    skip_ws(x);
    if (x->pos < len) {
        cJSON_Delete(root);
        return fail(x, "unexpected data after the JSON value");
    }
    return root;
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
        if (n > 1 && n <= JSON_INLINE_DUP_MEMBERS) { /* small: compare pairwise */
            for (const cJSON *a = item->child; a; a = a->next)
                for (const cJSON *b = a->next; b; b = b->next)
                    if (a->string[0] == b->string[0] && strcmp(a->string, b->string) == 0)
                        return b;
        } else if (n > JSON_INLINE_DUP_MEMBERS) {
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

/* A refusal for want of memory, not for anything in the text. */
static void set_out_of_memory(json_error *err)
{
    memset(err, 0, sizeof *err);
    err->out_of_memory = true;
    snprintf(err->message, sizeof err->message, "out of memory");
}

/* The error for a duplicate key: the key is user data, so escaped, and cut on a character
 * boundary. */
static void set_duplicate_error(json_error *err, const char *text, size_t offset, const char *key)
{
    char msg[sizeof err->message];
    char *shown = text_escape(key);
    if (shown == NULL) {
        set_out_of_memory(err);
        return;
    }
    size_t n = text_cut_utf8(shown, strlen(shown), 120);
    snprintf(msg, sizeof msg, "duplicate key \"%.*s\"", (int)n, shown);
    free(shown);
    set_error(err, text, offset, msg);
}

cJSON *json_parse_strict(const char *text, size_t len, json_error *err)
{
    memset(err, 0, sizeof *err);
    reader x;
    cJSON *root = read_document(text, len, SIZE_MAX, &x);
    if (root == NULL) {
        if (x.oom)
            set_out_of_memory(err);
        else if (x.dup_key != NULL)
            set_duplicate_error(err, text, x.pos, x.dup_key);
        else
            set_error(err, text, x.pos, x.error);
        cJSON_free(x.dup_key);
        return NULL;
    }
    if (!x.large_object)
        return root; /* every object was checked as it was read */
    bool oom = false;
    const cJSON *dup = find_duplicate(root, &oom);
    if (oom) {
        set_out_of_memory(err);
        cJSON_Delete(root);
        return NULL;
    }
    if (dup) {
        /* Its position: read the text again, noting where key number `index` starts. */
        size_t index = 0;
        key_index(root, dup, &index);
        reader again;
        cJSON_Delete(read_document(text, len, index, &again));
        cJSON_free(again.dup_key);
        if (again.oom && again.key_offset == 0)
            set_out_of_memory(err); /* stopped before the key */
        else
            set_duplicate_error(err, text, again.key_offset, dup->string);
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
