/*
 * cmd_check_config.c — `seccomp-webhook check-config FILE` (SPEC §3): validate a policy file.
 *
 * A valid file gets a one-line summary on stdout and exit 0. An invalid one gets every problem
 * on stderr as `FILE:LINE:COL: message` (or `FILE: message` for a problem with no position,
 * such as an unreadable file) and exit 2, as does a usage error.
 *
 * With a `profiles` section, it then checks every Localhost profile the policy can reach, as
 * admission would (SPEC §3, §6): each file under profiles.directory whose relative path an
 * allowedLocalhostProfiles glob of `defaults` or of a `namespaces` rule matches (`{namespace}`
 * read as `*`), and each Localhost defaultProfile. Their problems go to stdout as
 * `PATH: /json/pointer: message` (as lint-profile prints them), and the exit status is 1 when
 * one of them would be refused in admission (invalid, or failing a policy check), or when the
 * directory cannot be read. Running out of memory while checking them is exit 2: it cannot say
 * which profiles pass, and never prints a shorter list as if it were the whole one.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "localhost.h"
#include "policy.h"
#include "profile.h"
#include "text.h"

static const char USAGE[] =
    "Usage: seccomp-webhook check-config FILE\n"
    "\n"
    "Validate a policy file (apiVersion: seccomp-webhook/v1, kind: SeccompPolicy) and print\n"
    "every problem as FILE:LINE:COL: message. With a profiles section, also check every\n"
    "Localhost profile under profiles.directory that an allowedLocalhostProfiles glob can\n"
    "reach ({namespace} read as *) and each Localhost defaultProfile, as lint-profile does,\n"
    "printing PROFILE: /json/pointer: message.\n"
    "\n"
    "  --config FILE  the same as giving FILE\n"
    "  -h, --help     print this help\n"
    "\n"
    "Exit status: 0 the file is valid, 1 a reachable profile would be refused in admission\n"
    "(or profiles.directory cannot be read), 2 the file is not valid (or the command line is\n"
    "wrong).\n";

static int usage_error(const char *why, const char *arg)
{
    fprintf(stderr,
            "seccomp-webhook check-config: %s%s (usage: seccomp-webhook check-config "
            "FILE)\n",
            why, arg ? arg : "");
    return 2;
}

/* ---------------------------------------------------------------------------------------------
 * Reachable Localhost profiles
 * ------------------------------------------------------------------------------------------- */

#define WALK_MAX_DEPTH 16    /* directories below profiles.directory (symlinks are followed) */
#define WALK_MAX_FILES 10000 /* files looked at, in case of a symlink loop or a huge tree */

typedef struct {
    const policy *p;
    strlist done; /* relative paths already checked */
    size_t files; /* looked at */
    size_t checked;
    size_t refused;
    bool failed; /* something could not be read */
    bool oom;    /* out of memory: the check is incomplete, and exits 2 */
} reach;

/* True when some allow-list of the policy matches `rel` with `{namespace}` read as `*`, and
 * the path itself is one a reference may use (SPEC §6 items 1-2). Out of memory sets r->oom. */
static bool reachable(reach *r, const char *rel)
{
    const policy *p = r->p;
    if (localhost_path_problem(rel))
        return false;
    bool oom = false;
    bool found = localhost_allowed(&p->defaults.allowed_localhost_profiles, NULL, rel, &oom);
    for (size_t i = 0; !found && !oom && i < p->rule_count; i++)
        found =
            localhost_allowed(&p->rules[i].settings.allowed_localhost_profiles, NULL, rel, &oom);
    r->oom |= oom;
    return found;
}

/* Print each problem of `rep` as `name: ...`; out of memory sets *oom. */
static void print_problems(const char *name, const profile_report *rep, bool *oom)
{
    for (size_t i = 0; i < rep->count; i++) {
        char *line = profile_problem_format(name, &rep->items[i]);
        if (line)
            puts(line);
        else
            *oom = true;
        free(line);
    }
}

/* Check one profile (relative path `rel`) and print its problems. */
static void check_profile(reach *r, const char *rel)
{
    for (size_t i = 0; i < r->done.count; i++)
        if (strcmp(r->done.items[i], rel) == 0)
            return;
    strlist_push(&r->done, rel);
    if (r->done.oom) {
        r->oom = true;
        return;
    }
    strbuf sb = {0};
    const char *dir = r->p->profiles.directory;
    sb_append(&sb, dir);
    if (dir[0] && dir[strlen(dir) - 1] != '/')
        sb_append(&sb, "/");
    sb_append(&sb, rel);
    char *full = sb_take(&sb);
    if (!full) {
        r->oom = true;
        return;
    }
    profile_report rep = {0};
    profile_check_file(full, &r->p->profiles, &rep);
    r->oom |= rep.oom;
    print_problems(full, &rep, &r->oom);
    r->checked++;
    if (rep.worst >= PROFILE_VIOLATION)
        r->refused++;
    profile_report_free(&rep);
    free(full);
}

