/*
 * manifest_edit.c — a JSON Patch made against an object becomes edits of the manifest's text.
 *
 * `migrate` must leave everything it does not change exactly as written (issue 7), so a patch
 * is never applied by serialising the patched object: each operation is located in the
 * position tree of manifest.c and turned into the smallest edit of the original bytes. The
 * engine only emits `add` and `remove` of object members (jsonpatch.h), so that is all this
 * handles; anything the text makes impossible to edit safely (an alias or merge key on the
 * way, a key that does not start its line, a block collection to replace) is an error, and
 * the caller's re-read of the result is the last guard.
 *
 * Operations are gathered first, per mapping, and edits made after: removals in one flow
 * mapping must be planned together (their commas), a mapping left empty needs `{}`, and an
 * `add` under a member that an earlier `add` creates belongs in that member's new text.
 */
#include "manifest.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEW_MEMBER SIZE_MAX

/* An `add` of member `key` to mapping `map`: a new pair (index NEW_MEMBER), or a new value for
 * the pair at `index`. */
typedef struct {
    const mnode *map;
    size_t index;
    char *key;
    cJSON *value;
} pending_add;

/* `remove`s of pairs of mapping `map`; `owner`/`owner_index`: the pair whose value `map` is
 * (NULL when it is a sequence item or the document), for `key: {}`. */
typedef struct {
    const mnode *map;
    bool *removed;
    const mnode *owner;
    size_t owner_index;
} pending_remove;

typedef struct {
    const manifest *m;
    const manifest_doc *doc;
    manifest_edits *edits;
    strlist *notes;
    manifest_error *err;
    pending_add *adds;
    size_t nadds;
    pending_remove *rems;
    size_t nrems;
    bool oom;
} planner;

/* ======================================================================================== */
/* Errors, notes and edits                                                                   */

