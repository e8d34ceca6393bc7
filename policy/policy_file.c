/*
 * policy_file.c — the policy file (SPEC §5): YAML text in, an immutable `policy` out.
 *
 * Two passes. First libyaml's event parser builds a small tree of nodes that remember their
 * 1-based line and column and whether a scalar was written plain (unquoted), because YAML 1.2
 * typing depends on it: only plain `true`/`false` are booleans, only plain `null`, `~` and the
 * empty value are null. Anchors, aliases and tags are refused while building. Then every mapping
 * of the tree is checked for duplicate keys (libyaml does not), and the tree is decoded section by
 * section into a `policy`, starting from the built-in values of §5.1.
 *
 * Every problem is appended to the caller's error list and decoding goes on, so one run reports
 * all of them (up to MAX_ERRORS); a policy is returned only when there were none. Nothing here
 * keeps state between calls, so a new file can be parsed while other threads read the previous
 * policy.
 */
#include "policy.h"

#include "localhost.h"
#include "profile.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <yaml.h>

#define MAX_FILE_BYTES ((size_t)1024 * 1024) /* policy_load_file() refuses bigger files */
#define MAX_DEPTH      64                    /* nesting of the YAML tree; the format needs 5 */
#define MAX_ERRORS     100                   /* kept per parse; the rest are counted */
#define QBUF           256                   /* room for quote() of any string */

static const char API_VERSION[] = "seccomp-webhook/v1";
static const char KIND[] = "SeccompPolicy";

/* SPEC §5: forbiddenSyscalls when `profiles` is present without the key. */
static const char *const DEFAULT_FORBIDDEN[] = {
    "kexec_load",   "kexec_file_load", "init_module",
    "finit_module", "delete_module",   "open_by_handle_at",
};

/* ---------------------------------------------------------------------------------------------
 * Decoding context and errors
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    const char *file; /* name for messages */
    const char *text; /* the file's bytes (to place reader errors and spot tabs) */
    size_t len;
    policy_errors *errs;
    size_t first; /* index in errs of this parse's first error */
    size_t found; /* errors found by this parse, kept or not */
    bool oom;
} ctx;

/* vfmt — a malloc'ed printf. */
__attribute__((format(printf, 1, 0))) static char *vfmt(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

__attribute__((format(printf, 4, 0))) static void verr(ctx *c, unsigned line, unsigned col,
                                                       const char *fmt, va_list ap)
{
    c->found++;
    if (c->found > MAX_ERRORS)
        return;
    char *msg = vfmt(fmt, ap);
    char *file = strdup(c->file);
    policy_error *items = NULL;
    if (msg && file)
        items = realloc(c->errs->items, (c->errs->count + 1) * sizeof *items);
    if (!items) {
        free(msg);
        free(file);
        c->oom = true;
        return;
    }
    c->errs->items = items;
    policy_error *e = &items[c->errs->count++];
    e->file = file;
    e->line = line;
    e->column = col;
    e->message = msg;
}

/* err_at — record one problem at a 1-based position (0, 0: not tied to a position). */
__attribute__((format(printf, 4, 5))) static void err_at(ctx *c, unsigned line, unsigned col,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(c, line, col, fmt, ap);
    va_end(ap);
}

/* Sort this parse's errors by position (stable), then note how many were dropped. */
static void finish_errors(ctx *c)
{
    policy_error *e = c->errs->items;
    for (size_t i = c->first + 1; i < c->errs->count; i++) {
        policy_error t = e[i];
        size_t j = i;
        while (j > c->first && (e[j - 1].line > t.line ||
                                (e[j - 1].line == t.line && e[j - 1].column > t.column))) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = t;
    }
    size_t more = c->found > MAX_ERRORS ? c->found - MAX_ERRORS : 0;
    c->found = 0; /* the summary below always gets in */
    if (c->oom)
        err_at(c, 0, 0, "out of memory while reading the policy");
    else if (more)
        err_at(c, 0, 0, "too many errors; %zu more not shown", more);
}

/*
 * quote — `s` in double quotes for a message, with quotes, backslashes and control characters
 * escaped (user data must not be able to forge lines in a log) and cut after 48 bytes, at a
 * UTF-8 character boundary. `buf` holds QBUF bytes; returns it.
 */
static const char *quote(char *buf, const char *s)
{
    size_t o = 0, i = 0, n = strlen(s);
    buf[o++] = '"';
    for (; i < n && i < 48; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(buf + o, QBUF - o, "\\x%02x", ch);
        } else {
            buf[o++] = (char)ch;
        }
    }
    if (i < n) {
        while (o > 1 && ((unsigned char)s[i] & 0xc0) == 0x80 &&
               ((unsigned char)buf[o - 1] & 0x80)) {
            /* back off to the start of the cut character */
            i--;
            o--;
        }
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* ---------------------------------------------------------------------------------------------
 * The YAML tree
 * ------------------------------------------------------------------------------------------- */

typedef enum {
    N_SCALAR,
    N_SEQ,
    N_MAP,
    N_BAD, /* refused while building (alias, tag, NUL): already reported, decoders skip it */
} node_kind;

typedef struct node {
    node_kind kind;
    unsigned line, col; /* 1-based */
    char *str;          /* scalar text, NUL-terminated, no NUL inside */
    size_t len;
    bool plain;          /* scalar written without quotes or block indicator */
    bool dup;            /* a mapping key already present earlier in the same mapping */
    struct node **items; /* sequence items; for a mapping, keys and values alternate */
    size_t count, cap;
} node;

static void node_free(node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++)
        node_free(n->items[i]); /* depth is bounded by MAX_DEPTH */
    free(n->items);
    free(n->str);
    free(n);
}

static node *node_new(ctx *c, node_kind kind, yaml_mark_t m)
{
    node *n = calloc(1, sizeof *n);
    if (!n) {
        c->oom = true;
        return NULL;
    }
    n->kind = kind;
    n->line = (unsigned)m.line + 1;
    n->col = (unsigned)m.column + 1;
    return n;
}

static bool node_add(ctx *c, node *parent, node *child)
{
    if (parent->count == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        node **items = realloc(parent->items, cap * sizeof *items);
        if (!items) {
            c->oom = true;
            return false;
        }
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->count++] = child;
    return true;
}

/*
 * mark_char — the byte at a libyaml mark, found from its line and column (libyaml's `index`
 * counts characters, not bytes). Line breaks are \n, \r\n and \r, as libyaml reads them.
 */
static int mark_char(const ctx *c, size_t line, size_t col)
{
    size_t i = 0;
    for (size_t l = 0; l < line && i < c->len; i++) {
        if (c->text[i] == '\n' ||
            (c->text[i] == '\r' && (i + 1 >= c->len || c->text[i + 1] != '\n')))
            l++;
    }
    for (size_t k = 0; i < c->len; i++) {
        if (((unsigned char)c->text[i] & 0xc0) == 0x80)
            continue; /* UTF-8 continuation byte: same character */
        if (k++ == col)
            return (unsigned char)c->text[i];
    }
    return -1;
}

/* Report libyaml's own error with its problem text and position. */
static void syntax_error(ctx *c, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR) {
        c->oom = true;
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < c->len; i++) {
            if (c->text[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)c->text[i] & 0xc0) != 0x80) {
                col++;
            }
        }
        if (p->problem_value >= 0)
            err_at(c, line, col, "the file is not valid UTF-8 text: %s (byte 0x%02x)", p->problem,
                   (unsigned)p->problem_value);
        else
            err_at(c, line, col, "the file is not valid UTF-8 text: %s", p->problem);
        return;
    }
    const char *problem = p->problem ? p->problem : "unknown error";
    const char *hint = "";
    if (mark_char(c, p->problem_mark.line, p->problem_mark.column) == '\t' ||
        strstr(problem, "tab character"))
        hint = "; tabs cannot indent YAML, use spaces";
    if (p->context)
        err_at(c, (unsigned)p->problem_mark.line + 1, (unsigned)p->problem_mark.column + 1,
               "YAML syntax error: %s (%s at line %u column %u)%s", problem, p->context,
               (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1, hint);
    else
        err_at(c, (unsigned)p->problem_mark.line + 1, (unsigned)p->problem_mark.column + 1,
               "YAML syntax error: %s%s", problem, hint);
}

