/*
 * test_localhost.c — Localhost profile paths (SPEC §6 items 1–2; LESSONS #18, #19): which
 * paths are acceptable at all, and which the namespace's allowedLocalhostProfiles allow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "localhost.h"

/* ---------------------------------------------------------------------------------------- */
/* localhost_path_problem                                                                    */

static void assert_path_refused(const char *path, const char *why_contains)
{
    const char *problem = localhost_path_problem(path);
    if (!problem)
        print_error("path \"%s\" accepted\n", path);
    assert_non_null(problem);
    if (!strstr(problem, why_contains))
        print_error("path \"%s\": \"%s\" does not mention \"%s\"\n", path, problem, why_contains);
    assert_non_null(strstr(problem, why_contains));
}

static void assert_path_accepted(const char *path)
{
    const char *problem = localhost_path_problem(path);
    if (problem)
        print_error("path \"%s\" refused: %s\n", path, problem);
    assert_null(problem);
}

static void test_path_empty_refused(void **state)
{
    (void)state;
    assert_path_refused("", "empty");
}

static void test_path_absolute_refused(void **state)
{
    (void)state;
    assert_path_refused("/abs.json", "relative");
    assert_path_refused("/var/lib/kubelet/seccomp/a.json", "relative");
}

static void test_path_dot_dot_refused(void **state)
{
    (void)state;
    assert_path_refused("../x.json", "..");
    assert_path_refused("a/../b", "..");
    assert_path_refused("a/..", "..");
    assert_path_refused("..", "..");
    assert_path_refused("../../dev/mem", "..");
}

static void test_path_dot_segment_refused(void **state)
{
    (void)state;
    assert_path_refused("a/./b", "'.'");
    assert_path_refused(".", "'.'");
    assert_path_refused("./a.json", "'.'");
    assert_path_refused("a/.", "'.'");
}

static void test_path_empty_segment_refused(void **state)
{
    (void)state;
    assert_path_refused("a//b", "empty segments");
}

static void test_path_trailing_slash_refused(void **state)
{
    (void)state;
    assert_path_refused("a/", "empty segments");
    assert_path_refused("profiles/team-a/", "empty segments");
}

static void test_path_control_character_refused(void **state)
{
    (void)state;
    assert_path_refused("a\nb.json", "control");
    assert_path_refused("a\tb.json", "control");
    assert_path_refused("a\x7f.json", "control");
    assert_path_refused("\x1b[31ma.json", "control");
}

static void test_path_c1_control_character_refused(void **state)
{
    (void)state;
    /* U+0080..U+009F are control characters too (Unicode category Cc), and the rest of the
     * engine treats them so (sb_append_escaped escapes them). U+0085 is NEL, a line break. */
    assert_path_refused("p/\xc2\x85.json", "control");
    assert_path_refused("p/a\xc2\x9b"
                        "31m.json",
                        "control");
}

static void test_path_plain_file_accepted(void **state)
{
    (void)state;
    assert_path_accepted("a.json");
}

static void test_path_nested_accepted(void **state)
{
    (void)state;
    assert_path_accepted("profiles/team-a/x.json");
    assert_path_accepted("operator/my-ns/profile1.json");
}

static void test_path_segment_starting_with_dots_accepted(void **state)
{
    (void)state;
    assert_path_accepted("..foo/x.json");
    assert_path_accepted(".hidden.json");
    assert_path_accepted("a/...");
    assert_path_accepted("a/.b/c..json");
}

static void test_path_multibyte_accepted(void **state)
{
    (void)state;
    assert_path_accepted("profils/\xc3\xa9quipe.json");
}

/* ---------------------------------------------------------------------------------------- */
/* localhost_allowed                                                                         */

/* localhost_allowed with the globs given (NULL-terminated), failing the test on OOM. */
static bool allowed(const char *ns, const char *path, ...)
{
    char *items[16];
    policy_list l = {items, 0};
    va_list ap;
    va_start(ap, path);
    for (const char *g; (g = va_arg(ap, const char *)) != NULL;) {
        assert_true(l.count < sizeof items / sizeof items[0]);
        items[l.count] = strdup(g);
        assert_non_null(items[l.count]);
        l.count++;
    }
    va_end(ap);
    bool oom = false;
    bool ok = localhost_allowed(&l, ns, path, &oom);
    for (size_t i = 0; i < l.count; i++)
        free(items[i]);
    assert_false(oom);
    return ok;
}

