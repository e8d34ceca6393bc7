/*
 * manifest.c — reading Kubernetes manifests: YAML (libyaml events) and JSON (the strict parser)
 * into cJSON for the engine, with the text position of every node for manifest_edit.c.
 *
 * libyaml's marks count characters, not bytes (mark.index is a code point index, mark.column
 * a code point column), so each mark is turned into a byte offset by walking the UTF-8 text
 * from the previous one; marks arrive almost in order, so this costs one pass.
 */
#include "manifest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "json.h"

#define MANIFEST_MAX_DEPTH 1000

/* ======================================================================================== */
/* Positions and nodes                                                                       */

/* Lines end as YAML (and libyaml's marks) have them end: at LF, CR LF, a lone CR, NEL (U+0085),
 * LS (U+2028) and PS (U+2029). */
void manifest_position(const manifest *m, size_t offset, unsigned *line, unsigned *column)
{
    unsigned l = 1, c = 1;
    const unsigned char *t = (const unsigned char *)m->text;
    if (offset > m->len)
        offset = m->len;
    for (size_t i = 0; i < offset; i++) {
        bool lf = t[i] == '\n';
        bool cr = t[i] == '\r' && !(i + 1 < m->len && t[i + 1] == '\n');
        bool nel = t[i] == 0xc2 && i + 1 < m->len && t[i + 1] == 0x85;
        bool lsps = t[i] == 0xe2 && i + 2 < m->len && t[i + 1] == 0x80 &&
                    (t[i + 2] == 0xa8 || t[i + 2] == 0xa9);
        if (lf || cr || nel || lsps) {
            l++;
            c = 1;
            i += nel ? 1 : lsps ? 2 : 0;
        } else if ((t[i] & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *column = c;
}

static void error_vset(manifest_error *err, unsigned line, unsigned column, const char *fmt,
                       va_list ap) __attribute__((format(printf, 4, 0)));

static void error_vset(manifest_error *err, unsigned line, unsigned column, const char *fmt,
                       va_list ap)
{
    err->line = line;
    err->column = column;
    char raw[512];
    vsnprintf(raw, sizeof raw, fmt, ap);
    strbuf sb = {0};
    sb_append_escaped(&sb, raw);
    const char *msg = sb.data ? sb.data : "out of memory";
    size_t n = text_cut_utf8(msg, strlen(msg), sizeof err->message - 1);
    memcpy(err->message, msg, n);
    err->message[n] = '\0';
    sb_free(&sb);
}

void manifest_error_set(manifest_error *err, unsigned line, unsigned column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, line, column, fmt, ap);
    va_end(ap);
}

static mnode *mnode_new(mnode_type t)
{
    mnode *n = calloc(1, sizeof *n);
    if (n)
        n->type = t;
    return n;
}

static void mnode_free(mnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++) {
        if (n->keys)
            free(n->keys[i]);
        if (n->key_nodes)
            mnode_free(n->key_nodes[i]);
        mnode_free(n->items[i]);
    }
    free(n->keys);
    free(n->key_nodes);
    free(n->items);
    free(n);
}

/* Append a child (and, for a mapping, its key). Takes ownership of key, key_node and item
 * even on failure. Returns false when out of memory. */
static bool mnode_push(mnode *n, char *key, mnode *key_node, mnode *item)
{
    size_t c = n->count;
    /* Grow on powers of two: the arrays hold `count` entries in a buffer of the next power. */
    if ((c & (c - 1)) == 0) {
        size_t cap = c ? c * 2 : 1;
        mnode **items = realloc(n->items, cap * sizeof *items);
        if (items)
            n->items = items;
        bool ok = items != NULL;
        if (ok && n->type == MNODE_MAPPING) {
            char **keys = realloc(n->keys, cap * sizeof *keys);
            if (keys)
                n->keys = keys;
            mnode **kn = realloc(n->key_nodes, cap * sizeof *kn);
            if (kn)
                n->key_nodes = kn;
            ok = keys && kn;
        }
        if (!ok) {
            free(key);
            mnode_free(key_node);
            mnode_free(item);
            return false;
        }
    }
    if (n->type == MNODE_MAPPING) {
        n->keys[c] = key;
        n->key_nodes[c] = key_node;
    }
    n->items[c] = item;
    n->count = c + 1;
    return true;
}

/* Block collections end (by libyaml's mark) at the next token, often lines later after
 * comments; where their text really ends is where their last child's text ends. */
static void mnode_close(mnode *n)
{
    n->content_end = n->end;
    if (!n->flow && n->type != MNODE_SCALAR && n->type != MNODE_ALIAS && n->count > 0)
        n->content_end = n->items[n->count - 1]->content_end;
}

static size_t cjson_weight(const cJSON *j)
{
    size_t n = 1;
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next)
        n += cjson_weight(c);
    return n;
}

