/*
 * mutate.h — migration of the alpha annotations and default injection (SPEC §7.3).
 */
#ifndef SW_MUTATE_H
#define SW_MUTATE_H

#include <cjson/cJSON.h>

#include "jsonpatch.h"
#include "policy.h"
#include "text.h"

typedef struct {
    const policy_settings *settings;
    /* NULL: a CREATE (migrate, then inject at pod level). Otherwise a pods/ephemeralcontainers
     * UPDATE: only these new ephemeral containers get defaultProfile, on their own
     * securityContext, and nothing else changes (dropNonEphemeralContainerUpdates,
     * pkg/registry/core/pod/strategy.go, discards any other change). */
    const strlist *only_containers;
} mutate_scope;

/*
 * mutate_pod — apply the mutations to `work` (the working copy of an object of `group`/`kind`,
 * changed in place) and record them in `patch`; append one warning per migration to
 * `warnings`. The caller has already skipped Windows and mirror pods. Returns 0; -1 when the
 * object has a shape the engine cannot read (reason in `why`, nothing recorded) or on
 * allocation failure (patch->oom, warnings->oom or why->oom).
 */
int mutate_pod(cJSON *work, const char *group, const char *kind, const mutate_scope *scope,
               jsonpatch *patch, strlist *warnings, strbuf *why);

#endif
