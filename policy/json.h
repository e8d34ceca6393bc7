/*
 * json.h — reading JSON the way the API server (Go) reads it, or refusing it (SPEC §9).
 *
 * cJSON 1.7.15 differs from Go's decoder in ways that can turn into a wrong allow: it keeps
 * the first of two duplicate keys (Go the last), its C strings stop at an escaped \u0000, and it
 * does not check UTF-8; it also reads a malformed \u escape as U+0000 and skips any control
 * byte as white space. json_parse_strict() refuses all of these, and everything reads members
 * through json_get(), which is case-sensitive (cJSON_GetObjectItem ignores case).
 */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct {
    unsigned line;      /* 1-based; 0 with out_of_memory */
    unsigned column;    /* 1-based, in bytes; 0 with out_of_memory */
    bool out_of_memory; /* the text was not judged: an allocation failed ("out of memory") */
    char message[192];
} json_error;

/*
 * json_parse_strict — parse `len` bytes of `text` (need not be NUL-terminated) into a new cJSON
 * tree the caller frees with cJSON_Delete(). Returns NULL and fills `err` (line, column,
 * message) when the text is not one RFC 8259 JSON value with nothing but white space around
 * it, holds invalid UTF-8 or a byte-order mark, a raw control character, a malformed escape,
 * an escaped \u0000 or an unpaired UTF-16 surrogate escape inside a string, a duplicate key in
 * any object (reported at the later occurrence), or nests deeper than 1000 levels (cJSON's
 * limit). When an allocation fails it returns NULL with err->out_of_memory set instead: that
 * says nothing about the text. The tree is the one cJSON_Parse() builds from the same text (nodes
 * and strings from cJSON's allocator, numbers through strtod()), read in a single pass.
 */
cJSON *json_parse_strict(const char *text, size_t len, json_error *err);

/* json_get — member `key` of `obj` (case-sensitive), or NULL when `obj` is not an object or has
 * no such member. */
cJSON *json_get(const cJSON *obj, const char *key);

/* json_is_absent — true for a missing member (NULL) or an explicit JSON null: the two mean
 * the same for Go's pointer fields. */
bool json_is_absent(const cJSON *item);

/* json_string — the string value of `item`, or NULL when it is not a string. */
const char *json_string(const cJSON *item);

/* json_utf8_len — the length (1–4) of the valid UTF-8 sequence at `p`, reading at most `left`
 * bytes and none after one that is not a continuation byte (so never past a NUL), or 0 when it
 * is invalid: overlong forms, surrogates and code points above U+10FFFF (RFC 3629 §3). */
size_t json_utf8_len(const unsigned char *p, size_t left);

#endif