/* ======================================================================================== */
/* YAML scalars, resolved as go-yaml v2 (kubectl's decoder) resolves them                   */

static bool in_list(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0)
            return true;
    return false;
}

static const char *const yaml_nulls[] = {"~", "null", "Null", "NULL", NULL};
static const char *const yaml_trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                         "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const yaml_falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                          "False", "FALSE", "off", "Off", "OFF", NULL};

/* A plain scalar as a number, following go-yaml v2's resolve(): underscores dropped, then an
 * integer as strconv.ParseInt(s, 0, 64) reads it (0x, 0o, 0b, leading-0 octal, sign), else
 * a float of the form [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?. .inf and .nan stay
 * strings: JSON cannot carry them. */
static bool plain_number(const char *s, size_t n, double *out)
{
    char buf[80];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            continue;
        if (k + 1 >= sizeof buf)
            return false;
        buf[k++] = s[i];
    }
    buf[k] = '\0';
    if (k == 0)
        return false;
    const char *p = buf;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    int base = 10;
    const char *digits = p;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, digits = p + 2;
    else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
        base = 8, digits = p + 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, digits = p + 2;
    else if (p[0] == '0' && p[1] != '\0')
        base = 8, digits = p + 1;
    bool is_int = *digits != '\0';
    for (const char *q = digits; *q && is_int; q++) {
        int v = (*q >= '0' && *q <= '9')   ? *q - '0'
                : (*q >= 'a' && *q <= 'f') ? *q - 'a' + 10
                : (*q >= 'A' && *q <= 'F') ? *q - 'A' + 10
                                           : 99;
        is_int = v < base;
    }
    if (is_int) {
        errno = 0;
        unsigned long long v = strtoull(digits, NULL, base);
        if (errno == 0) {
            *out = neg ? -(double)v : (double)v;
            return true;
        }
        if (base != 10)
            return false;
    }
    /* The float form. */
    const char *q = p;
    size_t int_digits = 0, frac_digits = 0;
    while (*q >= '0' && *q <= '9')
        q++, int_digits++;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9')
            q++, frac_digits++;
        if (int_digits == 0 && frac_digits == 0)
            return false;
    } else if (int_digits == 0) {
        return false;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!(*q >= '0' && *q <= '9'))
            return false;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q != '\0')
        return false;
    *out = strtod(buf, NULL);
    return true;
}

/* What a plain (unquoted, untagged) scalar means. */
static cJSON *plain_value(const char *s, size_t n)
{
    double d;
    if (n == 0 || in_list(s, n, yaml_nulls))
        return cJSON_CreateNull();
    if (in_list(s, n, yaml_trues))
        return cJSON_CreateTrue();
    if (in_list(s, n, yaml_falses))
        return cJSON_CreateFalse();
    if (plain_number(s, n, &d))
        return cJSON_CreateNumber(d);
    char *copy = strndup(s, n);
    cJSON *j = copy ? cJSON_CreateString(copy) : NULL;
    free(copy);
    return j;
}

bool manifest_plain_is_string(const char *s)
{
    cJSON *j = plain_value(s, strlen(s));
    bool is = cJSON_IsString(j);
    cJSON_Delete(j);
    return is;
}

/* ======================================================================================== */
/* YAML                                                                                       */

typedef struct {
    char *name;
    cJSON *value; /* borrowed from the document tree */
    size_t weight;
} yanchor;

typedef struct {
    yaml_parser_t parser;
    const manifest *m;
    size_t base; /* bytes before libyaml's first character: a UTF-8 byte-order mark */
    bool ascii;
    size_t cur_index, cur_offset; /* the last mark mapped: character index → byte offset */
    yanchor *anchors;
    size_t nanchors, cap;
    size_t budget;         /* cJSON nodes that alias expansion may still create */
    unsigned votes[9];     /* indentation steps seen (1..8) in this document */
    cJSON *merged_sources; /* values of `<<` keys: kept until the document ends, as an anchor
                              may point into them */
    manifest_error *err;
    bool oom;
} yreader;

static size_t yoffset(yreader *r, size_t index)
{
    if (r->ascii)
        return r->base + index;
    const char *t = r->m->text;
    while (r->cur_index < index && r->cur_offset < r->m->len) {
        r->cur_offset++;
        while (r->cur_offset < r->m->len && ((unsigned char)t[r->cur_offset] & 0xc0) == 0x80)
            r->cur_offset++;
        r->cur_index++;
    }
    while (r->cur_index > index && r->cur_offset > r->base) {
        r->cur_offset--;
        while (r->cur_offset > r->base && ((unsigned char)t[r->cur_offset] & 0xc0) == 0x80)
            r->cur_offset--;
        r->cur_index--;
    }
    return r->cur_offset;
}

