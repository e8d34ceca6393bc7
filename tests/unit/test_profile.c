/*
 * test_profile.c — Localhost profiles checked for what they contain (SPEC §6.3; issue 5):
 * the fixtures under tests/fixtures/profiles/ with their verdicts and messages, exact
 * numbers, the shape rules of the OCI and Docker formats, the policy checks, safe file access,
 * the cache, and the Localhost rule of admission (engine_review) that uses them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "engine.h"
#include "policy.h"
#include "profile.h"

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */

/* A policy whose `profiles` section is `section` (YAML lines, indented by two), or none. */
static policy *policy_with(const char *section)
{
    char text[2048];
    snprintf(text, sizeof text,
             "apiVersion: seccomp-webhook/v1\n"
             "kind: SeccompPolicy\n"
             "defaults:\n"
             "  allowedLocalhostProfiles: [\"*.json\", \"team/*.json\"]\n"
             "%s%s",
             section ? "profiles:\n" : "", section ? section : "");
    policy_errors errs = {NULL, 0};
    policy *p = policy_parse(text, strlen(text), "test.yaml", &errs);
    for (size_t i = 0; i < errs.count; i++)
        print_error("%s:%u:%u: %s\n", errs.items[i].file, errs.items[i].line, errs.items[i].column,
                    errs.items[i].message);
    policy_errors_free(&errs);
    assert_non_null(p);
    return p;
}

/* The defaults of SPEC §5: this machine's architecture, requireDefaultDeny, the six
 * forbiddenSyscalls. */
static policy *default_checks(void)
{
    return policy_with("  directory: /nonexistent\n");
}

static char *fixture_path(const char *name)
{
    const char *dir = getenv("SW_FIXTURES");
    assert_non_null(dir);
    char *p = malloc(strlen(dir) + strlen(name) + 16);
    assert_non_null(p);
    sprintf(p, "%s/profiles/%s", dir, name);
    return p;
}

static void check_fixture(const char *name, const policy *p, profile_report *r)
{
    char *path = fixture_path(name);
    memset(r, 0, sizeof *r);
    profile_check_file(path, &p->profiles, r);
    free(path);
    assert_false(r->oom);
}

/* Check a profile written with single quotes for readability (see testutil.h doc()). */
static void check_text(const char *single_quoted, const policy *p, profile_report *r)
{
    char *s = strdup(single_quoted);
    assert_non_null(s);
    for (char *q = s; *q; q++)
        if (*q == '\'')
            *q = '"';
    memset(r, 0, sizeof *r);
    profile_check_text(s, strlen(s), p ? &p->profiles : NULL, r);
    free(s);
    assert_false(r->oom);
}

static void dump(const profile_report *r)
{
    for (size_t i = 0; i < r->count; i++) {
        char *line = profile_problem_format("profile", &r->items[i]);
        print_error("  %s\n", line ? line : "(oom)");
        free(line);
    }
}

/* The problem of `severity` at `pointer` (NULL: a whole-file problem) whose message holds
 * `fragment`, or NULL. */
static const profile_problem *find(const profile_report *r, profile_severity severity,
                                   const char *pointer, const char *fragment)
{
    for (size_t i = 0; i < r->count; i++) {
        const profile_problem *x = &r->items[i];
        if (x->severity != severity)
            continue;
        if ((pointer == NULL) != (x->pointer == NULL))
            continue;
        if (pointer && strcmp(pointer, x->pointer) != 0)
            continue;
        if (fragment && !strstr(x->message, fragment))
            continue;
        return x;
    }
    return NULL;
}

static void expect(const profile_report *r, profile_severity severity, const char *pointer,
                   const char *fragment)
{
    if (!find(r, severity, pointer, fragment)) {
        print_error("no problem of severity %d at %s mentioning \"%s\"; the report:\n",
                    (int)severity, pointer ? pointer : "(file)", fragment ? fragment : "");
        dump(r);
    }
    assert_non_null(find(r, severity, pointer, fragment));
}

static void expect_verdict(const profile_report *r, profile_severity worst)
{
    if (r->worst != worst) {
        print_error("verdict %d, expected %d; the report:\n", (int)r->worst, (int)worst);
        dump(r);
    }
    assert_int_equal(r->worst, worst);
}

static size_t count_of(const profile_report *r, profile_severity severity)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += r->items[i].severity == severity;
    return n;
}

