/*
 * test_manifest.c — reading manifests with the position of every node (server/manifest.c),
 * and turning a JSON Patch into edits of the original text (server/manifest_edit.c).
 *
 * The edit tests state the whole text before and after: the point of `migrate` is that
 * nothing but the changed lines moves, so every byte is checked. Patches are written as JSON
 * with single quotes (doc() in testutil.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "manifest.h"

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                    */

static void parse_ok(const char *text, manifest *m)
{
    manifest_error err;
    int rc = manifest_parse(text, strlen(text), m, &err);
    if (rc != 0)
        fail_msg("parse failed at %u:%u: %s", err.line, err.column, err.message);
}

static manifest_error parse_fails(const char *text)
{
    manifest m;
    manifest_error err;
    assert_int_equal(manifest_parse(text, strlen(text), &m, &err), -1);
    manifest_free(&m);
    return err;
}

/* The text [start, end) of a node. */
static char *node_text(const manifest *m, const mnode *n)
{
    return strndup(m->text + n->start, n->end - n->start);
}

static const mnode *member(const mnode *n, const char *key)
{
    assert_int_equal(n->type, MNODE_MAPPING);
    for (size_t i = 0; i < n->count; i++)
        if (strcmp(n->keys[i], key) == 0)
            return n->items[i];
    fail_msg("no key %s", key);
    return NULL;
}

static void assert_node_text(const manifest *m, const mnode *n, const char *want)
{
    char *t = node_text(m, n);
    assert_string_equal(t, want);
    free(t);
}

/* Apply the patch (single-quoted JSON) to the first document's root and return the new
 * text; `notes` (may be NULL) receives the notes. */
static char *edited(const char *text, const char *patch_sq, strlist *notes)
{
    manifest m;
    parse_ok(text, &m);
    cJSON *patch = doc(patch_sq);
    manifest_edits edits = {0};
    strlist own = {0};
    manifest_error err;
    int rc = manifest_plan_patch(&m, &m.docs[0], m.docs[0].node, patch, &edits,
                                 notes ? notes : &own, &err);
    if (rc != 0)
        fail_msg("plan failed at %u:%u: %s", err.line, err.column, err.message);
    size_t len;
    char *out = manifest_apply_edits(&m, &edits, &len, &err);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    manifest_edits_free(&edits);
    strlist_free(&own);
    cJSON_Delete(patch);
    manifest_free(&m);
    return out;
}

static void assert_edited(const char *before, const char *patch_sq, const char *after)
{
    char *out = edited(before, patch_sq, NULL);
    assert_string_equal(out, after);
    free(out);
}

static manifest_error plan_fails(const char *text, const char *patch_sq)
{
    manifest m;
    parse_ok(text, &m);
    cJSON *patch = doc(patch_sq);
    manifest_edits edits = {0};
    strlist notes = {0};
    manifest_error err;
    assert_int_equal(
        manifest_plan_patch(&m, &m.docs[0], m.docs[0].node, patch, &edits, &notes, &err), -1);
    manifest_edits_free(&edits);
    strlist_free(&notes);
    cJSON_Delete(patch);
    manifest_free(&m);
    return err;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading YAML: positions                                                                    */

static void yaml_nodes_carry_their_byte_ranges(void **state)
{
    (void)state;
    manifest m;
    const char *t = "a: b\nc:\n  d: 'q'  # note\n  e: [1, 2]\n";
    parse_ok(t, &m);
    assert_int_equal(m.format, MANIFEST_YAML);
    assert_int_equal(m.count, 1);
    const mnode *root = m.docs[0].node;
    assert_int_equal(root->count, 2);
    assert_node_text(&m, root->key_nodes[1], "c");
    assert_node_text(&m, member(root, "a"), "b");
    const mnode *c = member(root, "c");
    assert_false(c->flow);
    assert_node_text(&m, member(c, "d"), "'q'");
    const mnode *e = member(c, "e");
    assert_true(e->flow);
    assert_node_text(&m, e, "[1, 2]");
    /* A block mapping's own end mark is at the next token; its content ends with its last
     * child's. */
    assert_int_equal(c->content_end, e->end);
    assert_int_equal(root->content_end, e->end);
    manifest_free(&m);
}

static void yaml_offsets_are_bytes_after_multibyte_characters(void **state)
{
    (void)state;
    manifest m;
    const char *t = "a: \xc3\xa9t\xc3\xa9 # caf\xc3\xa9\nb: x\n";
    parse_ok(t, &m);
    const mnode *b = member(m.docs[0].node, "b");
    assert_int_equal(b->start, strlen("a: \xc3\xa9t\xc3\xa9 # caf\xc3\xa9\nb: "));
    assert_node_text(&m, b, "x");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(m.docs[0].root, "a")->valuestring,
                        "\xc3\xa9t\xc3\xa9");
    manifest_free(&m);
}

