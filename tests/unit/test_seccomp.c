/*
 * test_seccomp.c — the seccomp vocabulary of the Kubernetes API: alpha annotation values, the
 * securityContext.seccompProfile field, and when the two agree (SPEC §7.2, §7.3;
 * LESSONS #16, #17, #19).
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
#include "seccomp_api.h"

/* ---------------------------------------------------------------------------------------- */
/* seccomp_annotation_parse                                                                  */

static void test_annotation_runtime_default(void **state)
{
    (void)state;
    seccomp_annotation a = seccomp_annotation_parse("runtime/default");
    assert_true(a.valid);
    assert_int_equal(a.type, PROFILE_RUNTIME_DEFAULT);
    assert_null(a.localhost);
}

static void test_annotation_docker_default_is_runtime_default(void **state)
{
    (void)state;
    seccomp_annotation a = seccomp_annotation_parse("docker/default");
    assert_true(a.valid);
    assert_int_equal(a.type, PROFILE_RUNTIME_DEFAULT);
    assert_null(a.localhost);
}

static void test_annotation_unconfined(void **state)
{
    (void)state;
    seccomp_annotation a = seccomp_annotation_parse("unconfined");
    assert_true(a.valid);
    assert_int_equal(a.type, PROFILE_UNCONFINED);
    assert_null(a.localhost);
}

static void test_annotation_localhost_with_path(void **state)
{
    (void)state;
    const char *value = "localhost/a/b.json";
    seccomp_annotation a = seccomp_annotation_parse(value);
    assert_true(a.valid);
    assert_int_equal(a.type, PROFILE_LOCALHOST);
    assert_string_equal(a.localhost, "a/b.json");
    assert_ptr_equal(a.localhost, value + strlen("localhost/")); /* borrowed from the value */
}

static void test_annotation_localhost_with_empty_path_is_valid(void **state)
{
    (void)state;
    /* The API accepts "localhost/" as a value; the empty path is judged by the path rules. */
    seccomp_annotation a = seccomp_annotation_parse("localhost/");
    assert_true(a.valid);
    assert_int_equal(a.type, PROFILE_LOCALHOST);
    assert_non_null(a.localhost);
    assert_string_equal(a.localhost, "");
}

static void test_annotation_wrong_case_invalid(void **state)
{
    (void)state;
    const char *values[] = {"Runtime/Default", "RUNTIME/DEFAULT",  "Unconfined",
                            "Docker/default",  "Localhost/a.json", "LOCALHOST/a.json"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        seccomp_annotation a = seccomp_annotation_parse(values[i]);
        if (a.valid)
            print_error("accepted \"%s\"\n", values[i]);
        assert_false(a.valid);
        assert_int_equal(a.type, PROFILE_NONE);
    }
}

static void test_annotation_misspelled_invalid(void **state)
{
    (void)state;
    const char *values[] = {"runtime/defualt", "runtime/default ", " runtime/default", "runtime/",
                            "docker",          "unconfined/",      "RuntimeDefault"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        seccomp_annotation a = seccomp_annotation_parse(values[i]);
        if (a.valid)
            print_error("accepted \"%s\"\n", values[i]);
        assert_false(a.valid);
    }
}

static void test_annotation_empty_invalid(void **state)
{
    (void)state;
    seccomp_annotation a = seccomp_annotation_parse("");
    assert_false(a.valid);
    assert_int_equal(a.type, PROFILE_NONE);
}

static void test_annotation_localhost_without_slash_invalid(void **state)
{
    (void)state;
    seccomp_annotation a = seccomp_annotation_parse("localhost");
    assert_false(a.valid);
    assert_null(a.localhost);
}

/* ---------------------------------------------------------------------------------------- */
/* seccomp_field_matches_annotation                                                          */

static seccomp_field field(profile_type t, const char *localhost)
{
    seccomp_field f = {0};
    f.set = true;
    f.type = t;
    f.type_text = profile_type_name(t);
    f.localhost = localhost;
    return f;
}

