/*
 * manifest.h — Kubernetes manifests as files: read them, find the objects, edit them in place.
 *
 * `migrate` and `audit` (SPEC §3) read the files people keep in git and what `kubectl get -o
 * json` prints: multi-document YAML (`---`), JSON, and `List` objects whose `items` are the
 * objects. Each document is read twice over at once: as a cJSON tree (what the engine judges)
 * and as a tree of text positions (`mnode`: where each node starts and ends in the file, from
 * the marks libyaml's events report, or from a scan of the JSON text). `migrate` never
 * re-serialises a document: manifest_plan_patch() turns the engine's JSON Patch into a few
 * byte-range edits of the original text (delete an annotation's lines, insert seccompProfile
 * lines at the document's own indentation), so comments, quoting, block scalars, anchors and
 * key order elsewhere stay exactly as written. The caller re-reads the edited text and checks
 * that it gives the patched object before writing anything (see cmd_migrate.c).
 *
 * YAML scalars resolve as kubectl's YAML decoder (go-yaml v2, YAML 1.1) resolves them: null
 * (`~`, `null`, empty), booleans (true/false, yes/no, on/off, y/n in the usual cases), integers
 * (decimal, 0x, 0o, 0b, leading-0 octal, `_` separators) and floats; quoted and block scalars
 * and `!!str` are strings. Mapping keys are always strings, as written. Merge keys (`<<`) are
 * applied. Refused, with line:column: duplicate keys (SPEC §9), non-scalar keys, unknown
 * aliases, NUL in a string, non-UTF-8 input, nesting deeper than 1000, and alias expansion that
 * would blow up the document.
 */
#ifndef SW_MANIFEST_H
#define SW_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "policy.h"
#include "text.h"

typedef enum { MANIFEST_YAML, MANIFEST_JSON } manifest_format;

typedef enum { MNODE_SCALAR, MNODE_MAPPING, MNODE_SEQUENCE, MNODE_ALIAS } mnode_type;

/* Where one node of a document is in the text. Offsets are bytes from the start of the text;
 * [start, end) covers the node with its anchor and tag, quotes and brackets. */
typedef struct mnode {
    mnode_type type;
    bool flow;                /* a flow collection ({...} or [...]); every JSON collection */
    size_t start, end;        /* byte range */
    size_t content_end;       /* where the node's last character ends: `end`, except for block
                                 collections, whose libyaml end mark lies at the next token */
    size_t count;             /* pairs of a mapping, items of a sequence */
    char **keys;              /* mapping: the keys, as strings (owned) */
    struct mnode **key_nodes; /* mapping: the key scalars */
    struct mnode **items;     /* mapping: the values; sequence: the items */
} mnode;

/* One document: its value and where that value is. `root` is NULL for an empty document. */
typedef struct {
    cJSON *root;
    mnode *node;
    unsigned indent_unit; /* YAML: the indentation step the document uses most (default 2) */
} manifest_doc;

/* A parsed file. `text` is borrowed from the caller and must outlive the manifest. */
typedef struct {
    const char *text;
    size_t len;
    manifest_format format;
    const char *newline; /* "\r\n" when the text uses CRLF line ends, else "\n" */
    bool json_spaced;    /* JSON: `"key": value` (a space after the colon) rather than `"k":v` */
    manifest_doc *docs;
    size_t count;
} manifest;

/* A problem with a position: 1-based line and column (in characters); 0 when not tied to a
 * position. */
typedef struct {
    unsigned line;
    unsigned column;
    char message[256];
} manifest_error;

/* manifest_error_set — fill `err`: the message formatted, control characters from user data
 * escaped (SPEC §7.4), cut to fit on a UTF-8 boundary. */