static int fail_at(planner *p, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(planner *p, size_t offset, const char *fmt, ...)
{
    unsigned line, column;
    manifest_position(p->m, offset, &line, &column);
    char raw[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    manifest_error_set(p->err, line, column, "%s", raw);
    return -1;
}

static int fail_oom(planner *p)
{
    p->oom = true;
    p->err->line = p->err->column = 0;
    snprintf(p->err->message, sizeof p->err->message, "out of memory");
    return -1;
}

static void note_flow(planner *p, size_t offset, const char *what)
{
    if (p->m->format != MANIFEST_YAML)
        return; /* JSON is all flow: nothing to remark */
    unsigned line, column;
    manifest_position(p->m, offset, &line, &column);
    strbuf sb = {0};
    sb_printf(&sb, "%u:%u: note: %s a flow mapping, kept in flow style", line, column, what);
    strlist_push_owned(p->notes, sb_take(&sb));
}

static int push_edit_at_depth(planner *p, size_t start, size_t end, char *text, size_t depth)
{
    manifest_edits *e = p->edits;
    if (!text)
        return fail_oom(p);
    if (e->count == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        manifest_edit *items = realloc(e->items, cap * sizeof *items);
        if (!items) {
            free(text);
            e->oom = true;
            return fail_oom(p);
        }
        e->items = items;
        e->cap = cap;
    }
    e->items[e->count] = (manifest_edit){start, end, text, depth, e->count};
    e->count++;
    return 0;
}

static int push_edit(planner *p, size_t start, size_t end, char *text)
{
    return push_edit_at_depth(p, start, end, text, 0);
}

static int push_delete(planner *p, size_t start, size_t end)
{
    return push_edit(p, start, end, strdup(""));
}

/* ======================================================================================== */
/* The text around a node                                                                    */

static size_t line_start(const manifest *m, size_t off)
{
    while (off > 0 && m->text[off - 1] != '\n')
        off--;
    return off;
}

/* The start of the line after the one `off` is on; `off` itself when it starts a line (a
 * block scalar's end), the end of the text on the last line. */
static size_t line_after(const manifest *m, size_t off)
{
    if (off > 0 && m->text[off - 1] == '\n')
        return off;
    const char *nl = memchr(m->text + off, '\n', m->len - off);
    return nl ? (size_t)(nl - m->text) + 1 : m->len;
}

static bool all_spaces(const manifest *m, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (m->text[i] != ' ')
            return false;
    return true;
}

static bool all_blank(const manifest *m, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (m->text[i] != ' ' && m->text[i] != '\t')
            return false;
    return true;
}

/* The rest of the line from `off` is blank or a comment. */
static bool rest_of_line_blank(const manifest *m, size_t off)
{
    while (off < m->len && (m->text[off] == ' ' || m->text[off] == '\t'))
        off++;
    return off >= m->len || m->text[off] == '\n' || m->text[off] == '\r' || m->text[off] == '#';
}

/* The ':' after a block mapping key, or SIZE_MAX. */
static size_t colon_after(const manifest *m, const mnode *key)
{
    size_t i = key->end;
    while (i < m->len && (m->text[i] == ' ' || m->text[i] == '\t'))
        i++;
    return i < m->len && m->text[i] == ':' ? i : SIZE_MAX;
}

/* The column of a block mapping's keys: what precedes its first key on that line is spaces
 * and, for a mapping that is a sequence item, "- " (the key's column counts them). */
static int block_key_column(planner *p, const mnode *map, size_t *col)
{
    size_t k = map->key_nodes[0]->start;
    size_t ls = line_start(p->m, k);
    for (size_t i = ls; i < k; i++)
        if (p->m->text[i] != ' ' && p->m->text[i] != '-')
            return fail_at(p, k, "cannot find the indentation of this mapping");
    *col = k - ls;
    return 0;
}

/* The '{' of a flow mapping (after its anchor or tag, if any) and its '}'. */
static int flow_braces(planner *p, const mnode *map, size_t *open, size_t *close)
{
    size_t i = map->start;
    while (i < map->end && p->m->text[i] != '{')
        i++;
    if (i >= map->end || map->end == 0 || p->m->text[map->end - 1] != '}')
        return fail_at(p, map->start, "cannot find the braces of this flow mapping");
    *open = i;
    *close = map->end - 1;
    return 0;
}

/* ======================================================================================== */
/* Writing values: block YAML, flow YAML, JSON                                              */

static void pad(strbuf *sb, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_append(sb, " ");
}

static bool plain_safe(const char *s)
{
    if (!s[0] || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                   (s[0] >= '0' && s[0] <= '9') || s[0] == '/' || s[0] == '_' || s[0] == '.'))
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("._/-", *c)))
            return false;
    return manifest_plain_is_string(s);
}

/* A double-quoted string, valid in YAML (with \xNN) or JSON (with \u00NN). */
static void quoted(strbuf *sb, const char *s, bool json)
{
    sb_append(sb, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char e[3] = {'\\', (char)*c, '\0'};
            sb_append(sb, e);
        } else if (*c == '\n') {
            sb_append(sb, "\\n");
        } else if (*c == '\t') {
            sb_append(sb, "\\t");
        } else if (*c == '\r') {
            sb_append(sb, "\\r");
        } else if (*c < 0x20 || *c == 0x7f) {
            sb_printf(sb, json ? "\\u%04x" : "\\x%02x", *c);
        } else {
            sb_append_n(sb, (const char *)c, 1);
        }
    }
    sb_append(sb, "\"");
}

static void yaml_string(strbuf *sb, const char *s)
{
    if (plain_safe(s))
        sb_append(sb, s);
    else
        quoted(sb, s, false);
}

static void number(strbuf *sb, const cJSON *v)
{
    char *t = cJSON_PrintUnformatted(v);
    if (t)
        sb_append(sb, t);
    else
        sb->oom = true;
    free(t);
}

