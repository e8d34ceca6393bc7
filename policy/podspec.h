/*
 * podspec.h — where the pod spec is in each kind of object, and what its containers are.
 *
 * A pod_view is read once per object and names every place the engine looks at or changes:
 * the template's metadata and spec, the pod-level securityContext, and each container of
 * containers, initContainers and ephemeralContainers, with its JSON Pointer and field path.
 */
#ifndef SW_PODSPEC_H
#define SW_PODSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "seccomp_api.h"
#include "text.h"

/* The three container lists, in the order messages list them. Source for "containers" =
 * all three: VisitContainersWithPath, pkg/api/pod/util.go (init, regular, ephemeral). */
enum { PODSPEC_CONTAINERS, PODSPEC_INIT_CONTAINERS, PODSPEC_EPHEMERAL_CONTAINERS, PODSPEC_LISTS };
extern const char *const podspec_list_names[PODSPEC_LISTS];

typedef struct {
    int list;     /* PODSPEC_CONTAINERS, ... */
    size_t index; /* index in its list */
    const char *name;
    cJSON *node;             /* the container object */
    cJSON *security_context; /* its securityContext, or NULL when absent or null */
    seccomp_field field;     /* its own seccompProfile */
    bool privileged;         /* securityContext.privileged: true */
} pod_container;

typedef struct {
    const char *pointer;     /* JSON Pointer of the pod template ("" for a Pod) */
    const char *path_prefix; /* field path prefix ("" for a Pod, "spec.template." ...) */
    cJSON *metadata;         /* the template's metadata, or NULL */
    cJSON *annotations;      /* metadata.annotations, or NULL when absent or null */
    cJSON *spec;             /* the pod spec (an object) */
    cJSON *security_context; /* spec.securityContext, or NULL when absent or null */
    seccomp_field pod_field; /* spec.securityContext.seccompProfile */
    bool windows;            /* spec.os.name == "windows" */
    bool mirror;             /* annotation kubernetes.io/config.mirror (Pods only) */
    const char *runtime_class;
    pod_container *containers;
    size_t count;
} pod_view;

/*
 * podspec_template_pointer — the JSON Pointer of the pod template in an object of this
 * group/kind: "" for a Pod; "/spec/template" for Deployment, ReplicaSet, StatefulSet,
 * DaemonSet (apps), Job (batch), ReplicationController (core); "/spec/jobTemplate/spec/template"
 * for CronJob (batch); "/template" for PodTemplate (core). NULL for any other kind.
 * Source: DefaultPodSpecExtractor, pod-security-admission/admission/admission.go.
 */
const char *podspec_template_pointer(const char *group, const char *kind);

/*
 * pod_view_read — read the pod template of `object` (of the given group/kind) into `v`.
 * `v` borrows from `object` (which the engine may later change through the view's nodes).
 * Returns 1 when there is a pod spec to judge, 0 when the kind has none or the template is
 * absent (a ReplicationController without spec.template), and -1 when the object has a shape
 * the engine cannot read (reason appended to `why`), or on allocation failure (why->oom).
 * Free with pod_view_free() whatever it returned.
 */
int pod_view_read(cJSON *object, const char *group, const char *kind, pod_view *v, strbuf *why);

void pod_view_free(pod_view *v);

/* podspec_container_pointer / podspec_container_path — JSON Pointer and field path of a
 * container, e.g. "/spec/template/spec/initContainers/0" and
 * "spec.template.spec.initContainers[0]". Appended to `sb`. */
void podspec_container_pointer(strbuf *sb, const pod_view *v, const pod_container *c);
void podspec_container_path(strbuf *sb, const pod_view *v, const pod_container *c);

/* pod_annotation — the string value of annotation `key`, or NULL. */
const char *pod_annotation(const pod_view *v, const char *key);

#endif
