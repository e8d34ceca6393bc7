/*
 * validate.h — the violation rules of SPEC §7.2, over one pod template.
 */
#ifndef SW_VALIDATE_H
#define SW_VALIDATE_H

#include <stdbool.h>

#include "engine.h"
#include "podspec.h"
#include "policy.h"

typedef struct {
    engine_violation *items;
    size_t count;
    size_t cap;
    bool oom;
} violation_list;

/* What to judge in a pod template. */
typedef struct {
    /* The policy judged against: its profiles section and profile cache (SPEC §6.3). May be
     * NULL (then Localhost profile files are not read). */
    const policy *policy;
    const policy_settings *settings;
    const char *namespace_; /* for `{namespace}` in allowedLocalhostProfiles */
    /* The "no effective profile although defaultProfile is set" rule applies: Pods, and
     * templates when mutateTemplates is on (SPEC §7.2). */
    bool require_profile;
    /* NULL: the whole template. Otherwise only the ephemeral containers whose names are
     * listed, with their container annotations, and no pod-level rule nor pod annotation: a
     * pods/ephemeralcontainers UPDATE, where only the new ephemeral containers can change
     * (ValidatePodEphemeralContainersUpdate). */
    const strlist *only_containers;
} validate_scope;

/*
 * validate_pod — append to `out` every violation in `v` (which must not be a Windows pod: the
 * caller skips those, validateWindows in pkg/apis/core/validation forbids the field there).
 * Allocation failures set out->oom.
 */
void validate_pod(const pod_view *v, const validate_scope *scope, violation_list *out);

/* violation_short — the warning form of SPEC §7.4: `container "<name>": <rule> (<value>)` or
 * `pod: <rule> (<value>)`, at most 120 bytes, cut on a UTF-8 boundary. Owned; NULL on OOM. */
char *violation_short(const engine_violation *x);

void violation_list_free(violation_list *l);

/* Cut an owned string to at most `max` bytes on a UTF-8 boundary, in place. */
void text_cut_in_place(char *s, size_t max);

#define WARNING_MAX 120

#endif
