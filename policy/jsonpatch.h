/*
 * jsonpatch.h — JSON Pointer (RFC 6901) escaping and JSON Patch (RFC 6902) recording.
 *
 * The engine mutates a working copy of the object and records each change as a patch
 * operation at the same moment, so the copy is always "the input with the patch applied"
 * (SPEC §7.3) and no separate patch applier is needed. Only `add` and `remove` are emitted:
 * `add` both creates a missing member and replaces an existing one (RFC 6902 §4.1), whereas
 * `replace` fails on a missing member.
 */
#ifndef SW_JSONPATCH_H
#define SW_JSONPATCH_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "text.h"

/* jsonpointer_append — append "/" and the reference token `token` escaped per RFC 6901 §3
 * ('~' → "~0", '/' → "~1") to `sb`. */
void jsonpointer_append(strbuf *sb, const char *token);

/* jsonpointer_append_index — append "/" and the decimal array index `i`. */
void jsonpointer_append_index(strbuf *sb, size_t i);

/* A patch being recorded: `ops` is the JSON array of operations (owned); `oom` latches the
 * first allocation failure. */
typedef struct {
    cJSON *ops;
    bool oom;
} jsonpatch;

/*
 * jsonpatch_add_member — set member `key` of object `parent` (a node of the working copy whose
 * JSON Pointer is `parent_pointer`) to `value`, and record {"op":"add","path":...,"value":...}.
 * Takes ownership of `value`. `parent` must be an object.
 */
void jsonpatch_add_member(jsonpatch *p, cJSON *parent, const char *parent_pointer, const char *key,
                          cJSON *value);

/*
 * jsonpatch_remove_member — delete member `key` of object `parent` (pointer `parent_pointer`)
 * and record {"op":"remove","path":...}. Nothing happens when there is no such member.
 */
void jsonpatch_remove_member(jsonpatch *p, cJSON *parent, const char *parent_pointer,
                             const char *key);

/* jsonpatch_count — number of operations recorded. */
size_t jsonpatch_count(const jsonpatch *p);

#endif