static void yaml_block_scalar_ends_at_the_start_of_the_next_line(void **state)
{
    (void)state;
    manifest m;
    const char *t = "a: |\n  one\n  two\nb: >\n  folded\n  text\n";
    parse_ok(t, &m);
    const mnode *a = member(m.docs[0].node, "a");
    assert_int_equal(a->end, strlen("a: |\n  one\n  two\n"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(m.docs[0].root, "a")->valuestring,
                        "one\ntwo\n");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(m.docs[0].root, "b")->valuestring,
                        "folded text\n");
    manifest_free(&m);
}

static void yaml_documents_are_split_on_separators(void **state)
{
    (void)state;
    manifest m;
    parse_ok("# only a comment\n---\na: 1\n---\n---\n- x\n...\n", &m);
    assert_int_equal(m.count, 3);
    assert_true(cJSON_IsObject(m.docs[0].root));
    assert_true(cJSON_IsNull(m.docs[1].root)); /* an empty document */
    assert_true(cJSON_IsArray(m.docs[2].root));
    manifest_free(&m);
    parse_ok("# nothing but comments\n", &m);
    assert_int_equal(m.count, 0);
    manifest_free(&m);
}

static void yaml_scalars_resolve_as_kubectl_reads_them(void **state)
{
    (void)state;
    manifest m;
    parse_ok("n1: ~\nn2: null\nn3:\nt: true\nyes1: yes\nf: Off\ni: 42\nneg: -7\nhex: 0x1F\n"
             "oct: 017\nund: 1_000\nfl: 2.5\nexp: 1e3\ns1: '42'\ns2: \"true\"\ns3: !!str 12\n"
             "s4: 1.2.3\ns5: .inf\non: key kept as written\n",
             &m);
    const cJSON *r = m.docs[0].root;
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "n1")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "n2")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "n3")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "t")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "yes1")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "f")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r, "i")->valuedouble, 42);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r, "neg")->valuedouble, -7);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r, "hex")->valuedouble, 31);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r, "oct")->valuedouble, 15);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r, "und")->valuedouble, 1000);
    assert_true(cJSON_GetObjectItemCaseSensitive(r, "fl")->valuedouble == 2.5);
    assert_true(cJSON_GetObjectItemCaseSensitive(r, "exp")->valuedouble == 1000.0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "s1")->valuestring, "42");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "s2")->valuestring, "true");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "s3")->valuestring, "12");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "s4")->valuestring, "1.2.3");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "s5")->valuestring, ".inf");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(r, "on"));
    manifest_free(&m);
    assert_true(manifest_plain_is_string("RuntimeDefault"));
    assert_true(manifest_plain_is_string("profiles/a.json"));
    assert_false(manifest_plain_is_string("null"));
    assert_false(manifest_plain_is_string("0x10"));
    assert_false(manifest_plain_is_string("on"));
}

static void yaml_aliases_and_merge_keys_expand(void **state)
{
    (void)state;
    manifest m;
    parse_ok("base: &b {x: 1, y: 2}\ncopy: *b\nmerged:\n  <<: *b\n  y: 3\n", &m);
    const cJSON *r = m.docs[0].root;
    cJSON *want = doc("{'x': 1, 'y': 2}");
    assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(r, "copy"), want, true));
    cJSON_Delete(want);
    want = doc("{'x': 1, 'y': 3}");
    assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(r, "merged"), want, true));
    cJSON_Delete(want);
    assert_int_equal(member(m.docs[0].node, "copy")->type, MNODE_ALIAS);
    manifest_free(&m);
}