static int yfail_oom(yreader *r)
{
    r->oom = true;
    manifest_error_set(r->err, 0, 0, "out of memory");
    return -1;
}

static int yfail_at(yreader *r, const yaml_mark_t *mk, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int yfail_at(yreader *r, const yaml_mark_t *mk, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(r->err, (unsigned)mk->line + 1, (unsigned)mk->column + 1, fmt, ap);
    va_end(ap);
    return -1;
}

static int yparse_error(yreader *r)
{
    yaml_parser_t *p = &r->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return yfail_oom(r);
    const char *problem = p->problem ? p->problem : "invalid YAML";
    if (p->error == YAML_READER_ERROR) {
        unsigned line, column;
        manifest_position(r->m, p->problem_offset, &line, &column);
        manifest_error_set(r->err, line, column, "%s", problem);
        return -1;
    }
    if (p->context)
        manifest_error_set(r->err, (unsigned)p->problem_mark.line + 1,
                           (unsigned)p->problem_mark.column + 1, "%s (%s at line %u, column %u)",
                           problem, p->context, (unsigned)p->context_mark.line + 1,
                           (unsigned)p->context_mark.column + 1);
    else
        manifest_error_set(r->err, (unsigned)p->problem_mark.line + 1,
                           (unsigned)p->problem_mark.column + 1, "%s", problem);
    return -1;
}

static int ynext(yreader *r, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&r->parser, ev))
        return yparse_error(r);
    return 0;
}

static int yanchor_add(yreader *r, const unsigned char *name, cJSON *value)
{
    if (r->nanchors == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        yanchor *a = realloc(r->anchors, cap * sizeof *a);
        if (!a)
            return yfail_oom(r);
        r->anchors = a;
        r->cap = cap;
    }
    char *copy = strdup((const char *)name);
    if (!copy)
        return yfail_oom(r);
    r->anchors[r->nanchors++] = (yanchor){copy, value, cjson_weight(value)};
    return 0;
}

static void yanchors_clear(yreader *r)
{
    cJSON_Delete(r->merged_sources);
    r->merged_sources = NULL;
    for (size_t i = 0; i < r->nanchors; i++)
        free(r->anchors[i].name);
    r->nanchors = 0;
}

static const yanchor *yanchor_find(const yreader *r, const char *name)
{
    for (size_t i = r->nanchors; i-- > 0;) /* a redefined anchor: the latest wins */
        if (strcmp(r->anchors[i].name, name) == 0)
            return &r->anchors[i];
    return NULL;
}

static const char *const yaml_tag_prefix = "tag:yaml.org,2002:";

/* The value of a scalar event. Untagged plain scalars resolve (null, bool, number, string);
 * quoted and block scalars are strings; so are scalars tagged `!`, `!!str` or with a tag we do
 * not know; `!!null`, `!!bool`, `!!int` and `!!float` resolve as plain; `!!binary` is refused.
 * (As `kubectl label --local -f FILE -o json` 1.32 reads each of these.) */
static int yscalar(yreader *r, const yaml_event_t *ev, cJSON **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (memchr(s, '\0', n))
        return yfail_at(r, &ev->start_mark, "a string holds a NUL character");
    const char *tag = (const char *)ev->data.scalar.tag;
    bool resolve = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !tag;
    if (tag && strncmp(tag, yaml_tag_prefix, strlen(yaml_tag_prefix)) == 0) {
        const char *t = tag + strlen(yaml_tag_prefix);
        /* kubectl (go-yaml v2) sends the bytes a !!binary scalar encodes, not its base64 text:
         * a Localhost profile named that way would be judged by a name it does not have. */
        if (strcmp(t, "binary") == 0)
            return yfail_at(r, &ev->start_mark,
                            "a !!binary scalar is not supported: write the value as plain text");
        resolve = strcmp(t, "null") == 0 || strcmp(t, "bool") == 0 || strcmp(t, "int") == 0 ||
                  strcmp(t, "float") == 0;
    }
    if (resolve) {
        *out = plain_value(s, n);
    } else {
        char *copy = strndup(s, n);
        *out = copy ? cJSON_CreateString(copy) : NULL;
        free(copy);
    }
    return *out ? 0 : yfail_oom(r);
}

static int yread_node(yreader *r, yaml_event_t *ev, int depth, long parent_key_col, cJSON **out,
                      mnode **node);

/* Replace the member `key` of `obj` (which has it) with `val`, which is taken in any case. */
static int yreplace(yreader *r, cJSON *obj, const char *key, cJSON *val)
{
    if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val)) {
        cJSON_Delete(val);
        return yfail_oom(r);
    }
    /* cJSON 1.7.15 places `val` even when it cannot copy the key for it; the parse then fails,
     * and `obj`, which holds `val`, is deleted with it. */
    return val->string ? 0 : yfail_oom(r);
}