/* Refuse an anchor or tag on a node. Returns true when the node carries a tag. */
static bool refuse_props(ctx *c, const yaml_event_t *ev, const yaml_char_t *anchor,
                         const yaml_char_t *tag)
{
    char q[QBUF];
    unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
    if (anchor)
        err_at(c, line, col,
               "anchors and aliases are not supported (anchor &%.48s); write the value out",
               (const char *)anchor);
    if (tag)
        err_at(c, line, col, "YAML tags are not supported (tag %s); remove it",
               quote(q, (const char *)tag));
    return tag != NULL;
}

/* The node for a scalar event, or NULL when out of memory. */
static node *scalar_node(ctx *c, const yaml_event_t *ev)
{
    bool bad = refuse_props(c, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(v, '\0', len)) {
        err_at(c, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
               "a string may not contain a NUL character");
        bad = true;
    }
    node *n = node_new(c, bad ? N_BAD : N_SCALAR, ev->start_mark);
    if (!n || bad)
        return n;
    n->str = malloc(len + 1);
    if (!n->str) {
        c->oom = true;
        free(n);
        return NULL;
    }
    memcpy(n->str, v, len);
    n->str[len] = '\0';
    n->len = len;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return n;
}

/*
 * load_tree — parse the text into a tree. Returns the document's root (NULL for an empty
 * file, also reported); *ok is false after a syntax error or running out of memory, when the
 * tree (freed here) cannot be trusted.
 */
static node *load_tree(ctx *c, bool *ok)
{
    yaml_parser_t parser;
    *ok = false;
    if (!yaml_parser_initialize(&parser)) {
        c->oom = true;
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)(c->len ? c->text : ""), c->len);

    node *root = NULL;
    node *stack[MAX_DEPTH];
    size_t depth = 0;
    int docs = 0;
    bool failed = false;
    for (bool done = false; !done && !failed;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(c, &parser);
            failed = true;
            break;
        }
        node *n = NULL;
        bool open = false;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                err_at(c, (unsigned)ev.start_mark.line + 1, (unsigned)ev.start_mark.column + 1,
                       "more than one YAML document; a policy file holds exactly one");
                done = true;
            }
            break;
        case YAML_SCALAR_EVENT:
            n = scalar_node(c, &ev);
            failed = !n;
            break;
        case YAML_ALIAS_EVENT: {
            err_at(c, (unsigned)ev.start_mark.line + 1, (unsigned)ev.start_mark.column + 1,
                   "anchors and aliases are not supported (alias *%.48s); write the value out",
                   (const char *)ev.data.alias.anchor);
            n = node_new(c, N_BAD, ev.start_mark);
            failed = !n;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
            refuse_props(c, &ev, seq ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor,
                         seq ? ev.data.sequence_start.tag : ev.data.mapping_start.tag);
            if (depth == MAX_DEPTH) {
                err_at(c, (unsigned)ev.start_mark.line + 1, (unsigned)ev.start_mark.column + 1,
                       "YAML nested deeper than %d levels", MAX_DEPTH);
                failed = true;
                break;
            }
            n = node_new(c, seq ? N_SEQ : N_MAP, ev.start_mark);
            failed = !n;
            open = true;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!n)
            continue;
        /* Attach at once, so that everything built so far is freed with the root. */
        if (depth > 0) {
            if (!node_add(c, stack[depth - 1], n)) {
                node_free(n);
                failed = true;
                continue;
            }
        } else if (!root) {
            root = n;
        } else {
            node_free(n); /* cannot happen: one root per document, one document */
        }
        if (open)
            stack[depth++] = n;
    }
    yaml_parser_delete(&parser);
    if (failed) {
        node_free(root);
        return NULL;
    }
    if (docs == 0)
        err_at(c, 1, 1,
               "the file is empty; a policy file is a mapping with apiVersion: %s and "
               "kind: %s",
               API_VERSION, KIND);
    *ok = true;
    return root;
}