/* A merge key (<<) applies where it is written, as kubectl's decoder (go-yaml v2) applies it;
 * each expected value is what `kubectl label --local -f FILE x=y -o json` (1.32) gives. The
 * YAML merge spec would keep a key written before the merge: a pod whose seccompProfile a later
 * `<<` turns Unconfined would then be judged as written, and allowed. */
static void yaml_merge_keys_apply_in_the_order_written(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"a: 1\n<<: {a: 2}\n", "{'a': 2}"},
        {"<<: {a: 2}\na: 1\n", "{'a': 1}"},
        {"<<: [{a: 1}, {a: 2}]\n", "{'a': 1}"},
        {"<<: {a: 1}\n<<: {a: 2}\n", "{'a': 2}"},
        {"a: 1\n<<: {a: 2}\n<<: {a: 3}\n", "{'a': 3}"},
        {"a: 0\n<<: [{a: 1, b: 1}, {a: 2, b: 2, c: 2}]\n", "{'a': 1, 'b': 1, 'c': 2}"},
        {"securityContext:\n  seccompProfile: {type: RuntimeDefault}\n"
         "  <<: {seccompProfile: {type: Unconfined}}\n",
         "{'securityContext': {'seccompProfile': {'type': 'Unconfined'}}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        manifest m;
        parse_ok(cases[i].yaml, &m);
        cJSON *want = doc(cases[i].want);
        if (!cJSON_Compare(m.docs[0].root, want, true)) {
            char *got = cJSON_PrintUnformatted(m.docs[0].root);
            fail_msg("%s read as %s, not %s", cases[i].yaml, got, cases[i].want);
        }
        cJSON_Delete(want);
        manifest_free(&m);
    }
    /* A key written twice is a duplicate, a merge between them or not. */
    manifest_error e = parse_fails("a: 1\n<<: {a: 2}\na: 3\n");
    assert_string_equal(e.message, "duplicate key \"a\"");
}

/* A file saved with a byte-order mark, as some Windows editors save it, reads as kubectl reads
 * it: the mark is not part of the first line, and text positions still count it. */
static void yaml_after_a_byte_order_mark(void **state)
{
    (void)state;
    manifest m;
    const char *text = "\xef\xbb\xbf"
                       "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n";
    parse_ok(text, &m);
    cJSON *want = doc("{'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p'}}");
    assert_true(cJSON_Compare(m.docs[0].root, want, true));
    cJSON_Delete(want);
    const mnode *name = member(member(m.docs[0].node, "metadata"), "name");
    assert_non_null(name);
    assert_memory_equal(text + name->start, "p", 1);
    manifest_free(&m);
    /* JSON too: read as JSON (and so edited as JSON), not as YAML flow. */
    text = "\xef\xbb\xbf{\"kind\": \"Pod\", \"metadata\": {\"name\": \"q\"}}\n";
    parse_ok(text, &m);
    assert_int_equal(m.format, MANIFEST_JSON);
    name = member(member(m.docs[0].node, "metadata"), "name");
    assert_memory_equal(text + name->start, "\"q\"", 3);
    manifest_free(&m);
}

static void yaml_syntax_errors_have_line_and_column(void **state)
{
    (void)state;
    manifest_error e = parse_fails("a: 1\nb: [x,\nc: d\n");
    assert_int_equal(e.line, 4);
    assert_non_null(strstr(e.message, "flow sequence"));
    e = parse_fails("a: 1\nb:\n  c: 1\n  c: 2\n");
    assert_int_equal(e.line, 4);
    assert_int_equal(e.column, 3);
    assert_string_equal(e.message, "duplicate key \"c\"");
    e = parse_fails("a: *nope\n");
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 4);
    assert_string_equal(e.message, "unknown alias *nope");
    e = parse_fails("? [complex]\n: key\n");
    assert_string_equal(e.message, "only scalar mapping keys are supported");
    e = parse_fails("a: \"nul \\0 inside\"\n");
    assert_string_equal(e.message, "a string holds a NUL character");
    /* kubectl would send "other-team/evil.json" */
    e = parse_fails("localhostProfile: !!binary b3RoZXItdGVhbS9ldmlsLmpzb24=\n");
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 19);
    assert_string_equal(e.message,
                        "a !!binary scalar is not supported: write the value as plain text");
}

