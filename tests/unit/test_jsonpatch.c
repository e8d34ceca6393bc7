/*
 * test_jsonpatch.c — JSON Pointer escaping (RFC 6901) and the recording of `add`/`remove`
 * operations (RFC 6902) on a working copy (SPEC §7.3: "escapes JSON Pointer tokens (~0, ~1),
 * never replaces a missing member").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "json.h"
#include "jsonpatch.h"

/* Assert that `actual` equals the JSON written in `expected` (single quotes). */
static void assert_json_equal(const cJSON *actual, const char *expected)
{
    cJSON *want = doc(expected);
    bool same = cJSON_Compare(actual, want, true);
    if (!same) {
        char *got = actual ? cJSON_PrintUnformatted(actual) : strdup("(null)");
        char *exp = cJSON_PrintUnformatted(want);
        print_error("expected %s\n     got %s\n", exp, got);
        free(got);
        free(exp);
    }
    cJSON_Delete(want);
    assert_true(same);
}

/* The pointer built by appending `token` to `base`. Owned by the caller. */
static char *pointer(const char *base, const char *token)
{
    strbuf sb = {0};
    sb_append(&sb, base);
    jsonpointer_append(&sb, token);
    char *s = sb_take(&sb);
    assert_non_null(s);
    return s;
}

static void assert_pointer(const char *base, const char *token, const char *expected)
{
    char *got = pointer(base, token);
    bool same = strcmp(got, expected) == 0;
    if (!same)
        print_error("token \"%s\": expected \"%s\", got \"%s\"\n", token, expected, got);
    free(got);
    assert_true(same);
}

/* ---------------------------------------------------------------------------------------- */
/* JSON Pointer                                                                              */

static void test_pointer_plain_token(void **state)
{
    (void)state;
    assert_pointer("", "spec", "/spec");
    assert_pointer("/spec", "securityContext", "/spec/securityContext");
}

static void test_pointer_escapes_tilde(void **state)
{
    (void)state;
    assert_pointer("", "a~b", "/a~0b");
    assert_pointer("", "~", "/~0");
    assert_pointer("", "~~", "/~0~0");
}

static void test_pointer_escapes_slash(void **state)
{
    (void)state;
    assert_pointer("/metadata/annotations", "seccomp.security.alpha.kubernetes.io/pod",
                   "/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod");
    assert_pointer("", "/", "/~1");
    assert_pointer("", "a//b", "/a~1~1b");
}

static void test_pointer_escapes_tilde_and_slash_in_one_token(void **state)
{
    (void)state;
    assert_pointer("", "a~b/c", "/a~0b~1c");
    assert_pointer("", "/~", "/~1~0");
}

static void test_pointer_token_tilde_one_becomes_tilde_zero_one(void **state)
{
    (void)state;
    /* RFC 6901 §4: a reader turns "~1" into '/' first, then "~0" into '~'. So the token "~1"
     * must be written "~01" (read back as "~1"), while "/" is written "~1". Escaping in two
     * passes with '/' first would turn "/" into "~01", which reads back as "~1". */
    assert_pointer("", "~1", "/~01");
    assert_pointer("", "/", "/~1");
    assert_pointer("", "~0", "/~00");
    assert_pointer("", "~01", "/~001");
}

static void test_pointer_empty_token(void **state)
{
    (void)state;
    assert_pointer("", "", "/");
    assert_pointer("/a", "", "/a/");
}

static void test_pointer_multibyte_token_unchanged(void **state)
{
    (void)state;
    assert_pointer("", "caf\xc3\xa9", "/caf\xc3\xa9");
}

static void test_pointer_index(void **state)
{
    (void)state;
    strbuf sb = {0};
    sb_append(&sb, "/spec/containers");
    jsonpointer_append_index(&sb, 0);
    jsonpointer_append_index(&sb, 12);
    char *s = sb_take(&sb);
    assert_non_null(s);
    bool same = strcmp(s, "/spec/containers/0/12") == 0;
    free(s);
    assert_true(same);
}