/* ---------------------------------------------------------------------------------------------
 * Duplicate keys
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    node *key;
    size_t pos; /* index among the mapping's pairs, so the first one written sorts first */
} keyref;

static int keyref_cmp(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    if (x->key->len != y->key->len)
        return x->key->len < y->key->len ? -1 : 1;
    int d = memcmp(x->key->str, y->key->str, x->key->len);
    if (d)
        return d;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * check_dups — report every key that repeats an earlier key of the same mapping, in the whole
 * tree, and flag it so that decoders use the first. Sorting keeps this O(n log n) for huge
 * mappings. `"a"` and `a` are the same key.
 */
static void check_dups(ctx *c, node *n)
{
    if (n->kind == N_MAP && n->count >= 4) {
        size_t pairs = n->count / 2, k = 0;
        keyref *refs = malloc(pairs * sizeof *refs);
        if (!refs) {
            c->oom = true;
            return;
        }
        for (size_t i = 0; i < pairs; i++)
            if (n->items[2 * i]->kind == N_SCALAR)
                refs[k++] = (keyref){n->items[2 * i], i};
        qsort(refs, k, sizeof *refs, keyref_cmp);
        for (size_t i = 1, first = 0; i < k; i++) {
            if (refs[i].key->len == refs[first].key->len &&
                memcmp(refs[i].key->str, refs[first].key->str, refs[i].key->len) == 0) {
                char q[QBUF];
                refs[i].key->dup = true;
                err_at(c, refs[i].key->line, refs[i].key->col,
                       "duplicate key %s (first at line %u column %u)", quote(q, refs[i].key->str),
                       refs[first].key->line, refs[first].key->col);
            } else {
                first = i;
            }
        }
        free(refs);
    }
    for (size_t i = 0; i < n->count; i++)
        check_dups(c, n->items[i]);
}

/* ---------------------------------------------------------------------------------------------
 * Scalars and typed values
 * ------------------------------------------------------------------------------------------- */

static bool is_null(const node *n)
{
    return n->kind == N_SCALAR && n->plain &&
           (n->len == 0 || strcmp(n->str, "null") == 0 || strcmp(n->str, "~") == 0);
}

static bool is_bool(const node *n)
{
    return n->kind == N_SCALAR && n->plain &&
           (strcmp(n->str, "true") == 0 || strcmp(n->str, "false") == 0);
}

/* describe — what a node is, for "found ..." in messages. */
static const char *describe(const node *n, char *buf)
{
    if (n->kind == N_BAD)
        return "an unsupported value";
    if (n->kind == N_MAP)
        return "a mapping";
    if (n->kind == N_SEQ)
        return "a list";
    if (is_null(n))
        return "null";
    if (is_bool(n))
        return n->str[0] == 't' ? "a boolean (true)" : "a boolean (false)";
    return quote(buf, n->str);
}

static void type_error(ctx *c, const node *v, const char *key, const char *expected,
                       const char *hint)
{
    char q[QBUF];
    err_at(c, v->line, v->col, "%s must be %s, found %s%s", key, expected, describe(v, q), hint);
}

/*
 * want_string — the text of a string value, or NULL after reporting why it is not one. Any
 * scalar but null and a boolean is text (a namespace may well be named `123`).
 */
static const char *want_string(ctx *c, const node *v, const char *key)
{
    if (v->kind == N_BAD)
        return NULL;
    if (v->kind != N_SCALAR || is_null(v) || is_bool(v)) {
        type_error(c, v, key, "a string", "");
        return NULL;
    }
    return v->str;
}

/* Strings YAML 1.1 (and so many people) read as booleans but YAML 1.2 does not. */
static bool looks_boolean(const char *s)
{
    static const char *const words[] = {"y", "yes", "n", "no", "true", "false", "on", "off"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasecmp(s, words[i]) == 0)
            return true;
    return false;
}

/* want_bool — a plain true or false into *out; false after reporting anything else. */
static bool want_bool(ctx *c, const node *v, const char *key, bool *out)
{
    if (v->kind == N_BAD)
        return false;
    if (is_bool(v)) {
        *out = v->str[0] == 't';
        return true;
    }
    char q[QBUF], hint[QBUF + 64];
    hint[0] = '\0';
    if (v->kind == N_SCALAR && !is_null(v) && looks_boolean(v->str)) {
        if (v->plain)
            snprintf(hint, sizeof hint, " (YAML 1.2: %s is a string; write true or false)",
                     quote(q, v->str));
        else
            snprintf(hint, sizeof hint,
                     " (YAML 1.2: a quoted %s is a string; write true or false without quotes)",
                     quote(q, v->str));
    }
    type_error(c, v, key, "true or false", hint);
    return false;
}

/* want_enum — the index of the value among `vals`, or -1 after reporting. */
static int want_enum(ctx *c, const node *v, const char *key, const char *const *vals, size_t n)
{
    char allowed[256] = "one of ";
    for (size_t i = 0; i < n; i++) {
        strncat(allowed, vals[i], sizeof allowed - strlen(allowed) - 1);
        if (i + 1 < n)
            strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
    }
    if (v->kind == N_BAD)
        return -1;
    if (v->kind != N_SCALAR || is_null(v) || is_bool(v)) {
        type_error(c, v, key, allowed, "");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(v->str, vals[i]) == 0)
            return (int)i;
    char q[QBUF], hint[128] = "";
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v->str, vals[i]) == 0)
            snprintf(hint, sizeof hint, " (values are case-sensitive: write %s)", vals[i]);
    err_at(c, v->line, v->col, "%s must be %s; found %s%s", key, allowed, quote(q, v->str), hint);
    return -1;
}