static void yaml_alias_bombs_are_refused(void **state)
{
    (void)state;
    /* Each level doubles the one before: 2^30 nodes from a few hundred bytes. */
    strbuf sb = {0};
    sb_append(&sb, "l0: &l0 [x, x]\n");
    for (int i = 1; i <= 30; i++)
        sb_printf(&sb, "l%d: &l%d [*l%d, *l%d]\n", i, i, i - 1, i - 1);
    manifest_error e = parse_fails(sb.data);
    assert_string_equal(e.message, "too many alias and merge expansions");
    sb_free(&sb);
}

/* ---------------------------------------------------------------------------------------- */
/* Reading JSON                                                                               */

static void json_is_read_strictly_with_positions(void **state)
{
    (void)state;
    manifest m;
    const char *t = "{\n    \"a\": {\"b\": [1, \"x\\\"y\"]},\n    \"c\\/d\": null\n}\n";
    parse_ok(t, &m);
    assert_int_equal(m.format, MANIFEST_JSON);
    assert_true(m.json_spaced);
    const mnode *root = m.docs[0].node;
    assert_node_text(&m, member(root, "a"), "{\"b\": [1, \"x\\\"y\"]}");
    assert_node_text(&m, member(member(root, "a"), "b")->items[1], "\"x\\\"y\"");
    assert_node_text(&m, member(root, "c/d"), "null");
    manifest_free(&m);

    manifest_error e = parse_fails("{\"a\": 1,\n \"a\": 2}");
    assert_int_equal(e.line, 2);
    e = parse_fails("{\"a\": 1,\n \"b\": }");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 7);
}

/* ---------------------------------------------------------------------------------------- */
/* Objects                                                                                    */

static void objects_are_documents_with_a_kind_and_list_items(void **state)
{
    (void)state;
    manifest m;
    parse_ok("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
             "---\njust: data\n---\n"
             "apiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n  kind: Job\n"
             "  metadata: {generateName: j-}\n- not an object\n"
             "---\napiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p}\n",
             &m);
    manifest_objects o;
    assert_int_equal(manifest_find_objects(&m, &o), 0);
    assert_int_equal(o.count, 3);
    assert_string_equal(o.items[0].kind, "Deployment");
    assert_string_equal(o.items[0].group, "apps");
    assert_string_equal(o.items[0].namespace_, "shop");
    assert_int_equal(o.items[0].item, -1);
    assert_string_equal(o.items[1].kind, "Job");
    assert_string_equal(o.items[1].group, "batch");
    assert_null(o.items[1].namespace_);
    assert_int_equal(o.items[1].doc, 2);
    assert_int_equal(o.items[1].item, 0);
    assert_ptr_equal(o.items[1].node, m.docs[2].node->items[2]->items[0]);
    assert_string_equal(o.items[2].kind, "Pod"); /* from PodList */
    assert_string_equal(o.items[2].group, "");

    engine_request r;
    manifest_request(&o.items[1], "fallback", &r);
    assert_string_equal(r.operation, "CREATE");
    assert_string_equal(r.namespace_, "fallback");
    assert_string_equal(r.kind, "Job");
    strbuf sb = {0};
    manifest_object_label(&sb, &o.items[1], "fallback");
    assert_string_equal(sb.data, "Job fallback/j-*");
    sb_free(&sb);
    manifest_objects_free(&o);
    manifest_free(&m);
}

/* An object with an `items` list is a list whatever its kind, as kubectl reads it
 * (`kubectl label --local -f FILE x=y -o name` 1.32: pod/p1, foo/p2; an item with an apiVersion
 * and no kind is refused there, and not judged here). */
