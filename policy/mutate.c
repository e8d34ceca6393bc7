/*
 * mutate.c — the mutating half of the engine (SPEC §7.3): alpha annotations become
 * securityContext.seccompProfile fields, then defaultProfile fills in where a container would
 * run with no profile. Each change is made on the working copy and recorded as a JSON Patch
 * operation at once (jsonpatch.h), so a second review of the result finds nothing to do.
 */
#include "mutate.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "localhost.h"
#include "podspec.h"
#include "seccomp_api.h"
#include "validate.h"

static void warn(strlist *w, const char *who, const char *fmt_value, const char *value,
                 const char *tail)
{
    strbuf sb = {0};
    if (who) {
        sb_append(&sb, "container \"");
        sb_append_escaped(&sb, who);
        sb_append(&sb, "\": ");
    } else {
        sb_append(&sb, "pod: ");
    }
    sb_append(&sb, fmt_value);
    if (value) {
        sb_append(&sb, " \"");
        sb_append_escaped(&sb, value);
        sb_append(&sb, "\"");
    }
    sb_append(&sb, tail);
    char *s = sb_take(&sb);
    if (s)
        text_cut_in_place(s, WARNING_MAX);
    strlist_push_owned(w, s);
}

/*
 * Set `holder.securityContext.seccompProfile` (holder = the pod spec or a container, at JSON
 * Pointer `holder_ptr`). A securityContext that is absent or null is created whole with one
 * `add` (RFC 6902 `add` under a missing parent fails: LESSONS #14); an existing one gets an
 * `add` of its seccompProfile member.
 */
static void set_profile(jsonpatch *patch, cJSON *holder, const char *holder_ptr, profile_type t,
                        const char *localhost)
{
    cJSON *profile = seccomp_profile_json(t, localhost);
    if (!profile) {
        patch->oom = true;
        return;
    }
    cJSON *sc = json_get(holder, "securityContext");
    if (cJSON_IsObject(sc)) {
        strbuf sb = {0};
        sb_append(&sb, holder_ptr);
        sb_append(&sb, "/securityContext");
        char *ptr = sb_take(&sb);
        if (ptr)
            jsonpatch_add_member(patch, sc, ptr, "seccompProfile", profile);
        else {
            cJSON_Delete(profile);
            patch->oom = true;
        }
        free(ptr);
        return;
    }
    cJSON *wrap = cJSON_CreateObject();
    /* cJSON copies the key: adding the member can run out of memory too. */
    if (!wrap || !cJSON_AddItemToObject(wrap, "seccompProfile", profile)) {
        cJSON_Delete(wrap);
        cJSON_Delete(profile);
        patch->oom = true;
        return;
    }
    jsonpatch_add_member(patch, holder, holder_ptr, "securityContext", wrap);
}

static char *join(const char *a, const char *b)
{
    strbuf sb = {0};
    sb_append(&sb, a);
    sb_append(&sb, b);
    return sb_take(&sb);
}

/* An annotation value that can be migrated: accepted by the API and, for localhost/, with a
 * path that passes our path rules (otherwise the validator rules on the annotation). */
static bool migratable(const seccomp_annotation *a)
{
    return a->valid && (a->type != PROFILE_LOCALHOST || !localhost_path_problem(a->localhost));
}

/* Step 1: each alpha annotation becomes the field at its level, unless the field is already
 * set (the field wins), and is removed in the same patch. Source for the mapping:
 * SeccompFieldForAnnotation, pkg/api/pod/util.go (1.19–1.26); for the levels:
 * applySeccompVersionSkew, pkg/registry/core/pod/strategy.go (pod annotation → pod field,
 * container annotation → that container's field, no cross-level sync). */
