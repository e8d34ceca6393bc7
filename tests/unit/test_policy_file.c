/*
 * test_policy_file.c — the policy file (SPEC §5): built-in values, decoding, inheritance in
 * namespace rules, rule matching, and every decoding error with its exact line:column.
 *
 * Policies are written inline; HDR (apiVersion and kind) takes lines 1 and 2, so the first
 * line a test writes after it is line 3.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define HDR   "apiVersion: seccomp-webhook/v1\nkind: SeccompPolicy\n"
#define FNAME "test.yaml"

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

static policy *parse_ok(const char *yaml)
{
    policy_errors e = {NULL, 0};
    policy *p = policy_parse(yaml, strlen(yaml), FNAME, &e);
    for (size_t i = 0; i < e.count; i++)
        print_message("unexpected error %u:%u: %s\n", e.items[i].line, e.items[i].column,
                      e.items[i].message);
    assert_int_equal(e.count, 0);
    assert_non_null(p);
    policy_errors_free(&e);
    return p;
}

/* Parse text that must be refused; the caller frees the errors. */
static policy_errors parse_bad_n(const char *yaml, size_t len)
{
    policy_errors e = {NULL, 0};
    policy *p = policy_parse(yaml, len, FNAME, &e);
    assert_null(p);
    assert_true(e.count > 0);
    return e;
}

static policy_errors parse_bad(const char *yaml)
{
    return parse_bad_n(yaml, strlen(yaml));
}

static void assert_error(const policy_errors *e, size_t i, unsigned line, unsigned col,
                         const char *fragment)
{
    assert_true(i < e->count);
    const policy_error *x = &e->items[i];
    if (x->line != line || x->column != col || !strstr(x->message, fragment))
        print_message("error %zu is %u:%u: %s\n  wanted %u:%u with \"%s\"\n", i, x->line, x->column,
                      x->message, line, col, fragment);
    assert_string_equal(x->file, FNAME);
    assert_int_equal(x->line, line);
    assert_int_equal(x->column, col);
    assert_non_null(strstr(x->message, fragment));
}

/* The text must give exactly one error, at line:col, whose message holds `fragment`. */
static void expect_one_error(const char *yaml, unsigned line, unsigned col, const char *fragment)
{
    policy_errors e = parse_bad(yaml);
    for (size_t i = 0; e.count != 1 && i < e.count; i++)
        print_message("error %u:%u: %s\n", e.items[i].line, e.items[i].column, e.items[i].message);
    assert_int_equal(e.count, 1);
    assert_error(&e, 0, line, col, fragment);
    policy_errors_free(&e);
}

static void assert_list(const policy_list *l, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    assert_int_equal(l->count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->items[i], va_arg(ap, const char *));
    va_end(ap);
}

/* A scratch directory for the file tests; removed by the test. */
static char *scratch_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/test_policy_file.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* ---------------------------------------------------------------------------------------------
 * Built-in policy and valid files
 * ------------------------------------------------------------------------------------------- */

static void test_builtin_policy_has_spec_values(void **state)
{
    (void)state;
    policy *p = policy_builtin();
    assert_non_null(p);
    assert_int_equal(p->defaults.mode, POLICY_MODE_ENFORCE);
    assert_int_equal(p->defaults.default_profile, PROFILE_RUNTIME_DEFAULT);
    assert_null(p->defaults.default_localhost);
    assert_true(p->defaults.migrate_annotations);
    assert_false(p->defaults.allow_unconfined);
    assert_int_equal(p->defaults.allowed_localhost_profiles.count, 0);
    assert_false(p->defaults.mutate_templates);
    assert_int_equal(p->rule_count, 0);
    assert_list(&p->exempt_namespaces, 1, "kube-system");
    assert_int_equal(p->exempt_usernames.count, 0);
    assert_int_equal(p->exempt_runtime_classes.count, 0);
    assert_false(p->profiles.present);
    assert_string_equal(p->hash, "builtin");
    policy_free(p);
}

static void test_minimal_file_takes_builtin_values(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR);
    assert_int_equal(p->defaults.mode, POLICY_MODE_ENFORCE);
    assert_int_equal(p->defaults.default_profile, PROFILE_RUNTIME_DEFAULT);
    assert_true(p->defaults.migrate_annotations);
    assert_false(p->defaults.allow_unconfined);
    assert_int_equal(p->defaults.allowed_localhost_profiles.count, 0);
    assert_false(p->defaults.mutate_templates);
    assert_int_equal(p->rule_count, 0);
    assert_list(&p->exempt_namespaces, 1, "kube-system");
    assert_int_equal(p->exempt_usernames.count, 0);
    assert_int_equal(p->exempt_runtime_classes.count, 0);
    assert_false(p->profiles.present);
    policy_free(p);
}

static void test_hash_is_sha256_of_the_file_bytes(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR); /* printf '%s' HDR | sha256sum */
    assert_string_equal(p->hash,
                        "sha256:50e6fcba7becd59c3422b6c5368be3aeb96910c47ff8a0197b70b70847c0de06");
    policy_free(p);
}