static void objects_with_items_are_lists_whatever_their_kind(void **state)
{
    (void)state;
    manifest m;
    parse_ok("apiVersion: v1\nkind: Foo\nitems:\n"
             "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p1}\n"
             "- metadata: {name: p2}\n"
             "- apiVersion: v1\n  metadata: {name: p3}\n"
             "---\napiVersion: v1\nkind: PodList\nitems:\n"
             "- {kind: '', apiVersion: '', metadata: {name: p4}}\n",
             &m);
    manifest_objects o;
    assert_int_equal(manifest_find_objects(&m, &o), 0);
    assert_int_equal(o.count, 3);
    assert_string_equal(o.items[0].kind, "Pod");
    assert_string_equal(o.items[0].name, "p1");
    assert_int_equal(o.items[0].item, 0);
    assert_string_equal(o.items[1].kind, "Foo");
    assert_string_equal(o.items[1].name, "p2");
    /* an empty kind and apiVersion are none: kubectl creates pod/p4 */
    assert_string_equal(o.items[2].kind, "Pod");
    assert_string_equal(o.items[2].name, "p4");
    manifest_objects_free(&o);
    manifest_free(&m);
}

/* ---------------------------------------------------------------------------------------- */
/* Edits: block YAML                                                                          */

#define POD_ANN     "seccomp.security.alpha.kubernetes.io/pod"
#define POD_ANN_PTR "seccomp.security.alpha.kubernetes.io~1pod"

static void removing_an_annotation_deletes_its_line_only(void **state)
{
    (void)state;
    assert_edited("metadata:\n"
                  "  annotations:\n"
                  "    # why: legacy\n"
                  "    " POD_ANN ": runtime/default  # old\n"
                  "    keep: \"me\"\n",
                  "[{'op': 'remove', 'path': '/metadata/annotations/" POD_ANN_PTR "'}]",
                  "metadata:\n"
                  "  annotations:\n"
                  "    # why: legacy\n"
                  "    keep: \"me\"\n");
}

static void removing_a_multi_line_value_deletes_all_its_lines(void **state)
{
    (void)state;
    assert_edited("annotations:\n"
                  "  a: |\n"
                  "    one\n"
                  "    two\n"
                  "  b: plain\n"
                  "    continued\n"
                  "  c: 1\n",
                  "[{'op': 'remove', 'path': '/annotations/a'},"
                  " {'op': 'remove', 'path': '/annotations/b'}]",
                  "annotations:\n"
                  "  c: 1\n");
}

static void removing_every_annotation_leaves_an_empty_mapping(void **state)
{
    (void)state;
    assert_edited("metadata:\n"
                  "  annotations:  # to go\n"
                  "    " POD_ANN ": runtime/default\n"
                  "  name: x\n",
                  "[{'op': 'remove', 'path': '/metadata/annotations/" POD_ANN_PTR "'}]",
                  "metadata:\n"
                  "  annotations: {}  # to go\n"
                  "  name: x\n");
}

static void seccomp_profile_goes_under_an_existing_security_context(void **state)
{
    (void)state;
    assert_edited("spec:\n"
                  "    securityContext:\n"
                  "        runAsNonRoot: true\n"
                  "    containers: []\n",
                  "[{'op': 'add', 'path': '/spec/securityContext/seccompProfile',"
                  "  'value': {'type': 'Localhost', 'localhostProfile': 'profiles/a b.json'}}]",
                  "spec:\n"
                  "    securityContext:\n"
                  "        runAsNonRoot: true\n"
                  "        seccompProfile:\n"
                  "            type: Localhost\n"
                  "            localhostProfile: \"profiles/a b.json\"\n"
                  "    containers: []\n");
}

static void a_new_security_context_follows_the_last_key_of_a_container(void **state)
{
    (void)state;
    assert_edited("containers:\n"
                  "- name: app\n"
                  "  args:\n"
                  "  - |\n"
                  "    echo hi\n"
                  "- name: two\n",
                  "[{'op': 'add', 'path': '/containers/0/securityContext',"
                  "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]",
                  "containers:\n"
                  "- name: app\n"
                  "  args:\n"
                  "  - |\n"
                  "    echo hi\n"
                  "  securityContext:\n"
                  "    seccompProfile:\n"
                  "      type: RuntimeDefault\n"
                  "- name: two\n");
}

