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
 * one of them would be refused in admission (invalid, or failing a policy check), when the
 * directory cannot be read, or when the walk reached one of its bounds. File names in messages
 * are escaped (SPEC §7.4). Running out of memory while checking them is exit 2: it cannot say
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
    "(or profiles.directory cannot be read, or holds too much to walk), 2 the file is not\n"
    "valid (or the command line is wrong).\n";

static int usage_error(const char *why, const char *arg)
{
    char *shown = arg ? text_escape(arg) : NULL;
    fprintf(stderr,
            "seccomp-webhook check-config: %s%s (usage: seccomp-webhook check-config "
            "FILE)\n",
            why, shown ? shown : "");
    free(shown);
    return 2;
}

/* ---------------------------------------------------------------------------------------------
 * Reachable Localhost profiles
 * ------------------------------------------------------------------------------------------- */

/* Bounds of the walk, so that no directory tree makes it slow: symbolic links are followed, and
 * links that are not loops can still reach the same directories along exponentially many
 * paths. Reaching a bound ends the walk incomplete, which is exit 1. */
#define WALK_MAX_DEPTH 16    /* directories below profiles.directory */
#define WALK_MAX_DIRS  2000  /* directories read */
#define WALK_MAX_NAMES 20000 /* directory entries looked at */

typedef struct {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct {
    const policy *p;
    strlist done; /* relative paths already checked */
    size_t dirs;  /* read */
    size_t names; /* looked at */
    size_t checked;
    size_t refused;
    dir_id path[WALK_MAX_DEPTH + 1]; /* the directories from the top down to the one being read */
    bool incomplete;                 /* a bound of the walk was reached */
    bool failed;                     /* something could not be read */
    bool oom;                        /* out of memory: the check is incomplete, and exits 2 */
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

/* Whether `name` is one the kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go) gives
 * its own entries in a ConfigMap, Secret or projected volume: `..data`, a symbolic link to the
 * current version, `..data_tmp`, the next one while it is swapped in, and the directories
 * `..2006_01_02_15_04_05.<random>` (os.MkdirTemp) that hold the versions. The files they hold
 * are shown at the top of the mount through symbolic links, and the kubelet refuses a key
 * starting with "..", so walking them would only check the same files again under other names.
 * Any other name starting with ".." (`..team/`, `..evil.json`) is one a reference may use. */
static bool atomic_writer_name(const char *name)
{
    static const char version[] = "..dddd_dd_dd_dd_dd_dd.";
    if (strcmp(name, "..data") == 0 || strcmp(name, "..data_tmp") == 0)
        return true;
    for (size_t i = 0; i < sizeof version - 1; i++)
        if (version[i] == 'd' ? name[i] < '0' || name[i] > '9' : name[i] != version[i])
            return false;
    return true;
}

/* Whether the directory `st` is `path` or one above it, which the walk is in: a loop. */
static bool on_path(const reach *r, const struct stat *st, int depth)
{
    for (int i = 0; i <= depth; i++)
        if (r->path[i].dev == st->st_dev && r->path[i].ino == st->st_ino)
            return true;
    return false;
}

/* Walk `path` (relative path `rel`, "" at the top, `depth` directories below it), following
 * symbolic links, except into the directory of a loop (one already on the path: every file
 * below it is reached through it already) and into a ConfigMap mount's own directories. The
 * same directory may still be reached along several paths (`b -> a`), each giving references
 * of their own (`a/x.json`, `b/x.json`); the bounds above keep that finite. */
static void walk(reach *r, const char *path, const char *rel, int depth)
{
    DIR *d = opendir(path);
    int err = errno;
    struct stat self;
    if (d && fstat(dirfd(d), &self) != 0) {
        err = errno;
        closedir(d);
        d = NULL;
    }
    if (!d) {
        if (err == ENOMEM) {
            r->oom = true;
            return;
        }
        char *name = text_escape(path);
        if (name)
            fprintf(stderr, "%s: cannot read the directory: %s\n", name, strerror(err));
        r->oom |= !name;
        r->failed = true;
        free(name);
        return;
    }
    r->dirs++;
    r->path[depth] = (dir_id){self.st_dev, self.st_ino};
    struct dirent *e;
    while (!r->oom && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (r->names >= WALK_MAX_NAMES) {
            r->incomplete = true;
            break;
        }
        r->names++;
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
            if (atomic_writer_name(e->d_name) || on_path(r, &st, depth))
                ; /* nothing new below */
            else if (depth >= WALK_MAX_DEPTH || r->dirs >= WALK_MAX_DIRS)
                r->incomplete = true;
            else
                walk(r, child, crel, depth + 1);
        } else if (reachable(r, crel)) {
            check_profile(r, crel);
        }
        free(child);
        free(crel);
    }
    closedir(d);
}

/* Check the profiles the policy of `file` (`name` in messages: escaped) can reach. Returns 0,
 * 1 when one would be refused or the walk was incomplete, or 2 when memory ran out (with a
 * message on stderr). */
static int check_reachable_profiles(const policy *p, const char *file, const char *name)
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
    if (top) {
        size_t n = strlen(top);
        while (n > 1 && top[n - 1] == '/')
            top[--n] = '\0';
        walk(&r, top, "", 0);
    }
    /* A Localhost defaultProfile is injected into pods: it must be there and pass too. */
    for (size_t i = 0; top && i <= p->rule_count && !r.oom; i++) {
        const policy_settings *st = i == 0 ? &p->defaults : &p->rules[i - 1].settings;
        if (st->default_profile == PROFILE_LOCALHOST && st->default_localhost &&
            !localhost_path_problem(st->default_localhost))
            check_profile(&r, st->default_localhost);
    }
    char *shown = top && !r.oom ? text_escape(top) : NULL;
    free(top);
    strlist_free(&r.done);
    if (!shown) {
        fprintf(stderr, "%s: out of memory while checking the profiles\n", name);
        return 2;
    }
    if (r.incomplete)
        printf("%s: stopped after reading %zu directories and %zu names (at most %d, %d, and %d "
               "levels deep): profiles below may be unchecked\n",
               shown, r.dirs, r.names, WALK_MAX_DIRS, WALK_MAX_NAMES, WALK_MAX_DEPTH);
    printf("%s: %zu reachable profile%s checked, %zu would be refused\n", shown, r.checked,
           r.checked == 1 ? "" : "s", r.refused);
    free(shown);
    return r.refused || r.failed || r.incomplete ? 1 : 0;
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

    char *name = text_escape(file); /* the file as messages show it (SPEC §7.4) */
    if (!name) {
        fputs("seccomp-webhook check-config: out of memory\n", stderr);
        return 2;
    }
    policy_errors errs = {NULL, 0};
    policy *p = policy_load_file(file, &errs);
    if (!p) {
        cli_print_policy_errors(&errs);
        if (errs.count == 0)
            fprintf(stderr, "%s: invalid policy file\n", name);
        policy_errors_free(&errs);
        free(name);
        return 2;
    }
    printf("%s: ok (%s; %zu namespace rule%s; exemptions: %zu namespaces, %zu usernames, %zu "
           "runtimeClasses)\n",
           name, p->hash, p->rule_count, p->rule_count == 1 ? "" : "s", p->exempt_namespaces.count,
           p->exempt_usernames.count, p->exempt_runtime_classes.count);
    int status = check_reachable_profiles(p, file, name);
    policy_free(p);
    policy_errors_free(&errs);
    free(name);
    return fflush(stdout) == 0 ? status : 2;
}