static void test_full_file_with_every_section(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "defaults:\n"
                             "  mode: warn\n"
                             "  defaultProfile:\n"
                             "    type: Localhost\n"
                             "    localhostProfile: operator/default.json\n"
                             "  migrateAnnotations: false\n"
                             "  allowUnconfined: true\n"
                             "  allowedLocalhostProfiles: [\"operator/*.json\", \"shared/*\"]\n"
                             "  mutateTemplates: true\n"
                             "namespaces:\n"
                             "  - match: [\"legacy-*\", \"batch\"]\n"
                             "    mode: audit\n"
                             "  - match: [team-a]\n"
                             "    allowedLocalhostProfiles:\n"
                             "      - \"operator/{namespace}/*.json\"\n"
                             "      - operator/default.json\n"
                             "exemptions:\n"
                             "  namespaces: [kube-system, monitoring]\n"
                             "  usernames: [\"system:serviceaccount:ci:deployer\"]\n"
                             "  runtimeClasses: [kata]\n"
                             "profiles:\n"
                             "  directory: /var/lib/kubelet/seccomp\n"
                             "  architectures: [SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64]\n"
                             "  requireDefaultDeny: false\n"
                             "  forbiddenSyscalls: [kexec_load, bpf]\n");
    const policy_settings *d = &p->defaults;
    assert_int_equal(d->mode, POLICY_MODE_WARN);
    assert_int_equal(d->default_profile, PROFILE_LOCALHOST);
    assert_string_equal(d->default_localhost, "operator/default.json");
    assert_false(d->migrate_annotations);
    assert_true(d->allow_unconfined);
    assert_list(&d->allowed_localhost_profiles, 2, "operator/*.json", "shared/*");
    assert_true(d->mutate_templates);

    assert_int_equal(p->rule_count, 2);
    assert_list(&p->rules[0].match, 2, "legacy-*", "batch");
    assert_int_equal(p->rules[0].line, 13);
    assert_int_equal(p->rules[0].settings.mode, POLICY_MODE_AUDIT);
    assert_list(&p->rules[1].match, 1, "team-a");
    assert_int_equal(p->rules[1].line, 15);
    assert_int_equal(p->rules[1].settings.mode, POLICY_MODE_WARN);
    assert_list(&p->rules[1].settings.allowed_localhost_profiles, 2, "operator/{namespace}/*.json",
                "operator/default.json");

    assert_list(&p->exempt_namespaces, 2, "kube-system", "monitoring");
    assert_list(&p->exempt_usernames, 1, "system:serviceaccount:ci:deployer");
    assert_list(&p->exempt_runtime_classes, 1, "kata");

    assert_true(p->profiles.present);
    assert_string_equal(p->profiles.directory, "/var/lib/kubelet/seccomp");
    assert_list(&p->profiles.architectures, 2, "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64");
    assert_false(p->profiles.require_default_deny);
    assert_list(&p->profiles.forbidden_syscalls, 2, "kexec_load", "bpf");
    assert_memory_equal(p->hash, "sha256:", 7);
    assert_int_equal(strlen(p->hash), 7 + 64);
    policy_free(p);
}

static void test_spec_example_file_is_valid(void **state)
{
    (void)state;
    policy *p = parse_ok(
        "apiVersion: seccomp-webhook/v1\n"
        "kind: SeccompPolicy\n"
        "defaults:                        # applies to every namespace no rule below matches\n"
        "  mode: enforce\n"
        "  defaultProfile:\n"
        "    type: RuntimeDefault\n"
        "  migrateAnnotations: true\n"
        "  allowUnconfined: false\n"
        "  allowedLocalhostProfiles: []\n"
        "  mutateTemplates: false\n"
        "namespaces:\n"
        "  - match: [\"legacy-*\", \"batch\"] # exact names or globs\n"
        "    mode: warn\n"
        "  - match: [\"team-a\"]\n"
        "    allowedLocalhostProfiles: [\"operator/{namespace}/*.json\", \"team-a/*.json\"]\n"
        "exemptions:\n"
        "  namespaces: [\"kube-system\"]\n"
        "  usernames: []\n"
        "  runtimeClasses: []\n"
        "profiles:\n"
        "  directory: /var/lib/kubelet/seccomp\n"
        "  architectures: [SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64]\n"
        "  requireDefaultDeny: true\n"
        "  forbiddenSyscalls: [kexec_load, kexec_file_load, init_module, finit_module, "
        "delete_module, open_by_handle_at]\n");
    assert_int_equal(p->rule_count, 2);
    policy_free(p);
}

/* The fixtures directory: $SW_FIXTURES (set by ctest), else beside this source file. */
static char *fixture(const char *name)
{
    const char *dir = getenv("SW_FIXTURES");
    char buf[1024];
    if (!dir || !*dir) {
        snprintf(buf, sizeof buf, "%s", __FILE__);
        char *slash = strrchr(buf, '/');
        snprintf(slash ? slash + 1 : buf, sizeof buf - (size_t)(slash ? slash + 1 - buf : 0),
                 "../fixtures");
        dir = buf;
    }
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void test_spec_example_fixture_loads(void **state)
{
    (void)state;
    char *f = fixture("policy/spec-example.yaml");
    policy_errors e = {NULL, 0};
    policy *p = policy_load_file(f, &e);
    for (size_t i = 0; i < e.count; i++)
        print_message("%s:%u:%u: %s\n", e.items[i].file, e.items[i].line, e.items[i].column,
                      e.items[i].message);
    assert_non_null(p);
    assert_int_equal(p->rule_count, 2);
    assert_int_equal(p->rules[0].settings.mode, POLICY_MODE_WARN);
    assert_list(&p->rules[1].settings.allowed_localhost_profiles, 2, "operator/{namespace}/*.json",
                "team-a/*.json");
    assert_true(p->profiles.present);
    assert_int_equal(p->profiles.forbidden_syscalls.count, 6);
    policy_free(p);
    free(f);
}

static void test_default_profile_null_injects_nothing(void **state)
{
    (void)state;
    const char *forms[] = {HDR "defaults:\n  defaultProfile: null\n",
                           HDR "defaults:\n  defaultProfile: ~\n",
                           HDR "defaults:\n  defaultProfile:\n"};
    for (size_t i = 0; i < 3; i++) {
        policy *p = parse_ok(forms[i]);
        assert_int_equal(p->defaults.default_profile, PROFILE_NONE);
        assert_null(p->defaults.default_localhost);
        policy_free(p);
    }
}

static void test_defaults_written_after_namespaces_are_still_inherited(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "namespaces:\n"
                             "  - match: [a]\n"
                             "defaults:\n"
                             "  mode: audit\n");
    assert_int_equal(p->rules[0].settings.mode, POLICY_MODE_AUDIT);
    policy_free(p);
}