/* A fresh temporary directory (removed by rm_tree). */
static char *temp_dir(void)
{
    char *d = strdup("/tmp/sw-test-profile-XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void rm_tree(char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static char *join(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char *path = join(dir, name);
    char *tmp = join(dir, ".writing");
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
    free(path);
    free(tmp);
}

/* Copy a fixture into dir/name. */
static void copy_fixture(const char *fixture, const char *dir, const char *name)
{
    char *src = fixture_path(fixture);
    FILE *f = fopen(src, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    free(src);
    write_file(dir, name, buf, n);
}

/* ---------------------------------------------------------------------------------------- */
/* The fixtures                                                                              */

static void test_strict_profile_is_valid_without_any_problem(void **state)
{
    (void)state;
    policy *p = policy_with("  directory: /x\n"
                            "  architectures: [SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64]\n");
    profile_report r;
    check_fixture("strict.json", p, &r);
    expect_verdict(&r, PROFILE_OK);
    assert_int_equal(r.count, 0);
    profile_report_free(&r);
    policy_free(p);
}

static void
test_runtime_default_shaped_profile_warns_only_of_capability_gated_syscalls(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("runtime-default.json", p, &r);
    /* The forbidden syscalls it allows are all behind includes.caps: warnings. Names that
     * libseccomp knows but that are no syscall of x86_64 (chown32, _llseek, arm_*, s390_*...)
     * are not reported. */
    expect_verdict(&r, PROFILE_WARNING);
    assert_int_equal(count_of(&r, PROFILE_WARNING), 6);
    assert_int_equal(r.count, 6);
    expect(&r, PROFILE_WARNING, "/syscalls/19/names/1", "kexec_load only to containers");
    expect(&r, PROFILE_WARNING, "/syscalls/19/names/2", "kexec_file_load");
    expect(&r, PROFILE_WARNING, "/syscalls/21/names/0", "init_module");
    expect(&r, PROFILE_WARNING, "/syscalls/21/names/1", "finit_module");
    expect(&r, PROFILE_WARNING, "/syscalls/21/names/2", "delete_module");
    expect(&r, PROFILE_WARNING, "/syscalls/15/names/0", "open_by_handle_at");
    profile_report_free(&r);
    policy_free(p);
}

static void test_runtime_default_shaped_profile_passes_on_several_architectures(void **state)
{
    (void)state;
    policy *p = policy_with("  directory: /x\n"
                            "  architectures: [SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, SCMP_ARCH_X86,"
                            " SCMP_ARCH_S390X, SCMP_ARCH_RISCV64]\n"
                            "  forbiddenSyscalls: []\n");
    profile_report r;
    check_fixture("runtime-default.json", p, &r);
    expect_verdict(&r, PROFILE_OK);
    profile_report_free(&r);
    policy_free(p);
}

static void test_min_kernel_condition_counts_as_met(void **state)
{
    (void)state;
    /* ptrace is allowed under includes.minKernel 4.8: unconditionally, for the check. */
    policy *p = policy_with("  directory: /x\n"
                            "  forbiddenSyscalls: [ptrace]\n");
    profile_report r;
    check_fixture("runtime-default.json", p, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    expect(&r, PROFILE_VIOLATION, "/syscalls/1/names/0", "allows ptrace unconditionally");
    expect(&r, PROFILE_WARNING, "/syscalls/23/names/5", "ptrace only to containers");
    profile_report_free(&r);
    policy_free(p);
}

static void test_default_allow_profile_violates_require_default_deny(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("default-allow.json", p, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    expect(&r, PROFILE_VIOLATION, "/defaultAction", "profiles.requireDefaultDeny");
    /* The forbidden syscalls its block list leaves out are allowed by the default action;
     * kexec_load and kexec_file_load are denied by a rule. */
    expect(&r, PROFILE_VIOLATION, "/defaultAction", "allows init_module");
    expect(&r, PROFILE_VIOLATION, "/defaultAction", "allows finit_module");
    expect(&r, PROFILE_VIOLATION, "/defaultAction", "allows delete_module");
    expect(&r, PROFILE_VIOLATION, "/defaultAction", "allows open_by_handle_at");
    assert_null(find(&r, PROFILE_VIOLATION, "/defaultAction", "kexec"));
    assert_int_equal(count_of(&r, PROFILE_VIOLATION), 5);
    assert_int_equal(r.count, 5);
    profile_report_free(&r);
    policy_free(p);
}

static void
test_default_allow_profile_without_require_default_deny_still_allows_forbidden(void **state)
{
    (void)state;
    policy *p = policy_with("  directory: /x\n"
                            "  requireDefaultDeny: false\n");
    profile_report r;
    check_fixture("default-allow.json", p, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    assert_null(find(&r, PROFILE_VIOLATION, "/defaultAction", "requireDefaultDeny"));
    expect(&r, PROFILE_VIOLATION, "/defaultAction", "allows init_module");
    profile_report_free(&r);
    policy_free(p);
}

static void test_profile_allowing_ptrace_violates_a_policy_forbidding_it(void **state)
{
    (void)state;
    policy *p = policy_with("  directory: /x\n"
                            "  forbiddenSyscalls: [ptrace, kexec_load]\n");
    profile_report r;
    check_fixture("allows-ptrace.json", p, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    expect(&r, PROFILE_VIOLATION, "/syscalls/1/names/0",
           "SCMP_ACT_ALLOW allows ptrace unconditionally: it is in profiles.forbiddenSyscalls");
    assert_int_equal(r.count, 1);
    profile_report_free(&r);
    policy_free(p);
}

static void test_profile_allowing_ptrace_passes_the_default_checks(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("allows-ptrace.json", p, &r);
    expect_verdict(&r, PROFILE_OK);
    profile_report_free(&r);
    policy_free(p);
}

static void test_profile_allowing_kexec_load_unconditionally_is_a_violation(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("allows-kexec.json", p, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    expect(&r, PROFILE_VIOLATION, "/syscalls/0/names/13", "allows kexec_load unconditionally");
    profile_report_free(&r);
    policy_free(p);
}

static void test_unknown_action_is_invalid(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("unknown-action.json", p, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/1/action", "unknown action");
    assert_int_equal(r.count, 1);
    profile_report_free(&r);
    policy_free(p);
}

static void test_architecture_outside_the_oci_list_is_invalid(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("unknown-arch.json", p, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/architectures/1", "not an architecture of the OCI");
    assert_int_equal(r.count, 1);
    profile_report_free(&r);
    policy_free(p);
}

static void test_misspelled_syscall_is_a_warning(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("misspelled-syscall.json", p, &r);
    expect_verdict(&r, PROFILE_WARNING);
    expect(&r, PROFILE_WARNING, "/syscalls/0/names/3", "runtimes skip it (misspelled?)");
    assert_int_equal(r.count, 1);
    profile_report_free(&r);
    policy_free(p);
}

static void test_arch_map_with_architectures_is_invalid(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("archmap-and-architectures.json", p, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/archMap", "together with architectures");
    profile_report_free(&r);
    policy_free(p);
}

static void test_name_with_names_is_invalid(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("name-and-names.json", p, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/1", "both name and names");
    profile_report_free(&r);
    policy_free(p);
}

static void test_invalid_json_is_reported_at_its_line_and_column(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("invalid-json.json", p, &r);
    expect_verdict(&r, PROFILE_INVALID);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.items[0].line, 5);
    assert_int_equal(r.items[0].column, 3);
    assert_non_null(strstr(r.items[0].message, "not valid JSON"));
    char *line = profile_problem_format("invalid-json.json", &r.items[0]);
    assert_non_null(strstr(line, "invalid-json.json:5:3: not valid JSON"));
    free(line);
    profile_report_free(&r);
    policy_free(p);
}

static void test_empty_file_is_invalid(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("empty.json", p, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, NULL, "is empty");
    profile_report_free(&r);
    policy_free(p);
}

static void test_minimal_profile_cannot_start_a_container(void **state)
{
    (void)state;
    /* Whatever requireDefaultDeny says. */
    policy *p = policy_with("  directory: /x\n"
                            "  requireDefaultDeny: false\n");
    profile_report r;
    check_fixture("minimal.json", p, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    expect(&r, PROFILE_VIOLATION, "/syscalls", "no container can start");
    expect(&r, PROFILE_VIOLATION, "/syscalls", "neither execve nor execveat");
    expect(&r, PROFILE_VIOLATION, "/syscalls",
           "the runtime installs the filter before it executes the container's first process");
    expect(&r, PROFILE_VIOLATION, "/syscalls", "operation not permitted");
    profile_report_free(&r);
    policy_free(p);
}

static void test_ten_mib_file_is_refused_from_its_size(void **state)
{
    (void)state;
    char *dir = temp_dir();
    size_t size = 10u << 20;
    char *big = malloc(size);
    assert_non_null(big);
    memset(big, ' ', size);
    memcpy(big, "{\"defaultAction\": \"SCMP_ACT_ERRNO\"}", 35);
    write_file(dir, "big.json", big, size);
    free(big);
    policy *p = default_checks();
    char *path = join(dir, "big.json");
    profile_report r = {0};
    profile_check_file(path, &p->profiles, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, NULL, "is too large (10485760 bytes)");
    profile_report_free(&r);
    free(path);
    policy_free(p);
    rm_tree(dir);
}

static void test_deeply_nested_garbage_is_invalid(void **state)
{
    (void)state;
    char *dir = temp_dir();
    size_t depth = 200000;
    char *junk = malloc(depth * 6 + 16);
    assert_non_null(junk);
    size_t n = 0;
    for (size_t i = 0; i < depth; i++) {
        memcpy(junk + n, i % 2 ? "{\"a\":" : "[", i % 2 ? 5 : 1);
        n += i % 2 ? 5 : 1;
    }
    junk[n++] = 'x';
    write_file(dir, "nested.json", junk, n);
    free(junk);
    policy *p = default_checks();
    char *path = join(dir, "nested.json");
    profile_report r = {0};
    profile_check_file(path, &p->profiles, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, NULL, "nested deeper than 1000 levels");
    assert_int_equal(r.items[0].line, 1);
    profile_report_free(&r);
    free(path);
    policy_free(p);
    rm_tree(dir);
}

/* A profile of `rules` rules, built in memory: rule 0 allows execve, the others are `body`
 * with its "#" replaced by their index. */
static char *generated_profile(size_t rules, const char *body)
{
    const char *hash = strchr(body, '#');
    size_t before = hash ? (size_t)(hash - body) : strlen(body);
    size_t cap = rules * (strlen(body) + 24) + 256, n = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    static const char head[] = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
                               "[\"execve\"],\"action\":\"SCMP_ACT_ALLOW\"}";
    memcpy(t, head, sizeof head - 1);
    n = sizeof head - 1;
    for (size_t i = 1; i < rules; i++) {
        t[n++] = ',';
        memcpy(t + n, body, before);
        n += before;
        if (hash) {
            n += (size_t)snprintf(t + n, cap - n, "%zu", i);
            memcpy(t + n, hash + 1, strlen(hash + 1));
            n += strlen(hash + 1);
        }
    }
    memcpy(t + n, "]}", 3);
    return t;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_names_repeated_tens_of_thousands_of_times_are_checked_quickly(void **state)
{
    (void)state;
    /* 48,000 names in 1 MiB: libseccomp would rescan every rule it was given (minutes);
     * each distinct syscall and rule is added once. */
    char *t = generated_profile(16000, "{\"names\":[\"read\",\"write\",\"close\"],"
                                       "\"action\":\"SCMP_ACT_ALLOW\"}");
    assert_true(strlen(t) <= PROFILE_MAX_BYTES);
    double t0 = seconds();
    profile_report r = {0};
    profile_check_text(t, strlen(t), NULL, &r);
    double took = seconds() - t0;
    expect_verdict(&r, PROFILE_OK);
    if (took > 10)
        print_error("checking took %.1f s\n", took);
    assert_true(took < 10);
    profile_report_free(&r);
    free(t);
}

static void test_filter_over_the_kernel_instruction_limit_is_invalid(void **state)
{
    (void)state;
    /* 5,000 distinct comparisons: at least 5,002 instructions, refused before building. */
    char *t = generated_profile(5001, "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_ALLOW\","
                                      "\"args\":[{\"index\":1,\"value\":#,\"op\":"
                                      "\"SCMP_CMP_EQ\"}]}");
    double t0 = seconds();
    profile_report r = {0};
    profile_check_text(t, strlen(t), NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, NULL, "needs at least 5002 BPF instructions");
    assert_true(seconds() - t0 < 10);
    profile_report_free(&r);
    free(t);
}

/* ---------------------------------------------------------------------------------------- */
/* Exact numbers                                                                             */

#define ARGS_PROFILE(VALUE, VALUE_TWO)                                                             \
    "{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"                  \
    "'SCMP_ACT_ALLOW'},{'names':['ioctl'],'action':'SCMP_ACT_ALLOW','args':[{'index':1,"           \
    "'value':" VALUE ",'valueTwo':" VALUE_TWO ",'op':'SCMP_CMP_MASKED_EQ'}]}]}"

static void test_arg_values_are_read_exactly_from_their_text(void **state)
{
    (void)state;
    /* 2^53+1 is the first integer a double cannot hold; 2^64-1 the largest uint64. */
    char *text = strdup(ARGS_PROFILE("18446744073709551615", "9007199254740993"));
    for (char *q = text; *q; q++)
        if (*q == '\'')
            *q = '"';
    struct scmp_arg_cmp args[2];
    assert_int_equal(profile_rule_args(text, strlen(text), 1, args, 2), 1);
    assert_int_equal(args[0].arg, 1);
    assert_int_equal(args[0].op, SCMP_CMP_MASKED_EQ);
    assert_true(args[0].datum_a == UINT64_MAX);
    assert_true(args[0].datum_b == 9007199254740993ULL);
    free(text);
    /* And the profile builds: libseccomp takes the full 64-bit values. */
    profile_report r;
    check_text(ARGS_PROFILE("18446744073709551615", "9007199254740993"), NULL, &r);
    expect_verdict(&r, PROFILE_OK);
    profile_report_free(&r);
}

static void test_negative_arg_value_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text(ARGS_PROFILE("-1", "0"), NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/1/args/0/value", "must not be negative");
    profile_report_free(&r);
}

static void test_fractional_or_exponent_arg_value_is_invalid(void **state)
{
    (void)state;
    const char *values[] = {"1.5", "1.0", "1e3", "2E1"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char text[512];
        snprintf(text, sizeof text, ARGS_PROFILE("%s", "0"), values[i]);
        profile_report r;
        check_text(text, NULL, &r);
        expect_verdict(&r, PROFILE_INVALID);
        expect(&r, PROFILE_INVALID, "/syscalls/1/args/0/value",
               "without a fraction or an exponent");
        profile_report_free(&r);
    }
}

static void test_arg_value_above_two_to_the_64_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text(ARGS_PROFILE("1", "18446744073709551616"), NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/1/args/0/valueTwo", "is larger than");
    profile_report_free(&r);
}

static void test_arg_index_above_five_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve','read'],"
               "'action':'SCMP_ACT_ALLOW','args':[{'index':6,'value':0,'op':'SCMP_CMP_EQ'}]}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/0/args/0/index", "larger than 5");
    profile_report_free(&r);
}

static void test_numbers_inside_strings_do_not_shift_the_exact_reading(void **state)
{
    (void)state;
    /* Digits in strings and keys, and numbers before the args, must not be taken for them. */
    const char *t = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                    "\"syscalls\":[{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_ALLOW\","
                    "\"comment\":\"12 -3 4.5e6 \\\" 7\"},{\"names\":[\"ioctl\"],\"action\":"
                    "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,\"value\":9007199254740993,"
                    "\"op\":\"SCMP_CMP_EQ\"}]}]}";
    struct scmp_arg_cmp a;
    assert_int_equal(profile_rule_args(t, strlen(t), 1, &a, 1), 1);
    assert_int_equal(a.arg, 2);
    assert_true(a.datum_a == 9007199254740993ULL);
}

static void test_two_conditions_on_one_argument_build_as_separate_rules(void **state)
{
    (void)state;
    /* libseccomp refuses two comparisons of one argument in a rule; runc adds one rule per
     * condition (an OR), and so does the check (strict.json's socket rule, too). */
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW'},{'names':['personality'],'action':'SCMP_ACT_ALLOW','args':["
               "{'index':0,'value':0,'op':'SCMP_CMP_EQ'},{'index':0,'value':8,'op':"
               "'SCMP_CMP_EQ'}]}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_OK);
    profile_report_free(&r);
}

/* ---------------------------------------------------------------------------------------- */
/* Shape                                                                                     */

static void test_architecture_the_spec_lists_but_libseccomp_does_not_know_is_a_warning(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','architectures':['SCMP_ARCH_X86_64',"
               "'SCMP_ARCH_LOONGARCH64'],'syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_WARNING);
    expect(&r, PROFILE_WARNING, "/architectures/1",
           "SCMP_ARCH_LOONGARCH64 is not known to this libseccomp");
    profile_report_free(&r);
}

static void test_arch_map_names_are_checked(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','archMap':[{'architecture':'SCMP_ARCH_X86_64',"
               "'subArchitectures':['SCMP_ARCH_X86','SCMP_ARCH_I386']}],'syscalls':[{'names':["
               "'execve'],'action':'SCMP_ACT_ALLOW'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/archMap/0/subArchitectures/1", "not an architecture");
    profile_report_free(&r);
}

static void test_rule_with_the_default_action_is_a_warning(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW'},{'names':['mount'],'action':'SCMP_ACT_ERRNO'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_WARNING);
    expect(&r, PROFILE_WARNING, "/syscalls/1/action", "the same action as defaultAction");
    profile_report_free(&r);
}

static void test_errno_rule_with_another_errno_is_not_redundant(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW'},{'names':['clone3'],'action':'SCMP_ACT_ERRNO','errnoRet':38}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_OK);
    profile_report_free(&r);
}

static void test_notify_as_default_action_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_NOTIFY','listenerPath':'/run/agent.sock'}", NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/defaultAction", "SCMP_ACT_NOTIFY cannot be the default");
    profile_report_free(&r);
}

static void test_notify_rule_without_listener_path_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW'},{'names':['mount'],'action':'SCMP_ACT_NOTIFY'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/1/action", "needs listenerPath");
    profile_report_free(&r);
}

static void test_errno_ret_on_an_action_without_errno_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW','errnoRet':1}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/0/errnoRet", "SCMP_ACT_ALLOW takes no errno");
    profile_report_free(&r);
    check_text("{'defaultAction':'SCMP_ACT_KILL_PROCESS','defaultErrnoRet':1}", NULL, &r);
    expect(&r, PROFILE_INVALID, "/defaultErrnoRet", "takes no errno");
    profile_report_free(&r);
}

static void test_errno_ret_beyond_sixteen_bits_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':65536}", NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/defaultErrnoRet", "larger than 65535");
    profile_report_free(&r);
}

static void test_missing_default_action_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'syscalls':[{'names':['execve'],'action':'SCMP_ACT_ALLOW'}]}", NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/defaultAction", "is required");
    profile_report_free(&r);
}

static void test_rule_without_names_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':[],'action':"
               "'SCMP_ACT_ALLOW'},{'action':'SCMP_ACT_ALLOW'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/0/names", "at least one");
    expect(&r, PROFILE_INVALID, "/syscalls/1/names", "is required");
    profile_report_free(&r);
}