/* The merge key `<<` (https://yaml.org/type/merge.html), applied as kubectl reads YAML: its
 * decoder (sigs.k8s.io/yaml over go-yaml v2, decode.go: decoder.mapping() and merge()) takes a
 * mapping's pairs in the order written, and a `<<` sets the members of `src` (a mapping, or a
 * sequence of mappings of which the earlier ones win) whether `obj` has them already or not.
 * So a key written before a `<<` that also brings it takes the merged value (the YAML merge
 * spec would keep the written one), and a key written after it overrides the merged value, as
 * in the spec. Keys that come from a merge only are remembered in `merged`, so that an explicit
 * key later in the mapping may still set them without being a duplicate. */
static int ymerge(yreader *r, cJSON *obj, const cJSON *src, strlist *merged, const yaml_mark_t *at)
{
    if (cJSON_IsArray(src)) {
        for (const cJSON *s = src->child; s; s = s->next)
            if (!cJSON_IsObject(s))
                return yfail_at(r, at, "a merge key (<<) takes a mapping or a list of mappings");
        /* Last first: each one overwrites, so the earlier ones win. */
        for (const cJSON *s = src->child ? src->child->prev : NULL; s;
             s = s == src->child ? NULL : s->prev)
            if (ymerge(r, obj, s, merged, at) < 0)
                return -1;
        return 0;
    }
    if (!cJSON_IsObject(src))
        return yfail_at(r, at, "a merge key (<<) takes a mapping or a list of mappings");
    for (const cJSON *m = src->child; m; m = m->next) {
        size_t w = cjson_weight(m);
        if (w > r->budget)
            return yfail_at(r, at, "too many alias and merge expansions");
        r->budget -= w;
        cJSON *copy = cJSON_Duplicate(m, 1);
        if (!copy)
            return yfail_oom(r);
        if (cJSON_GetObjectItemCaseSensitive(obj, m->string)) {
            if (yreplace(r, obj, m->string, copy) < 0)
                return -1;
            continue; /* a key written before: later, a duplicate as it was */
        }
        if (!cJSON_AddItemToObject(obj, m->string, copy)) {
            cJSON_Delete(copy);
            return yfail_oom(r);
        }
        strlist_push(merged, m->string);
        if (merged->oom)
            return yfail_oom(r);
    }
    return 0;
}

static bool strlist_take(strlist *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i] && strcmp(l->items[i], s) == 0) {
            free(l->items[i]);
            l->items[i] = NULL;
            return true;
        }
    return false;
}

/* A mapping: its pairs in order, duplicate keys refused at the later one (Go's decoder keeps
 * the last, cJSON the first: SPEC §9). */
static int ymapping(yreader *r, yaml_event_t *start, int depth, long parent_key_col, cJSON *obj,
                    mnode *n)
{
    n->flow = start->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
    strlist merged = {0};
    int rc = -1;
    for (bool first = true;; first = false) {
        yaml_event_t kev;
        if (ynext(r, &kev) < 0)
            goto out;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            n->end = yoffset(r, kev.end_mark.index);
            yaml_event_delete(&kev);
            rc = 0;
            goto out;
        }
        if (kev.type != YAML_SCALAR_EVENT) {
            yfail_at(r, &kev.start_mark, "only scalar mapping keys are supported");
            yaml_event_delete(&kev);
            goto out;
        }
        yaml_mark_t kmark = kev.start_mark;
        if (first && !n->flow && parent_key_col >= 0 && (long)kmark.column > parent_key_col &&
            (long)kmark.column - parent_key_col <= 8)
            r->votes[kmark.column - (size_t)parent_key_col]++;
        const char *kv = (const char *)kev.data.scalar.value;
        size_t kl = kev.data.scalar.length;
        bool merge = kev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && kl == 2 &&
                     memcmp(kv, "<<", 2) == 0 &&
                     (!kev.data.scalar.tag ||
                      strcmp((const char *)kev.data.scalar.tag, "tag:yaml.org,2002:merge") == 0);
        if (memchr(kv, '\0', kl)) {
            yaml_event_delete(&kev);
            yfail_at(r, &kmark, "a key holds a NUL character");
            goto out;
        }
        char *key = strndup(kv, kl);
        mnode *kn = mnode_new(MNODE_SCALAR);
        if (kn) {
            kn->start = yoffset(r, kev.start_mark.index);
            kn->end = kn->content_end = yoffset(r, kev.end_mark.index);
        }
        yaml_event_delete(&kev);
        if (!key || !kn) {
            free(key);
            mnode_free(kn);
            yfail_oom(r);
            goto out;
        }
        yaml_event_t vev;
        cJSON *val = NULL;
        mnode *vn = NULL;
        if (ynext(r, &vev) < 0 ||
            yread_node(r, &vev, depth + 1, n->flow ? -1 : (long)kmark.column, &val, &vn) < 0) {
            free(key);
            mnode_free(kn);
            goto out;
        }
        if (merge) {
            int mr = ymerge(r, obj, val, &merged, &kmark);
            if (!r->merged_sources)
                r->merged_sources = cJSON_CreateArray();
            if (r->merged_sources)
                cJSON_AddItemToArray(r->merged_sources, val);
            else {
                cJSON_Delete(val); /* the parse fails: no anchor is looked at again */
                mr = yfail_oom(r);
            }
            if (mr < 0) {
                free(key);
                mnode_free(kn);
                mnode_free(vn);
                goto out;
            }
        } else if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
            if (!strlist_take(&merged, key)) {
                yfail_at(r, &kmark, "duplicate key \"%s\"", key);
                cJSON_Delete(val);
                free(key);
                mnode_free(kn);
                mnode_free(vn);
                goto out;
            }
            if (yreplace(r, obj, key, val) < 0) {
                free(key);
                mnode_free(kn);
                mnode_free(vn);
                goto out;
            }
        } else if (!cJSON_AddItemToObject(obj, key, val)) {
            cJSON_Delete(val);
            free(key);
            mnode_free(kn);
            mnode_free(vn);
            yfail_oom(r);
            goto out;
        }
        if (!mnode_push(n, key, kn, vn)) {
            yfail_oom(r);
            goto out;
        }
    }