static void test_rule_inherits_every_key_left_out(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "defaults:\n"
                             "  mode: audit\n"
                             "  defaultProfile: {type: Localhost, localhostProfile: d/p.json}\n"
                             "  migrateAnnotations: false\n"
                             "  allowUnconfined: true\n"
                             "  allowedLocalhostProfiles: [\"d/*.json\"]\n"
                             "  mutateTemplates: true\n"
                             "namespaces:\n"
                             "  - match: [a]\n");
    const policy_settings *r = &p->rules[0].settings;
    assert_int_equal(r->mode, POLICY_MODE_AUDIT);
    assert_int_equal(r->default_profile, PROFILE_LOCALHOST);
    assert_string_equal(r->default_localhost, "d/p.json");
    assert_ptr_not_equal(r->default_localhost, p->defaults.default_localhost);
    assert_false(r->migrate_annotations);
    assert_true(r->allow_unconfined);
    assert_list(&r->allowed_localhost_profiles, 1, "d/*.json");
    assert_true(r->mutate_templates);
    policy_free(p);
}

static void test_rule_overrides_every_key_it_sets(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "defaults:\n"
                             "  mode: audit\n"
                             "  allowedLocalhostProfiles: [\"d/*.json\"]\n"
                             "namespaces:\n"
                             "  - match: [a]\n"
                             "    mode: warn\n"
                             "    defaultProfile: null\n"
                             "    migrateAnnotations: false\n"
                             "    allowUnconfined: true\n"
                             "    allowedLocalhostProfiles: [\"r/*.json\"]\n"
                             "    mutateTemplates: true\n");
    const policy_settings *r = &p->rules[0].settings;
    assert_int_equal(r->mode, POLICY_MODE_WARN);
    assert_int_equal(r->default_profile, PROFILE_NONE);
    assert_false(r->migrate_annotations);
    assert_true(r->allow_unconfined);
    assert_list(&r->allowed_localhost_profiles, 1, "r/*.json");
    assert_true(r->mutate_templates);
    /* defaults untouched */
    assert_int_equal(p->defaults.mode, POLICY_MODE_AUDIT);
    assert_int_equal(p->defaults.default_profile, PROFILE_RUNTIME_DEFAULT);
    assert_true(p->defaults.migrate_annotations);
    policy_free(p);
}

static void test_rule_list_replaces_the_default_list(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "defaults:\n"
                             "  allowedLocalhostProfiles: [\"a/*\", \"b/*\"]\n"
                             "namespaces:\n"
                             "  - match: [x]\n"
                             "    allowedLocalhostProfiles: [\"c/*\"]\n");
    assert_list(&p->rules[0].settings.allowed_localhost_profiles, 1, "c/*");
    assert_list(&p->defaults.allowed_localhost_profiles, 2, "a/*", "b/*");
    policy_free(p);
}

static void test_empty_list_empties_a_list(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "defaults:\n"
                             "  allowedLocalhostProfiles: [\"a/*\"]\n"
                             "namespaces:\n"
                             "  - match: [x]\n"
                             "    allowedLocalhostProfiles: []\n"
                             "exemptions:\n"
                             "  namespaces: []\n"
                             "profiles:\n"
                             "  directory: /p\n"
                             "  forbiddenSyscalls: []\n");
    assert_int_equal(p->rules[0].settings.allowed_localhost_profiles.count, 0);
    assert_int_equal(p->exempt_namespaces.count, 0);
    assert_int_equal(p->profiles.forbidden_syscalls.count, 0);
    policy_free(p);
}

static void test_exemptions_without_namespaces_key_keep_kube_system(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "exemptions:\n"
                             "  usernames: [admin]\n");
    assert_list(&p->exempt_namespaces, 1, "kube-system");
    assert_list(&p->exempt_usernames, 1, "admin");
    assert_int_equal(p->exempt_runtime_classes.count, 0);
    policy_free(p);
}

static void test_exemptions_namespaces_key_replaces_kube_system(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "exemptions:\n"
                             "  namespaces: [infra]\n");
    assert_list(&p->exempt_namespaces, 1, "infra");
    assert_int_equal(p->exempt_usernames.count, 0);
    assert_int_equal(p->exempt_runtime_classes.count, 0);
    policy_free(p);
}

static void test_profiles_keys_left_out_take_their_defaults(void **state)
{
    (void)state;
    policy *p = parse_ok(HDR "profiles:\n"
                             "  directory: /var/lib/kubelet/seccomp\n");
    assert_true(p->profiles.present);
    assert_int_equal(p->profiles.architectures.count, 0);
    assert_true(p->profiles.require_default_deny);
    assert_list(&p->profiles.forbidden_syscalls, 6, "kexec_load", "kexec_file_load", "init_module",
                "finit_module", "delete_module", "open_by_handle_at");
    policy_free(p);
}

static void test_localhost_default_allowed_with_namespace_placeholder(void **state)
{
    (void)state;
    /* a rule matching exact names: {namespace} is read as each of them */
    policy *p =
        parse_ok(HDR "namespaces:\n"
                     "  - match: [a]\n"
                     "    defaultProfile: {type: Localhost, localhostProfile: op/a/x.json}\n"
                     "    allowedLocalhostProfiles: [\"op/{namespace}/*.json\"]\n");
    assert_int_equal(p->rules[0].settings.default_profile, PROFILE_LOCALHOST);
    assert_string_equal(p->rules[0].settings.default_localhost, "op/a/x.json");
    policy_free(p);
}

static void test_quoted_and_flow_styles_are_strings(void **state)
{
    (void)state;
    policy *p = parse_ok("{\"apiVersion\": 'seccomp-webhook/v1', kind: \"SeccompPolicy\",\n"
                         " defaults: {mode: \"warn\", migrateAnnotations: false}}\n");
    assert_int_equal(p->defaults.mode, POLICY_MODE_WARN);
    assert_false(p->defaults.migrate_annotations);
    policy_free(p);
}

/* ---------------------------------------------------------------------------------------------
 * policy_settings_for and policy_list_contains
 * ------------------------------------------------------------------------------------------- */

static const char RULES[] = HDR "defaults:\n"
                                "  mode: enforce\n"
                                "namespaces:\n"
                                "  - match: [\"legacy-*\", batch]\n"
                                "    mode: warn\n"
                                "  - match: [legacy-special, \"team-?\", \"ci-[0-9]\"]\n"
                                "    mode: audit\n";