static void test_legacy_single_name_is_accepted(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'name':'execve','action':"
               "'SCMP_ACT_ALLOW'},{'name':'kexec_load','action':'SCMP_ACT_ALLOW'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_OK); /* no forbidden list without a configuration */
    profile_report_free(&r);
    policy *p = default_checks();
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'name':'execve','action':"
               "'SCMP_ACT_ALLOW'},{'name':'kexec_load','action':'SCMP_ACT_ALLOW'}]}",
               p, &r);
    expect(&r, PROFILE_VIOLATION, "/syscalls/1/name", "kexec_load");
    profile_report_free(&r);
    policy_free(p);
}

static void test_wrong_types_are_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':1,'architectures':'SCMP_ARCH_X86_64','flags':[3],"
               "'syscalls':{}}",
               NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/defaultAction", "must be a string, found a number");
    expect(&r, PROFILE_INVALID, "/architectures", "must be an array of strings");
    expect(&r, PROFILE_INVALID, "/flags/0", "must be a string");
    expect(&r, PROFILE_INVALID, "/syscalls", "must be an array");
    profile_report_free(&r);
    check_text("[1, 2]", NULL, &r);
    expect(&r, PROFILE_INVALID, "", "a seccomp profile is a JSON object");
    profile_report_free(&r);
}

