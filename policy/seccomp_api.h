/*
 * seccomp_api.h — the seccomp vocabulary of the Kubernetes API: the alpha annotations, the
 * `seccompProfile` field, and how the two correspond.
 */
#ifndef SW_SECCOMP_H
#define SW_SECCOMP_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "policy.h"

/* Annotation keys and values: k8s.io/api core/v1 annotation_key_constants.go
 * (SeccompPodAnnotationKey, SeccompContainerAnnotationKeyPrefix, SeccompProfileRuntimeDefault,
 * DeprecatedSeccompProfileDockerDefault, SeccompProfileNameUnconfined,
 * SeccompLocalhostProfileNamePrefix). */
#define SECCOMP_POD_ANNOTATION       "seccomp.security.alpha.kubernetes.io/pod"
#define SECCOMP_CONTAINER_ANNOTATION "container.seccomp.security.alpha.kubernetes.io/"
#define SECCOMP_VALUE_RUNTIME        "runtime/default"
#define SECCOMP_VALUE_DOCKER         "docker/default"
#define SECCOMP_VALUE_UNCONFINED     "unconfined"
#define SECCOMP_VALUE_LOCALHOST      "localhost/"

/* The field `securityContext.seccompProfile` as read from an object. Strings are borrowed. */
typedef struct {
    bool set;              /* present and not null */
    profile_type type;     /* PROFILE_NONE when `type` is missing or not one of the three */
    const char *type_text; /* `type` as written, or NULL when missing */
    const char *localhost; /* `localhostProfile`, or NULL when absent or null */
} seccomp_field;

/*
 * seccomp_field_read — read `securityContext.seccompProfile` from `security_context` (an
 * object, or NULL/absent). Returns 0, or -1 with *why set when the shape cannot be read
 * (seccompProfile, type or localhostProfile of the wrong JSON type).
 */
int seccomp_field_read(const cJSON *security_context, seccomp_field *out, const char **why);

/* The meaning of an alpha annotation value. */
typedef struct {
    bool valid;            /* one of the four accepted forms */
    profile_type type;     /* RuntimeDefault, Unconfined or Localhost when valid */
    const char *localhost; /* the path after "localhost/" (borrowed from the value) */
} seccomp_annotation;

/*
 * seccomp_annotation_parse — map an alpha annotation value to a profile: runtime/default and
 * docker/default → RuntimeDefault, unconfined → Unconfined, localhost/<p> → Localhost + <p>;
 * anything else (case-sensitive) is invalid. Source: ValidateSeccompProfile in
 * pkg/apis/core/validation/validation.go; mapping as SeccompFieldForAnnotation,
 * pkg/api/pod/util.go (1.19–1.26). The path itself is judged separately (localhost.h).
 */
seccomp_annotation seccomp_annotation_parse(const char *value);

/*
 * seccomp_field_matches_annotation — whether a set field and an annotation value at the same
 * level agree, as the API server demands when both are present: Unconfined ⇔ "unconfined",
 * RuntimeDefault ⇔ "runtime/default" or "docker/default", Localhost ⇔ "localhost/" + exactly
 * localhostProfile (a missing localhostProfile never matches). Source:
 * validateSeccompAnnotationsAndFieldsMatch, pkg/apis/core/validation/validation.go.
 */
bool seccomp_field_matches_annotation(const seccomp_field *f, const char *value);

/* profile_type_name — "RuntimeDefault", "Localhost", "Unconfined", or "none". */
const char *profile_type_name(profile_type t);

/* seccomp_profile_json — a new {"type": ..., "localhostProfile": ...} object (NULL on OOM). */
cJSON *seccomp_profile_json(profile_type t, const char *localhost);

#endif
