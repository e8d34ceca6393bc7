/*
 * fuzz_json.c — libFuzzer target: json_parse_strict() (policy/json.h, SPEC §9) against an
 * independent reference reader and against cJSON.
 *
 * The reference below is written from the contract in json.h, not from json.c: one RFC 8259
 * value with only white space around it; no byte-order mark; strings of valid UTF-8 (RFC 3629)
 * without raw control characters, with the escapes of RFC 8259 only, no \u0000, and UTF-16
 * surrogate escapes only in well-formed pairs (Go would put U+FFFD for a lone one; refusing is
 * the project's choice); no two members of an object with the same decoded name; containers
 * nested at most 1000 deep. It builds its own cJSON tree.
 *
 * Invariants:
 *   1. json_parse_strict() accepts exactly what the reference accepts;
 *   2. when both accept, the trees are equal (same types, member order, strings byte for byte,
 *      numbers bit for bit), and equal to plain cJSON's tree of the same text, down to
 *      valueint and the list links;
 *   3. what it accepts round-trips: cJSON's printed text of the tree is accepted again and gives
 *      an equal tree — numbers within one unit in the last place, as cJSON prints them; numbers
 *      out of the range of a double (1e999) print as null and are left out of this check (see
 *      README.md);
 *   4. a refusal reports a position inside the text and a message.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

/* ------------------------------------------------------------------------------------------ */
/* The reference reader                                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    unsigned depth;
} ref_reader;

#define REF_MAX_DEPTH 1000

static void ref_ws(ref_reader *r)
{
    while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                               r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
        r->pos++;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at r->pos + 2 (after "\u"); -1 when malformed. */