static void nested_insertions_at_one_place_keep_the_inner_first(void **state)
{
    (void)state;
    assert_edited("spec:\n"
                  "  containers:\n"
                  "  - name: a\n"
                  "    securityContext:\n"
                  "      runAsUser: 1\n"
                  "---\n",
                  "[{'op': 'add', 'path': '/spec/securityContext',"
                  "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}},"
                  " {'op': 'add', 'path': '/spec/containers/0/securityContext/seccompProfile',"
                  "  'value': {'type': 'RuntimeDefault'}}]",
                  "spec:\n"
                  "  containers:\n"
                  "  - name: a\n"
                  "    securityContext:\n"
                  "      runAsUser: 1\n"
                  "      seccompProfile:\n"
                  "        type: RuntimeDefault\n"
                  "  securityContext:\n"
                  "    seccompProfile:\n"
                  "      type: RuntimeDefault\n"
                  "---\n");
}

static void a_null_or_empty_security_context_is_replaced(void **state)
{
    (void)state;
    const char *patch = "[{'op': 'add', 'path': '/spec/securityContext',"
                        "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]";
#define REPLACED(comment)                                                                          \
    "spec:\n"                                                                                      \
    "  securityContext:" comment "\n"                                                              \
    "    seccompProfile:\n"                                                                        \
    "      type: RuntimeDefault\n"                                                                 \
    "  x: 1\n"
    assert_edited("spec:\n  securityContext: null  # none\n  x: 1\n", patch, REPLACED("  # none"));
    assert_edited("spec:\n  securityContext: ~\n  x: 1\n", patch, REPLACED(""));
    assert_edited("spec:\n  securityContext:\n  x: 1\n", patch, REPLACED(""));
#undef REPLACED
    /* `{}` is a flow mapping: the member goes inside, in flow style. */
    assert_edited("spec:\n  securityContext: {}\n  x: 1\n",
                  "[{'op': 'add', 'path': '/spec/securityContext/seccompProfile',"
                  "  'value': {'type': 'RuntimeDefault'}}]",
                  "spec:\n  securityContext: {seccompProfile: {type: RuntimeDefault}}\n  x: 1\n");
}

static void an_add_under_a_new_member_joins_its_text(void **state)
{
    (void)state;
    assert_edited("spec:\n  a: 1\n",
                  "[{'op': 'add', 'path': '/spec/securityContext', 'value': {}},"
                  " {'op': 'add', 'path': '/spec/securityContext/seccompProfile',"
                  "  'value': {'type': 'RuntimeDefault'}}]",
                  "spec:\n  a: 1\n  securityContext:\n    seccompProfile:\n"
                  "      type: RuntimeDefault\n");
}

static void the_last_line_without_newline_gets_one(void **state)
{
    (void)state;
    assert_edited("spec:\n  a: 1", "[{'op': 'add', 'path': '/spec/b', 'value': 'two words'}]",
                  "spec:\n  a: 1\n  b: \"two words\"\n");
}

static void crlf_files_get_crlf_lines(void **state)
{
    (void)state;
    assert_edited("spec:\r\n  a: 1\r\n",
                  "[{'op': 'add', 'path': '/spec/securityContext',"
                  "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]",
                  "spec:\r\n  a: 1\r\n  securityContext:\r\n    seccompProfile:\r\n"
                  "      type: RuntimeDefault\r\n");
}

/* ---------------------------------------------------------------------------------------- */
/* Edits: flow YAML and JSON                                                                  */

static void flow_mapping_removals_take_one_comma(void **state)
{
    (void)state;
    strlist notes = {0};
    char *out =
        edited("m: {a: 1, b: 2, c: 3, d: 4}\n",
               "[{'op': 'remove', 'path': '/m/b'}, {'op': 'remove', 'path': '/m/d'}]", &notes);
    assert_string_equal(out, "m: {a: 1, c: 3}\n");
    assert_int_equal(notes.count, 1);
    assert_string_equal(notes.items[0],
                        "1:4: note: members removed from a flow mapping, kept in flow style");
    free(out);
    strlist_free(&notes);
    assert_edited("m: {a: 1, b: 2}\n",
                  "[{'op': 'remove', 'path': '/m/a'}, {'op': 'remove', 'path': '/m/b'}]",
                  "m: {}\n");
    assert_edited("m: {a: 1, b: 2, c: 3}\n",
                  "[{'op': 'remove', 'path': '/m/a'}, {'op': 'remove', 'path': '/m/b'}]",
                  "m: {c: 3}\n");
}

