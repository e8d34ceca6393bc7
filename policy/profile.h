/*
 * profile.h — Localhost seccomp profiles judged for what they contain (SPEC §6.3), with
 * libseccomp as the authority on architecture names, syscall names and filters; and the cache
 * that makes a repeated review cost no file parsing.
 *
 * A profile is checked in three steps, each reported as problems with the JSON Pointer of the
 * offending value:
 *   1. its shape: the OCI format (opencontainers/runtime-spec config-linux.md §Seccomp) with
 *      Docker's extensions (moby/profiles seccomp/seccomp.go: archMap, the legacy `name`,
 *      includes/excludes, comment), read as Go's encoding/json reads it or refused;
 *   2. libseccomp: each syscall name resolved per checked architecture, and the filter built
 *      and exported (seccomp_init, seccomp_arch_add, seccomp_rule_add_array, seccomp_export_bpf;
 *      see seccomp_rule_add(3), seccomp_export_bpf(3)) for each architecture of
 *      profiles.architectures (default: the webhook's own);
 *   3. the policy checks of the `profiles` section: a container must be able to start,
 *      requireDefaultDeny, forbiddenSyscalls.
 */
#ifndef SW_PROFILE_H
#define SW_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <seccomp.h>

#include "policy.h"

/* The largest profile file read (SPEC §6.3); a bigger one is refused from its size alone. */
#define PROFILE_MAX_BYTES ((size_t)1024 * 1024)

/* How bad a problem is. The order matters: a report's verdict is its worst problem. */
typedef enum {
    PROFILE_OK = 0,    /* nothing to say */
    PROFILE_WARNING,   /* worth knowing (a name unknown to libseccomp, a redundant rule, ...);
                          admission does not act on it */
    PROFILE_VIOLATION, /* a valid profile that fails a policy check of SPEC §6 */
    PROFILE_INVALID,   /* not a usable profile: missing, unreadable, not a regular file, too
                          large, not JSON, a shape runtimes refuse, or refused by libseccomp */
} profile_severity;

/* One problem. Strings are owned by the report and hold no raw control character; messages
 * never quote the file's bytes (string values are named by their pointer instead). */
typedef struct {
    profile_severity severity;
    char *pointer;         /* RFC 6901 JSON Pointer into the file, e.g. "/syscalls/3/names/2";
                              NULL when the problem concerns the file as a whole */
    unsigned line, column; /* of a JSON syntax error (1-based), else 0 */
    char *message;
} profile_problem;

typedef struct {
    profile_problem *items;
    size_t count;
    size_t cap;
    profile_severity worst; /* PROFILE_OK when there is no problem */
    bool oom;               /* a problem could not be recorded: treat the report as unusable */
} profile_report;

/*
 * profile_check_text — check `len` bytes of profile JSON (need not be NUL-terminated) against
 * the `profiles` settings `cfg` (directory is not used; architectures empty = the webhook's
 * own; require_default_deny; forbidden_syscalls; NULL = requireDefaultDeny alone, on the
 * webhook's own architecture). Appends every problem to `out`, which the caller zeroes first
 * and frees with profile_report_free(). Out of memory sets out->oom.
 */
void profile_check_text(const char *text, size_t len, const policy_profiles *cfg,
                        profile_report *out);

/*
 * profile_rule_args — the argument conditions of rule `index` (0-based, in `syscalls`) of the
 * profile `text`, decoded as they are handed to libseccomp: struct scmp_arg_cmp {arg = index,
 * op, datum_a = value, datum_b = valueTwo} (seccomp_rule_add(3)). Copies at most `max` into
 * `out` and returns how many the rule has, or -1 when the text is not a valid profile shape or
 * has no such rule. For tests and tooling: it shows the values exactly as read from the text.
 */
int profile_rule_args(const char *text, size_t len, size_t index, struct scmp_arg_cmp *out,
                      size_t max);

/*
 * profile_check_file — open `path` the safe way (O_RDONLY | O_NONBLOCK, so a FIFO never
 * blocks; symbolic links are followed, as the kubelet follows them), require a regular file of
 * at most PROFILE_MAX_BYTES (a bigger one is reported from fstat, never read), read it and
 * profile_check_text() it. An unopenable or unreadable file is a PROFILE_INVALID problem with
 * no pointer. Same ownership as profile_check_text().
 */
void profile_check_file(const char *path, const policy_profiles *cfg, profile_report *out);