static void test_settings_for_exact_name(void **state)
{
    (void)state;
    policy *p = parse_ok(RULES);
    assert_ptr_equal(policy_settings_for(p, "batch"), &p->rules[0].settings);
    assert_ptr_equal(policy_settings_for(p, "batch2"), &p->defaults);
    policy_free(p);
}

static void test_settings_for_globs(void **state)
{
    (void)state;
    policy *p = parse_ok(RULES);
    assert_ptr_equal(policy_settings_for(p, "legacy-x"), &p->rules[0].settings);
    assert_ptr_equal(policy_settings_for(p, "team-b"), &p->rules[1].settings);
    assert_ptr_equal(policy_settings_for(p, "ci-7"), &p->rules[1].settings);
    assert_ptr_equal(policy_settings_for(p, "team-bb"), &p->defaults);
    assert_ptr_equal(policy_settings_for(p, "ci-x"), &p->defaults);
    policy_free(p);
}

static void test_settings_for_first_matching_rule_wins(void **state)
{
    (void)state;
    policy *p = parse_ok(RULES);
    /* legacy-special is listed exactly in rule 2, but rule 1's glob comes first */
    assert_ptr_equal(policy_settings_for(p, "legacy-special"), &p->rules[0].settings);
    assert_int_equal(policy_settings_for(p, "legacy-special")->mode, POLICY_MODE_WARN);
    policy_free(p);
}

static void test_settings_for_unmatched_namespace_gets_defaults(void **state)
{
    (void)state;
    policy *p = parse_ok(RULES);
    assert_ptr_equal(policy_settings_for(p, "default"), &p->defaults);
    assert_ptr_equal(policy_settings_for(p, ""), &p->defaults);
    policy_free(p);
    policy *b = policy_builtin();
    assert_ptr_equal(policy_settings_for(b, "anything"), &b->defaults);
    policy_free(b);
}

static void test_list_contains_is_exact(void **state)
{
    (void)state;
    policy *p = policy_builtin();
    assert_true(policy_list_contains(&p->exempt_namespaces, "kube-system"));
    assert_false(policy_list_contains(&p->exempt_namespaces, "kube-*"));
    assert_false(policy_list_contains(&p->exempt_namespaces, "kube-system2"));
    assert_false(policy_list_contains(&p->exempt_usernames, "kube-system"));
    policy_free(p);
}

/* ---------------------------------------------------------------------------------------------
 * Decoding errors, each at its line:column
 * ------------------------------------------------------------------------------------------- */

static void test_error_unknown_key_suggests_nearest(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  mdoe: enforce\n", 4, 3,
                     "unknown key \"mdoe\"; did you mean \"mode\"?");
    expect_one_error(HDR "namespaces:\n  - match: [a]\n    allowedLocalhostProfile: []\n", 5, 5,
                     "did you mean \"allowedLocalhostProfiles\"?");
}

static void test_error_unknown_key_lists_known_keys(void **state)
{
    (void)state;
    expect_one_error(HDR "metadata: {}\n", 3, 1,
                     "unknown key \"metadata\"; expected one of: apiVersion, kind, defaults, "
                     "namespaces, exemptions, profiles");
}

static void test_error_mapping_key_given_a_list(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  - mode: warn\n", 4, 3,
                     "defaults must be a mapping, found a list");
}

static void test_error_list_key_given_a_scalar(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  allowedLocalhostProfiles: a/*.json\n", 4, 29,
                     "allowedLocalhostProfiles must be a list of strings, found \"a/*.json\"");
}

static void test_error_list_key_given_null(void **state)
{
    (void)state;
    expect_one_error(HDR "exemptions:\n  usernames:\n", 4, 13,
                     "usernames must be a list of strings, found null (write [] for an empty");
}

static void test_error_list_item_not_a_string(void **state)
{
    (void)state;
    expect_one_error(HDR "exemptions:\n  usernames: [a, {b: c}]\n", 4, 18,
                     "each item of usernames must be a string, found a mapping");
}

static void test_error_string_key_given_a_mapping(void **state)
{
    (void)state;
    expect_one_error("apiVersion: {v: 1}\nkind: SeccompPolicy\n", 1, 13,
                     "apiVersion must be a string, found a mapping");
}

static void test_error_yes_is_a_string_not_a_boolean(void **state)
{
    (void)state;
    expect_one_error(
        HDR "defaults:\n  migrateAnnotations: yes\n", 4, 23,
        "migrateAnnotations must be true or false, found \"yes\" (YAML 1.2: \"yes\" is "
        "a string; write true or false)");
    expect_one_error(HDR "defaults:\n  mutateTemplates: off\n", 4, 20,
                     "(YAML 1.2: \"off\" is a string; write true or false)");
    expect_one_error(HDR "defaults:\n  allowUnconfined: True\n", 4, 20,
                     "(YAML 1.2: \"True\" is a string; write true or false)");
}

static void test_error_quoted_true_is_a_string_not_a_boolean(void **state)
{
    (void)state;
    expect_one_error(HDR "profiles:\n  directory: /p\n  requireDefaultDeny: \"true\"\n", 5, 23,
                     "a quoted \"true\" is a string");
}

static void test_error_boolean_key_given_null(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  allowUnconfined: ~\n", 4, 20,
                     "allowUnconfined must be true or false, found null");
}

static void test_error_bad_mode_lists_allowed_values(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  mode: block\n", 4, 9,
                     "mode must be one of enforce, warn, audit; found \"block\"");
    expect_one_error(HDR "namespaces:\n  - match: [a]\n    mode: Warn\n", 5, 11,
                     "values are case-sensitive: write warn");
}

static void test_error_bad_default_profile_type(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  defaultProfile:\n    type: runtime/default\n", 5, 11,
                     "defaultProfile type must be one of RuntimeDefault, Localhost; found "
                     "\"runtime/default\"");
}

static void test_error_default_profile_unconfined(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  defaultProfile: {type: Unconfined}\n", 4, 26,
                     "defaultProfile type Unconfined is not allowed");
}

static void test_error_default_profile_without_type(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  defaultProfile: {}\n", 4, 19, "defaultProfile needs a type");
}

static void test_error_default_profile_given_a_string(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  defaultProfile: RuntimeDefault\n", 4, 19,
                     "write e.g. defaultProfile: {type: RuntimeDefault}");
}

static void test_error_localhost_without_localhost_profile(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  defaultProfile:\n    type: Localhost\n", 5, 5,
                     "defaultProfile of type Localhost needs localhostProfile");
}

static void test_error_localhost_profile_with_other_type(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n"
                         "  defaultProfile:\n"
                         "    type: RuntimeDefault\n"
                         "    localhostProfile: a.json\n",
                     6, 5, "localhostProfile is only allowed with type Localhost");
}

static void test_error_localhost_profile_bad_paths(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        const char *why;
    } cases[] = {
        {"\"\"", "must not be empty"},
        {"/etc/x.json", "must be a relative path"},
        {"a/../x.json", "must not contain '..'"},
        {"../x.json", "must not contain '..'"},
        {"a/./x.json", "must not contain '.' segments"},
        {"a//x.json", "must not contain empty segments"},
        {"a/", "must not contain empty segments"},
        {"\"a\\tb.json\"", "must not contain control characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 HDR "defaults:\n  defaultProfile:\n    type: Localhost\n    localhostProfile: %s\n"
                     "  allowedLocalhostProfiles: [\"*\"]\n",
                 cases[i].value);
        policy_errors e = parse_bad(yaml);
        assert_int_equal(e.count, 1);
        assert_error(&e, 0, 6, 23, "is not a valid path");
        assert_error(&e, 0, 6, 23, cases[i].why);
        policy_errors_free(&e);
    }
}

static void test_error_localhost_default_forbidden_by_its_allow_list(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n"
                         "  defaultProfile: {type: Localhost, localhostProfile: x/p.json}\n"
                         "  allowedLocalhostProfiles: [\"y/*.json\", \"x/*/*.json\"]\n",
                     4, 55,
                     "defaultProfile localhostProfile \"x/p.json\" is forbidden by "
                     "allowedLocalhostProfiles, which matches none of its globs");
    /* the built-in allow-list is empty */
    expect_one_error(HDR "defaults:\n"
                         "  defaultProfile: {type: Localhost, localhostProfile: x/p.json}\n",
                     4, 55, "is empty, so no Localhost profile is allowed");
}