static void list_free(policy_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static bool list_copy(policy_list *dst, const policy_list *src)
{
    dst->items = NULL;
    dst->count = 0;
    if (src->count == 0)
        return true;
    dst->items = calloc(src->count, sizeof *dst->items);
    if (!dst->items)
        return false;
    for (size_t i = 0; i < src->count; i++) {
        dst->items[i] = strdup(src->items[i]);
        if (!dst->items[i]) {
            list_free(dst);
            return false;
        }
        dst->count++;
    }
    return true;
}

static bool list_from(policy_list *dst, const char *const *src, size_t n)
{
    policy_list tmp = {(char **)src, n};
    return list_copy(dst, &tmp);
}

/* An extra check of one list item: returns false after reporting it. */
typedef bool (*item_check)(ctx *c, const node *item);

/*
 * want_list — a list of strings into *out (which it replaces only on success, so the caller's
 * value stays freeable). Returns false after reporting a problem with the list or any item.
 */
static bool want_list(ctx *c, const node *v, const char *key, item_check check, policy_list *out)
{
    if (v->kind == N_BAD)
        return false;
    if (v->kind != N_SEQ) {
        char q[QBUF], hint[QBUF + 64] = "";
        if (is_null(v))
            snprintf(hint, sizeof hint, " (write [] for an empty list)");
        else if (v->kind == N_SCALAR && !is_bool(v))
            snprintf(hint, sizeof hint, " (write [%s] for a list of one)", quote(q, v->str));
        type_error(c, v, key, "a list of strings", hint);
        return false;
    }
    char what[96];
    snprintf(what, sizeof what, "each item of %s", key);
    policy_list l = {NULL, 0};
    if (v->count && !(l.items = calloc(v->count, sizeof *l.items))) {
        c->oom = true;
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < v->count; i++) {
        const char *s = want_string(c, v->items[i], what);
        if (!s || (check && !check(c, v->items[i]))) {
            ok = false;
            continue;
        }
        if (!(l.items[l.count] = strdup(s))) {
            c->oom = true;
            ok = false;
            break;
        }
        l.count++;
    }
    if (!ok) {
        list_free(&l);
        return false;
    }
    list_free(out);
    *out = l;
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * Keys of a mapping
 * ------------------------------------------------------------------------------------------- */

/* Optimal string alignment distance (a swap counts 1), ASCII case ignored; for "did you mean".
 * Returns SIZE_MAX for strings too long to be a misspelt key. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t rows[3][65]; /* rows i-2, i-1 and i of the matrix, rotating */
    for (size_t j = 0; j <= lb; j++)
        rows[1][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = rows[(i + 1) % 3], *prev = rows[i % 3], *prev2 = rows[(i + 2) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int ca = a[i - 1] >= 'A' && a[i - 1] <= 'Z' ? a[i - 1] + 32 : a[i - 1];
            int cb = b[j - 1] >= 'A' && b[j - 1] <= 'Z' ? b[j - 1] + 32 : b[j - 1];
            size_t best = prev[j - 1] + (ca != cb);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1) {
                int pa = a[i - 2] >= 'A' && a[i - 2] <= 'Z' ? a[i - 2] + 32 : a[i - 2];
                int pb = b[j - 2] >= 'A' && b[j - 2] <= 'Z' ? b[j - 2] + 32 : b[j - 2];
                if (ca == pb && pa == cb && prev2[j - 2] + 1 < best)
                    best = prev2[j - 2] + 1;
            }
            cur[j] = best;
        }
    }
    return rows[(la + 1) % 3][lb];
}

/* Report an unknown key, suggesting the nearest known one when it is close enough. */
static void unknown_key(ctx *c, const node *k, const char *const *names, size_t n)
{
    char q[QBUF];
    size_t best = (size_t)-1, at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(k->str, names[i]);
        if (d < best) {
            best = d;
            at = i;
        }
    }
    size_t l = strlen(names[at]);
    if (best <= (l <= 4 ? 1 : l <= 8 ? 2 : 3)) {
        err_at(c, k->line, k->col, "unknown key %s; did you mean \"%s\"?", quote(q, k->str),
               names[at]);
        return;
    }
    char known[256] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(known, names[i], sizeof known - strlen(known) - 1);
        if (i + 1 < n)
            strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    err_at(c, k->line, k->col, "unknown key %s; expected one of: %s", quote(q, k->str), known);
}

/*
 * fields — look up the keys of mapping `map` among `names`: vals[i] and keys[i] get the value
 * and key nodes of names[i], or NULL when it is left out. Unknown keys and keys that are not
 * strings are reported; a repeated key is skipped (check_dups reported it), so the first wins.
 */
static void fields(ctx *c, const node *map, const char *const *names, size_t n, const node **vals,
                   const node **keys)
{
    for (size_t i = 0; i < n; i++)
        vals[i] = keys[i] = NULL;
    for (size_t i = 0; i + 1 < map->count; i += 2) {
        const node *k = map->items[i];
        if (k->kind == N_BAD || k->dup)
            continue;
        if (k->kind != N_SCALAR) {
            char q[QBUF];
            err_at(c, k->line, k->col, "a key must be a string, found %s", describe(k, q));
            continue;
        }
        size_t j = 0;
        while (j < n && strcmp(k->str, names[j]) != 0)
            j++;
        if (j < n) {
            vals[j] = map->items[i + 1];
            keys[j] = k;
        } else {
            unknown_key(c, k, names, n);
        }
    }
}