/* Walk `path` (relative path `rel`, "" at the top). Names starting with ".." are skipped: a
 * ConfigMap mount keeps its real files under `..<timestamp>/` and `..data`, and shows them
 * through symbolic links at the top, which are followed. */
static void walk(reach *r, const char *path, const char *rel, int depth)
{
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOMEM) {
            r->oom = true;
            return;
        }
        fprintf(stderr, "%s: cannot read the directory: %s\n", path, strerror(errno));
        r->failed = true;
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL && r->files < WALK_MAX_FILES && !r->oom) {
        if (strncmp(e->d_name, ".", 1) == 0 && (!e->d_name[1] || strncmp(e->d_name, "..", 2) == 0))
            continue;
        strbuf a = {0}, b = {0};
        sb_printf(&a, "%s/%s", path, e->d_name);
        sb_printf(&b, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        char *child = sb_take(&a), *crel = sb_take(&b);
        struct stat st;
        if (!child || !crel) {
            r->oom = true;
        } else if (stat(child, &st) != 0) {
            /* a dangling symbolic link: a reference to it would be refused as missing */
            if (reachable(r, crel))
                check_profile(r, crel);
        } else if (S_ISDIR(st.st_mode)) {
            if (depth < WALK_MAX_DEPTH)
                walk(r, child, crel, depth + 1);
        } else {
            r->files++;
            if (reachable(r, crel))
                check_profile(r, crel);
        }
        free(child);
        free(crel);
    }
    closedir(d);
}

/* Check the profiles the policy can reach. Returns 0, 1 when one would be refused, or 2 when
 * memory ran out (with a message on stderr). */
static int check_reachable_profiles(const policy *p, const char *file)
{
    if (!p->profiles.present || !p->profiles.directory)
        return 0;
    reach r = {.p = p};
    profile_report cfg = {0};
    profile_check_config(&p->profiles, &cfg);
    r.oom = cfg.oom;
    print_problems(file, &cfg, &r.oom);
    profile_report_free(&cfg);
    /* the trailing slash of a directory given as "/dir/" is not doubled */
    char *top = r.oom ? NULL : strdup(p->profiles.directory);
    if (!top) {
        fprintf(stderr, "%s: out of memory while checking the profiles\n", file);
        return 2;
    }
    size_t n = strlen(top);
    while (n > 1 && top[n - 1] == '/')
        top[--n] = '\0';
    walk(&r, top, "", 0);
    /* A Localhost defaultProfile is injected into pods: it must be there and pass too. */
    for (size_t i = 0; i <= p->rule_count && !r.oom; i++) {
        const policy_settings *st = i == 0 ? &p->defaults : &p->rules[i - 1].settings;
        if (st->default_profile == PROFILE_LOCALHOST && st->default_localhost &&
            !localhost_path_problem(st->default_localhost))
            check_profile(&r, st->default_localhost);
    }
    if (r.oom) {
        fprintf(stderr, "%s: out of memory while checking the profiles under %s\n", file, top);
        free(top);
        strlist_free(&r.done);
        return 2;
    }
    if (r.files >= WALK_MAX_FILES)
        printf("%s: stopped after %d files\n", top, WALK_MAX_FILES);
    printf("%s: %zu reachable profile%s checked, %zu would be refused\n", top, r.checked,
           r.checked == 1 ? "" : "s", r.refused);
    free(top);
    strlist_free(&r.done);
    return r.refused || r.failed ? 1 : 0;
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
        cli_print_policy_errors(&errs);
        if (errs.count == 0)
            fprintf(stderr, "%s: invalid policy file\n", file);
        policy_errors_free(&errs);
        return 2;
    }
    printf("%s: ok (%s; %zu namespace rule%s; exemptions: %zu namespaces, %zu usernames, %zu "
           "runtimeClasses)\n",
           file, p->hash, p->rule_count, p->rule_count == 1 ? "" : "s", p->exempt_namespaces.count,
           p->exempt_usernames.count, p->exempt_runtime_classes.count);
    int status = check_reachable_profiles(p, file);
    policy_free(p);
    policy_errors_free(&errs);
    return fflush(stdout) == 0 ? status : 2;
}