static void test_error_localhost_default_allowed_only_through_namespace_placeholder(void **state)
{
    (void)state;
    /* Pods of every namespace but foo relying on the injected default would be denied. */
    expect_one_error(HDR "defaults:\n"
                         "  defaultProfile: {type: Localhost, localhostProfile: ns/foo/x.json}\n"
                         "  allowedLocalhostProfiles: [\"ns/{namespace}/x.json\"]\n",
                     4, 55,
                     "defaultProfile localhostProfile \"ns/foo/x.json\" is forbidden by "
                     "allowedLocalhostProfiles, which allows it only through {namespace}, so not "
                     "in every namespace this applies to");
    expect_one_error(HDR "namespaces:\n"
                         "  - match: [foo, bar]\n"
                         "    defaultProfile: {type: Localhost, localhostProfile: ns/foo/x.json}\n"
                         "    allowedLocalhostProfiles: [\"ns/{namespace}/x.json\"]\n",
                     5, 57, "which matches none of its globs in namespace \"bar\"");
    expect_one_error(HDR "namespaces:\n"
                         "  - match: [foo, \"team-*\"]\n"
                         "    defaultProfile: {type: Localhost, localhostProfile: ns/foo/x.json}\n"
                         "    allowedLocalhostProfiles: [\"ns/{namespace}/x.json\"]\n",
                     5, 57, "allows it only through {namespace}");
    /* a glob without {namespace} allows it everywhere */
    policy *p =
        parse_ok(HDR "namespaces:\n"
                     "  - match: [foo, \"team-*\"]\n"
                     "    defaultProfile: {type: Localhost, localhostProfile: ns/foo/x.json}\n"
                     "    allowedLocalhostProfiles: [\"ns/{namespace}/*\", \"ns/*/x.json\"]\n");
    policy_free(p);
}

static void test_error_rule_allow_list_forbids_inherited_default(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n"
                         "  defaultProfile: {type: Localhost, localhostProfile: x/p.json}\n"
                         "  allowedLocalhostProfiles: [\"x/*\"]\n"
                         "namespaces:\n"
                         "  - match: [a]\n"
                         "    allowedLocalhostProfiles: [\"y/*\"]\n",
                     8, 31, "forbids the defaultProfile localhostProfile \"x/p.json\" inherited");
    expect_one_error(HDR "defaults:\n"
                         "  allowedLocalhostProfiles: [\"x/*\"]\n"
                         "namespaces:\n"
                         "  - match: [a]\n"
                         "    defaultProfile: {type: Localhost, localhostProfile: y/p.json}\n",
                     7, 57, "forbidden by the inherited allowedLocalhostProfiles");
}

static void test_error_duplicate_key(void **state)
{
    (void)state;
    expect_one_error(HDR "kind: SeccompPolicy\n", 3, 1,
                     "duplicate key \"kind\" (first at line 2 "
                     "column 1)");
    expect_one_error(HDR "defaults:\n  mode: warn\n  mode: warn\n", 5, 3,
                     "duplicate key \"mode\" (first at line 4 column 3)");
    expect_one_error(HDR "defaults:\n  defaultProfile: {type: RuntimeDefault, type: Localhost}\n",
                     4, 42, "duplicate key \"type\" (first at line 4 column 20)");
}

static void test_error_duplicate_key_quoted_and_plain(void **state)
{
    (void)state;
    expect_one_error(HDR "\"kind\": SeccompPolicy\n", 3, 1, "duplicate key \"kind\"");
}

static void test_error_duplicate_key_inside_a_rule(void **state)
{
    (void)state;
    expect_one_error(HDR "namespaces:\n  - match: [a]\n    match: [b]\n", 5, 5,
                     "duplicate key \"match\" (first at line 4 column 5)");
}