static bool want_map(ctx *c, const node *v, const char *key)
{
    if (v->kind == N_BAD)
        return false;
    if (v->kind != N_MAP) {
        type_error(c, v, key, "a mapping", "");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * Values with rules of their own
 * ------------------------------------------------------------------------------------------- */

/*
 * allowed_where_applied — whether the defaultProfile `path` is allowed by `l` in every namespace
 * the settings apply to: each exact name of `match`, with `{namespace}` read as that name; and,
 * where they apply to namespaces no list can name (those of `defaults`, `match` NULL, or of a
 * glob in `match`), through a glob without `{namespace}`, since one with it matches a given path
 * only in the few namespaces whose name the path holds. When it is not, *ns is the first exact
 * name it is forbidden in, or NULL for the unnamed namespaces.
 */
static bool allowed_where_applied(ctx *c, const char *path, const policy_list *l,
                                  const policy_list *match, const char **ns)
{
    bool oom = false, unnamed = !match;
    *ns = NULL;
    for (size_t i = 0; match && i < match->count && !oom; i++) {
        if (strpbrk(match->items[i], "*?[\\"))
            unnamed = true;
        else if (!localhost_allowed(l, match->items[i], path, &oom) && !oom) {
            *ns = match->items[i];
            return false;
        }
    }
    bool ok = !unnamed;
    for (size_t i = 0; !ok && !oom && i < l->count; i++) {
        policy_list one = {&l->items[i], 1};
        ok = !strstr(l->items[i], "{namespace}") && localhost_allowed(&one, NULL, path, &oom);
    }
    c->oom |= oom;
    return ok || oom;
}

/*
 * check_ns_pattern — a `match` entry must be able to match some namespace. Namespace names are
 * RFC 1123 labels ([a-z0-9-]), so an entry with any other character than those and fnmatch's
 * own (* ? [ ] ! ^ \), an empty entry or an unclosed `[` can never match: a typo, most likely
 * an uppercase letter or an underscore, that would silently leave the namespace on defaults.
 */
static bool check_ns_pattern(ctx *c, const node *item)
{
    const char *s = item->str, *why = NULL;
    if (!*s)
        why = "it is empty";
    for (const char *p = s; *p && !why; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-*?[]!^\\", *p);
        if (!ok)
            why = "namespace names are lowercase letters, digits and '-'";
    }
    const char *open = strchr(s, '[');
    if (!why && open && !strchr(open + 1, ']'))
        why = "it has an unclosed '['";
    if (!why)
        return true;
    char q[QBUF];
    err_at(c, item->line, item->col, "match entry %s can never match a namespace name: %s",
           quote(q, s), why);
    return false;
}

static bool check_arch(ctx *c, const node *item)
{
    if (strncmp(item->str, "SCMP_ARCH_", 10) == 0 && item->str[10])
        return true;
    char q[QBUF];
    err_at(c, item->line, item->col,
           "architecture %s is not a libseccomp name: write e.g. SCMP_ARCH_X86_64 or "
           "SCMP_ARCH_AARCH64",
           quote(q, item->str));
    return false;
}

/* ---------------------------------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------------------------------- */

/* The keys of `defaults`; a `namespaces` rule has them and `match`. */
enum { K_MODE, K_PROFILE, K_MIGRATE, K_UNCONFINED, K_ALLOWED, K_TEMPLATES, K_MATCH, K_RULE_KEYS };
#define K_SETTINGS K_MATCH
static const char *const RULE_KEYS[K_RULE_KEYS] = {
    "mode",
    "defaultProfile",
    "migrateAnnotations",
    "allowUnconfined",
    "allowedLocalhostProfiles",
    "mutateTemplates",
    "match",
};

static void settings_free(policy_settings *s)
{
    free(s->default_localhost);
    s->default_localhost = NULL;
    list_free(&s->allowed_localhost_profiles);
}

static bool settings_copy(policy_settings *dst, const policy_settings *src)
{
    *dst = *src;
    dst->default_localhost = NULL;
    if (!list_copy(&dst->allowed_localhost_profiles, &src->allowed_localhost_profiles))
        return false;
    if (src->default_localhost && !(dst->default_localhost = strdup(src->default_localhost))) {
        list_free(&dst->allowed_localhost_profiles);
        return false;
    }
    return true;
}

/*
 * decode_profile — `defaultProfile`: null (inject nothing) or {type, localhostProfile}. On
 * success sets *type, *localhost (a new string, or NULL) and *path_node (the localhostProfile
 * value node, or NULL) and returns true. Unconfined is refused: the webhook exists to remove it.
 */
static bool decode_profile(ctx *c, const node *v, profile_type *type, char **localhost,
                           const node **path_node)
{
    static const char *const KEYS[] = {"type", "localhostProfile"};
    static const char *const TYPES[] = {"RuntimeDefault", "Localhost"};
    char q[QBUF];
    *path_node = NULL;
    if (v->kind == N_BAD)
        return false;
    if (is_null(v)) {
        *type = PROFILE_NONE;
        *localhost = NULL;
        return true;
    }
    if (v->kind != N_MAP) {
        type_error(c, v, "defaultProfile", "a mapping {type: RuntimeDefault or Localhost} or null",
                   v->kind == N_SCALAR ? " (write e.g. defaultProfile: {type: RuntimeDefault}; "
                                         "null injects nothing)"
                                       : "");
        return false;
    }
    const node *vals[2], *keys[2];
    fields(c, v, KEYS, 2, vals, keys);
    bool type_ok = false, ok = true;
    profile_type t = PROFILE_NONE;
    if (!vals[0]) {
        err_at(c, v->line, v->col,
               "defaultProfile needs a type: RuntimeDefault or Localhost (or write "
               "defaultProfile: null to inject nothing)");
        ok = false;
    } else if (vals[0]->kind == N_SCALAR && strcmp(vals[0]->str, "Unconfined") == 0) {
        err_at(c, vals[0]->line, vals[0]->col,
               "defaultProfile type Unconfined is not allowed: the webhook never injects "
               "Unconfined (use RuntimeDefault, Localhost, or defaultProfile: null)");
        ok = false;
    } else {
        int e = want_enum(c, vals[0], "defaultProfile type", TYPES, 2);
        type_ok = e >= 0;
        ok = type_ok;
        t = e == 1 ? PROFILE_LOCALHOST : PROFILE_RUNTIME_DEFAULT;
    }
    const char *path = NULL;
    if (vals[1]) {
        const char *why;
        path = want_string(c, vals[1], "localhostProfile");
        if (!path) {
            ok = false;
        } else if ((why = localhost_path_problem(path))) {
            err_at(c, vals[1]->line, vals[1]->col,
                   "localhostProfile %s is not a valid path: %s (write a path relative to the "
                   "kubelet's seccomp directory, without \".\", \"..\" or empty segments)",
                   quote(q, path), why);
            ok = false;
        }
        if (type_ok && t != PROFILE_LOCALHOST) {
            err_at(c, keys[1]->line, keys[1]->col,
                   "localhostProfile is only allowed with type Localhost");
            ok = false;
        }
    } else if (type_ok && t == PROFILE_LOCALHOST) {
        err_at(c, v->line, v->col,
               "defaultProfile of type Localhost needs localhostProfile: PATH (relative to the "
               "kubelet's seccomp directory)");
        ok = false;
    }
    if (!ok)
        return false;
    *localhost = NULL;
    if (t == PROFILE_LOCALHOST && !(*localhost = strdup(path))) {
        c->oom = true;
        return false;
    }
    *type = t;
    *path_node = vals[1];
    return true;
}

/*
 * decode_settings — apply the keys of `defaults` or of a rule (vals[0..K_SETTINGS)) to `s`,
 * which already holds the values they override: the built-in ones for `defaults`, the decoded
 * `defaults` for a rule (whose `match` is given; NULL for `defaults`). Ends with the check
 * that a Localhost defaultProfile is allowed by its own allow-list in every namespace the
 * mapping applies to (SPEC §5), made where this mapping sets either of the two.
 */
static void decode_settings(ctx *c, const node *const *vals, policy_settings *s,
                            const policy_list *match)
{
    static const char *const MODES[] = {"enforce", "warn", "audit"};
    bool rule = match != NULL;
    char q[QBUF];
    bool b;
    if (vals[K_MODE]) {
        int m = want_enum(c, vals[K_MODE], "mode", MODES, 3);
        if (m >= 0)
            s->mode = (policy_mode)m;
    }
    bool profile_ok = true;
    const node *path_node = NULL;
    if (vals[K_PROFILE]) {
        profile_type t;
        char *lh;
        profile_ok = decode_profile(c, vals[K_PROFILE], &t, &lh, &path_node);
        if (profile_ok) {
            free(s->default_localhost);
            s->default_localhost = lh;
            s->default_profile = t;
        }
    }
    if (vals[K_MIGRATE] && want_bool(c, vals[K_MIGRATE], "migrateAnnotations", &b))
        s->migrate_annotations = b;
    if (vals[K_UNCONFINED] && want_bool(c, vals[K_UNCONFINED], "allowUnconfined", &b))
        s->allow_unconfined = b;
    bool allowed_ok = true;
    if (vals[K_ALLOWED])
        allowed_ok = want_list(c, vals[K_ALLOWED], "allowedLocalhostProfiles", NULL,
                               &s->allowed_localhost_profiles);
    if (vals[K_TEMPLATES] && want_bool(c, vals[K_TEMPLATES], "mutateTemplates", &b))
        s->mutate_templates = b;

    const char *ns;
    if (!profile_ok || !allowed_ok || !(vals[K_PROFILE] || vals[K_ALLOWED]) ||
        s->default_profile != PROFILE_LOCALHOST ||
        allowed_where_applied(c, s->default_localhost, &s->allowed_localhost_profiles, match, &ns))
        return;
    char why[QBUF + 64], qn[QBUF];
    if (!s->allowed_localhost_profiles.count)
        snprintf(why, sizeof why, "is empty, so no Localhost profile is allowed");
    else if (ns)
        snprintf(why, sizeof why, "matches none of its globs in namespace %s", quote(qn, ns));
    else if (localhost_allowed(&s->allowed_localhost_profiles, NULL, s->default_localhost, &c->oom))
        snprintf(why, sizeof why,
                 "allows it only through {namespace}, so not in every namespace this applies "
                 "to (allow it with a glob without {namespace})");
    else
        snprintf(why, sizeof why, "matches none of its globs");
    if (path_node) {
        err_at(c, path_node->line, path_node->col,
               "defaultProfile localhostProfile %s is forbidden by %sallowedLocalhostProfiles, "
               "which %s",
               quote(q, s->default_localhost), rule && !vals[K_ALLOWED] ? "the inherited " : "",
               why);
    } else {
        err_at(c, vals[K_ALLOWED]->line, vals[K_ALLOWED]->col,
               "this allowedLocalhostProfiles forbids the defaultProfile localhostProfile %s "
               "inherited from defaults: it %s",
               quote(q, s->default_localhost), why);
    }
}

/* decode_rules — the `namespaces` list; each rule starts as a copy of the decoded defaults. */
static void decode_rules(ctx *c, const node *v, policy *p)
{
    if (v->kind == N_BAD)
        return;
    if (v->kind != N_SEQ) {
        type_error(c, v, "namespaces", "a list of rules (- match: [...])", "");
        return;
    }
    if (v->count && !(p->rules = calloc(v->count, sizeof *p->rules))) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < v->count; i++) {
        const node *item = v->items[i];
        if (!want_map(c, item, "a namespaces rule"))
            continue;
        policy_namespace_rule *r = &p->rules[p->rule_count];
        if (!settings_copy(&r->settings, &p->defaults)) {
            c->oom = true;
            return;
        }
        p->rule_count++;
        r->line = item->line;
        const node *vals[K_RULE_KEYS], *keys[K_RULE_KEYS];
        fields(c, item, RULE_KEYS, K_RULE_KEYS, vals, keys);
        if (!vals[K_MATCH])
            err_at(c, item->line, item->col,
                   "a namespaces rule needs match: a list of namespace names or globs");
        else if (want_list(c, vals[K_MATCH], "match", check_ns_pattern, &r->match) &&
                 r->match.count == 0)
            err_at(c, vals[K_MATCH]->line, vals[K_MATCH]->col,
                   "match must list at least one namespace name or glob");
        decode_settings(c, vals, &r->settings, &r->match);
    }
}

/*
 * decode_exemptions — a list left out is empty, except `namespaces`, which keeps the built-in
 * [kube-system] unless the key is given (so `namespaces: []` exempts nothing).
 */
static void decode_exemptions(ctx *c, const node *v, policy *p)
{
    static const char *const KEYS[] = {"namespaces", "usernames", "runtimeClasses"};
    if (!want_map(c, v, "exemptions"))
        return;
    const node *vals[3], *keys[3];
    fields(c, v, KEYS, 3, vals, keys);
    if (vals[0])
        want_list(c, vals[0], "namespaces", NULL, &p->exempt_namespaces);
    if (vals[1])
        want_list(c, vals[1], "usernames", NULL, &p->exempt_usernames);
    if (vals[2])
        want_list(c, vals[2], "runtimeClasses", NULL, &p->exempt_runtime_classes);
}

static void decode_profiles(ctx *c, const node *v, policy *p)
{
    static const char *const KEYS[] = {"directory", "architectures", "requireDefaultDeny",
                                       "forbiddenSyscalls"};
    policy_profiles *pr = &p->profiles;
    pr->present = true;
    pr->require_default_deny = true;
    if (!list_from(&pr->forbidden_syscalls, DEFAULT_FORBIDDEN,
                   sizeof DEFAULT_FORBIDDEN / sizeof *DEFAULT_FORBIDDEN)) {
        c->oom = true;
        return;
    }
    if (!want_map(c, v, "profiles"))
        return;
    const node *vals[4], *keys[4];
    fields(c, v, KEYS, 4, vals, keys);
    if (!vals[0]) {
        err_at(c, v->line, v->col,
               "profiles needs directory: the absolute path of the directory that holds the "
               "Localhost profiles");
    } else {
        const char *d = want_string(c, vals[0], "directory");
        char q[QBUF];
        if (d && d[0] != '/')
            err_at(c, vals[0]->line, vals[0]->col, "directory %s must be an absolute path",
                   quote(q, d));
        else if (d && !(pr->directory = strdup(d)))
            c->oom = true;
    }
    if (vals[1])
        want_list(c, vals[1], "architectures", check_arch, &pr->architectures);
    if (vals[2])
        want_bool(c, vals[2], "requireDefaultDeny", &pr->require_default_deny);
    if (vals[3])
        want_list(c, vals[3], "forbiddenSyscalls", NULL, &pr->forbidden_syscalls);
}

/* A required key with one allowed value: apiVersion, kind. */
static void decode_const(ctx *c, const node *root, const node *v, const char *key, const char *want)
{
    char q[QBUF];
    if (!v) {
        err_at(c, root->line, root->col, "missing %s (write %s: %s)", key, key, want);
        return;
    }
    const char *s = want_string(c, v, key);
    if (s && strcmp(s, want) != 0)
        err_at(c, v->line, v->col, "%s must be \"%s\", found %s", key, want, quote(q, s));
}

enum { T_API, T_KIND, T_DEFAULTS, T_NAMESPACES, T_EXEMPTIONS, T_PROFILES, T_KEYS };
static const char *const TOP_KEYS[T_KEYS] = {"apiVersion", "kind",       "defaults",
                                             "namespaces", "exemptions", "profiles"};

/* decode_policy — the whole document into `p`, which holds the built-in policy on entry. */
static void decode_policy(ctx *c, const node *root, policy *p)
{
    char q[QBUF];
    if (root->kind == N_BAD)
        return;
    if (root->kind != N_MAP) {
        err_at(c, root->line, root->col,
               "a policy file must be a mapping with apiVersion and kind, found %s",
               describe(root, q));
        return;
    }
    const node *vals[T_KEYS], *keys[T_KEYS];
    fields(c, root, TOP_KEYS, T_KEYS, vals, keys);
    decode_const(c, root, vals[T_API], "apiVersion", API_VERSION);
    decode_const(c, root, vals[T_KIND], "kind", KIND);
    /* defaults first, wherever it is written: the rules inherit from it */
    if (vals[T_DEFAULTS] && want_map(c, vals[T_DEFAULTS], "defaults")) {
        const node *dv[K_SETTINGS], *dk[K_SETTINGS];
        fields(c, vals[T_DEFAULTS], RULE_KEYS, K_SETTINGS, dv, dk);
        decode_settings(c, dv, &p->defaults, NULL);
    }
    if (vals[T_NAMESPACES])
        decode_rules(c, vals[T_NAMESPACES], p);
    if (vals[T_EXEMPTIONS])
        decode_exemptions(c, vals[T_EXEMPTIONS], p);
    if (vals[T_PROFILES])
        decode_profiles(c, vals[T_PROFILES], p);
}

/* ---------------------------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------------------------- */

policy *policy_builtin(void)
{
    static const char *const EXEMPT[] = {"kube-system"};
    policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->defaults.mode = POLICY_MODE_ENFORCE;
    p->defaults.default_profile = PROFILE_RUNTIME_DEFAULT;
    p->defaults.migrate_annotations = true;
    p->defaults.allow_unconfined = false;
    p->defaults.mutate_templates = false;
    if (!list_from(&p->exempt_namespaces, EXEMPT, 1) || !(p->profile_cache = profile_cache_new())) {
        policy_free(p);
        return NULL;
    }
    snprintf(p->hash, sizeof p->hash, "builtin");
    return p;
}

/* Write "sha256:<hex>" of the bytes into out (72 bytes). */
static bool hash_text(const char *text, size_t len, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) || n != 32) {
        ERR_clear_error(); /* the queue is per thread: leave nothing for a later reader */
        return false;
    }
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < n; i++) {
        out[7 + 2 * i] = "0123456789abcdef"[md[i] >> 4];
        out[8 + 2 * i] = "0123456789abcdef"[md[i] & 15];
    }
    out[7 + 2 * n] = '\0';
    return true;
}