static void test_member_differing_only_in_case_is_invalid(void **state)
{
    (void)state;
    /* Go's encoding/json would read DefaultAction as defaultAction (the last one wins). */
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','DefaultAction':'SCMP_ACT_ALLOW'}", NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/DefaultAction", "differs from \"defaultAction\" only in case");
    profile_report_free(&r);
    /* Unicode folding too: U+017F (long s) folds to s, U+212A (Kelvin sign) to k. */
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','\xc5\xbfyscalls':[]}", NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/\xc5\xbfyscalls", "differs from \"syscalls\"");
    profile_report_free(&r);
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW','args':[],'includes':{'minKernel':'4.8','\xe2\x84\xaa':1}}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_WARNING); /* "K" (Kelvin) folds to "k", which is no member */
    profile_report_free(&r);
}

static void test_unknown_member_is_a_warning(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','defaultAktion':'SCMP_ACT_ALLOW','syscalls':"
               "[{'names':['execve'],'action':'SCMP_ACT_ALLOW','argz':[]}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_WARNING);
    expect(&r, PROFILE_WARNING, "/defaultAktion", "runtimes read here");
    expect(&r, PROFILE_WARNING, "/syscalls/0/argz", "ignored");
    profile_report_free(&r);
}

static void test_duplicate_key_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','defaultAction':'SCMP_ACT_ALLOW'}", NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, NULL, "duplicate key");
    assert_int_equal(r.items[0].line, 1);
    profile_report_free(&r);
}