static void test_error_match_glob_that_can_never_match(void **state)
{
    (void)state;
    policy_errors e =
        parse_bad(HDR "namespaces:\n"
                      "  - match: [Team-A, team_b, \"team.c\", ok-*, \"\", \"ci-[0-9\"]\n");
    assert_int_equal(e.count, 5);
    assert_error(&e, 0, 4, 13, "match entry \"Team-A\" can never match a namespace name");
    assert_error(&e, 1, 4, 21, "match entry \"team_b\" can never match");
    assert_error(&e, 2, 4, 29, "match entry \"team.c\" can never match");
    assert_error(&e, 3, 4, 45, "match entry \"\" can never match a namespace name: it is empty");
    assert_error(&e, 4, 4, 49, "unclosed '['");
    policy_errors_free(&e);
}

static void test_error_rule_without_match(void **state)
{
    (void)state;
    expect_one_error(HDR "namespaces:\n  - mode: warn\n", 4, 5,
                     "a namespaces rule needs match: a list of namespace names or globs");
}

static void test_error_rule_with_empty_match(void **state)
{
    (void)state;
    expect_one_error(HDR "namespaces:\n  - match: []\n", 4, 12,
                     "match must list at least one namespace name or glob");
}

static void test_error_rule_not_a_mapping(void **state)
{
    (void)state;
    expect_one_error(HDR "namespaces:\n  - team-a\n", 4, 5,
                     "a namespaces rule must be a mapping, found \"team-a\"");
}

static void test_error_namespaces_not_a_list(void **state)
{
    (void)state;
    expect_one_error(HDR "namespaces:\n  match: [a]\n", 4, 3, "namespaces must be a list of rules");
}

static void test_error_missing_api_version_and_kind(void **state)
{
    (void)state;
    policy_errors e = parse_bad("# a policy\ndefaults:\n  mode: warn\n");
    assert_int_equal(e.count, 2);
    assert_error(&e, 0, 2, 1, "missing apiVersion (write apiVersion: seccomp-webhook/v1)");
    assert_error(&e, 1, 2, 1, "missing kind (write kind: SeccompPolicy)");
    policy_errors_free(&e);
}

static void test_error_wrong_api_version_and_kind(void **state)
{
    (void)state;
    policy_errors e = parse_bad("apiVersion: v1\nkind: Policy\n");
    assert_int_equal(e.count, 2);
    assert_error(&e, 0, 1, 13, "apiVersion must be \"seccomp-webhook/v1\", found \"v1\"");
    assert_error(&e, 1, 2, 7, "kind must be \"SeccompPolicy\", found \"Policy\"");
    policy_errors_free(&e);
}

static void test_error_profiles_without_directory(void **state)
{
    (void)state;
    expect_one_error(HDR "profiles:\n  requireDefaultDeny: true\n", 4, 3,
                     "profiles needs directory");
}

static void test_error_profiles_relative_directory(void **state)
{
    (void)state;
    expect_one_error(HDR "profiles:\n  directory: seccomp\n", 4, 14,
                     "directory \"seccomp\" must be an absolute path");
}

static void test_error_profiles_bad_architecture(void **state)
{
    (void)state;
    expect_one_error(HDR "profiles:\n  directory: /p\n  architectures: [SCMP_ARCH_X86_64, arm64]\n",
                     5, 37, "architecture \"arm64\" is not a libseccomp name");
}

static void test_error_tab_indentation(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n\tmode: warn\n", 4, 1,
                     "found character that cannot start any token");
    expect_one_error(HDR "defaults:\n\tmode: warn\n", 4, 1, "tabs cannot indent YAML, use spaces");
}

static void test_error_empty_file(void **state)
{
    (void)state;
    expect_one_error("", 1, 1, "the file is empty");
    expect_one_error("# only a comment\n\n", 1, 1, "the file is empty");
}

static void test_error_document_not_a_mapping(void **state)
{
    (void)state;
    expect_one_error("- apiVersion: seccomp-webhook/v1\n", 1, 1,
                     "a policy file must be a mapping with apiVersion and kind, found a list");
    expect_one_error("# c\n\"just text\"\n", 2, 1,
                     "must be a mapping with apiVersion and kind, "
                     "found \"just text\"");
    expect_one_error("---\n", 2, 1, "found null");
}

static void test_error_more_than_one_document(void **state)
{
    (void)state;
    expect_one_error(HDR "---\n" HDR, 3, 1,
                     "more than one YAML document; a policy file holds exactly one");
}

static void test_error_yaml_syntax_error_with_libyaml_text(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults: [mode\n", 4, 1,
                     "YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
                     "sequence at line 3 column 11)");
    expect_one_error(HDR "defaults:\n  mode: \"warn\n", 5, 1,
                     "YAML syntax error: found unexpected end of stream");
}

static void test_error_invalid_utf8(void **state)
{
    (void)state;
    expect_one_error(HDR "kind2: \"x\xff\"\n", 3, 10, "not valid UTF-8");
}

static void test_error_nul_character_in_string(void **state)
{
    (void)state;
    expect_one_error(HDR "exemptions:\n  usernames: [\"a\\0b\"]\n", 4, 15,
                     "a string may not contain a NUL character");
}

static void test_error_anchor_and_alias_refused(void **state)
{
    (void)state;
    policy_errors e = parse_bad(HDR "defaults:\n"
                                    "  allowedLocalhostProfiles: &l [\"a/*\"]\n"
                                    "namespaces:\n"
                                    "  - match: [a]\n"
                                    "    allowedLocalhostProfiles: *l\n");
    assert_int_equal(e.count, 2);
    assert_error(&e, 0, 4, 29, "anchors and aliases are not supported (anchor &l)");
    assert_error(&e, 1, 7, 31, "anchors and aliases are not supported (alias *l)");
    policy_errors_free(&e);
}

static void test_error_tag_refused(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  migrateAnnotations: !!bool true\n", 4, 23,
                     "YAML tags are not supported (tag \"tag:yaml.org,2002:bool\")");
}

static void test_error_non_string_key(void **state)
{
    (void)state;
    expect_one_error(HDR "defaults:\n  ? [mode]\n  : warn\n", 4, 5,
                     "a key must be a string, found a list");
}