policy *policy_parse(const char *text, size_t len, const char *filename, policy_errors *errs)
{
    policy_errors scratch = {NULL, 0};
    if (!errs)
        errs = &scratch;
    if (!text)
        text = "", len = 0;
    ctx c = {filename ? filename : "<policy>", text, len, errs, errs->count, 0, false};

    policy *p = policy_builtin();
    if (!p)
        c.oom = true;
    bool tree_ok = false;
    node *root = p ? load_tree(&c, &tree_ok) : NULL;
    if (root && tree_ok && !c.oom) {
        check_dups(&c, root);
        decode_policy(&c, root, p);
    }
    node_free(root);
    if (p && !c.found && !c.oom && !hash_text(text, len, p->hash))
        err_at(&c, 0, 0, "cannot compute the SHA-256 of the file");
    if (c.found || c.oom) {
        finish_errors(&c);
        policy_free(p);
        p = NULL;
    }
    policy_errors_free(&scratch);
    return p;
}

/* Describe a file type for "not a regular file". */
static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    return "not a regular file";
}

policy *policy_load_file(const char *path, policy_errors *errs)
{
    policy_errors scratch = {NULL, 0};
    if (!errs)
        errs = &scratch;
    ctx c = {path, "", 0, errs, errs->count, 0, false};
    char ebuf[128];
    /* Follow symlinks (a mounted ConfigMap is one), but never block on a FIFO. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        err_at(&c, 0, 0, "cannot open: %s", strerror_r(errno, ebuf, sizeof ebuf));
        policy_errors_free(&scratch);
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &st) != 0) {
        err_at(&c, 0, 0, "cannot stat: %s", strerror_r(errno, ebuf, sizeof ebuf));
    } else if (!S_ISREG(st.st_mode)) {
        err_at(&c, 0, 0, "is %s, not a regular file", file_kind(st.st_mode));
    } else if (st.st_size > (off_t)MAX_FILE_BYTES) {
        err_at(&c, 0, 0, "is too large (%lld bytes; a policy file is at most 1 MiB)",
               (long long)st.st_size);
    } else if (!(buf = malloc(MAX_FILE_BYTES + 1))) {
        c.oom = true;
    } else {
        /* Read to EOF, not st_size bytes: the file may change under us. */
        for (;;) {
            ssize_t r = read(fd, buf + n, MAX_FILE_BYTES + 1 - n);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                err_at(&c, 0, 0, "cannot read: %s", strerror_r(errno, ebuf, sizeof ebuf));
                break;
            }
            if (r == 0)
                break;
            n += (size_t)r;
            if (n > MAX_FILE_BYTES) {
                err_at(&c, 0, 0, "is too large (more than 1 MiB)");
                break;
            }
        }
    }
    close(fd);
    policy *p = NULL;
    if (c.found || c.oom)
        finish_errors(&c);
    else
        p = policy_parse(buf, n, path, errs);
    free(buf);
    policy_errors_free(&scratch);
    return p;
}

