/*
 * policy.h — the policy model: what the policy file (SPEC §5) says, decoded.
 *
 * A `policy` is immutable once built: the server shares one between request threads and swaps
 * the pointer on reload, so nothing in here may be written after policy_parse() returns. The
 * one exception is the profile cache it owns (profile_cache, profile.h): an object with its
 * own lock, created with the policy and freed by policy_free(), whose contents change as
 * reviews read Localhost profile files; a reloaded policy starts with a new, empty cache.
 * Decoding is strict (unknown keys, wrong types, bad values and duplicate keys are errors with
 * file:line:column); see policy_file.c.
 */
#ifndef SW_POLICY_H
#define SW_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* How validation treats violations in a namespace (SPEC §7.2). Mutation does not depend on it. */
typedef enum {
    POLICY_MODE_ENFORCE = 0, /* deny with every violation in the message */
    POLICY_MODE_WARN,        /* allow, return each violation as a warning */
    POLICY_MODE_AUDIT,       /* allow, record violations in auditAnnotations and the log */
} policy_mode;

/* The `type` of a seccompProfile (k8s.io/api core/v1 SeccompProfileType). PROFILE_NONE stands
 * for "no profile": an unset field, or `defaultProfile: null` (inject nothing). */
typedef enum {
    PROFILE_NONE = 0,
    PROFILE_RUNTIME_DEFAULT,
    PROFILE_LOCALHOST,
    PROFILE_UNCONFINED,
} profile_type;

/* A list of owned NUL-terminated strings. An explicit `[]` in the file gives count 0. */
typedef struct {
    char **items;
    size_t count;
} policy_list;

/* The settings that `defaults` holds and that a `namespaces` rule may override (SPEC §5). */
typedef struct {
    policy_mode mode;
    profile_type default_profile; /* PROFILE_NONE: `defaultProfile: null`, inject nothing */
    char *default_localhost;      /* localhostProfile when default_profile is Localhost */
    bool migrate_annotations;
    bool allow_unconfined;
    policy_list allowed_localhost_profiles; /* fnmatch globs; `{namespace}` is substituted */
    bool mutate_templates;
} policy_settings;

/* One entry of `namespaces`: the first rule whose `match` matches the namespace wins. Keys the
 * rule leaves out are inherited from `defaults` (already filled in here). */
typedef struct {
    policy_list match; /* exact names or fnmatch globs */
    policy_settings settings;
    unsigned line; /* where the rule starts in the file, for messages */
} policy_namespace_rule;

/* The optional `profiles` section (SPEC §5, §6): content checks of Localhost profiles. */
typedef struct {
    bool present;
    char *directory;
    policy_list architectures; /* SCMP_ARCH_* names; empty: the webhook's own */
    bool require_default_deny;
    policy_list forbidden_syscalls;
} policy_profiles;

struct profile_cache;

typedef struct policy {
    policy_settings defaults;
    policy_namespace_rule *rules;
    size_t rule_count;
    policy_list exempt_namespaces;      /* exact names */
    policy_list exempt_usernames;       /* request.userInfo.username, exact */
    policy_list exempt_runtime_classes; /* pod spec.runtimeClassName, exact */
    policy_profiles profiles;
    char hash[72]; /* "sha256:" + 64 hex digits of the file's bytes, or "builtin" */
    /* Verdicts on Localhost profile files under profiles.directory, by path and file identity
     * (profile.h). Owned; internally synchronized; never NULL in a policy built here. */
    struct profile_cache *profile_cache;
} policy;

/* One decoding problem. `file` is the name given to policy_parse(); line and column are
 * 1-based (0 when the problem is not tied to a position, e.g. an unreadable file). */
typedef struct {
    char *file;
    unsigned line;
    unsigned column;
    char *message;
} policy_error;

typedef struct {
    policy_error *items;
    size_t count;
} policy_errors;

/*
 * policy_builtin — the built-in default policy of SPEC §5.1: enforce, RuntimeDefault injected,
 * annotations migrated, Unconfined not allowed, no Localhost profile allowed, templates not
 * mutated, namespace kube-system exempt, no `profiles` section. Returns a new policy the caller
 * frees with policy_free(), or NULL when out of memory.
 */
policy *policy_builtin(void);

/*
 * policy_parse — decode a policy file's text (YAML, libyaml) strictly (SPEC §5).
 * `text` need not be NUL-terminated; `filename` is used only in error messages.
 * Returns a new policy (caller frees with policy_free()) when the file is valid. Returns NULL
 * when it is not, after appending every problem found (not just the first) to `errs`, each
 * with file, line and column; the caller frees them with policy_errors_free().
 */
policy *policy_parse(const char *text, size_t len, const char *filename, policy_errors *errs);

/*
 * policy_load_file — read `path` (at most 1 MiB) and policy_parse() it. An unreadable or
 * oversized file is reported in `errs` with line 0. Same ownership as policy_parse().
 */
policy *policy_load_file(const char *path, policy_errors *errs);

/*
 * policy_settings_for — the settings that apply to namespace `ns`: those of the first
 * `namespaces` rule with a matching entry (exact, or fnmatch(3) glob with FNM_PATHNAME unset),
 * else `defaults`. Never NULL; the result lives as long as `p`.
 */
const policy_settings *policy_settings_for(const policy *p, const char *ns);

/* policy_list_contains — true when `s` equals one of the list's items exactly. */
bool policy_list_contains(const policy_list *l, const char *s);

void policy_free(policy *p);
void policy_errors_free(policy_errors *e);

#endif