/* A value in flow style: YAML ({a: b}) or JSON ({"a": "b"}, `spaced` or not). */
static void flow(strbuf *sb, const cJSON *v, bool json, bool spaced)
{
    if (cJSON_IsString(v)) {
        if (json)
            quoted(sb, v->valuestring, true);
        else
            yaml_string(sb, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        number(sb, v);
    } else if (cJSON_IsBool(v)) {
        sb_append(sb, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        bool obj = cJSON_IsObject(v);
        sb_append(sb, obj ? "{" : "[");
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child)
                sb_append(sb, json && !spaced ? "," : ", ");
            if (obj) {
                if (json)
                    quoted(sb, c->string, true);
                else
                    yaml_string(sb, c->string);
                sb_append(sb, json && !spaced ? ":" : ": ");
            }
            flow(sb, c, json, spaced);
        }
        sb_append(sb, obj ? "}" : "]");
    } else {
        sb_append(sb, "null");
    }
}

static bool nonempty_object(const cJSON *v)
{
    return cJSON_IsObject(v) && v->child;
}

/* `key: value` as block YAML lines at column `indent`, nested objects `unit` deeper. */
static void block_pair(strbuf *sb, const char *key, const cJSON *v, size_t indent, size_t unit,
                       const char *nl)
{
    pad(sb, indent);
    yaml_string(sb, key);
    sb_append(sb, ":");
    if (nonempty_object(v)) {
        sb_append(sb, nl);
        for (const cJSON *c = v->child; c; c = c->next)
            block_pair(sb, c->string, c, indent + unit, unit, nl);
        return;
    }
    sb_append(sb, " ");
    flow(sb, v, false, true);
    sb_append(sb, nl);
}

/* A JSON value laid out one member per line, the closing brace after `indent` (the text that
 * starts the line of the opening one), members one `unit` deeper. */
static void json_pretty(strbuf *sb, const cJSON *v, const char *indent, const char *unit,
                        const char *nl)
{
    if (!nonempty_object(v)) {
        flow(sb, v, true, true);
        return;
    }
    strbuf inner = {0};
    sb_append(&inner, indent);
    sb_append(&inner, unit);
    const char *in = inner.data ? inner.data : "";
    sb_append(sb, "{");
    for (const cJSON *c = v->child; c; c = c->next) {
        sb_append(sb, c == v->child ? "" : ",");
        sb_append(sb, nl);
        sb_append(sb, in);
        quoted(sb, c->string, true);
        sb_append(sb, ": ");
        json_pretty(sb, c, in, unit, nl);
    }
    sb_append(sb, nl);
    sb_append(sb, indent);
    sb_append(sb, "}");
    sb->oom |= inner.oom;
    sb_free(&inner);
}

/* `key: value` in flow style, for this manifest's format. */
static void flow_pair(strbuf *sb, const manifest *m, const char *key, const cJSON *v)
{
    bool json = m->format == MANIFEST_JSON;
    if (json)
        quoted(sb, key, true);
    else
        yaml_string(sb, key);
    sb_append(sb, json && !m->json_spaced ? ":" : ": ");
    flow(sb, v, json, !json || m->json_spaced);
}

/* ======================================================================================== */
/* Gathering the operations                                                                  */

/* The tokens of JSON Pointer `ptr` (RFC 6901), unescaped. */
static int pointer_tokens(const char *ptr, strlist *out)
{
    if (ptr[0] != '/')
        return -1;
    const char *p = ptr;
    while (*p == '/') {
        p++;
        strbuf tok = {0};
        while (*p && *p != '/') {
            if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
                sb_append(&tok, p[1] == '0' ? "~" : "/");
                p += 2;
            } else {
                sb_append_n(&tok, p, 1);
                p++;
            }
        }
        strlist_push_owned(out, sb_take(&tok));
    }
    return 0;
}

static size_t member_index(const mnode *map, const char *key)
{
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i], key) == 0)
            return i;
    return NEW_MEMBER;
}

/* Where following the first `n` tokens from `node` gets in the text. */
typedef struct {
    const mnode *node;  /* the last node reached */
    size_t followed;    /* tokens followed */
    const mnode *owner; /* the mapping whose pair led to `node`, or NULL */
    size_t owner_index;
} walk_result;