static void test_error_nesting_too_deep(void **state)
{
    (void)state;
    char yaml[512] = HDR "x: ";
    for (int i = 0; i < 70; i++)
        strcat(yaml, "[");
    policy_errors e = parse_bad(yaml);
    assert_int_equal(e.count, 1);
    assert_error(&e, 0, 3, 3 + 64, "YAML nested deeper than 64 levels");
    policy_errors_free(&e);
}

static void test_all_errors_reported_at_once(void **state)
{
    (void)state;
    policy_errors e = parse_bad(HDR "defaults:\n"
                                    "  mode: strict\n"
                                    "  mutateTemplates: yes\n"
                                    "exemptions:\n"
                                    "  users: [a]\n");
    assert_int_equal(e.count, 3);
    assert_error(&e, 0, 4, 9, "mode must be one of");
    assert_error(&e, 1, 5, 20, "mutateTemplates must be true or false");
    assert_error(&e, 2, 7, 3, "unknown key \"users\"");
    policy_errors_free(&e);
}

static void test_errors_are_appended_after_existing_ones(void **state)
{
    (void)state;
    policy_errors e = {NULL, 0};
    assert_null(policy_parse("", 0, FNAME, &e));
    assert_null(policy_parse("- x\n", 4, FNAME, &e));
    assert_int_equal(e.count, 2);
    assert_error(&e, 0, 1, 1, "the file is empty");
    assert_error(&e, 1, 1, 1, "found a list");
    policy_errors_free(&e);
    assert_int_equal(e.count, 0);
    assert_null(e.items);
}

static void test_error_count_is_capped_with_a_summary(void **state)
{
    (void)state;
    size_t cap = 150 * 16 + sizeof HDR;
    char *yaml = malloc(cap);
    assert_non_null(yaml);
    strcpy(yaml, HDR);
    for (int i = 0; i < 150; i++)
        sprintf(yaml + strlen(yaml), "unknown%03d: 1\n", i);
    policy_errors e = parse_bad(yaml);
    assert_int_equal(e.count, 101);
    assert_error(&e, 0, 3, 1, "unknown key \"unknown000\"");
    assert_int_equal(e.items[100].line, 0);
    assert_non_null(strstr(e.items[100].message, "too many errors; 50 more not shown"));
    policy_errors_free(&e);
    free(yaml);
}

static void test_error_messages_escape_control_characters(void **state)
{
    (void)state;
    policy_errors e = parse_bad(HDR "\"bad\\nkey\\u001b\": 1\n");
    assert_int_equal(e.count, 1);
    assert_error(&e, 0, 3, 1, "unknown key \"bad\\x0akey\\x1b\"");
    policy_errors_free(&e);
}

/* ---------------------------------------------------------------------------------------------
 * policy_load_file
 * ------------------------------------------------------------------------------------------- */

static void test_load_file_follows_symlinks(void **state)
{
    (void)state;
    char *dir = scratch_dir();
    char *real = path_in(dir, "real.yaml"), *link = path_in(dir, "link.yaml");
    write_file(real, HDR, strlen(HDR));
    assert_int_equal(symlink(real, link), 0);
    policy_errors e = {NULL, 0};
    policy *p = policy_load_file(link, &e);
    assert_non_null(p);
    assert_int_equal(e.count, 0);
    assert_string_equal(p->hash,
                        "sha256:50e6fcba7becd59c3422b6c5368be3aeb96910c47ff8a0197b70b70847c0de06");
    policy_free(p);
    unlink(link);
    unlink(real);
    rmdir(dir);
    free(link);
    free(real);
    free(dir);
}

static void test_load_file_errors_name_the_path(void **state)
{
    (void)state;
    char *dir = scratch_dir();
    char *f = path_in(dir, "bad.yaml");
    write_file(f, HDR "defaults: []\n", strlen(HDR) + 13);
    policy_errors e = {NULL, 0};
    assert_null(policy_load_file(f, &e));
    assert_int_equal(e.count, 1);
    assert_string_equal(e.items[0].file, f);
    assert_int_equal(e.items[0].line, 3);
    assert_int_equal(e.items[0].column, 11);
    policy_errors_free(&e);
    unlink(f);
    rmdir(dir);
    free(f);
    free(dir);
}

static void test_load_file_missing_file_is_reported_at_line_0(void **state)
{
    (void)state;
    policy_errors e = {NULL, 0};
    assert_null(policy_load_file("/nonexistent/policy.yaml", &e));
    assert_int_equal(e.count, 1);
    assert_string_equal(e.items[0].file, "/nonexistent/policy.yaml");
    assert_int_equal(e.items[0].line, 0);
    assert_int_equal(e.items[0].column, 0);
    assert_non_null(strstr(e.items[0].message, "cannot open"));
    policy_errors_free(&e);
}

static void test_load_file_refuses_a_directory(void **state)
{
    (void)state;
    char *dir = scratch_dir();
    policy_errors e = {NULL, 0};
    assert_null(policy_load_file(dir, &e));
    assert_int_equal(e.count, 1);
    assert_int_equal(e.items[0].line, 0);
    assert_non_null(strstr(e.items[0].message, "is a directory, not a regular file"));
    policy_errors_free(&e);
    rmdir(dir);
    free(dir);
}

static void test_load_file_refuses_a_fifo_without_blocking(void **state)
{
    (void)state;
    char *dir = scratch_dir();
    char *f = path_in(dir, "fifo");
    assert_int_equal(mkfifo(f, 0600), 0);
    policy_errors e = {NULL, 0};
    alarm(10); /* a blocking open would hang here */
    assert_null(policy_load_file(f, &e));
    alarm(0);
    assert_int_equal(e.count, 1);
    assert_int_equal(e.items[0].line, 0);
    assert_non_null(strstr(e.items[0].message, "is a FIFO, not a regular file"));
    policy_errors_free(&e);
    unlink(f);
    rmdir(dir);
    free(f);
    free(dir);
}