out:
    strlist_free(&merged);
    return rc;
}

static int ysequence(yreader *r, yaml_event_t *start, int depth, cJSON *arr, mnode *n)
{
    n->flow = start->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
    for (;;) {
        yaml_event_t ev;
        if (ynext(r, &ev) < 0)
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            n->end = yoffset(r, ev.end_mark.index);
            yaml_event_delete(&ev);
            return 0;
        }
        cJSON *val = NULL;
        mnode *vn = NULL;
        if (yread_node(r, &ev, depth + 1, -1, &val, &vn) < 0)
            return -1;
        cJSON_AddItemToArray(arr, val);
        if (!mnode_push(n, NULL, NULL, vn))
            return yfail_oom(r);
    }
}

/* Read the node that starts with `ev` (consumed) into a value and its positions. */
static int yread_node(yreader *r, yaml_event_t *ev, int depth, long parent_key_col, cJSON **out,
                      mnode **node)
{
    *out = NULL;
    *node = NULL;
    int rc = -1;
    const unsigned char *anchor_name = NULL;
    mnode *n = NULL;
    if (depth > MANIFEST_MAX_DEPTH) {
        yfail_at(r, &ev->start_mark, "nested deeper than 1000 levels");
        goto out;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT: {
        const yanchor *a = yanchor_find(r, (const char *)ev->data.alias.anchor);
        if (!a) {
            yfail_at(r, &ev->start_mark, "unknown alias *%s", (const char *)ev->data.alias.anchor);
            goto out;
        }
        if (a->weight > r->budget) {
            yfail_at(r, &ev->start_mark, "too many alias and merge expansions");
            goto out;
        }
        r->budget -= a->weight;
        n = mnode_new(MNODE_ALIAS);
        *out = cJSON_Duplicate(a->value, 1);
        if (!n || !*out) {
            yfail_oom(r);
            goto out;
        }
        break;
    }
    case YAML_SCALAR_EVENT:
        anchor_name = ev->data.scalar.anchor;
        n = mnode_new(MNODE_SCALAR);
        if (!n) {
            yfail_oom(r);
            goto out;
        }
        if (yscalar(r, ev, out) < 0)
            goto out;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor_name = ev->data.mapping_start.anchor;
        n = mnode_new(MNODE_MAPPING);
        *out = cJSON_CreateObject();
        if (!n || !*out) {
            yfail_oom(r);
            goto out;
        }
        n->start = yoffset(r, ev->start_mark.index);
        if (ymapping(r, ev, depth, parent_key_col, *out, n) < 0)
            goto out;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor_name = ev->data.sequence_start.anchor;
        n = mnode_new(MNODE_SEQUENCE);
        *out = cJSON_CreateArray();
        if (!n || !*out) {
            yfail_oom(r);
            goto out;
        }
        n->start = yoffset(r, ev->start_mark.index);
        if (ysequence(r, ev, depth, *out, n) < 0)
            goto out;
        break;
    default:
        yfail_at(r, &ev->start_mark, "unexpected YAML event");
        goto out;
    }
    if (n->type == MNODE_SCALAR || n->type == MNODE_ALIAS) {
        n->start = yoffset(r, ev->start_mark.index);
        n->end = yoffset(r, ev->end_mark.index);
    }
    mnode_close(n);
    if (anchor_name && yanchor_add(r, anchor_name, *out) < 0)
        goto out;
    rc = 0;
out:
    yaml_event_delete(ev);
    if (rc < 0) {
        cJSON_Delete(*out);
        mnode_free(n);
        *out = NULL;
        n = NULL;
    }
    *node = n;
    return rc;
}