static void test_bad_min_kernel_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW','includes':{'minKernel':'4'}}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/syscalls/0/includes/minKernel", "<kernel>.<major>");
    profile_report_free(&r);
}

static void test_listener_metadata_without_listener_path_is_invalid(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','listenerMetadata':'x','syscalls':[{'names':["
               "'execve'],'action':'SCMP_ACT_ALLOW'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, "/listenerMetadata", "without listenerPath");
    profile_report_free(&r);
}

static void test_messages_never_quote_the_files_strings(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_fixture("misspelled-syscall.json", p, &r);
    for (size_t i = 0; i < r.count; i++)
        assert_null(strstr(r.items[i].message, "opne"));
    profile_report_free(&r);
    check_fixture("unknown-action.json", p, &r);
    for (size_t i = 0; i < r.count; i++)
        assert_null(strstr(r.items[i].message, "PERMIT"));
    profile_report_free(&r);
    policy_free(p);
}

/* ---------------------------------------------------------------------------------------- */
/* Policy checks                                                                             */

static void test_execveat_alone_lets_a_container_start(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execveat','exit'],"
               "'action':'SCMP_ACT_ALLOW'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_OK);
    profile_report_free(&r);
}

static void test_execve_allowed_only_for_some_arguments_still_lets_a_container_start(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_LOG','args':[{'index':2,'value':0,'op':'SCMP_CMP_NE'}]}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_OK);
    profile_report_free(&r);
}

static void test_default_allow_with_execve_and_execveat_denied_cannot_start(void **state)
{
    (void)state;
    policy *p = policy_with("  directory: /x\n"
                            "  requireDefaultDeny: false\n"
                            "  forbiddenSyscalls: []\n");
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['execve','execveat'],"
               "'action':'SCMP_ACT_KILL_PROCESS'}]}",
               p, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    expect(&r, PROFILE_VIOLATION, "/syscalls/0", "no container can start");
    profile_report_free(&r);
    policy_free(p);
}

static void test_default_log_violates_require_default_deny(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_LOG'}", NULL, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    expect(&r, PROFILE_VIOLATION, "/defaultAction", "SCMP_ACT_LOG lets every syscall");
    profile_report_free(&r);
}

static void test_spec_allow_flag_violates_require_default_deny(void **state)
{
    (void)state;
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','flags':['SECCOMP_FILTER_FLAG_LOG',"
               "'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],'syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW'}]}",
               NULL, &r);
    expect_verdict(&r, PROFILE_VIOLATION);
    expect(&r, PROFILE_VIOLATION, "/flags/1", "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
    profile_report_free(&r);
}

static void test_forbidden_syscall_allowed_for_some_arguments_is_a_warning(void **state)
{
    (void)state;
    policy *p = default_checks();
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':[{'names':['execve'],'action':"
               "'SCMP_ACT_ALLOW'},{'names':['finit_module'],'action':'SCMP_ACT_ALLOW','args':["
               "{'index':2,'value':0,'op':'SCMP_CMP_EQ'}]}]}",
               p, &r);
    expect_verdict(&r, PROFILE_WARNING);
    expect(&r, PROFILE_WARNING, "/syscalls/1/names/0", "finit_module for some argument values");
    profile_report_free(&r);
    policy_free(p);
}

static void test_forbidden_syscall_denied_by_a_rule_under_default_allow_passes(void **state)
{
    (void)state;
    policy *p = policy_with("  directory: /x\n"
                            "  requireDefaultDeny: false\n"
                            "  forbiddenSyscalls: [kexec_load]\n");
    profile_report r;
    check_text("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['kexec_load'],'action':"
               "'SCMP_ACT_ERRNO'}]}",
               p, &r);
    expect_verdict(&r, PROFILE_OK);
    profile_report_free(&r);
    /* Denied only for some arguments: allowed otherwise, a warning. */
    check_text("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['kexec_load'],'action':"
               "'SCMP_ACT_ERRNO','args':[{'index':0,'value':0,'op':'SCMP_CMP_NE'}]}]}",
               p, &r);
    expect_verdict(&r, PROFILE_WARNING);
    expect(&r, PROFILE_WARNING, "/defaultAction", "except where a rule's conditions deny it");
    profile_report_free(&r);
    policy_free(p);
}

static void test_config_problems_are_reported(void **state)
{
    (void)state;
    policy *p = policy_with("  directory: /x\n"
                            "  architectures: [SCMP_ARCH_X86_64, SCMP_ARCH_LOONGARCH64]\n"
                            "  forbiddenSyscalls: [kexec_load, kexec_laod]\n");
    profile_report r = {0};
    profile_check_config(&p->profiles, &r);
    expect(&r, PROFILE_WARNING, NULL, "SCMP_ARCH_LOONGARCH64 is not an architecture this");
    expect(&r, PROFILE_WARNING, NULL, "kexec_laod is not a syscall this libseccomp knows");
    assert_int_equal(r.count, 2);
    profile_report_free(&r);
    policy_free(p);
}