static void test_load_file_refuses_more_than_1_mib(void **state)
{
    (void)state;
    char *dir = scratch_dir();
    char *f = path_in(dir, "big.yaml");
    size_t n = 1024 * 1024 + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '#', n);
    write_file(f, big, n);
    policy_errors e = {NULL, 0};
    assert_null(policy_load_file(f, &e));
    assert_int_equal(e.count, 1);
    assert_int_equal(e.items[0].line, 0);
    assert_non_null(strstr(e.items[0].message, "too large"));
    policy_errors_free(&e);
    /* exactly 1 MiB is read (and then refused only for being empty of YAML) */
    write_file(f, big, n - 1);
    assert_null(policy_load_file(f, &e));
    assert_int_equal(e.count, 1);
    assert_non_null(strstr(e.items[0].message, "the file is empty"));
    policy_errors_free(&e);
    unlink(f);
    rmdir(dir);
    free(big);
    free(f);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_policy_has_spec_values),
        cmocka_unit_test(test_minimal_file_takes_builtin_values),
        cmocka_unit_test(test_hash_is_sha256_of_the_file_bytes),
        cmocka_unit_test(test_full_file_with_every_section),
        cmocka_unit_test(test_spec_example_file_is_valid),
        cmocka_unit_test(test_spec_example_fixture_loads),
        cmocka_unit_test(test_default_profile_null_injects_nothing),
        cmocka_unit_test(test_defaults_written_after_namespaces_are_still_inherited),
        cmocka_unit_test(test_rule_inherits_every_key_left_out),
        cmocka_unit_test(test_rule_overrides_every_key_it_sets),
        cmocka_unit_test(test_rule_list_replaces_the_default_list),
        cmocka_unit_test(test_empty_list_empties_a_list),
        cmocka_unit_test(test_exemptions_without_namespaces_key_keep_kube_system),
        cmocka_unit_test(test_exemptions_namespaces_key_replaces_kube_system),
        cmocka_unit_test(test_profiles_keys_left_out_take_their_defaults),
        cmocka_unit_test(test_localhost_default_allowed_with_namespace_placeholder),
        cmocka_unit_test(test_quoted_and_flow_styles_are_strings),
        cmocka_unit_test(test_settings_for_exact_name),
        cmocka_unit_test(test_settings_for_globs),
        cmocka_unit_test(test_settings_for_first_matching_rule_wins),
        cmocka_unit_test(test_settings_for_unmatched_namespace_gets_defaults),
        cmocka_unit_test(test_list_contains_is_exact),
        cmocka_unit_test(test_error_unknown_key_suggests_nearest),
        cmocka_unit_test(test_error_unknown_key_lists_known_keys),
        cmocka_unit_test(test_error_mapping_key_given_a_list),
        cmocka_unit_test(test_error_list_key_given_a_scalar),
        cmocka_unit_test(test_error_list_key_given_null),
        cmocka_unit_test(test_error_list_item_not_a_string),
        cmocka_unit_test(test_error_string_key_given_a_mapping),
        cmocka_unit_test(test_error_yes_is_a_string_not_a_boolean),
        cmocka_unit_test(test_error_quoted_true_is_a_string_not_a_boolean),
        cmocka_unit_test(test_error_boolean_key_given_null),
        cmocka_unit_test(test_error_bad_mode_lists_allowed_values),
        cmocka_unit_test(test_error_bad_default_profile_type),
        cmocka_unit_test(test_error_default_profile_unconfined),
        cmocka_unit_test(test_error_default_profile_without_type),
        cmocka_unit_test(test_error_default_profile_given_a_string),
        cmocka_unit_test(test_error_localhost_without_localhost_profile),
        cmocka_unit_test(test_error_localhost_profile_with_other_type),
        cmocka_unit_test(test_error_localhost_profile_bad_paths),
        cmocka_unit_test(test_error_localhost_default_forbidden_by_its_allow_list),
        cmocka_unit_test(test_error_localhost_default_allowed_only_through_namespace_placeholder),
        cmocka_unit_test(test_error_rule_allow_list_forbids_inherited_default),
        cmocka_unit_test(test_error_duplicate_key),
        cmocka_unit_test(test_error_duplicate_key_quoted_and_plain),
        cmocka_unit_test(test_error_duplicate_key_inside_a_rule),
        cmocka_unit_test(test_error_match_glob_that_can_never_match),
        cmocka_unit_test(test_error_rule_without_match),
        cmocka_unit_test(test_error_rule_with_empty_match),
        cmocka_unit_test(test_error_rule_not_a_mapping),
        cmocka_unit_test(test_error_namespaces_not_a_list),
        cmocka_unit_test(test_error_missing_api_version_and_kind),
        cmocka_unit_test(test_error_wrong_api_version_and_kind),
        cmocka_unit_test(test_error_profiles_without_directory),
        cmocka_unit_test(test_error_profiles_relative_directory),
        cmocka_unit_test(test_error_profiles_bad_architecture),
        cmocka_unit_test(test_error_tab_indentation),
        cmocka_unit_test(test_error_empty_file),
        cmocka_unit_test(test_error_document_not_a_mapping),
        cmocka_unit_test(test_error_more_than_one_document),
        cmocka_unit_test(test_error_yaml_syntax_error_with_libyaml_text),
        cmocka_unit_test(test_error_invalid_utf8),
        cmocka_unit_test(test_error_nul_character_in_string),
        cmocka_unit_test(test_error_anchor_and_alias_refused),
        cmocka_unit_test(test_error_tag_refused),
        cmocka_unit_test(test_error_non_string_key),
        cmocka_unit_test(test_error_nesting_too_deep),
        cmocka_unit_test(test_all_errors_reported_at_once),
        cmocka_unit_test(test_errors_are_appended_after_existing_ones),
        cmocka_unit_test(test_error_count_is_capped_with_a_summary),
        cmocka_unit_test(test_error_messages_escape_control_characters),
        cmocka_unit_test(test_load_file_follows_symlinks),
        cmocka_unit_test(test_load_file_errors_name_the_path),
        cmocka_unit_test(test_load_file_missing_file_is_reported_at_line_0),
        cmocka_unit_test(test_load_file_refuses_a_directory),
        cmocka_unit_test(test_load_file_refuses_a_fifo_without_blocking),
        cmocka_unit_test(test_load_file_refuses_more_than_1_mib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