static unsigned yindent_unit(const yreader *r)
{
    unsigned best = 2, votes = 0;
    for (unsigned i = 1; i < 9; i++)
        if (r->votes[i] > votes) {
            best = i;
            votes = r->votes[i];
        }
    return best;
}

static int push_doc(manifest *m, cJSON *root, mnode *node, unsigned unit)
{
    manifest_doc *d = realloc(m->docs, (m->count + 1) * sizeof *d);
    if (!d) {
        cJSON_Delete(root);
        mnode_free(node);
        return -1;
    }
    m->docs = d;
    m->docs[m->count++] = (manifest_doc){root, node, unit};
    return 0;
}

static int parse_yaml(manifest *m, manifest_error *err)
{
    yreader r = {.m = m, .err = err};
    r.ascii = true;
    for (size_t i = 0; i < m->len && r.ascii; i++)
        r.ascii = (unsigned char)m->text[i] < 0x80;
    if (m->len >= 3 && memcmp(m->text, "\xef\xbb\xbf", 3) == 0)
        r.base = 3;
    r.cur_offset = r.base;
    /* Aliases may expand the document to at most this many nodes beyond its text. */
    r.budget = 1000000 + 4 * m->len;
    if (!yaml_parser_initialize(&r.parser)) {
        manifest_error_set(err, 0, 0, "out of memory");
        return -1;
    }
    /* libyaml is given the text after a byte-order mark (which kubectl reads past): with the
     * encoding set, it would read the mark as a character of the first line. */
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)m->text + r.base,
                                 m->len - r.base);
    yaml_parser_set_encoding(&r.parser, YAML_UTF8_ENCODING);
    int rc = -1;
    yaml_event_t ev;
    for (;;) {
        if (ynext(&r, &ev) < 0)
            break;
        yaml_event_type_t t = ev.type;
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) {
            rc = 0;
            break;
        }
        if (t != YAML_DOCUMENT_START_EVENT)
            continue; /* STREAM-START */
        memset(r.votes, 0, sizeof r.votes);
        cJSON *root = NULL;
        mnode *node = NULL;
        if (ynext(&r, &ev) < 0 || yread_node(&r, &ev, 0, -1, &root, &node) < 0)
            break;
        if (ynext(&r, &ev) < 0) { /* DOCUMENT-END */
            cJSON_Delete(root);
            mnode_free(node);
            break;
        }
        yaml_event_delete(&ev);
        yanchors_clear(&r);
        if (push_doc(m, root, node, yindent_unit(&r)) < 0) {
            manifest_error_set(err, 0, 0, "out of memory");
            break;
        }
    }
    yanchors_clear(&r);
    free(r.anchors);
    yaml_parser_delete(&r.parser);
    return rc;
}

/* ======================================================================================== */
/* JSON: the strict parser gives the value; a scan of the (then known good) text gives the   */
/* positions                                                                                 */

typedef struct {
    const char *t;
    size_t len, pos;
    bool spaced_known;
    bool spaced;
} jscan;

static void jskip_ws(jscan *s)
{
    while (s->pos < s->len && (s->t[s->pos] == ' ' || s->t[s->pos] == '\t' ||
                               s->t[s->pos] == '\n' || s->t[s->pos] == '\r'))
        s->pos++;
}

static void jskip_string(jscan *s)
{
    s->pos++; /* the opening quote */
    while (s->pos < s->len && s->t[s->pos] != '"')
        s->pos += s->t[s->pos] == '\\' ? 2 : 1;
    s->pos++;
}

/* The decoded key of the string at [start, end). */
static char *jkey(const char *t, size_t start, size_t end)
{
    if (!memchr(t + start, '\\', end - start))
        return strndup(t + start + 1, end - start - 2);
    cJSON *j = cJSON_ParseWithLength(t + start, end - start);
    char *k = cJSON_IsString(j) ? strdup(j->valuestring) : NULL;
    cJSON_Delete(j);
    return k;
}

