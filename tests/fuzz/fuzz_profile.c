/*
 * fuzz_profile.c — libFuzzer target: the seccomp profile checker, profile_check_text()
 * (policy/profile.h, SPEC §6), on arbitrary bytes, under two `profiles` settings: none (the
 * webhook's own architecture, no policy checks) and a demanding one (x86_64, aarch64 and
 * arm, requireDefaultDeny, forbidden syscalls).
 *
 * Invariants besides the sanitizers:
 *   - the report's verdict is its worst problem, and nothing is out of memory;
 *   - every problem has a message without raw control characters, a pointer that is empty or
 *     starts with '/' (RFC 6901), and formats with profile_problem_format();
 *   - the same text checked twice gives the same verdict and the same number of problems.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"
#include "profile.h"

static char *strict_arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
static char *forbidden[] = {"kexec_load", "init_module", "ptrace", "open_by_handle_at"};

static const policy_profiles plain_cfg = {.present = true};
static const policy_profiles strict_cfg = {
    .present = true,
    .architectures = {strict_arches, sizeof strict_arches / sizeof strict_arches[0]},
    .require_default_deny = true,
    .forbidden_syscalls = {forbidden, sizeof forbidden / sizeof forbidden[0]},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_report(const profile_report *r)
{
    FUZZ_CHECK(!r->oom, "the report ran out of memory");
    profile_severity worst = PROFILE_OK;
    for (size_t i = 0; i < r->count; i++) {
        const profile_problem *p = &r->items[i];
        if (p->severity > worst)
            worst = p->severity;
        FUZZ_CHECK(p->severity > PROFILE_OK && p->severity <= PROFILE_INVALID,
                   "problem %zu: severity %d", i, (int)p->severity);
        FUZZ_CHECK(p->message != NULL && p->message[0] != '\0', "problem %zu: no message", i);
        FUZZ_CHECK(!fuzz_has_control(p->message, NULL), "problem %zu: raw control character in: %s",
                   i, p->message);
        FUZZ_CHECK(p->pointer == NULL || p->pointer[0] == '\0' || p->pointer[0] == '/',
                   "problem %zu: pointer '%s' is not a JSON Pointer", i, p->pointer);
        FUZZ_CHECK(p->pointer == NULL || !fuzz_has_control(p->pointer, NULL),
                   "problem %zu: raw control character in the pointer", i);
        char *line = profile_problem_format("fuzz.json", p);
        FUZZ_CHECK(line != NULL && !fuzz_has_control(line, NULL),
                   "problem %zu does not format to one clean line", i);
        free(line);
    }
    FUZZ_CHECK(worst == r->worst, "verdict %d, worst problem %d", (int)r->worst, (int)worst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const policy_profiles *cfgs[] = {&plain_cfg, &strict_cfg};
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        profile_report a = {0}, b = {0};
        profile_check_text((const char *)data, size, cfgs[i], &a);
        check_report(&a);
        profile_check_text((const char *)data, size, cfgs[i], &b);
        FUZZ_CHECK(a.worst == b.worst && a.count == b.count,
                   "the same profile checked twice: %d/%zu then %d/%zu problems", (int)a.worst,
                   a.count, (int)b.worst, b.count);
        profile_report_free(&a);
        profile_report_free(&b);
    }
    return 0;
}