/*
 * profile_check_config — the `profiles` settings themselves, as libseccomp sees them: each
 * architecture of cfg->architectures must be one this libseccomp knows (else it is skipped
 * when profiles are checked: a warning), and each forbiddenSyscalls name should be a syscall
 * it knows on some checked architecture (else the check can never fire: a warning). Problems
 * have no pointer. Same ownership as profile_check_text().
 */
void profile_check_config(const policy_profiles *cfg, profile_report *out);

/*
 * profile_problem_format — one line for `p`: `FILE:LINE:COL: message` for a JSON syntax
 * error, `FILE: /pointer: message` for a value, `FILE: message` for the whole file, with
 * `warning: ` before the message of a warning. `file` NULL leaves out the `FILE: ` part.
 * Returns a new string (caller frees), or NULL when out of memory.
 */
char *profile_problem_format(const char *file, const profile_problem *p);

void profile_report_free(profile_report *r);

/* ------------------------------------------------------------------------------------------ */
/* The cache                                                                                   */

/*
 * A profile_cache remembers, per relative path, the verdict on a profile file together with
 * the identity of the file it was computed from — device, inode, size, modification time and
 * change time, taken with fstat(2) on the opened file — and a SHA-256 of its bytes. A review
 * opens the file and fstats it; when the identity matches it costs no read and no parsing.
 * When the identity differs (the file was edited, replaced, or a ConfigMap's ..data symlink
 * was swapped), the file is read: the same bytes cost no parsing, other bytes are checked
 * again. File times are coarse, so an entry whose file changed less than 2 s before it was
 * read is not trusted on its identity alone: its bytes are compared on every use until the
 * file has settled (git's "racily clean" rule). Missing files, FIFOs and the like are never
 * cached (they cost an open(2) anyway).
 *
 * Each policy owns one cache (policy->profile_cache), created with it and freed by
 * policy_free(); the verdicts therefore always belong to that policy's `profiles` settings.
 * The cache is internally synchronized (one mutex around a small hash table), so the
 * request threads share it; files are read and checked outside the lock. It holds at most
 * PROFILE_CACHE_MAX entries and forgets the least recently used beyond that.
 */
typedef struct profile_cache profile_cache;

#define PROFILE_CACHE_MAX 512

/*
 * profile_warm_up — have libseccomp ask the kernel, now, which filter flags and actions it
 * supports. libseccomp asks with seccomp(2) the first time a filter uses an action such as
 * SCMP_ACT_LOG, SCMP_ACT_KILL_PROCESS or SCMP_ACT_NOTIFY, and remembers the answer for the
 * rest of the process; a server that later confines itself with a filter forbidding seccomp(2)
 * would otherwise get "not supported" for the first profile that uses one of them, and refuse
 * it. profile_cache_new() calls it, so the policy loaded at start-up, before the server's own
 * filter is installed, has done it; later calls make no system call but memfd_create.
 */
void profile_warm_up(void);

/* profile_cache_new — an empty cache, or NULL when out of memory (after profile_warm_up()).
 * Free with profile_cache_free(). */
profile_cache *profile_cache_new(void);

/* profile_cache_free — free the cache and everything in it (NULL is fine). No other thread
 * may be using it. */
void profile_cache_free(profile_cache *c);

/*
 * profile_cache_judge — the verdict on the Localhost profile `relpath` (which the caller has
 * already checked with localhost_path_problem(): relative, no `..`) under cfg->directory,
 * for a review. Returns PROFILE_OK or PROFILE_WARNING when a reference to it is acceptable,
 * PROFILE_VIOLATION or PROFILE_INVALID when it is not — then *why is set to a new one-line
 * reason (caller frees) that does not repeat the path, e.g. `fails the profile checks:
 * /defaultAction: ...` or `does not exist in profiles.directory (DIR)` — and -1 when out of
 * memory. `c` may be NULL (nothing is cached).
 */
int profile_cache_judge(profile_cache *c, const policy_profiles *cfg, const char *relpath,
                        char **why);

/* Counters, for tests and the benchmark: verdicts answered from the cache (with or without a
 * read to compare the bytes), files read, and files checked (parsed: the cache misses). */
typedef struct {
    unsigned long hits;
    unsigned long reads;
    unsigned long parses;
    size_t entries;
} profile_cache_stats;

void profile_cache_get_stats(profile_cache *c, profile_cache_stats *out);

#endif