static mnode *jscan_value(jscan *s)
{
    jskip_ws(s);
    char c = s->pos < s->len ? s->t[s->pos] : '\0';
    mnode *n = mnode_new(c == '{' ? MNODE_MAPPING : c == '[' ? MNODE_SEQUENCE : MNODE_SCALAR);
    if (!n)
        return NULL;
    n->start = s->pos;
    n->flow = n->type != MNODE_SCALAR;
    if (n->type == MNODE_SCALAR) {
        if (c == '"')
            jskip_string(s);
        else
            while (s->pos < s->len && !strchr(",]} \t\r\n", s->t[s->pos]))
                s->pos++;
        n->end = n->content_end = s->pos;
        return n;
    }
    char close = c == '{' ? '}' : ']';
    s->pos++;
    jskip_ws(s);
    while (s->pos < s->len && s->t[s->pos] != close) {
        char *key = NULL;
        mnode *kn = NULL;
        if (n->type == MNODE_MAPPING) {
            kn = mnode_new(MNODE_SCALAR);
            if (!kn)
                goto fail;
            kn->start = s->pos;
            jskip_string(s);
            kn->end = kn->content_end = s->pos;
            key = jkey(s->t, kn->start, kn->end);
            jskip_ws(s);
            s->pos++; /* ':' */
            if (!s->spaced_known) {
                s->spaced_known = true;
                s->spaced = s->pos < s->len && s->t[s->pos] == ' ';
            }
            if (!key) {
                mnode_free(kn);
                goto fail;
            }
        }
        mnode *v = jscan_value(s);
        if (!v || !mnode_push(n, key, kn, v)) {
            if (!v) {
                free(key);
                mnode_free(kn);
            }
            goto fail;
        }
        jskip_ws(s);
        if (s->pos < s->len && s->t[s->pos] == ',') {
            s->pos++;
            jskip_ws(s);
        }
    }
    s->pos++;
    n->end = n->content_end = s->pos;
    return n;
fail:
    mnode_free(n);
    return NULL;
}

/* ======================================================================================== */
/* Entry points                                                                              */

/* JSON is what starts with `[`, or with `{` and then a quoted key or `}`: a YAML flow mapping
 * at the top of a file (`{kind: Pod, ...}`) is rare, and a JSON file with a syntax error must
 * get the JSON error, not a reading as YAML. */