/* ---------------------------------------------------------------------------------------- */
/* add                                                                                       */

static void test_add_member_missing(void **state)
{
    (void)state;
    cJSON *root = doc("{'spec': {'containers': []}}");
    cJSON *spec = json_get(root, "spec");
    jsonpatch p = {0};
    jsonpatch_add_member(&p, spec, "/spec", "securityContext",
                         doc("{'seccompProfile': {'type': 'RuntimeDefault'}}"));
    assert_false(p.oom);
    assert_int_equal(jsonpatch_count(&p), 1);
    assert_json_equal(p.ops, "[{'op': 'add', 'path': '/spec/securityContext',"
                             "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
    assert_json_equal(root, "{'spec': {'containers': [],"
                            "          'securityContext': {'seccompProfile':"
                            "                              {'type': 'RuntimeDefault'}}}}");
    cJSON_Delete(p.ops);
    cJSON_Delete(root);
}

static void test_add_member_value_is_duplicated_into_op(void **state)
{
    (void)state;
    cJSON *root = doc("{}");
    jsonpatch p = {0};
    jsonpatch_add_member(&p, root, "", "a", doc("{'b': 1}"));
    assert_false(p.oom);
    /* Changing the document afterwards leaves the recorded value alone. */
    cJSON *in_doc = json_get(root, "a");
    cJSON *in_op = json_get(cJSON_GetArrayItem(p.ops, 0), "value");
    assert_ptr_not_equal(in_doc, in_op);
    cJSON_AddNumberToObject(in_doc, "c", 2);
    assert_json_equal(in_op, "{'b': 1}");
    assert_json_equal(root, "{'a': {'b': 1, 'c': 2}}");
    cJSON_Delete(p.ops);
    cJSON_Delete(root);
}

static void test_add_member_existing_records_add_and_replaces(void **state)
{
    (void)state;
    cJSON *root = doc("{'spec': {'securityContext': null, 'hostPID': false}}");
    cJSON *spec = json_get(root, "spec");
    jsonpatch p = {0};
    jsonpatch_add_member(&p, spec, "/spec", "securityContext", doc("{'runAsNonRoot': true}"));
    assert_false(p.oom);
    assert_json_equal(p.ops, "[{'op': 'add', 'path': '/spec/securityContext',"
                             "  'value': {'runAsNonRoot': true}}]");
    assert_json_equal(root, "{'spec': {'securityContext': {'runAsNonRoot': true},"
                            "          'hostPID': false}}");
    /* Replaced in place: still exactly one member of that name. */
    int n = 0;
    for (const cJSON *c = spec->child; c; c = c->next)
        n += strcmp(c->string, "securityContext") == 0;
    assert_int_equal(n, 1);
    cJSON_Delete(p.ops);
    cJSON_Delete(root);
}

static void test_add_member_escapes_key_in_path_only(void **state)
{
    (void)state;
    cJSON *root = doc("{'metadata': {'annotations': {}}}");
    cJSON *ann = json_get(json_get(root, "metadata"), "annotations");
    jsonpatch p = {0};
    jsonpatch_add_member(&p, ann, "/metadata/annotations", "example.com/a~b",
                         cJSON_CreateString("v"));
    assert_false(p.oom);
    assert_json_equal(p.ops, "[{'op': 'add', 'path': '/metadata/annotations/example.com~1a~0b',"
                             "  'value': 'v'}]");
    assert_string_equal(json_string(json_get(ann, "example.com/a~b")), "v");
    cJSON_Delete(p.ops);
    cJSON_Delete(root);
}

static void test_add_member_to_non_object_fails_without_leak(void **state)
{
    (void)state;
    cJSON *root = doc("{'list': [1]}");
    jsonpatch p = {0};
    jsonpatch_add_member(&p, json_get(root, "list"), "/list", "x", cJSON_CreateNumber(1));
    assert_true(p.oom);
    assert_int_equal(jsonpatch_count(&p), 0);
    assert_json_equal(root, "{'list': [1]}");
    cJSON_Delete(p.ops);
    cJSON_Delete(root);
}

/* ---------------------------------------------------------------------------------------- */
/* remove                                                                                    */

static void test_remove_member_recorded(void **state)
{
    (void)state;
    cJSON *root = doc("{'metadata': {'annotations': {"
                      "  'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default',"
                      "  'team': 'a'}}}");
    cJSON *ann = json_get(json_get(root, "metadata"), "annotations");
    jsonpatch p = {0};
    jsonpatch_remove_member(&p, ann, "/metadata/annotations",
                            "seccomp.security.alpha.kubernetes.io/pod");
    assert_false(p.oom);
    assert_json_equal(p.ops,
                      "[{'op': 'remove', 'path':"
                      "  '/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod'}]");
    assert_json_equal(root, "{'metadata': {'annotations': {'team': 'a'}}}");
    cJSON_Delete(p.ops);
    cJSON_Delete(root);
}

static void test_remove_member_absent_records_nothing(void **state)
{
    (void)state;
    cJSON *root = doc("{'a': 1}");
    jsonpatch p = {0};
    jsonpatch_remove_member(&p, root, "", "b");
    jsonpatch_remove_member(&p, root, "", "A"); /* case-sensitive: "a" stays */
    assert_false(p.oom);
    assert_null(p.ops);
    assert_int_equal(jsonpatch_count(&p), 0);
    assert_json_equal(root, "{'a': 1}");
    cJSON_Delete(root);
}

static void test_remove_member_of_non_object_records_nothing(void **state)
{
    (void)state;
    cJSON *root = doc("{'a': [1]}");
    jsonpatch p = {0};
    jsonpatch_remove_member(&p, json_get(root, "a"), "/a", "0");
    jsonpatch_remove_member(&p, NULL, "/none", "x");
    assert_false(p.oom);
    assert_int_equal(jsonpatch_count(&p), 0);
    assert_json_equal(root, "{'a': [1]}");
    cJSON_Delete(root);
}

static void test_operations_recorded_in_order(void **state)
{
    (void)state;
    cJSON *root = doc("{'x': 1}");
    jsonpatch p = {0};
    jsonpatch_add_member(&p, root, "", "y", cJSON_CreateNumber(2));
    jsonpatch_remove_member(&p, root, "", "x");
    jsonpatch_add_member(&p, root, "", "x", cJSON_CreateNumber(3));
    assert_false(p.oom);
    assert_int_equal(jsonpatch_count(&p), 3);
    assert_json_equal(p.ops, "[{'op': 'add', 'path': '/y', 'value': 2},"
                             " {'op': 'remove', 'path': '/x'},"
                             " {'op': 'add', 'path': '/x', 'value': 3}]");
    assert_json_equal(root, "{'y': 2, 'x': 3}");
    cJSON_Delete(p.ops);
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pointer_plain_token),
        cmocka_unit_test(test_pointer_escapes_tilde),
        cmocka_unit_test(test_pointer_escapes_slash),
        cmocka_unit_test(test_pointer_escapes_tilde_and_slash_in_one_token),
        cmocka_unit_test(test_pointer_token_tilde_one_becomes_tilde_zero_one),
        cmocka_unit_test(test_pointer_empty_token),
        cmocka_unit_test(test_pointer_multibyte_token_unchanged),
        cmocka_unit_test(test_pointer_index),
        cmocka_unit_test(test_add_member_missing),
        cmocka_unit_test(test_add_member_value_is_duplicated_into_op),
        cmocka_unit_test(test_add_member_existing_records_add_and_replaces),
        cmocka_unit_test(test_add_member_escapes_key_in_path_only),
        cmocka_unit_test(test_add_member_to_non_object_fails_without_leak),
        cmocka_unit_test(test_remove_member_recorded),
        cmocka_unit_test(test_remove_member_absent_records_nothing),
        cmocka_unit_test(test_remove_member_of_non_object_records_nothing),
        cmocka_unit_test(test_operations_recorded_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
