/*
 * engine.h — the one entry point of the admission engine.
 *
 * A parsed admission request goes in; a decision comes out: allowed or denied, the violations,
 * the warnings, the audit annotations and the JSON Patch operations. The HTTP handlers and the
 * CLI commands (`review`, `migrate`, `audit`) all call engine_review(); nothing here knows about
 * HTTP, and nothing in server/ knows a seccomp rule.
 */
#ifndef SW_ENGINE_H
#define SW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "policy.h"

typedef enum {
    ENGINE_MUTATE,   /* /mutate: migration and default injection (SPEC §7.3) */
    ENGINE_VALIDATE, /* /validate: the violation rules (SPEC §7.2); never a patch */
} engine_endpoint;

/* The parts of an AdmissionReview request the engine reads. Strings are borrowed and never
 * NULL (the codec gives "" for absent ones); object/old_object are borrowed and may be NULL
 * (absent or JSON null). */
typedef struct {
    const char *operation;   /* CREATE | UPDATE | DELETE | CONNECT */
    const char *subresource; /* "" or e.g. "ephemeralcontainers", "status" */
    const char *namespace_;  /* request.namespace */
    const char *name;        /* request.name ("" on CREATE with generateName) */
    const char *username;    /* request.userInfo.username */
    const char *group;       /* request.kind.group ("" for core) */
    const char *kind;        /* request.kind.kind */
    const cJSON *object;
    const cJSON *old_object;
    bool dry_run;
    /* NULL, or `object` itself given to /mutate to change in place: the caller will not read
     * it again as it was (the server, which only answers with the patch). Without it /mutate
     * works on a copy, which for a typical pod costs a quarter of the review; with it the
     * decision's `patched` stays NULL (the patched object is this tree). */
    cJSON *object_in_place;
} engine_request;

/* One violation of SPEC §7.2, kept for logs, `audit` and messages. All strings are owned and
 * already escaped (control characters from user data are shown as \xNN). */
typedef struct {
    char *path; /* field path from the object root, e.g. spec.containers[0].securityContext */
    /* Where it is, by name and never by index (so inserting a sidecar does not make an old
     * violation look new): "pod", "annotations", or the container list's name. Static. */
    const char *list;
    char *container; /* container name, or NULL for the pod level */
    char *rule;      /* short rule id: unconfined, privileged, localhost-path, ... */
    char *value;     /* the offending value, as shown to users */
    char *message;   /* "<what is wrong>; <what is allowed>" */
    char *line;      /* the full one-line form, as in denial messages and the review log:
                      * `<path> (container "<name>"): <message>` */
} engine_violation;

typedef struct {
    bool allowed;
    int code;      /* when !allowed: 403 (policy) or 400 (object shape the engine cannot read) */
    char *message; /* when !allowed: the denial message of SPEC §7.4 */
    char **warnings;
    size_t warning_count;
    char **audit_keys; /* qualified-name keys without '/', <= 63 chars */
    char **audit_values;
    size_t audit_count;
    cJSON *patch;   /* RFC 6902 operations (a JSON array), or NULL when nothing changes */
    cJSON *patched; /* the object with the patch applied, or NULL when no patch */
    engine_violation *violations;
    size_t violation_count;
    bool judged; /* false when the request was skipped (exempt, not a judged kind/operation) */
} engine_decision;

/*
 * engine_review — judge one admission request against policy `p` for endpoint `ep`.
 * Fills `out` (which the caller zeroes first and frees with engine_decision_free()).
 * Returns 0, or -1 when out of memory (then `out` is freed and the caller answers with an
 * error; it must never turn into an allow). A request whose object has a shape the engine
 * cannot read is not an error here: /validate denies it with code 400, /mutate allows it
 * without a patch and with a warning (SPEC §4).
 */
int engine_review(const policy *p, engine_endpoint ep, const engine_request *req,
                  engine_decision *out);

/* engine_decision_free — free everything `d` owns and zero it. */
void engine_decision_free(engine_decision *d);

#endif