static bool looks_like_json(const char *t, size_t len)
{
    size_t i = 0;
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    if (i < len && t[i] == '[')
        return true;
    if (i >= len || t[i] != '{')
        return false;
    for (i++; i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r');)
        i++;
    return i < len && (t[i] == '"' || t[i] == '}');
}

int manifest_parse(const char *text, size_t len, manifest *out, manifest_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    out->text = text;
    out->len = len;
    out->newline = memmem(text, len, "\r\n", 2) ? "\r\n" : "\n";
    /* A byte-order mark, which kubectl reads past, before JSON as before YAML. */
    size_t bom = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    if (looks_like_json(text + bom, len - bom)) {
        json_error je;
        cJSON *root = json_parse_strict(text + bom, len - bom, &je);
        if (root) {
            jscan s = {text, len, bom, false, false};
            mnode *node = jscan_value(&s);
            out->format = MANIFEST_JSON;
            out->json_spaced = !s.spaced_known || s.spaced;
            if (!node || push_doc(out, root, node, 2) < 0) {
                if (!node)
                    cJSON_Delete(root);
                manifest_error_set(err, 0, 0, "out of memory");
                return -1;
            }
            return 0;
        }
        manifest_error_set(err, je.line, je.column, "%s", je.message);
        return -1;
    }
    out->format = MANIFEST_YAML;
    return parse_yaml(out, err);
}

void manifest_free(manifest *m)
{
    for (size_t i = 0; i < m->count; i++) {
        cJSON_Delete(m->docs[i].root);
        mnode_free(m->docs[i].node);
    }
    free(m->docs);
    m->docs = NULL;
    m->count = 0;
}

char *manifest_read_file(const char *path, size_t max, size_t *len)
{
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int saved = 0;
    while (buf) {
        if (n + 1 >= cap) {
            if (cap > max) {
                saved = EFBIG;
                free(buf);
                buf = NULL;
                break;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                saved = ENOMEM;
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        errno = 0;
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            saved = errno; /* EISDIR for a directory */
            break;
        }
    }
    if (buf && ferror(f)) {
        saved = saved ? saved : EIO;
        free(buf);
        buf = NULL;
    }
    if (buf && n > max) {
        saved = EFBIG;
        free(buf);
        buf = NULL;
    }
    if (!std)
        fclose(f);
    if (!buf) {
        errno = saved ? saved : ENOMEM;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ======================================================================================== */
/* Objects                                                                                    */

static const mnode *mnode_member(const mnode *n, const char *key)
{
    if (!n || n->type != MNODE_MAPPING)
        return NULL;
    for (size_t i = 0; i < n->count; i++)
        if (strcmp(n->keys[i], key) == 0)
            return n->items[i];
    return NULL;
}

static int add_object(manifest_objects *o, size_t doc, long item, cJSON *obj, const mnode *node,
                      const char *kind, size_t kind_len, const char *api_version)
{
    manifest_object *p = realloc(o->items, (o->count + 1) * sizeof *p);
    if (!p)
        return -1;
    o->items = p;
    manifest_object *x = &o->items[o->count];
    memset(x, 0, sizeof *x);
    x->doc = doc;
    x->item = item;
    x->object = obj;
    x->node = node && node->type == MNODE_MAPPING ? node : NULL;
    x->kind = strndup(kind, kind_len);
    const char *slash = api_version ? strchr(api_version, '/') : NULL;
    x->group = slash ? strndup(api_version, (size_t)(slash - api_version)) : strdup("");
    if (!x->kind || !x->group) {
        free(x->kind);
        free(x->group);
        return -1;
    }
    const cJSON *md = json_get(obj, "metadata");
    x->namespace_ = json_string(json_get(md, "namespace"));
    if (x->namespace_ && !x->namespace_[0])
        x->namespace_ = NULL;
    x->name = json_string(json_get(md, "name"));
    x->generate_name = json_string(json_get(md, "generateName"));
    o->count++;
    return 0;
}

int manifest_find_objects(const manifest *m, manifest_objects *out)
{
    memset(out, 0, sizeof *out);
    for (size_t d = 0; d < m->count; d++) {
        cJSON *root = m->docs[d].root;
        const char *kind = json_string(json_get(root, "kind"));
        if (!cJSON_IsObject(root) || !kind)
            continue;
        const char *api = json_string(json_get(root, "apiVersion"));
        size_t kl = strlen(kind);
        cJSON *items = json_get(root, "items");
        /* As kubectl reads a manifest (k8s.io/apimachinery, unstructured.go:
         * unstructuredJSONScheme.decode), an object with an `items` list is a list whatever its
         * kind says: kind Foo with a Pod in its items creates that Pod. */
        if (!cJSON_IsArray(items)) {
            if (add_object(out, d, -1, root, m->docs[d].node, kind, kl, api) < 0)
                goto oom;
            continue;
        }
        /* `kubectl get -o json` gives kind List with complete items; the API's own lists
         * (PodList, ...) leave kind and apiVersion out of their items, and an item with neither
         * takes the list's apiVersion and its kind without "List" (decodeToList()). */
        size_t item_kl = kl >= 4 && strcmp(kind + kl - 4, "List") == 0 ? kl - 4 : kl;
        const mnode *inodes = mnode_member(m->docs[d].node, "items");
        long i = 0;
        for (cJSON *it = items->child; it; it = it->next, i++) {
            if (!cJSON_IsObject(it))
                continue;
            /* decodeToList() asks for an empty kind and apiVersion: "" is as good as none. */
            const char *ikind = json_string(json_get(it, "kind"));
            const char *iapi = json_string(json_get(it, "apiVersion"));
            if (ikind && !ikind[0])
                ikind = NULL;
            if (iapi && !iapi[0])
                iapi = NULL;
            size_t ikl = ikind ? strlen(ikind) : 0;
            if (!ikind && !iapi) {
                ikind = kind;
                ikl = item_kl;
                iapi = api;
            }
            if (!ikind || ikl == 0)
                continue;
            const mnode *in = inodes && inodes->type == MNODE_SEQUENCE && (size_t)i < inodes->count
                                  ? inodes->items[i]
                                  : NULL;
            if (add_object(out, d, i, it, in, ikind, ikl, iapi) < 0)
                goto oom;
        }
    }
    return 0;
oom:
    manifest_objects_free(out);
    return -1;
}

void manifest_objects_free(manifest_objects *o)
{
    for (size_t i = 0; i < o->count; i++) {
        free(o->items[i].kind);
        free(o->items[i].group);
    }
    free(o->items);
    memset(o, 0, sizeof *o);
}

void manifest_request(const manifest_object *o, const char *default_namespace, engine_request *out)
{
    memset(out, 0, sizeof *out);
    out->operation = "CREATE";
    out->subresource = "";
    out->namespace_ = o->namespace_ ? o->namespace_ : default_namespace;
    out->name = o->name ? o->name : "";
    out->username = "";
    out->group = o->group;
    out->kind = o->kind;
    out->object = o->object;
}

void manifest_object_label(strbuf *sb, const manifest_object *o, const char *default_namespace)
{
    sb_append_escaped(sb, o->kind);
    sb_append(sb, " ");
    sb_append_escaped(sb, o->namespace_ ? o->namespace_ : default_namespace);
    sb_append(sb, "/");
    if (o->name && o->name[0]) {
        sb_append_escaped(sb, o->name);
    } else if (o->generate_name) {
        sb_append_escaped(sb, o->generate_name);
        sb_append(sb, "*");
    } else {
        sb_append(sb, "(unnamed)");
    }
}

void manifest_migrate_policy(policy *p)
{
    p->defaults.mutate_templates = true;
    for (size_t i = 0; i < p->rule_count; i++)
        p->rules[i].settings.mutate_templates = true;
}