static void flow_mapping_gets_members_in_flow_style(void **state)
{
    (void)state;
    assert_edited("containers:\n- {name: a, image: b}\n",
                  "[{'op': 'add', 'path': '/containers/0/securityContext',"
                  "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]",
                  "containers:\n- {name: a, image: b, securityContext: {seccompProfile: {type: "
                  "RuntimeDefault}}}\n");
}

static void json_laid_out_per_line_gets_lines_at_its_indentation(void **state)
{
    (void)state;
    assert_edited("{\n"
                  "    \"metadata\": {\n"
                  "        \"annotations\": {\n"
                  "            \"" POD_ANN "\": \"runtime/default\"\n"
                  "        },\n"
                  "        \"name\": \"p\"\n"
                  "    },\n"
                  "    \"spec\": {\n"
                  "        \"containers\": []\n"
                  "    }\n"
                  "}\n",
                  "[{'op': 'add', 'path': '/spec/securityContext',"
                  "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}},"
                  " {'op': 'remove', 'path': '/metadata/annotations/" POD_ANN_PTR "'}]",
                  "{\n"
                  "    \"metadata\": {\n"
                  "        \"annotations\": {},\n"
                  "        \"name\": \"p\"\n"
                  "    },\n"
                  "    \"spec\": {\n"
                  "        \"containers\": [],\n"
                  "        \"securityContext\": {\n"
                  "            \"seccompProfile\": {\n"
                  "                \"type\": \"RuntimeDefault\"\n"
                  "            }\n"
                  "        }\n"
                  "    }\n"
                  "}\n");
}

static void tab_indented_json_gets_tabs(void **state)
{
    (void)state;
    assert_edited("{\n\t\"spec\": {\n\t\t\"a\": 1\n\t}\n}\n",
                  "[{'op': 'add', 'path': '/spec/securityContext',"
                  "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]",
                  "{\n\t\"spec\": {\n\t\t\"a\": 1,\n"
                  "\t\t\"securityContext\": {\n"
                  "\t\t\t\"seccompProfile\": {\n"
                  "\t\t\t\t\"type\": \"RuntimeDefault\"\n"
                  "\t\t\t}\n"
                  "\t\t}\n"
                  "\t}\n}\n");
}

static void compact_json_stays_compact(void **state)
{
    (void)state;
    assert_edited("{\"a\":{\"x\":1,\"y\":2},\"s\":{}}",
                  "[{'op': 'remove', 'path': '/a/x'},"
                  " {'op': 'add', 'path': '/s/securityContext', 'value': {'k': 'v'}}]",
                  "{\"a\":{\"y\":2},\"s\":{\"securityContext\":{\"k\":\"v\"}}}");
    assert_edited("{\"a\": {\"x\": 1, \"y\": 2}}",
                  "[{'op': 'remove', 'path': '/a/y'}, {'op': 'add', 'path': '/a/z', 'value': 3}]",
                  "{\"a\": {\"x\": 1, \"z\": 3}}");
}

/* ---------------------------------------------------------------------------------------- */
/* Edits that cannot be made                                                                  */

static void an_edit_through_an_alias_is_refused_with_its_position(void **state)
{
    (void)state;
    manifest_error e =
        plan_fails("base: &b {x: 1}\nspec: *b\n", "[{'op': 'add', 'path': '/spec/y', 'value': 1}]");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 7);
    assert_non_null(strstr(e.message, "passes through an alias"));
    e = plan_fails("base: &b {x: 1}\nspec:\n  <<: *b\n", "[{'op': 'remove', 'path': '/spec/x'}]");
    assert_non_null(strstr(e.message, "not written out here"));
}

static void a_key_that_does_not_start_its_line_is_refused(void **state)
{
    (void)state;
    manifest_error e =
        plan_fails("items:\n- k: v\n  other: 1\n", "[{'op': 'remove', 'path': '/items/0/k'}]");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 3);
    assert_non_null(strstr(e.message, "does not start its line"));
}