const policy_settings *policy_settings_for(const policy *p, const char *ns)
{
    if (!ns)
        return &p->defaults;
    for (size_t i = 0; i < p->rule_count; i++) {
        const policy_list *m = &p->rules[i].match;
        for (size_t j = 0; j < m->count; j++)
            if (strcmp(m->items[j], ns) == 0 || fnmatch(m->items[j], ns, 0) == 0)
                return &p->rules[i].settings;
    }
    return &p->defaults;
}

bool policy_list_contains(const policy_list *l, const char *s)
{
    if (!l || !s)
        return false;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

void policy_free(policy *p)
{
    if (!p)
        return;
    settings_free(&p->defaults);
    for (size_t i = 0; i < p->rule_count; i++) {
        list_free(&p->rules[i].match);
        settings_free(&p->rules[i].settings);
    }
    free(p->rules);
    list_free(&p->exempt_namespaces);
    list_free(&p->exempt_usernames);
    list_free(&p->exempt_runtime_classes);
    free(p->profiles.directory);
    list_free(&p->profiles.architectures);
    list_free(&p->profiles.forbidden_syscalls);
    profile_cache_free(p->profile_cache);
    free(p);
}

void policy_errors_free(policy_errors *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->count; i++) {
        free(e->items[i].file);
        free(e->items[i].message);
    }
    free(e->items);
    e->items = NULL;
    e->count = 0;
}