void manifest_error_set(manifest_error *err, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * manifest_parse — read `len` bytes of `text` into `out`, which the caller frees with
 * manifest_free() whatever this returns: JSON (one value, read strictly: json.h) when the
 * text starts with `[`, or with `{` and a quoted key or `}`; else multi-document YAML.
 * Returns 0, or -1 with `err` filled (a syntax error, a duplicate key, ... at its line and
 * column; "out of memory" at 0:0).
 */
int manifest_parse(const char *text, size_t len, manifest *out, manifest_error *err);

void manifest_free(manifest *m);

/* manifest_position — line and column (1-based, column in characters) of byte `offset`. */
void manifest_position(const manifest *m, size_t offset, unsigned *line, unsigned *column);

/* manifest_plain_is_string — true when `s`, written as a plain (unquoted) YAML scalar, reads
 * back as that string: not null, a boolean or a number under the resolution above. */
bool manifest_plain_is_string(const char *s);

/* manifest_read_file — all bytes of `path` ("-": standard input), at most `max` bytes.
 * Returns an owned buffer (NUL-terminated, *len excludes the NUL), or NULL with errno set
 * (EFBIG when larger than `max`). */
char *manifest_read_file(const char *path, size_t max, size_t *len);

/* ---------------------------------------------------------------------------------------- */
/* Objects                                                                                    */

/* A Kubernetes object in a manifest: a document with a string `kind`, or an item of a list
 * (a document with a string `kind` and an `items` list: `List`, `<Kind>List`, or any kind, as
 * kubectl reads it). A list's item with neither kind nor apiVersion takes the list's kind
 * without "List" and the list's apiVersion. Pointers are borrowed from the manifest, except `kind`
 * and `group` (owned, freed by manifest_objects_free()). */
typedef struct {
    size_t doc;                /* index of its document */
    long item;                 /* index in the List's items, or -1 */
    cJSON *object;             /* the object */
    const mnode *node;         /* its text, or NULL when it is an alias */
    char *kind;                /* `kind`, or the list's for an item without one (owned) */
    char *group;               /* API group from `apiVersion` ("" for core, e.g. "apps") (owned) */
    const char *namespace_;    /* metadata.namespace, or NULL when absent or empty */
    const char *name;          /* metadata.name, or NULL */
    const char *generate_name; /* metadata.generateName, or NULL */
} manifest_object;

typedef struct {
    manifest_object *items;
    size_t count;
} manifest_objects;

/*
 * manifest_find_objects — the Kubernetes objects of `m`, in document order (List items in
 * place of their List). Documents without a string `kind` (non-Kubernetes YAML, empty
 * documents) are not objects. Returns 0, or -1 when out of memory. Free with
 * manifest_objects_free().
 */
int manifest_find_objects(const manifest *m, manifest_objects *out);

void manifest_objects_free(manifest_objects *o);

/*
 * manifest_request — the engine request an object makes when created: operation CREATE, the
 * object's group and kind, its namespace (metadata.namespace, else `default_namespace`) and
 * name, no user. Borrows from `o`.
 */
void manifest_request(const manifest_object *o, const char *default_namespace, engine_request *out);

/* manifest_object_label — "Deployment shop/web" (kind, namespace, name or generateName*),
 * control characters escaped, appended to `sb`. */
void manifest_object_label(strbuf *sb, const manifest_object *o, const char *default_namespace);

/*
 * manifest_migrate_policy — make `p` (a policy the caller owns, e.g. fresh from
 * policy_load_file()) mutate the pod templates of every workload kind, whatever
 * `mutateTemplates` says: `migrate` fixes manifests before they reach the cluster, where the
 * mutating webhook only sees pods (SPEC §3, issue 7).
 */
void manifest_migrate_policy(policy *p);

/* ---------------------------------------------------------------------------------------- */
/* Edits                                                                                      */

/* Replace bytes [start, end) of the text with `text` (owned; "" to delete). start == end
 * inserts. */
typedef struct {
    size_t start, end;
    char *text;
    size_t depth; /* insertions at one offset: the deeper (more indented) text goes first */
    size_t seq;   /* then creation order */
} manifest_edit;

typedef struct {
    manifest_edit *items;
    size_t count;
    size_t cap;
    bool oom;
} manifest_edits;

/*
 * manifest_plan_patch — translate the JSON Patch `patch` (an array of RFC 6902 operations, only
 * `add` and `remove` of object members, as the engine emits them) made against the object whose
 * text is `object_node` in document `doc` of `m`, into edits of the text, appended to `edits`:
 *
 *   - `remove` of a member of a block mapping deletes the lines of that pair (key and value,
 *     a multi-line value included); a mapping left empty becomes `key: {}` (it parses to the
 *     same empty object the patch leaves). In a flow mapping or JSON object the pair and one
 *     comma go.
 *   - `add` of a new member to a block mapping inserts its lines after the mapping's last line,
 *     at the indentation of the mapping's keys, nested values one indentation step deeper (the
 *     step the document uses). In a flow mapping or JSON object the member is added after the
 *     last one (on its own line, indented, when the JSON object is laid out one member per
 *     line).
 *   - `add` over an existing member (securityContext: null, `{}`, empty) replaces that value's
 *     text: in block context with the new lines under the key, in flow context in flow form.
 *   - `add` under a member that an earlier `add` of the same patch creates goes into that
 *     member's new text.
 *
 * A change inside a YAML flow mapping appends a note (a line:column and what was done) to
 * `notes`. Returns 0, or -1 with `err` (position and reason) when an operation cannot be made
 * on this text (it passes through an alias or merge key, a key that does not start its line,
 * a block sequence to replace, ...): the caller leaves that file alone. Out of memory also
 * gives -1 ("out of memory").
 */
int manifest_plan_patch(const manifest *m, const manifest_doc *doc, const mnode *object_node,
                        const cJSON *patch, manifest_edits *edits, strlist *notes,
                        manifest_error *err);

/*
 * manifest_apply_edits — the text with `edits` applied (sorted here by offset, then creation
 * order). Returns an owned NUL-terminated buffer (*out_len excludes the NUL), or NULL when two
 * edits overlap (a bug in the plan: `err` says where) or out of memory.
 */
char *manifest_apply_edits(const manifest *m, manifest_edits *edits, size_t *out_len,
                           manifest_error *err);

void manifest_edits_free(manifest_edits *e);

#endif