static void a_null_in_a_flow_mapping_is_replaced_in_flow_style(void **state)
{
    (void)state;
    assert_edited("c: {name: a, securityContext: null}\n",
                  "[{'op': 'add', 'path': '/c/securityContext',"
                  "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]",
                  "c: {name: a, securityContext: {seccompProfile: {type: RuntimeDefault}}}\n");
}

static void an_emptied_mapping_with_an_anchor_is_refused(void **state)
{
    (void)state;
    manifest_error e = plan_fails("annotations: &a\n  k: v\ncopy: *a\n",
                                  "[{'op': 'remove', 'path': '/annotations/k'}]");
    assert_int_equal(e.line, 1);
    assert_non_null(strstr(e.message, "cannot write {}"));
}

static void overlapping_edits_are_reported(void **state)
{
    (void)state;
    manifest m;
    parse_ok("abcdef\n", &m);
    manifest_edits edits = {0};
    edits.items = calloc(2, sizeof *edits.items);
    assert_non_null(edits.items);
    edits.cap = 2;
    edits.items[0] = (manifest_edit){1, 4, strdup(""), 0, 0};
    edits.items[1] = (manifest_edit){2, 3, strdup("x"), 0, 1};
    edits.count = 2;
    manifest_error err;
    size_t len;
    assert_null(manifest_apply_edits(&m, &edits, &len, &err));
    assert_non_null(strstr(err.message, "overlap"));
    manifest_edits_free(&edits);
    manifest_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(yaml_nodes_carry_their_byte_ranges),
        cmocka_unit_test(yaml_offsets_are_bytes_after_multibyte_characters),
        cmocka_unit_test(yaml_block_scalar_ends_at_the_start_of_the_next_line),
        cmocka_unit_test(yaml_documents_are_split_on_separators),
        cmocka_unit_test(yaml_scalars_resolve_as_kubectl_reads_them),
        cmocka_unit_test(yaml_aliases_and_merge_keys_expand),
        cmocka_unit_test(yaml_merge_keys_apply_in_the_order_written),
        cmocka_unit_test(yaml_after_a_byte_order_mark),
        cmocka_unit_test(yaml_syntax_errors_have_line_and_column),
        cmocka_unit_test(yaml_alias_bombs_are_refused),
        cmocka_unit_test(json_is_read_strictly_with_positions),
        cmocka_unit_test(objects_are_documents_with_a_kind_and_list_items),
        cmocka_unit_test(objects_with_items_are_lists_whatever_their_kind),
        cmocka_unit_test(removing_an_annotation_deletes_its_line_only),
        cmocka_unit_test(removing_a_multi_line_value_deletes_all_its_lines),
        cmocka_unit_test(removing_every_annotation_leaves_an_empty_mapping),
        cmocka_unit_test(seccomp_profile_goes_under_an_existing_security_context),
        cmocka_unit_test(a_new_security_context_follows_the_last_key_of_a_container),
        cmocka_unit_test(nested_insertions_at_one_place_keep_the_inner_first),
        cmocka_unit_test(a_null_or_empty_security_context_is_replaced),
        cmocka_unit_test(an_add_under_a_new_member_joins_its_text),
        cmocka_unit_test(the_last_line_without_newline_gets_one),
        cmocka_unit_test(crlf_files_get_crlf_lines),
        cmocka_unit_test(flow_mapping_removals_take_one_comma),
        cmocka_unit_test(flow_mapping_gets_members_in_flow_style),
        cmocka_unit_test(json_laid_out_per_line_gets_lines_at_its_indentation),
        cmocka_unit_test(tab_indented_json_gets_tabs),
        cmocka_unit_test(compact_json_stays_compact),
        cmocka_unit_test(an_edit_through_an_alias_is_refused_with_its_position),
        cmocka_unit_test(a_key_that_does_not_start_its_line_is_refused),
        cmocka_unit_test(a_null_in_a_flow_mapping_is_replaced_in_flow_style),
        cmocka_unit_test(an_emptied_mapping_with_an_anchor_is_refused),
        cmocka_unit_test(overlapping_edits_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