static void test_allowed_exact_path(void **state)
{
    (void)state;
    assert_true(allowed("ns", "profiles/a.json", "profiles/a.json", NULL));
    assert_false(allowed("ns", "profiles/b.json", "profiles/a.json", NULL));
}

static void test_allowed_star_does_not_cross_slash(void **state)
{
    (void)state;
    assert_true(allowed("ns", "profiles/x.json", "profiles/*.json", NULL));
    assert_false(allowed("ns", "profiles/sub/x.json", "profiles/*.json", NULL));
    assert_false(allowed("ns", "profiles/x.json", "*", NULL));
    assert_true(allowed("ns", "profiles/sub/x.json", "profiles/*/*.json", NULL));
}

static void test_allowed_question_mark_and_class_do_not_cross_slash(void **state)
{
    (void)state;
    assert_true(allowed("ns", "p/a.json", "p/?.json", NULL));
    assert_false(allowed("ns", "p//.json", "p?/.json", NULL));
    assert_false(allowed("ns", "p/a.json", "p[/]a.json", NULL));
}

static void test_allowed_namespace_substitution(void **state)
{
    (void)state;
    const char *g = "profiles/{namespace}/*.json";
    assert_true(allowed("team-a", "profiles/team-a/x.json", g, NULL));
    assert_false(allowed("team-a", "profiles/team-b/x.json", g, NULL));
    assert_false(allowed("team-a", "profiles/team-a/sub/x.json", g, NULL));
    assert_false(allowed("team-a", "profiles/{namespace}/x.json", g, NULL));
}

static void test_allowed_namespace_substituted_every_time(void **state)
{
    (void)state;
    const char *g = "{namespace}/profiles/{namespace}-*.json";
    assert_true(allowed("team-a", "team-a/profiles/team-a-web.json", g, NULL));
    assert_false(allowed("team-a", "team-a/profiles/team-b-web.json", g, NULL));
    assert_false(allowed("team-a", "team-b/profiles/team-a-web.json", g, NULL));
}

static void test_allowed_namespace_glob_characters_match_literally(void **state)
{
    (void)state;
    const char *g = "profiles/{namespace}/x.json";
    assert_true(allowed("a*", "profiles/a*/x.json", g, NULL));
    assert_false(allowed("a*", "profiles/abc/x.json", g, NULL));
    assert_false(allowed("a?", "profiles/ab/x.json", g, NULL));
    assert_true(allowed("a?", "profiles/a?/x.json", g, NULL));
    assert_false(allowed("[ab]", "profiles/a/x.json", g, NULL));
    assert_true(allowed("[ab]", "profiles/[ab]/x.json", g, NULL));
    assert_false(allowed("a\\", "profiles/a/x.json", g, NULL));
    assert_true(allowed("a\\", "profiles/a\\/x.json", g, NULL));
}

static void test_allowed_any_of_several_globs(void **state)
{
    (void)state;
    assert_true(allowed("ns", "b/x.json", "a/*.json", "b/*.json", NULL));
    assert_false(allowed("ns", "c/x.json", "a/*.json", "b/*.json", NULL));
}

static void test_allowed_empty_list_allows_nothing(void **state)
{
    (void)state;
    assert_false(allowed("ns", "a.json", NULL));
    assert_false(allowed("ns", "", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_empty_refused),
        cmocka_unit_test(test_path_absolute_refused),
        cmocka_unit_test(test_path_dot_dot_refused),
        cmocka_unit_test(test_path_dot_segment_refused),
        cmocka_unit_test(test_path_empty_segment_refused),
        cmocka_unit_test(test_path_trailing_slash_refused),
        cmocka_unit_test(test_path_control_character_refused),
        cmocka_unit_test(test_path_c1_control_character_refused),
        cmocka_unit_test(test_path_plain_file_accepted),
        cmocka_unit_test(test_path_nested_accepted),
        cmocka_unit_test(test_path_segment_starting_with_dots_accepted),
        cmocka_unit_test(test_path_multibyte_accepted),
        cmocka_unit_test(test_allowed_exact_path),
        cmocka_unit_test(test_allowed_star_does_not_cross_slash),
        cmocka_unit_test(test_allowed_question_mark_and_class_do_not_cross_slash),
        cmocka_unit_test(test_allowed_namespace_substitution),
        cmocka_unit_test(test_allowed_namespace_substituted_every_time),
        cmocka_unit_test(test_allowed_namespace_glob_characters_match_literally),
        cmocka_unit_test(test_allowed_any_of_several_globs),
        cmocka_unit_test(test_allowed_empty_list_allows_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
