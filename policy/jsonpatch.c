/*
 * jsonpatch.c — JSON Pointer escaping and recording of `add`/`remove` operations applied to a
 * working copy at the same time.
 */
#include "jsonpatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void jsonpointer_append(strbuf *sb, const char *token)
{
    sb_append(sb, "/");
    for (const char *p = token; *p; p++) {
        if (*p == '~')
            sb_append(sb, "~0");
        else if (*p == '/')
            sb_append(sb, "~1");
        else
            sb_append_n(sb, p, 1);
    }
}

void jsonpointer_append_index(strbuf *sb, size_t i)
{
    sb_printf(sb, "/%zu", i);
}

static void record(jsonpatch *p, const char *op, const char *path, const cJSON *value)
{
    if (p->oom)
        return;
    if (!p->ops && !(p->ops = cJSON_CreateArray())) {
        p->oom = true;
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *v = value ? cJSON_Duplicate(value, 1) : NULL;
    if (!o || !cJSON_AddStringToObject(o, "op", op) || !cJSON_AddStringToObject(o, "path", path) ||
        (value && (!v || !cJSON_AddItemToObject(o, "value", v)))) {
        if (v && !cJSON_GetObjectItemCaseSensitive(o, "value"))
            cJSON_Delete(v);
        cJSON_Delete(o);
        p->oom = true;
        return;
    }
    cJSON_AddItemToArray(p->ops, o);
}

static char *member_pointer(const char *parent_pointer, const char *key)
{
    strbuf sb = {0};
    sb_append(&sb, parent_pointer);
    jsonpointer_append(&sb, key);
    return sb_take(&sb);
}

void jsonpatch_add_member(jsonpatch *p, cJSON *parent, const char *parent_pointer, const char *key,
                          cJSON *value)
{
    char *path = member_pointer(parent_pointer, key);
    if (!path || !value || !cJSON_IsObject(parent)) {
        p->oom = true;
        cJSON_Delete(value);
        free(path);
        return;
    }
    record(p, "add", path, value);
    free(path);
    bool placed = cJSON_GetObjectItemCaseSensitive(parent, key)
                      ? cJSON_ReplaceItemInObjectCaseSensitive(parent, key, value)
                      : cJSON_AddItemToObject(parent, key, value);
    if (!placed) { /* cJSON leaves `value` with us when it cannot copy the key */
        cJSON_Delete(value);
        p->oom = true;
    }
}

void jsonpatch_remove_member(jsonpatch *p, cJSON *parent, const char *parent_pointer,
                             const char *key)
{
    if (!json_get(parent, key))
        return;
    char *path = member_pointer(parent_pointer, key);
    if (!path) {
        p->oom = true;
        return;
    }
    record(p, "remove", path, NULL);
    free(path);
    cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
}

size_t jsonpatch_count(const jsonpatch *p)
{
    return p->ops ? (size_t)cJSON_GetArraySize(p->ops) : 0;
}