static void test_runtime_default_matches_both_default_annotations(void **state)
{
    (void)state;
    seccomp_field f = field(PROFILE_RUNTIME_DEFAULT, NULL);
    assert_true(seccomp_field_matches_annotation(&f, "runtime/default"));
    assert_true(seccomp_field_matches_annotation(&f, "docker/default"));
    assert_false(seccomp_field_matches_annotation(&f, "unconfined"));
    assert_false(seccomp_field_matches_annotation(&f, "localhost/a.json"));
    assert_false(seccomp_field_matches_annotation(&f, "Runtime/Default"));
}

static void test_localhost_matches_exact_path_only(void **state)
{
    (void)state;
    seccomp_field f = field(PROFILE_LOCALHOST, "profiles/a.json");
    assert_true(seccomp_field_matches_annotation(&f, "localhost/profiles/a.json"));
    assert_false(seccomp_field_matches_annotation(&f, "localhost/profiles/b.json"));
    assert_false(seccomp_field_matches_annotation(&f, "localhost/profiles/a.json/"));
    assert_false(seccomp_field_matches_annotation(&f, "localhost/profiles/./a.json"));
    assert_false(seccomp_field_matches_annotation(&f, "localhost/"));
    assert_false(seccomp_field_matches_annotation(&f, "runtime/default"));
}

static void test_localhost_without_profile_matches_nothing(void **state)
{
    (void)state;
    seccomp_field f = field(PROFILE_LOCALHOST, NULL);
    assert_false(seccomp_field_matches_annotation(&f, "localhost/"));
    assert_false(seccomp_field_matches_annotation(&f, "localhost/a.json"));
    assert_false(seccomp_field_matches_annotation(&f, "runtime/default"));
    assert_false(seccomp_field_matches_annotation(&f, "unconfined"));
}

static void test_localhost_empty_profile_matches_empty_annotation_path(void **state)
{
    (void)state;
    /* Both spell the same (bad) empty path; the path rules reject it elsewhere. */
    seccomp_field f = field(PROFILE_LOCALHOST, "");
    assert_true(seccomp_field_matches_annotation(&f, "localhost/"));
    assert_false(seccomp_field_matches_annotation(&f, "localhost/a.json"));
}

static void test_unconfined_matches_unconfined_only(void **state)
{
    (void)state;
    seccomp_field f = field(PROFILE_UNCONFINED, NULL);
    assert_true(seccomp_field_matches_annotation(&f, "unconfined"));
    assert_false(seccomp_field_matches_annotation(&f, "runtime/default"));
    assert_false(seccomp_field_matches_annotation(&f, "docker/default"));
    assert_false(seccomp_field_matches_annotation(&f, "Unconfined"));

    seccomp_field rd = field(PROFILE_RUNTIME_DEFAULT, NULL);
    assert_false(seccomp_field_matches_annotation(&rd, "unconfined"));
}

static void test_unknown_field_type_matches_nothing(void **state)
{
    (void)state;
    seccomp_field f = {0};
    f.set = true;
    f.type = PROFILE_NONE;
    f.type_text = "runtime/default";
    assert_false(seccomp_field_matches_annotation(&f, "runtime/default"));
    assert_false(seccomp_field_matches_annotation(&f, "bogus"));
}

/* ---------------------------------------------------------------------------------------- */
/* seccomp_field_read                                                                        */

/* The securityContext last read: the strings of a seccomp_field borrow from it, so it lives
 * until the next read_sc() or the end of the test (free_tree, the teardown). */
static cJSON *tree;

static int free_tree(void **state)
{
    (void)state;
    cJSON_Delete(tree);
    tree = NULL;
    return 0;
}

/* seccomp_field_read on `securityContext` written as single-quoted JSON, or NULL for an absent
 * one. */
static int read_sc(const char *json, seccomp_field *f, const char **why)
{
    free_tree(NULL);
    tree = json ? doc(json) : NULL;
    return seccomp_field_read(tree, f, why);
}

static void test_field_read_absent_security_context(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc(NULL, &f, &why), 0);
    assert_false(f.set);
    assert_int_equal(f.type, PROFILE_NONE);
    assert_null(why);
}

static void test_field_read_null_security_context(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc("null", &f, &why), 0);
    assert_false(f.set);
}

