/*
 * fuzz_policy.c — libFuzzer target: the policy file decoder, policy_parse() (policy/policy.h,
 * SPEC §5), on arbitrary bytes.
 *
 * Invariants besides the sanitizers:
 *   - a policy comes back exactly when no problem is reported, and a refusal reports at least
 *     one problem;
 *   - every problem names the file given, has a message without raw control characters (the
 *     file's bytes are user data: a message shows them escaped), and a line:column inside the
 *     text (or just past its end);
 *   - a policy has a hash "sha256:" + 64 hex digits, a profile cache, and settings for any
 *     namespace; parsing the same text again gives the same hash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"

#define FILENAME "fuzz/policy.yaml"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    policy_errors errs = {0};
    policy *p = policy_parse((const char *)data, size, FILENAME, &errs);
    if (p == NULL) {
        FUZZ_CHECK(errs.count > 0, "policy_parse refused the text without saying why");
        size_t lines = fuzz_yaml_lines(data, size);
        for (size_t i = 0; i < errs.count; i++) {
            const policy_error *e = &errs.items[i];
            FUZZ_CHECK(e->file != NULL && strcmp(e->file, FILENAME) == 0,
                       "problem %zu does not name the file", i);
            FUZZ_CHECK(e->message != NULL && e->message[0] != '\0', "problem %zu: no message", i);
            FUZZ_CHECK(!fuzz_has_control(e->message, NULL),
                       "problem %zu: raw control character in: %s", i, e->message);
            /* One more line and column than the text has: libyaml reports the end of input
             * just past the last character. */
            FUZZ_CHECK(e->line <= lines + 1 && e->column <= size + 2,
                       "problem %zu at %u:%u, outside the text (%zu lines, %zu bytes): %s", i,
                       e->line, e->column, lines, size, e->message);
        }
        policy_errors_free(&errs);
        return 0;
    }
    FUZZ_CHECK(errs.count == 0, "a policy and %zu problems (first: %s)", errs.count,
               errs.items[0].message);
    FUZZ_CHECK(strncmp(p->hash, "sha256:", 7) == 0 && strlen(p->hash) == 7 + 64, "policy hash '%s'",
               p->hash);
    FUZZ_CHECK(p->profile_cache != NULL, "a policy without a profile cache");
    static const char *const namespaces[] = {"default", "kube-system", "team-a", "legacy-x", ""};
    for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++) {
        const policy_settings *s = policy_settings_for(p, namespaces[i]);
        FUZZ_CHECK(s != NULL, "no settings for namespace '%s'", namespaces[i]);
        FUZZ_CHECK(s->default_profile != PROFILE_LOCALHOST || s->default_localhost != NULL,
                   "a Localhost default profile without a path");
    }
    policy_errors again_errs = {0};
    policy *again = policy_parse((const char *)data, size, FILENAME, &again_errs);
    FUZZ_CHECK(again != NULL && strcmp(again->hash, p->hash) == 0,
               "parsing the same text twice gives different results");
    policy_free(again);
    policy_errors_free(&again_errs);
    policy_free(p);
    return 0;
}