/* ---------------------------------------------------------------------------------------- */
/* Files                                                                                     */

static void test_fifo_is_refused_without_blocking(void **state)
{
    (void)state;
    char *dir = temp_dir();
    char *path = join(dir, "fifo.json");
    assert_int_equal(mkfifo(path, 0600), 0);
    policy *p = default_checks();
    profile_report r = {0};
    profile_check_file(path, &p->profiles, &r); /* no writer: a blocking open would hang */
    expect_verdict(&r, PROFILE_INVALID);
    expect(&r, PROFILE_INVALID, NULL, "is a FIFO, not a regular file");
    profile_report_free(&r);
    policy_free(p);
    free(path);
    rm_tree(dir);
}

static void test_directory_and_missing_file_are_refused(void **state)
{
    (void)state;
    char *dir = temp_dir();
    policy *p = default_checks();
    profile_report r = {0};
    profile_check_file(dir, &p->profiles, &r);
    expect(&r, PROFILE_INVALID, NULL, "is a directory");
    profile_report_free(&r);
    char *missing = join(dir, "nope.json");
    profile_check_file(missing, &p->profiles, &r);
    expect(&r, PROFILE_INVALID, NULL, "cannot open: No such file");
    profile_report_free(&r);
    free(missing);
    policy_free(p);
    rm_tree(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* Under the server's own seccomp filter                                                     */

/* The child's part, in a fresh process where libseccomp has asked the kernel nothing yet:
 * optionally warm up, then forbid seccomp(2) as the server's self-sandbox does — with a raw BPF
 * program through prctl(2), so that libseccomp is not used (and primed) by the test itself —,
 * then check a profile using the actions libseccomp asks the kernel about. Exit 0 when the
 * profile is found valid. */
static int sandboxed_child(bool warm)
{
    if (warm)
        profile_warm_up();
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof code / sizeof *code, code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return 3;
    static const char text[] =
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"listenerPath\":\"/run/agent.sock\","
        "\"syscalls\":[{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_LOG\"},"
        "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
        "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}";
    profile_report r = {0};
    profile_check_text(text, sizeof text - 1, NULL, &r);
    int status = r.worst <= PROFILE_WARNING ? 0 : 1;
    profile_report_free(&r);
    return status;
}

static int run_child(const char *mode)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("SW_PROFILE_CHILD", mode, 1);
        execl("/proc/self/exe", "test_profile", (char *)NULL);
        _exit(4);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_profiles_are_checked_under_a_filter_forbidding_seccomp_after_warm_up(void **state)
{
    (void)state;
    /* Without the warm-up, libseccomp's first question to the kernel is refused and the
     * profile is found invalid: the failure the warm-up in profile_cache_new() prevents. */
    assert_int_equal(run_child("cold"), 1);
    assert_int_equal(run_child("warm"), 0);
}

/* ---------------------------------------------------------------------------------------- */
/* The cache                                                                                 */

static policy *policy_in(const char *dir)
{
    char section[512];
    snprintf(section, sizeof section, "  directory: %s\n", dir);
    return policy_with(section);
}

static void test_cache_answers_a_repeated_review_without_parsing(void **state)
{
    (void)state;
    char *dir = temp_dir();
    copy_fixture("strict.json", dir, "app.json");
    policy *p = policy_in(dir);
    char *why = NULL;
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                     PROFILE_OK);
    assert_null(why);
    profile_cache_stats st;
    profile_cache_get_stats(p->profile_cache, &st);
    assert_int_equal(st.parses, 1);
    assert_int_equal(st.entries, 1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                         PROFILE_OK);
    profile_cache_get_stats(p->profile_cache, &st);
    assert_int_equal(st.parses, 1);
    assert_int_equal(st.hits, 5);
    policy_free(p);
    rm_tree(dir);
}

static void test_cache_reads_again_a_file_that_changed(void **state)
{
    (void)state;
    char *dir = temp_dir();
    copy_fixture("strict.json", dir, "app.json");
    policy *p = policy_in(dir);
    char *why = NULL;
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                     PROFILE_OK);
    copy_fixture("default-allow.json", dir, "app.json");
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                     PROFILE_VIOLATION);
    assert_non_null(strstr(why, "fails the profile checks: /defaultAction: SCMP_ACT_ALLOW"));
    assert_non_null(strstr(why, "(and 4 more problems"));
    free(why);
    profile_cache_stats st;
    profile_cache_get_stats(p->profile_cache, &st);
    assert_int_equal(st.parses, 2);
    policy_free(p);
    rm_tree(dir);
}

static void test_cache_sees_a_same_size_edit_within_one_timestamp_tick(void **state)
{
    (void)state;
    /* SCMP_ACT_ERRNO and SCMP_ACT_ALLOW have the same length: rewritten in place at once,
     * the file keeps its inode and size, and quite possibly its times. */
    char *dir = temp_dir();
    const char *deny = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
                       "[\"execve\"],\"action\":\"SCMP_ACT_LOG\"}]}";
    char *path = join(dir, "app.json");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, deny, strlen(deny)), (ssize_t)strlen(deny));
    policy *p = policy_in(dir);
    char *why = NULL;
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                     PROFILE_OK);
    assert_int_equal(pwrite(fd, "SCMP_ACT_ALLOW", 14, 18), 14);
    close(fd);
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                     PROFILE_VIOLATION);
    assert_non_null(strstr(why, "SCMP_ACT_ALLOW"));
    free(why);
    free(path);
    policy_free(p);
    rm_tree(dir);
}

static void test_cache_trusts_identity_alone_once_the_file_has_settled(void **state)
{
    (void)state;
    char *dir = temp_dir();
    copy_fixture("strict.json", dir, "app.json");
    policy *p = policy_in(dir);
    char *why = NULL;
    /* Just written: the bytes are compared (a read, no parse). */
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                     PROFILE_OK);
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                     PROFILE_OK);
    profile_cache_stats st;
    profile_cache_get_stats(p->profile_cache, &st);
    assert_int_equal(st.parses, 1);
    assert_int_equal(st.reads, 2);
    /* Two seconds later, fstat alone: no read. */
    struct timespec pause = {2, 200000000};
    nanosleep(&pause, NULL);
    profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why); /* settles it */
    profile_cache_get_stats(p->profile_cache, &st);
    unsigned long reads = st.reads;
    for (int i = 0; i < 3; i++)
        assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                         PROFILE_OK);
    profile_cache_get_stats(p->profile_cache, &st);
    assert_int_equal(st.reads, reads);
    assert_int_equal(st.parses, 1);
    policy_free(p);
    rm_tree(dir);
}

