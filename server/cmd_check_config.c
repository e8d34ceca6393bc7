/*
 * cmd_check_config.c — `seccomp-webhook check-config FILE` (SPEC §3): validate a policy file.
 *
 * A valid file gets a one-line summary on stdout and exit 0. An invalid one gets every problem
 * on stderr as `FILE:LINE:COL: message` (or `FILE: message` for a problem with no position,
 * such as an unreadable file) and exit 2, as does a usage error. Checking the Localhost
 * profiles the allow-lists can reach (SPEC §6, exit 1) is not done yet.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "policy.h"

static const char USAGE[] =
    "Usage: seccomp-webhook check-config FILE\n"
    "\n"
    "Validate a policy file (apiVersion: seccomp-webhook/v1, kind: SeccompPolicy) and print\n"
    "every problem as FILE:LINE:COL: message.\n"
    "\n"
    "  --config FILE  the same as giving FILE\n"
    "  -h, --help     print this help\n"
    "\n"
    "Exit status: 0 the file is valid, 2 it is not (or the command line is wrong).\n";

static int usage_error(const char *why, const char *arg)
{
    fprintf(stderr,
            "seccomp-webhook check-config: %s%s (usage: seccomp-webhook check-config "
            "FILE)\n",
            why, arg ? arg : "");
    return 2;
}

int cmd_check_config(int argc, char **argv)
{
    const char *file = NULL;
    bool options = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (options && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (options && strcmp(a, "--") == 0) {
            options = false;
            continue;
        }
        if (options && strcmp(a, "--config") == 0) {
            if (++i == argc)
                return usage_error("--config needs a FILE", NULL);
            val = argv[i];
        } else if (options && strncmp(a, "--config=", 9) == 0) {
            val = a + 9;
        } else if (options && a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option ", a);
        } else {
            val = a;
        }
        if (file)
            return usage_error("more than one FILE given: ", val);
        file = val;
    }
    if (!file || !*file)
        return usage_error("no FILE given", NULL);

    policy_errors errs = {NULL, 0};
    policy *p = policy_load_file(file, &errs);
    if (!p) {
        for (size_t i = 0; i < errs.count; i++) {
            const policy_error *e = &errs.items[i];
            if (e->line)
                fprintf(stderr, "%s:%u:%u: %s\n", e->file, e->line, e->column, e->message);
            else
                fprintf(stderr, "%s: %s\n", e->file, e->message);
        }
        if (errs.count == 0)
            fprintf(stderr, "%s: invalid policy file\n", file);
        policy_errors_free(&errs);
        return 2;
    }
    printf("%s: ok (%s; %zu namespace rule%s; exemptions: %zu namespaces, %zu usernames, %zu "
           "runtimeClasses)\n",
           file, p->hash, p->rule_count, p->rule_count == 1 ? "" : "s", p->exempt_namespaces.count,
           p->exempt_usernames.count, p->exempt_runtime_classes.count);
    policy_free(p);
    policy_errors_free(&errs);
    return fflush(stdout) == 0 ? 0 : 2;
}