static void test_field_read_absent_and_null_profile(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc("{}", &f, &why), 0);
    assert_false(f.set);
    assert_int_equal(read_sc("{'runAsNonRoot': true}", &f, &why), 0);
    assert_false(f.set);
    assert_int_equal(read_sc("{'seccompProfile': null}", &f, &why), 0);
    assert_false(f.set);
    assert_null(why);
}

static void test_field_read_empty_profile_is_set_without_type(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc("{'seccompProfile': {}}", &f, &why), 0);
    assert_true(f.set);
    assert_int_equal(f.type, PROFILE_NONE);
    assert_null(f.type_text);
    assert_null(f.localhost);
}

static void test_field_read_each_type(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc("{'seccompProfile': {'type': 'RuntimeDefault'}}", &f, &why), 0);
    assert_true(f.set);
    assert_int_equal(f.type, PROFILE_RUNTIME_DEFAULT);
    assert_string_equal(f.type_text, "RuntimeDefault");

    assert_int_equal(read_sc("{'seccompProfile': {'type': 'Unconfined'}}", &f, &why), 0);
    assert_int_equal(f.type, PROFILE_UNCONFINED);

    assert_int_equal(
        read_sc("{'seccompProfile': {'type': 'Localhost', 'localhostProfile': 'p/a.json'}}", &f,
                &why),
        0);
    assert_int_equal(f.type, PROFILE_LOCALHOST);
    assert_string_equal(f.localhost, "p/a.json");
}

static void test_field_read_localhost_without_profile(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc("{'seccompProfile': {'type': 'Localhost'}}", &f, &why), 0);
    assert_int_equal(f.type, PROFILE_LOCALHOST);
    assert_null(f.localhost);
    assert_int_equal(
        read_sc("{'seccompProfile': {'type': 'Localhost', 'localhostProfile': null}}", &f, &why),
        0);
    assert_null(f.localhost);
}

static void test_field_read_unknown_type_text_kept(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc("{'seccompProfile': {'type': 'runtimedefault'}}", &f, &why), 0);
    assert_true(f.set);
    assert_int_equal(f.type, PROFILE_NONE);
    assert_string_equal(f.type_text, "runtimedefault");
}

static void test_field_read_type_key_is_case_sensitive(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc("{'seccompProfile': {'Type': 'Unconfined'}}", &f, &why), 0);
    assert_true(f.set);
    assert_int_equal(f.type, PROFILE_NONE);
    assert_null(f.type_text);
    assert_int_equal(read_sc("{'SeccompProfile': {'type': 'Unconfined'}}", &f, &why), 0);
    assert_false(f.set);
}

static void test_field_read_profile_wrong_type(void **state)
{
    (void)state;
    const char *cases[] = {"{'seccompProfile': 'RuntimeDefault'}", "{'seccompProfile': []}",
                           "{'seccompProfile': 1}", "{'seccompProfile': true}"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seccomp_field f;
        const char *why = NULL;
        assert_int_equal(read_sc(cases[i], &f, &why), -1);
        assert_non_null(why);
        assert_non_null(strstr(why, "seccompProfile is not an object"));
    }
}

static void test_field_read_type_wrong_type(void **state)
{
    (void)state;
    const char *cases[] = {
        "{'seccompProfile': {'type': 1}}", "{'seccompProfile': {'type': ['RuntimeDefault']}}",
        "{'seccompProfile': {'type': {}}}", "{'seccompProfile': {'type': false}}"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seccomp_field f;
        const char *why = NULL;
        assert_int_equal(read_sc(cases[i], &f, &why), -1);
        assert_non_null(why);
        assert_non_null(strstr(why, "type is not a string"));
    }
}

static void test_field_read_localhost_profile_wrong_type(void **state)
{
    (void)state;
    const char *cases[] = {"{'seccompProfile': {'type': 'Localhost', 'localhostProfile': 1}}",
                           "{'seccompProfile': {'type': 'Localhost', 'localhostProfile': {}}}",
                           "{'seccompProfile': {'type': 'Localhost', 'localhostProfile': ['a']}}"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seccomp_field f;
        const char *why = NULL;
        assert_int_equal(read_sc(cases[i], &f, &why), -1);
        assert_non_null(why);
        assert_non_null(strstr(why, "localhostProfile is not a string"));
    }
}