static void test_cache_does_not_parse_a_replaced_file_with_the_same_bytes(void **state)
{
    (void)state;
    char *dir = temp_dir();
    copy_fixture("strict.json", dir, "app.json");
    policy *p = policy_in(dir);
    char *why = NULL;
    profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why);
    copy_fixture("strict.json", dir, "app.json"); /* a new inode, as a ConfigMap update */
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "app.json", &why),
                     PROFILE_OK);
    profile_cache_stats st;
    profile_cache_get_stats(p->profile_cache, &st);
    assert_int_equal(st.parses, 1);
    assert_int_equal(st.hits, 1);
    policy_free(p);
    rm_tree(dir);
}

static void test_cache_refuses_missing_and_fifo_files_with_a_reason(void **state)
{
    (void)state;
    char *dir = temp_dir();
    char *fifo = join(dir, "fifo.json");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    policy *p = policy_in(dir);
    char *why = NULL;
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "nope.json", &why),
                     PROFILE_INVALID);
    assert_non_null(strstr(why, "does not exist in profiles.directory"));
    free(why);
    assert_int_equal(profile_cache_judge(p->profile_cache, &p->profiles, "fifo.json", &why),
                     PROFILE_INVALID);
    assert_string_equal(why, "is a FIFO, not a regular file");
    free(why);
    profile_cache_stats st;
    profile_cache_get_stats(p->profile_cache, &st);
    assert_int_equal(st.entries, 0);
    free(fifo);
    policy_free(p);
    rm_tree(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* Admission                                                                                 */

#define LOCALHOST_POD(PATH)                                                                        \
    "{'metadata':{'name':'web'},'spec':{'securityContext':{'seccompProfile':{'type':'Localhost',"  \
    "'localhostProfile':'" PATH "'}},'containers':[{'name':'app'}]}}"

static engine_decision validate(const policy *p, const char *object, cJSON **keep)
{
    *keep = doc(object);
    engine_request req = {.operation = "CREATE",
                          .subresource = "",
                          .namespace_ = "shop",
                          .name = "web",
                          .username = "alice",
                          .group = "",
                          .kind = "Pod",
                          .object = *keep};
    engine_decision d = {0};
    assert_int_equal(engine_review(p, ENGINE_VALIDATE, &req, &d), 0);
    return d;
}

static void test_admission_denies_a_default_allow_profile_naming_it(void **state)
{
    (void)state;
    char *dir = temp_dir();
    copy_fixture("default-allow.json", dir, "open.json");
    policy *p = policy_in(dir);
    cJSON *o;
    engine_decision d = validate(p, LOCALHOST_POD("open.json"), &o);
    assert_false(d.allowed);
    assert_int_equal(d.code, 403);
    assert_non_null(strstr(d.message, "spec.securityContext.seccompProfile.localhostProfile: "
                                      "Localhost profile \"open.json\" fails the profile checks: "
                                      "/defaultAction: SCMP_ACT_ALLOW"));
    assert_int_equal(d.violation_count, 1);
    assert_string_equal(d.violations[0].rule, "localhost-profile");
    assert_string_equal(d.violations[0].value, "open.json");
    engine_decision_free(&d);
    cJSON_Delete(o);
    policy_free(p);
    rm_tree(dir);
}

static void test_admission_allows_a_strict_profile(void **state)
{
    (void)state;
    char *dir = temp_dir();
    copy_fixture("strict.json", dir, "app.json");
    policy *p = policy_in(dir);
    cJSON *o;
    engine_decision d = validate(p, LOCALHOST_POD("app.json"), &o);
    assert_true(d.allowed);
    engine_decision_free(&d);
    cJSON_Delete(o);
    policy_free(p);
    rm_tree(dir);
}

static void test_admission_denies_a_missing_or_invalid_profile(void **state)
{
    (void)state;
    char *dir = temp_dir();
    copy_fixture("unknown-action.json", dir, "bad.json");
    char *sub = join(dir, "team");
    assert_int_equal(mkdir(sub, 0755), 0);
    copy_fixture("minimal.json", sub, "min.json");
    policy *p = policy_in(dir);
    cJSON *o;
    engine_decision d = validate(p, LOCALHOST_POD("gone.json"), &o);
    assert_false(d.allowed);
    assert_non_null(strstr(d.message, "\"gone.json\" does not exist in profiles.directory"));
    engine_decision_free(&d);
    cJSON_Delete(o);
    d = validate(p, LOCALHOST_POD("bad.json"), &o);
    assert_false(d.allowed);
    assert_non_null(strstr(d.message, "\"bad.json\" is not a valid seccomp profile: "
                                      "/syscalls/1/action: unknown action"));
    engine_decision_free(&d);
    cJSON_Delete(o);
    d = validate(p, LOCALHOST_POD("team/min.json"), &o);
    assert_false(d.allowed);
    assert_non_null(strstr(d.message, "\"team/min.json\" fails the profile checks: /syscalls: "
                                      "no container can start"));
    engine_decision_free(&d);
    cJSON_Delete(o);
    free(sub);
    policy_free(p);
    rm_tree(dir);
}

static void test_admission_does_not_read_files_without_a_profiles_section(void **state)
{
    (void)state;
    policy *p = policy_with(NULL);
    cJSON *o;
    engine_decision d = validate(p, LOCALHOST_POD("gone.json"), &o);
    assert_true(d.allowed);
    engine_decision_free(&d);
    cJSON_Delete(o);
    policy_free(p);
}

static void test_admission_reads_no_file_for_a_path_the_allow_list_refuses(void **state)
{
    (void)state;
    char *dir = temp_dir();
    policy *p = policy_in(dir);
    cJSON *o;
    engine_decision d = validate(p, LOCALHOST_POD("other/x.json"), &o);
    assert_false(d.allowed);
    assert_int_equal(d.violation_count, 1);
    assert_string_equal(d.violations[0].rule, "localhost-not-allowed");
    engine_decision_free(&d);
    cJSON_Delete(o);
    policy_free(p);
    rm_tree(dir);
}

static void test_admission_warnings_of_a_profile_are_not_violations(void **state)
{
    (void)state;
    char *dir = temp_dir();
    copy_fixture("misspelled-syscall.json", dir, "typo.json");
    policy *p = policy_in(dir);
    cJSON *o;
    engine_decision d = validate(p, LOCALHOST_POD("typo.json"), &o);
    assert_true(d.allowed);
    assert_int_equal(d.violation_count, 0);
    engine_decision_free(&d);
    cJSON_Delete(o);
    policy_free(p);
    rm_tree(dir);
}

int main(void)
{
    const char *child = getenv("SW_PROFILE_CHILD");
    if (child)
        return sandboxed_child(strcmp(child, "warm") == 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strict_profile_is_valid_without_any_problem),
        cmocka_unit_test(
            test_runtime_default_shaped_profile_warns_only_of_capability_gated_syscalls),
        cmocka_unit_test(test_runtime_default_shaped_profile_passes_on_several_architectures),
        cmocka_unit_test(test_min_kernel_condition_counts_as_met),
        cmocka_unit_test(test_default_allow_profile_violates_require_default_deny),
        cmocka_unit_test(
            test_default_allow_profile_without_require_default_deny_still_allows_forbidden),
        cmocka_unit_test(test_profile_allowing_ptrace_violates_a_policy_forbidding_it),
        cmocka_unit_test(test_profile_allowing_ptrace_passes_the_default_checks),
        cmocka_unit_test(test_profile_allowing_kexec_load_unconditionally_is_a_violation),
        cmocka_unit_test(test_unknown_action_is_invalid),
        cmocka_unit_test(test_architecture_outside_the_oci_list_is_invalid),
        cmocka_unit_test(test_misspelled_syscall_is_a_warning),
        cmocka_unit_test(test_arch_map_with_architectures_is_invalid),
        cmocka_unit_test(test_name_with_names_is_invalid),
        cmocka_unit_test(test_invalid_json_is_reported_at_its_line_and_column),
        cmocka_unit_test(test_empty_file_is_invalid),
        cmocka_unit_test(test_minimal_profile_cannot_start_a_container),
        cmocka_unit_test(test_ten_mib_file_is_refused_from_its_size),
        cmocka_unit_test(test_deeply_nested_garbage_is_invalid),
        cmocka_unit_test(test_names_repeated_tens_of_thousands_of_times_are_checked_quickly),
        cmocka_unit_test(test_filter_over_the_kernel_instruction_limit_is_invalid),
        cmocka_unit_test(test_arg_values_are_read_exactly_from_their_text),
        cmocka_unit_test(test_negative_arg_value_is_invalid),
        cmocka_unit_test(test_fractional_or_exponent_arg_value_is_invalid),
        cmocka_unit_test(test_arg_value_above_two_to_the_64_is_invalid),
        cmocka_unit_test(test_arg_index_above_five_is_invalid),
        cmocka_unit_test(test_numbers_inside_strings_do_not_shift_the_exact_reading),
        cmocka_unit_test(test_two_conditions_on_one_argument_build_as_separate_rules),
        cmocka_unit_test(
            test_architecture_the_spec_lists_but_libseccomp_does_not_know_is_a_warning),
        cmocka_unit_test(test_arch_map_names_are_checked),
        cmocka_unit_test(test_rule_with_the_default_action_is_a_warning),
        cmocka_unit_test(test_errno_rule_with_another_errno_is_not_redundant),
        cmocka_unit_test(test_notify_as_default_action_is_invalid),
        cmocka_unit_test(test_notify_rule_without_listener_path_is_invalid),
        cmocka_unit_test(test_errno_ret_on_an_action_without_errno_is_invalid),
        cmocka_unit_test(test_errno_ret_beyond_sixteen_bits_is_invalid),
        cmocka_unit_test(test_missing_default_action_is_invalid),
        cmocka_unit_test(test_rule_without_names_is_invalid),
        cmocka_unit_test(test_legacy_single_name_is_accepted),
        cmocka_unit_test(test_wrong_types_are_invalid),
        cmocka_unit_test(test_member_differing_only_in_case_is_invalid),
        cmocka_unit_test(test_unknown_member_is_a_warning),
        cmocka_unit_test(test_duplicate_key_is_invalid),
        cmocka_unit_test(test_bad_min_kernel_is_invalid),
        cmocka_unit_test(test_listener_metadata_without_listener_path_is_invalid),
        cmocka_unit_test(test_messages_never_quote_the_files_strings),
        cmocka_unit_test(test_execveat_alone_lets_a_container_start),
        cmocka_unit_test(test_execve_allowed_only_for_some_arguments_still_lets_a_container_start),
        cmocka_unit_test(test_default_allow_with_execve_and_execveat_denied_cannot_start),
        cmocka_unit_test(test_default_log_violates_require_default_deny),
        cmocka_unit_test(test_spec_allow_flag_violates_require_default_deny),
        cmocka_unit_test(test_forbidden_syscall_allowed_for_some_arguments_is_a_warning),
        cmocka_unit_test(test_forbidden_syscall_denied_by_a_rule_under_default_allow_passes),
        cmocka_unit_test(test_config_problems_are_reported),
        cmocka_unit_test(test_fifo_is_refused_without_blocking),
        cmocka_unit_test(test_directory_and_missing_file_are_refused),
        cmocka_unit_test(test_profiles_are_checked_under_a_filter_forbidding_seccomp_after_warm_up),
        cmocka_unit_test(test_cache_answers_a_repeated_review_without_parsing),
        cmocka_unit_test(test_cache_reads_again_a_file_that_changed),
        cmocka_unit_test(test_cache_sees_a_same_size_edit_within_one_timestamp_tick),
        cmocka_unit_test(test_cache_trusts_identity_alone_once_the_file_has_settled),
        cmocka_unit_test(test_cache_does_not_parse_a_replaced_file_with_the_same_bytes),
        cmocka_unit_test(test_cache_refuses_missing_and_fifo_files_with_a_reason),
        cmocka_unit_test(test_admission_denies_a_default_allow_profile_naming_it),
        cmocka_unit_test(test_admission_allows_a_strict_profile),
        cmocka_unit_test(test_admission_denies_a_missing_or_invalid_profile),
        cmocka_unit_test(test_admission_does_not_read_files_without_a_profiles_section),
        cmocka_unit_test(test_admission_reads_no_file_for_a_path_the_allow_list_refuses),
        cmocka_unit_test(test_admission_warnings_of_a_profile_are_not_violations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