static walk_result walk(const mnode *node, const strlist *toks, size_t n)
{
    walk_result w = {node, 0, NULL, 0};
    for (size_t i = 0; i < n; i++) {
        const char *t = toks->items[i];
        if (w.node->type == MNODE_MAPPING) {
            size_t k = member_index(w.node, t);
            if (k == NEW_MEMBER)
                break;
            w.owner = w.node;
            w.owner_index = k;
            w.node = w.node->items[k];
        } else if (w.node->type == MNODE_SEQUENCE) {
            char *end;
            unsigned long k = strtoul(t, &end, 10);
            if (!t[0] || *end || k >= w.node->count)
                break;
            w.owner = NULL;
            w.node = w.node->items[k];
        } else {
            break;
        }
        w.followed++;
    }
    return w;
}

static pending_add *find_add(planner *p, const mnode *map, const char *key)
{
    for (size_t i = 0; i < p->nadds; i++)
        if (p->adds[i].map == map && strcmp(p->adds[i].key, key) == 0)
            return &p->adds[i];
    return NULL;
}

static int not_in_text(planner *p, const mnode *at, const char *path)
{
    if (at->type == MNODE_ALIAS)
        return fail_at(p, at->start, "%s passes through an alias; edit this object by hand", path);
    return fail_at(p, at->start,
                   "%s is not written out here (an alias or merge key?); edit this object by hand",
                   path);
}

static int plan_remove(planner *p, const mnode *obj, const strlist *toks, const char *path)
{
    size_t n = toks->count;
    walk_result w = walk(obj, toks, n - 1);
    if (w.followed != n - 1 || w.node->type != MNODE_MAPPING)
        return not_in_text(p, w.node, path);
    size_t k = member_index(w.node, toks->items[n - 1]);
    if (k == NEW_MEMBER)
        return not_in_text(p, w.node, path);
    if (find_add(p, w.node, toks->items[n - 1]))
        return fail_at(p, w.node->key_nodes[k]->start, "%s is both set and removed", path);
    pending_remove *r = NULL;
    for (size_t i = 0; i < p->nrems && !r; i++)
        if (p->rems[i].map == w.node)
            r = &p->rems[i];
    if (!r) {
        pending_remove *a = realloc(p->rems, (p->nrems + 1) * sizeof *a);
        if (!a)
            return fail_oom(p);
        p->rems = a;
        r = &p->rems[p->nrems];
        *r = (pending_remove){w.node, calloc(w.node->count, sizeof(bool)), w.owner, w.owner_index};
        if (!r->removed)
            return fail_oom(p);
        p->nrems++;
    }
    r->removed[k] = true;
    return 0;
}

static int plan_add(planner *p, const mnode *obj, const strlist *toks, const char *path,
                    const cJSON *value)
{
    size_t n = toks->count;
    const char *key = toks->items[n - 1];
    walk_result w = walk(obj, toks, n - 1);
    cJSON *copy = cJSON_Duplicate(value, 1);
    if (!copy)
        return fail_oom(p);
    if (w.followed == n - 1) {
        if (w.node->type != MNODE_MAPPING) {
            cJSON_Delete(copy);
            return not_in_text(p, w.node, path);
        }
        pending_add *a = find_add(p, w.node, key);
        if (a) { /* set twice: the later value wins, as applying the patch would give */
            cJSON_Delete(a->value);
            a->value = copy;
            return 0;
        }
        for (size_t i = 0; i < p->nrems; i++) {
            size_t k = member_index(w.node, key);
            if (p->rems[i].map == w.node && k != NEW_MEMBER && p->rems[i].removed[k]) {
                cJSON_Delete(copy);
                return fail_at(p, w.node->start, "%s is both removed and set", path);
            }
        }
        pending_add *adds = realloc(p->adds, (p->nadds + 1) * sizeof *adds);
        char *k = strdup(key);
        if (adds)
            p->adds = adds;
        if (!adds || !k) {
            free(k);
            cJSON_Delete(copy);
            return fail_oom(p);
        }
        p->adds[p->nadds++] = (pending_add){w.node, member_index(w.node, key), k, copy};
        return 0;
    }
    /* Under a member this patch adds: into that member's new value. */
    pending_add *a =
        w.node->type == MNODE_MAPPING ? find_add(p, w.node, toks->items[w.followed]) : NULL;
    if (!a) {
        cJSON_Delete(copy);
        return not_in_text(p, w.node, path);
    }
    cJSON *parent = a->value;
    for (size_t i = w.followed + 1; i < n - 1 && parent; i++)
        parent = cJSON_GetObjectItemCaseSensitive(parent, toks->items[i]);
    if (!cJSON_IsObject(parent)) {
        cJSON_Delete(copy);
        return fail_at(p, w.node->start, "%s: its parent is not an object", path);
    }
    if (cJSON_GetObjectItemCaseSensitive(parent, key))
        cJSON_ReplaceItemInObjectCaseSensitive(parent, key, copy);
    else
        cJSON_AddItemToObject(parent, key, copy);
    return 0;
}