static long ref_u4(const ref_reader *r)
{
    if (r->len - r->pos < 6)
        return -1;
    long v = 0;
    for (size_t i = 2; i < 6; i++) {
        int h = hexval(r->s[r->pos + i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static void put_utf8(unsigned char *out, size_t *n, unsigned long cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (unsigned char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (unsigned char)(0xc0 | (cp >> 6));
        out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (unsigned char)(0xe0 | (cp >> 12));
        out[(*n)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (unsigned char)(0xf0 | (cp >> 18));
        out[(*n)++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
    }
}

/* A string at r->pos (the opening quote): its decoded bytes, NUL-terminated (owned), or NULL.
 * The decoded form is never longer than the text. */
static char *ref_string(ref_reader *r)
{
    unsigned char *out = malloc(r->len - r->pos + 1);
    FUZZ_CHECK(out != NULL, "out of memory");
    size_t n = 0;
    r->pos++;
    while (r->pos < r->len) {
        unsigned char c = r->s[r->pos];
        if (c == '"') {
            r->pos++;
            out[n] = '\0';
            return (char *)out;
        }
        if (c < 0x20)
            break;
        if (c != '\\') {
            /* Copy one UTF-8 character after checking it with a one-character string. */
            size_t k = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
            if (r->len - r->pos < k)
                break;
            char one[5] = {0};
            memcpy(one, r->s + r->pos, k);
            if (fuzz_utf8_chars(one) != 1)
                break;
            memcpy(out + n, one, k);
            n += k;
            r->pos += k;
            continue;
        }
        if (r->len - r->pos < 2)
            break;
        unsigned char e = r->s[r->pos + 1];
        const char *simple = "\"\"\\\\//b\bf\fn\nr\rt\t";
        const char *m = NULL;
        for (const char *p = simple; *p; p += 2)
            if ((unsigned char)p[0] == e)
                m = p;
        if (m != NULL) {
            out[n++] = (unsigned char)m[1];
            r->pos += 2;
            continue;
        }
        if (e != 'u')
            break;
        long cp = ref_u4(r);
        if (cp <= 0 || (cp >= 0xdc00 && cp <= 0xdfff)) /* \u0000, malformed, lone low half */
            break;
        r->pos += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (r->len - r->pos < 2 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
                break;
            long lo = ref_u4(r);
            if (lo < 0xdc00 || lo > 0xdfff)
                break;
            r->pos += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        put_utf8(out, &n, (unsigned long)cp);
    }
    free(out);
    return NULL;
}

static bool ref_digits(ref_reader *r)
{
    size_t start = r->pos;
    while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9')
        r->pos++;
    return r->pos > start;
}

static cJSON *ref_number(ref_reader *r)
{
    size_t start = r->pos;
    if (r->s[r->pos] == '-')
        r->pos++;
    if (r->pos < r->len && r->s[r->pos] == '0')
        r->pos++;
    else if (!ref_digits(r))
        return NULL;
    if (r->pos < r->len && r->s[r->pos] == '.') {
        r->pos++;
        if (!ref_digits(r))
            return NULL;
    }
    if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
        r->pos++;
        if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
            r->pos++;
        if (!ref_digits(r))
            return NULL;
    }
    size_t n = r->pos - start;
    char *text = malloc(n + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, r->s + start, n);
    text[n] = '\0';
    double v = strtod(text, NULL);
    free(text);
    cJSON *item = cJSON_CreateNumber(v);
    FUZZ_CHECK(item != NULL, "out of memory");
    return item;
}

static cJSON *ref_value(ref_reader *r);

static cJSON *ref_container(ref_reader *r, bool object)
{
    if (++r->depth > REF_MAX_DEPTH)
        return NULL;
    cJSON *c = object ? cJSON_CreateObject() : cJSON_CreateArray();
    FUZZ_CHECK(c != NULL, "out of memory");
    r->pos++;
    ref_ws(r);
    unsigned char close = object ? '}' : ']';
    if (r->pos < r->len && r->s[r->pos] == close) {
        r->pos++;
        r->depth--;
        return c;
    }
    for (;;) {
        char *key = NULL;
        if (object) {
            if (r->pos >= r->len || r->s[r->pos] != '"' || (key = ref_string(r)) == NULL)
                break;
            bool dup = cJSON_GetObjectItemCaseSensitive(c, key) != NULL;
            ref_ws(r);
            if (dup || r->pos >= r->len || r->s[r->pos] != ':') {
                free(key);
                break;
            }
            r->pos++;
            ref_ws(r);
        }
        cJSON *v = ref_value(r);
        if (v == NULL) {
            free(key);
            break;
        }
        if (object)
            cJSON_AddItemToObject(c, key, v);
        else
            cJSON_AddItemToArray(c, v);
        free(key);
        ref_ws(r);
        if (r->pos < r->len && r->s[r->pos] == ',') {
            r->pos++;
            ref_ws(r);
            continue;
        }
        if (r->pos < r->len && r->s[r->pos] == close) {
            r->pos++;
            r->depth--;
            return c;
        }
        break;
    }
    cJSON_Delete(c);
    return NULL;
}

static cJSON *ref_literal(ref_reader *r, const char *word, cJSON *item)
{
    size_t n = strlen(word);
    FUZZ_CHECK(item != NULL, "out of memory");
    if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0) {
        cJSON_Delete(item);
        return NULL;
    }
    r->pos += n;
    return item;
}

static cJSON *ref_value(ref_reader *r)
{
    if (r->pos >= r->len)
        return NULL;
    switch (r->s[r->pos]) {
    case '{':
        return ref_container(r, true);
    case '[':
        return ref_container(r, false);
    case '"': {
        char *s = ref_string(r);
        if (s == NULL)
            return NULL;
        cJSON *item = cJSON_CreateString(s);
        free(s);
        FUZZ_CHECK(item != NULL, "out of memory");
        return item;
    }
    case 't':
        return ref_literal(r, "true", cJSON_CreateTrue());
    case 'f':
        return ref_literal(r, "false", cJSON_CreateFalse());
    case 'n':
        return ref_literal(r, "null", cJSON_CreateNull());
    default:
        if (r->s[r->pos] == '-' || (r->s[r->pos] >= '0' && r->s[r->pos] <= '9'))
            return ref_number(r);
        return NULL;
    }
}

/* The reference reading of the whole text: a tree, or NULL when it must be refused. */
static cJSON *ref_parse(const uint8_t *data, size_t size)
{
    ref_reader r = {.s = data, .len = size};
    ref_ws(&r); /* a byte-order mark is not white space: refused as an unexpected byte */
    cJSON *root = ref_value(&r);
    if (root == NULL)
        return NULL;
    ref_ws(&r);
    if (r.pos != r.len) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* ------------------------------------------------------------------------------------------ */
/* Tree comparison                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* Equal: types, member names and order, strings; numbers bit for bit when `exact`, else
 * within cJSON's own tolerance (one unit in the last place: see the round trip below).
 * cJSON_Compare() is not used: it always allows the tolerance and calls two infinities
 * different. */
static bool same_tree(const cJSON *a, const cJSON *b, bool exact)
{
    if ((a->type & 0xff) != (b->type & 0xff))
        return false;
    if ((a->string == NULL) != (b->string == NULL) ||
        (a->string != NULL && strcmp(a->string, b->string) != 0))
        return false;
    if (cJSON_IsNumber(a)) {
        double x = a->valuedouble, y = b->valuedouble;
        if (x == y)
            return true;
        return !exact && fabs(x - y) <= fmax(fabs(x), fabs(y)) * DBL_EPSILON;
    }
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x != NULL && y != NULL; x = x->next, y = y->next)
            if (!same_tree(x, y, exact))
                return false;
        return x == NULL && y == NULL;
    }
    return true;
}

/* The tree is the one cJSON's own parser builds, to the last field code may read: number
 * bits and valueint (saturated to int; 1 for true, as cJSON's parser leaves it), and the list
 * links cJSON's functions rely on (each child's prev is the one before; the first child's prev
 * is the last, which cJSON_AddItemToArray appends after). */
static bool same_as_cjson(const cJSON *a, const cJSON *b)
{
    if (a->type != b->type || a->valueint != b->valueint ||
        memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble) != 0)
        return false;
    const cJSON *x = a->child, *y = b->child, *last = NULL;
    for (; x != NULL && y != NULL; last = x, x = x->next, y = y->next) {
        if ((last != NULL && x->prev != last) || !same_as_cjson(x, y))
            return false;
    }
    return x == NULL && y == NULL && (a->child == NULL || a->child->prev == last);
}

static bool has_nonfinite(const cJSON *item)
{
    if (cJSON_IsNumber(item))
        return !isfinite(item->valuedouble);
    for (const cJSON *c = item->child; c != NULL; c = c->next)
        if (has_nonfinite(c))
            return true;
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* The target                                                                                 */
/* ------------------------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_error err;
    cJSON *strict = json_parse_strict(text, size, &err);
    cJSON *ref = ref_parse(data, size);

    if (strict == NULL) {
        FUZZ_CHECK(err.line >= 1 && err.column >= 1 && err.message[0] != '\0',
                   "refusal without a position or message: %u:%u '%s'", err.line, err.column,
                   err.message);
        /* The position is inside the text, or just past its end. */
        size_t line = 1, col = 1;
        for (size_t i = 0; i < size && line <= err.line; i++) {
            if (line == err.line)
                col++;
            if (data[i] == '\n')
                line++;
        }
        FUZZ_CHECK(err.line <= line && err.column <= col,
                   "error position %u:%u is outside the text", err.line, err.column);
        FUZZ_CHECK(ref == NULL, "json_parse_strict refused JSON the contract accepts: %u:%u %s",
                   err.line, err.column, err.message);
        return 0;
    }
    FUZZ_CHECK(ref != NULL, "json_parse_strict accepted a text the contract refuses");
    FUZZ_CHECK(same_tree(strict, ref, true), "json_parse_strict's tree differs from the reference");

    cJSON *plain = cJSON_ParseWithLength(text, size);
    FUZZ_CHECK(plain != NULL && same_tree(strict, plain, true), "cJSON reads the text differently");
    FUZZ_CHECK(same_as_cjson(strict, plain), "the tree's numbers or links differ from cJSON's");
    cJSON_Delete(plain);

    if (!has_nonfinite(strict)) {
        char *printed = cJSON_PrintUnformatted(strict);
        FUZZ_CHECK(printed != NULL, "cJSON cannot print the tree");
        cJSON *again = json_parse_strict(printed, strlen(printed), &err);
        FUZZ_CHECK(again != NULL, "the printed tree is refused (%u:%u %s): %.200s", err.line,
                   err.column, err.message, printed);
        /* cJSON prints a double with 15 significant digits when they read back within its
         * tolerance, else 17: 10.53901234567890120 prints as 10.5390123456789, one unit in
         * the last place away (regressions/json/cjson-prints-15-digits-one-ulp-off.json). */
        FUZZ_CHECK(same_tree(strict, again, false), "the tree does not round-trip: %.200s",
                   printed);
        cJSON_Delete(again);
        cJSON_free(printed);
    }
    cJSON_Delete(ref);
    cJSON_Delete(strict);
    return 0;
}