static void migrate(pod_view *v, jsonpatch *patch, strlist *warnings)
{
    if (!v->annotations)
        return;
    char *ann_ptr = NULL;
    char *spec_ptr = NULL;
    strbuf sb = {0};
    sb_printf(&sb, "%s/metadata/annotations", v->pointer);
    ann_ptr = sb_take(&sb);
    spec_ptr = join(v->pointer, "/spec");
    strlist keys = {0};
    if (!ann_ptr || !spec_ptr) {
        patch->oom = true;
        goto out;
    }
    const size_t plen = strlen(SECCOMP_CONTAINER_ANNOTATION);
    /* Collect first: removing members while walking them would skip some. */
    for (const cJSON *a = v->annotations->child; a; a = a->next)
        if (strcmp(a->string, SECCOMP_POD_ANNOTATION) == 0 ||
            strncmp(a->string, SECCOMP_CONTAINER_ANNOTATION, plen) == 0)
            strlist_push(&keys, a->string);
    if (keys.oom) {
        patch->oom = true;
        goto out;
    }
    for (size_t k = 0; k < keys.count; k++) {
        const char *key = keys.items[k];
        char *value = strdup(json_string(json_get(v->annotations, key)));
        if (!value) {
            patch->oom = true;
            break;
        }
        seccomp_annotation a = seccomp_annotation_parse(value);
        bool is_pod = strcmp(key, SECCOMP_POD_ANNOTATION) == 0;
        const char *cname = is_pod ? NULL : key + plen;
        if (is_pod) {
            if (!migratable(&a)) {
                warn(warnings, NULL, "invalid alpha seccomp annotation", value, " left in place");
            } else if (v->pod_field.set) {
                warn(warnings, NULL, "removed alpha seccomp annotation", value,
                     "; the seccompProfile field wins");
                jsonpatch_remove_member(patch, v->annotations, ann_ptr, key);
            } else {
                set_profile(patch, v->spec, spec_ptr, a.type, a.localhost);
                warn(warnings, NULL, "moved alpha seccomp annotation", value,
                     " to securityContext.seccompProfile");
                jsonpatch_remove_member(patch, v->annotations, ann_ptr, key);
            }
            free(value);
            continue;
        }
        size_t matches = 0;
        for (size_t i = 0; i < v->count; i++)
            if (strcmp(v->containers[i].name, cname) == 0)
                matches++;
        if (matches == 0) {
            warn(warnings, cname, "removed alpha seccomp annotation", value, "; no such container");
            jsonpatch_remove_member(patch, v->annotations, ann_ptr, key);
        } else if (!migratable(&a)) {
            warn(warnings, cname, "invalid alpha seccomp annotation", value, " left in place");
        } else {
            bool moved = false;
            for (size_t i = 0; i < v->count; i++) {
                pod_container *c = &v->containers[i];
                if (strcmp(c->name, cname) != 0 || c->field.set)
                    continue;
                podspec_container_pointer(&sb, v, c);
                char *cptr = sb_take(&sb);
                if (!cptr) {
                    patch->oom = true;
                    break;
                }
                set_profile(patch, c->node, cptr, a.type, a.localhost);
                free(cptr);
                moved = true;
            }
            if (moved)
                warn(warnings, cname, "moved alpha seccomp annotation", value,
                     " to securityContext.seccompProfile");
            else
                warn(warnings, cname, "removed alpha seccomp annotation", value,
                     "; the seccompProfile field wins");
            jsonpatch_remove_member(patch, v->annotations, ann_ptr, key);
        }
        free(value);
    }
out:
    strlist_free(&keys);
    free(ann_ptr);
    free(spec_ptr);
}

static bool has_container_annotation(const pod_view *v, const char *name)
{
    char *key = join(SECCOMP_CONTAINER_ANNOTATION, name);
    bool has = key && pod_annotation(v, key) != NULL;
    free(key);
    return has;
}

static bool in_scope(const mutate_scope *s, const pod_container *c)
{
    if (!s->only_containers)
        return true;
    if (c->list != PODSPEC_EPHEMERAL_CONTAINERS)
        return false;
    for (size_t i = 0; i < s->only_containers->count; i++)
        if (strcmp(s->only_containers->items[i], c->name) == 0)
            return true;
    return false;
}

/* Step 2: where a container still has no effective profile (own field, else the pod's:
 * getSeccompProfile, pkg/kubelet/kuberuntime/helpers.go), set defaultProfile — at pod level,
 * unless the pod level still carries an annotation (the API server refuses a field that
 * disagrees with an annotation at the same level), then on each container that needs it and
 * carries no annotation of its own. */
static void inject(pod_view *v, const mutate_scope *s, jsonpatch *patch)
{
    const policy_settings *st = s->settings;
    if (st->default_profile == PROFILE_NONE)
        return;
    bool needed = false;
    for (size_t i = 0; i < v->count; i++)
        if (in_scope(s, &v->containers[i]) && !v->containers[i].field.set && !v->pod_field.set)
            needed = true;
    if (!needed)
        return;
    strbuf sb = {0};
    if (!s->only_containers && !pod_annotation(v, SECCOMP_POD_ANNOTATION)) {
        char *spec_ptr = join(v->pointer, "/spec");
        if (spec_ptr)
            set_profile(patch, v->spec, spec_ptr, st->default_profile, st->default_localhost);
        else
            patch->oom = true;
        free(spec_ptr);
        return;
    }
    for (size_t i = 0; i < v->count; i++) {
        pod_container *c = &v->containers[i];
        if (!in_scope(s, c) || c->field.set || has_container_annotation(v, c->name))
            continue;
        podspec_container_pointer(&sb, v, c);
        char *cptr = sb_take(&sb);
        if (!cptr) {
            patch->oom = true;
            return;
        }
        set_profile(patch, c->node, cptr, st->default_profile, st->default_localhost);
        free(cptr);
    }
}

int mutate_pod(cJSON *work, const char *group, const char *kind, const mutate_scope *scope,
               jsonpatch *patch, strlist *warnings, strbuf *why)
{
    pod_view v;
    int r = pod_view_read(work, group, kind, &v, why);
    if (r <= 0) {
        pod_view_free(&v);
        return r;
    }
    /* No migration on a pods/ephemeralcontainers UPDATE, not even of a new ephemeral
     * container's own annotation: the API server keeps only spec.ephemeralContainers from the
     * request and takes the metadata from the stored pod (dropNonEphemeralContainerUpdates,
     * pkg/registry/core/pod/strategy.go), so the annotation could not be removed, and SPEC §7.3
     * patches nothing there but defaultProfile. The validator judges that annotation instead. */
    if (!scope->only_containers && scope->settings->migrate_annotations) {
        migrate(&v, patch, warnings);
        /* The nodes the view pointed at may have been replaced: read it again. */
        pod_view_free(&v);
        r = pod_view_read(work, group, kind, &v, why);
        if (r <= 0) {
            pod_view_free(&v);
            return r;
        }
    }
    inject(&v, scope, patch);
    pod_view_free(&v);
    return (patch->oom || warnings->oom) ? -1 : 0;
}