/* ======================================================================================== */
/* Making the edits                                                                          */

static int edit_removals(planner *p, const pending_remove *r)
{
    const manifest *m = p->m;
    const mnode *map = r->map;
    bool all = true;
    for (size_t i = 0; i < map->count; i++)
        all &= r->removed[i];
    if (map->flow) {
        note_flow(p, map->start, "members removed from");
        if (all) {
            size_t open = 0, close = 0; /* set by flow_braces() when it returns 0 */
            if (flow_braces(p, map, &open, &close) < 0)
                return -1;
            return push_delete(p, open + 1, close);
        }
        /* A run of removed pairs goes with the comma after it, or (at the end) the comma
         * before it: `{a: 1, b: 2, c: 3}` less b is `{a: 1, c: 3}`, less c `{a: 1, b: 2}`. */
        for (size_t i = 0; i < map->count;) {
            if (!r->removed[i]) {
                i++;
                continue;
            }
            size_t j = i;
            while (j + 1 < map->count && r->removed[j + 1])
                j++;
            int rc =
                j + 1 < map->count
                    ? push_delete(p, map->key_nodes[i]->start, map->key_nodes[j + 1]->start)
                    : push_delete(p, map->items[i - 1]->content_end, map->items[j]->content_end);
            if (rc < 0)
                return -1;
            i = j + 1;
        }
        return 0;
    }
    for (size_t i = 0; i < map->count; i++) {
        if (!r->removed[i])
            continue;
        size_t k = map->key_nodes[i]->start;
        size_t ls = line_start(m, k);
        if (!all_spaces(m, ls, k))
            return fail_at(p, k, "this key does not start its line; edit this object by hand");
        if (push_delete(p, ls, line_after(m, map->items[i]->content_end)) < 0)
            return -1;
    }
    if (!all)
        return 0;
    /* Every pair gone: an empty block mapping would read as null, so the key says `{}`
     * (the patch leaves an empty object, e.g. `annotations: {}`). */
    if (!r->owner || r->owner->flow)
        return fail_at(p, map->start, "this mapping would be left empty; edit this object by hand");
    size_t colon = colon_after(m, r->owner->key_nodes[r->owner_index]);
    if (colon == SIZE_MAX || !rest_of_line_blank(m, colon + 1))
        return fail_at(p, r->owner->key_nodes[r->owner_index]->start,
                       "cannot write {} after this key; edit this object by hand");
    return push_edit(p, colon + 1, colon + 1, strdup(" {}"));
}

/* A new pair at the end of a block mapping: its lines after the mapping's last line. */
static int edit_block_insert(planner *p, const pending_add *a)
{
    const manifest *m = p->m;
    size_t col = 0;
    if (block_key_column(p, a->map, &col) < 0)
        return -1;
    size_t at = line_after(m, a->map->content_end);
    strbuf sb = {0};
    if (at == m->len && at > 0 && m->text[at - 1] != '\n')
        sb_append(&sb, m->newline);
    block_pair(&sb, a->key, a->value, col, p->doc->indent_unit, m->newline);
    /* Lines for a mapping nested in another that ends on the same line go first. */
    return push_edit_at_depth(p, at, at, sb_take(&sb), col + 1);
}