static void test_field_read_null_type_is_missing(void **state)
{
    (void)state;
    seccomp_field f;
    const char *why = NULL;
    assert_int_equal(read_sc("{'seccompProfile': {'type': null}}", &f, &why), 0);
    assert_true(f.set);
    assert_int_equal(f.type, PROFILE_NONE);
    assert_null(f.type_text);
}

/* ---------------------------------------------------------------------------------------- */
/* Names and JSON                                                                            */

static void test_profile_type_names(void **state)
{
    (void)state;
    assert_string_equal(profile_type_name(PROFILE_RUNTIME_DEFAULT), "RuntimeDefault");
    assert_string_equal(profile_type_name(PROFILE_LOCALHOST), "Localhost");
    assert_string_equal(profile_type_name(PROFILE_UNCONFINED), "Unconfined");
    assert_string_equal(profile_type_name(PROFILE_NONE), "none");
}

static void test_profile_json(void **state)
{
    (void)state;
    cJSON *rd = seccomp_profile_json(PROFILE_RUNTIME_DEFAULT, NULL);
    cJSON *want_rd = doc("{'type': 'RuntimeDefault'}");
    bool same_rd = cJSON_Compare(rd, want_rd, true);
    cJSON *lh = seccomp_profile_json(PROFILE_LOCALHOST, "p/a.json");
    cJSON *want_lh = doc("{'type': 'Localhost', 'localhostProfile': 'p/a.json'}");
    bool same_lh = cJSON_Compare(lh, want_lh, true);
    cJSON_Delete(rd);
    cJSON_Delete(want_rd);
    cJSON_Delete(lh);
    cJSON_Delete(want_lh);
    assert_true(same_rd);
    assert_true(same_lh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_annotation_runtime_default),
        cmocka_unit_test(test_annotation_docker_default_is_runtime_default),
        cmocka_unit_test(test_annotation_unconfined),
        cmocka_unit_test(test_annotation_localhost_with_path),
        cmocka_unit_test(test_annotation_localhost_with_empty_path_is_valid),
        cmocka_unit_test(test_annotation_wrong_case_invalid),
        cmocka_unit_test(test_annotation_misspelled_invalid),
        cmocka_unit_test(test_annotation_empty_invalid),
        cmocka_unit_test(test_annotation_localhost_without_slash_invalid),
        cmocka_unit_test(test_runtime_default_matches_both_default_annotations),
        cmocka_unit_test(test_localhost_matches_exact_path_only),
        cmocka_unit_test(test_localhost_without_profile_matches_nothing),
        cmocka_unit_test(test_localhost_empty_profile_matches_empty_annotation_path),
        cmocka_unit_test(test_unconfined_matches_unconfined_only),
        cmocka_unit_test(test_unknown_field_type_matches_nothing),
        cmocka_unit_test_teardown(test_field_read_absent_security_context, free_tree),
        cmocka_unit_test_teardown(test_field_read_null_security_context, free_tree),
        cmocka_unit_test_teardown(test_field_read_absent_and_null_profile, free_tree),
        cmocka_unit_test_teardown(test_field_read_empty_profile_is_set_without_type, free_tree),
        cmocka_unit_test_teardown(test_field_read_each_type, free_tree),
        cmocka_unit_test_teardown(test_field_read_localhost_without_profile, free_tree),
        cmocka_unit_test_teardown(test_field_read_unknown_type_text_kept, free_tree),
        cmocka_unit_test_teardown(test_field_read_type_key_is_case_sensitive, free_tree),
        cmocka_unit_test_teardown(test_field_read_profile_wrong_type, free_tree),
        cmocka_unit_test_teardown(test_field_read_type_wrong_type, free_tree),
        cmocka_unit_test_teardown(test_field_read_localhost_profile_wrong_type, free_tree),
        cmocka_unit_test_teardown(test_field_read_null_type_is_missing, free_tree),
        cmocka_unit_test(test_profile_type_names),
        cmocka_unit_test(test_profile_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
