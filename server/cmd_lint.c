/*
 * cmd_lint.c — `seccomp-webhook lint-profile [--config FILE] FILE...` (SPEC §3, §6): check
 * seccomp profile JSON files the way admission checks a Localhost profile, with libseccomp.
 *
 * Each problem is printed on stdout as `FILE: /json/pointer: message` (a JSON syntax error as
 * `FILE:LINE:COL: message`, a problem of the whole file as `FILE: message`; warnings say
 * `warning:` before the message), then one `FILE: ...` verdict line per file. The exit status
 * is the worst of all files: 2 a file is not a valid profile (or the command line or the
 * policy is wrong), 1 a valid profile fails a policy check, 0 otherwise.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "policy.h"
#include "profile.h"
#include "text.h"

static const char USAGE[] =
    "Usage: seccomp-webhook lint-profile [--config FILE] PROFILE...\n"
    "\n"
    "Check seccomp profiles (OCI or Docker JSON) with libseccomp, as the webhook checks a\n"
    "Localhost profile: the format, every action, architecture and operator, each syscall name\n"
    "on each checked architecture, the filter built and exported per architecture, and the\n"
    "policy checks: a container can start (execve or execveat allowed), requireDefaultDeny,\n"
    "forbiddenSyscalls.\n"
    "\n"
    "  --config FILE  take architectures, requireDefaultDeny and forbiddenSyscalls from the\n"
    "                 policy file's profiles section; without it (or without that section):\n"
    "                 this machine's architecture, requireDefaultDeny: true, and\n"
    "                 forbiddenSyscalls: [kexec_load, kexec_file_load, init_module,\n"
    "                 finit_module, delete_module, open_by_handle_at]\n"
    "  -h, --help     print this help\n"
    "\n"
    "Output: one line per problem, `PROFILE: /json/pointer: message` (`warning:` before the\n"
    "message of a warning), then `PROFILE: ok`, `PROFILE: fails the policy checks` or\n"
    "`PROFILE: invalid`.\n"
    "\n"
    "Example:\n"
    "  seccomp-webhook lint-profile --config policy.yaml profiles/*.json\n"
    "\n"
    "Exit status: 0 every profile is valid and passes the checks, 1 a profile fails a policy\n"
    "check, 2 a profile is invalid (or the command line or the policy file is).\n";

/* The `profiles` section a policy file has when it says only `profiles: {directory: /}`: the
 * defaults of SPEC §5, from the one place that knows them (policy_file.c). */
static const char DEFAULT_POLICY[] = "apiVersion: seccomp-webhook/v1\n"
                                     "kind: SeccompPolicy\n"
                                     "profiles:\n"
                                     "  directory: /\n";

static int usage_error(const char *why, const char *arg)
{
    char *shown = arg ? text_escape(arg) : NULL;
    fprintf(stderr,
            "seccomp-webhook lint-profile: %s%s (usage: seccomp-webhook lint-profile "
            "[--config FILE] PROFILE...; --help for more)\n",
            why, shown ? shown : "");
    free(shown);
    return 2;
}

static void print_errors(const policy_errors *errs, const char *file)
{
    cli_print_policy_errors(errs);
    char *shown = text_escape(file);
    if (errs->count == 0)
        fprintf(stderr, "%s: invalid policy file\n", shown ? shown : "the policy");
    free(shown);
}

/* Lint one file; returns its exit status (0, 1 or 2). */
static int lint_one(const char *file, const policy_profiles *cfg)
{
    char *name = text_escape(file); /* the file as messages show it (SPEC §7.4) */
    if (!name) {
        fputs("seccomp-webhook lint-profile: out of memory\n", stderr);
        return 2;
    }
    profile_report r = {0};
    profile_check_file(file, cfg, &r);
    if (r.oom) {
        fprintf(stderr, "seccomp-webhook lint-profile: %s: out of memory\n", name);
        profile_report_free(&r);
        free(name);
        return 2;
    }
    size_t warnings = 0;
    for (size_t i = 0; i < r.count; i++) {
        char *line = profile_problem_format(file, &r.items[i]);
        if (!line) { /* a problem left out would make the list a wrong one */
            fprintf(stderr, "seccomp-webhook lint-profile: %s: out of memory\n", name);
            profile_report_free(&r);
            free(name);
            return 2;
        }
        puts(line);
        free(line);
        warnings += r.items[i].severity == PROFILE_WARNING;
    }
    int status = 0;
    if (r.worst == PROFILE_INVALID) {
        printf("%s: invalid\n", name);
        status = 2;
    } else if (r.worst == PROFILE_VIOLATION) {
        printf("%s: fails the policy checks\n", name);
        status = 1;
    } else if (warnings) {
        printf("%s: ok (%zu warning%s)\n", name, warnings, warnings == 1 ? "" : "s");
    } else {
        printf("%s: ok\n", name);
    }
    profile_report_free(&r);
    free(name);
    return status;
}

int cmd_lint_profile(int argc, char **argv)
{
    const char *config = NULL;
    bool options = true;
    const char **files = calloc((size_t)argc, sizeof *files);
    size_t nfiles = 0;
    if (!files) {
        fprintf(stderr, "seccomp-webhook lint-profile: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *why = NULL;
        if (options && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            fputs(USAGE, stdout);
            free(files);
            return 0;
        }
        if (options && strcmp(a, "--") == 0)
            options = false;
        else if (options && strcmp(a, "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (options && strcmp(a, "--config") == 0)
            why = "--config needs a FILE";
        else if (options && strncmp(a, "--config=", 9) == 0)
            config = a + 9;
        else if (options && a[0] == '-' && a[1] != '\0')
            why = "unknown option ";
        else
            files[nfiles++] = a;
        if (why) {
            free(files);
            return usage_error(why, strcmp(a, "--config") == 0 ? NULL : a);
        }
    }
    if (nfiles == 0) {
        free(files);
        return usage_error("no PROFILE given", NULL);
    }

    policy_errors errs = {NULL, 0};
    policy *p = config ? policy_load_file(config, &errs) : NULL;
    policy *defaults = NULL;
    if (config && !p) {
        print_errors(&errs, config);
        policy_errors_free(&errs);
        free(files);
        return 2;
    }
    if (!p || !p->profiles.present) {
        defaults = policy_parse(DEFAULT_POLICY, sizeof DEFAULT_POLICY - 1, "<built-in>", &errs);
        if (!defaults) {
            print_errors(&errs, "<built-in>");
            policy_errors_free(&errs);
            policy_free(p);
            free(files);
            return 2;
        }
    }
    const policy_profiles *cfg = defaults ? &defaults->profiles : &p->profiles;

    int status = 0;
    for (size_t i = 0; i < nfiles; i++) {
        int s = lint_one(files[i], cfg);
        if (s > status)
            status = s;
    }
    policy_free(defaults);
    policy_free(p);
    policy_errors_free(&errs);
    free(files);
    if (fflush(stdout) != 0)
        return 2;
    return status;
}