/* A new pair at the end of a flow mapping or JSON object. */
static int edit_flow_insert(planner *p, const pending_add *a)
{
    const manifest *m = p->m;
    const mnode *map = a->map;
    strbuf sb = {0};
    note_flow(p, map->start, "a member added to");
    if (map->count == 0) {
        size_t open = 0, close = 0; /* set by flow_braces() when it returns 0 */
        if (flow_braces(p, map, &open, &close) < 0)
            return -1;
        flow_pair(&sb, m, a->key, a->value);
        return push_edit(p, open + 1, close, sb_take(&sb));
    }
    const mnode *last_key = map->key_nodes[map->count - 1];
    size_t at = map->items[map->count - 1]->content_end;
    size_t ls = line_start(m, last_key->start);
    size_t open = 0, close = 0; /* set by flow_braces() when it returns 0 */
    if (m->format == MANIFEST_JSON && all_blank(m, ls, last_key->start) &&
        flow_braces(p, map, &open, &close) == 0) {
        /* One member per line (kubectl's layout): the same, with the indentation of the last
         * member, and one step (what separates it from the brace's line) deeper inside. */
        char *indent = strndup(m->text + ls, last_key->start - ls);
        if (indent == NULL) {
            sb_free(&sb);
            return fail_oom(p);
        }
        size_t ols = line_start(m, open), oind = 0;
        while (ols + oind < open && (m->text[ols + oind] == ' ' || m->text[ols + oind] == '\t'))
            oind++;
        bool nested = oind < last_key->start - ls && memcmp(m->text + ols, indent, oind) == 0;
        const char *unit = nested ? indent + oind : "  ";
        sb_append(&sb, ",");
        sb_append(&sb, m->newline);
        sb_append(&sb, indent);
        quoted(&sb, a->key, true);
        sb_append(&sb, ": ");
        json_pretty(&sb, a->value, indent, unit, m->newline);
        free(indent);
    } else {
        sb_append(&sb, m->format == MANIFEST_JSON && !m->json_spaced ? "," : ", ");
        flow_pair(&sb, m, a->key, a->value);
    }
    return push_edit(p, at, at, sb_take(&sb));
}

/* A new value for an existing pair (securityContext: null, {} or empty). */
static int edit_replace(planner *p, const pending_add *a)
{
    const manifest *m = p->m;
    const mnode *key = a->map->key_nodes[a->index];
    const mnode *val = a->map->items[a->index];
    if ((val->type == MNODE_MAPPING || val->type == MNODE_SEQUENCE) && !val->flow)
        return fail_at(p, val->start,
                       "cannot replace a block collection; edit this object by hand");
    strbuf sb = {0};
    if (a->map->flow) {
        note_flow(p, val->start, "a value replaced in");
        if (val->start == val->end && val->start > 0 && m->text[val->start - 1] == ':')
            sb_append(&sb, " ");
        flow(&sb, a->value, m->format == MANIFEST_JSON,
             m->format != MANIFEST_JSON || m->json_spaced);
        return push_edit(p, val->start, val->end, sb_take(&sb));
    }
    size_t colon = colon_after(m, key);
    if (colon == SIZE_MAX || colon >= val->start)
        return fail_at(p, key->start, "cannot find the ':' after this key; edit by hand");
    if (!nonempty_object(a->value)) {
        sb_append(&sb, " ");
        flow(&sb, a->value, false, true);
        return push_edit(p, colon + 1, val->end, sb_take(&sb));
    }
    /* The old value goes from the key's line; the new one follows as lines under the key. */
    size_t col = key->start - line_start(m, key->start);
    if (push_delete(p, colon + 1, val->end) < 0)
        return -1;
    for (const cJSON *c = a->value->child; c; c = c->next)
        block_pair(&sb, c->string, c, col + p->doc->indent_unit, p->doc->indent_unit, m->newline);
    size_t at = line_after(m, val->end);
    if (at == m->len && at > 0 && m->text[at - 1] != '\n') {
        strbuf nl = {0};
        sb_append(&nl, m->newline);
        sb_append(&nl, sb.data ? sb.data : "");
        sb_free(&sb);
        sb = nl;
    }
    return push_edit_at_depth(p, at, at, sb_take(&sb), col + 1);
}

/* ======================================================================================== */
/* Entry points                                                                              */

int manifest_plan_patch(const manifest *m, const manifest_doc *doc, const mnode *object_node,
                        const cJSON *patch, manifest_edits *edits, strlist *notes,
                        manifest_error *err)
{
    planner p = {.m = m, .doc = doc, .edits = edits, .notes = notes, .err = err};
    memset(err, 0, sizeof *err);
    int rc = -1;
    if (!object_node)
        return fail_at(&p, 0, "the object is an alias; edit it by hand");
    const cJSON *op;
    cJSON_ArrayForEach(op, patch)
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "op"));
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "path"));
        strlist toks = {0};
        if (!kind || !path || pointer_tokens(path, &toks) < 0 || toks.count == 0) {
            strlist_free(&toks);
            fail_at(&p, object_node->start, "malformed patch operation");
            goto out;
        }
        if (toks.oom) {
            strlist_free(&toks);
            fail_oom(&p);
            goto out;
        }
        int r;
        if (strcmp(kind, "remove") == 0)
            r = plan_remove(&p, object_node, &toks, path);
        else if (strcmp(kind, "add") == 0)
            r = plan_add(&p, object_node, &toks, path,
                         cJSON_GetObjectItemCaseSensitive(op, "value"));
        else
            r = fail_at(&p, object_node->start, "unsupported patch operation \"%s\"", kind);
        strlist_free(&toks);
        if (r < 0)
            goto out;
    }
    for (size_t i = 0; i < p.nrems; i++)
        if (edit_removals(&p, &p.rems[i]) < 0)
            goto out;
    for (size_t i = 0; i < p.nadds; i++) {
        const pending_add *a = &p.adds[i];
        int r = a->index != NEW_MEMBER ? edit_replace(&p, a)
                : a->map->flow         ? edit_flow_insert(&p, a)
                                       : edit_block_insert(&p, a);
        if (r < 0)
            goto out;
    }
    rc = notes->oom ? fail_oom(&p) : 0;
out:
    for (size_t i = 0; i < p.nadds; i++) {
        free(p.adds[i].key);
        cJSON_Delete(p.adds[i].value);
    }
    free(p.adds);
    for (size_t i = 0; i < p.nrems; i++)
        free(p.rems[i].removed);
    free(p.rems);
    return rc;
}

static int edit_order(const void *a, const void *b)
{
    const manifest_edit *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    /* At one offset, insertions go before a deletion that starts there. */
    bool xi = x->start == x->end, yi = y->start == y->end;
    if (xi != yi)
        return xi ? -1 : 1;
    if (x->depth != y->depth)
        return x->depth > y->depth ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char *manifest_apply_edits(const manifest *m, manifest_edits *edits, size_t *out_len,
                           manifest_error *err)
{
    memset(err, 0, sizeof *err);
    if (edits->oom) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return NULL;
    }
    if (edits->count)
        qsort(edits->items, edits->count, sizeof *edits->items, edit_order);
    strbuf sb = {0};
    size_t cursor = 0;
    for (size_t i = 0; i < edits->count; i++) {
        const manifest_edit *e = &edits->items[i];
        if (e->start < cursor || e->end > m->len || e->end < e->start) {
            manifest_position(m, e->start, &err->line, &err->column);
            snprintf(err->message, sizeof err->message, "two edits overlap (a bug: please report)");
            sb_free(&sb);
            return NULL;
        }
        sb_append_n(&sb, m->text + cursor, e->start - cursor);
        sb_append(&sb, e->text);
        cursor = e->end;
    }
    sb_append_n(&sb, m->text + cursor, m->len - cursor);
    size_t n = sb.len;
    char *out = sb_take(&sb);
    if (!out) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return NULL;
    }
    *out_len = n;
    return out;
}

void manifest_edits_free(manifest_edits *e)
{
    for (size_t i = 0; i < e->count; i++)
        free(e->items[i].text);
    free(e->items);
    memset(e, 0, sizeof *e);
}
