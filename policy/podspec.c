/*
 * podspec.c — locating the pod template in each kind, and reading its containers.
 */
#include "podspec.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

const char *const podspec_list_names[PODSPEC_LISTS] = {"containers", "initContainers",
                                                       "ephemeralContainers"};

static const struct {
    const char *group;
    const char *kind;
    const char *pointer;
    const char *path_prefix;
} kinds[] = {
    {"", "Pod", "", ""},
    {"apps", "Deployment", "/spec/template", "spec.template."},
    {"apps", "ReplicaSet", "/spec/template", "spec.template."},
    {"apps", "StatefulSet", "/spec/template", "spec.template."},
    {"apps", "DaemonSet", "/spec/template", "spec.template."},
    {"batch", "Job", "/spec/template", "spec.template."},
    {"", "ReplicationController", "/spec/template", "spec.template."},
    {"batch", "CronJob", "/spec/jobTemplate/spec/template", "spec.jobTemplate.spec.template."},
    {"", "PodTemplate", "/template", "template."},
};

static int kind_index(const char *group, const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].group, group) == 0 && strcmp(kinds[i].kind, kind) == 0)
            return (int)i;
    return -1;
}

const char *podspec_template_pointer(const char *group, const char *kind)
{
    int k = kind_index(group, kind);
    return k < 0 ? NULL : kinds[k].pointer;
}

/* Follow a JSON Pointer made of plain tokens. Returns 1 found (an object), 0 absent or null
 * somewhere on the way, -1 a non-object on the way. */
static int follow(cJSON *root, const char *pointer, cJSON **out, strbuf *why)
{
    cJSON *cur = root;
    const char *p = pointer;
    strbuf at = {0};
    while (*p == '/') {
        const char *tok = p + 1;
        const char *end = strchr(tok, '/');
        size_t n = end ? (size_t)(end - tok) : strlen(tok);
        char key[32];
        if (n >= sizeof key)
            n = sizeof key - 1;
        memcpy(key, tok, n);
        key[n] = '\0';
        cJSON *next = json_get(cur, key);
        if (at.len)
            sb_append(&at, ".");
        sb_append(&at, key);
        if (json_is_absent(next)) {
            sb_free(&at);
            return 0;
        }
        if (!cJSON_IsObject(next)) {
            sb_printf(why, "%s is not an object", at.data ? at.data : key);
            sb_free(&at);
            return -1;
        }
        cur = next;
        p = tok + n;
    }
    sb_free(&at);
    *out = cur;
    return 1;
}

static int read_container(pod_view *v, cJSON *node, int list, size_t index, strbuf *why)
{
    pod_container *c = &v->containers[v->count];
    memset(c, 0, sizeof *c);
    c->list = list;
    c->index = index;
    c->node = node;
    if (!cJSON_IsObject(node)) {
        sb_printf(why, "%sspec.%s[%zu] is not an object", v->path_prefix, podspec_list_names[list],
                  index);
        return -1;
    }
    c->name = json_string(json_get(node, "name"));
    if (!c->name) {
        sb_printf(why, "%sspec.%s[%zu].name is missing or not a string", v->path_prefix,
                  podspec_list_names[list], index);
        return -1;
    }
    cJSON *sc = json_get(node, "securityContext");
    if (!json_is_absent(sc)) {
        if (!cJSON_IsObject(sc)) {
            sb_printf(why, "%sspec.%s[%zu].securityContext is not an object", v->path_prefix,
                      podspec_list_names[list], index);
            return -1;
        }
        c->security_context = sc;
        const cJSON *priv = json_get(sc, "privileged");
        if (!json_is_absent(priv)) {
            if (!cJSON_IsBool(priv)) {
                sb_printf(why, "%sspec.%s[%zu].securityContext.privileged is not a boolean",
                          v->path_prefix, podspec_list_names[list], index);
                return -1;
            }
            c->privileged = cJSON_IsTrue(priv);
        }
    }
    const char *reason = NULL;
    if (seccomp_field_read(c->security_context, &c->field, &reason) < 0) {
        sb_printf(why, "%sspec.%s[%zu].securityContext: %s", v->path_prefix,
                  podspec_list_names[list], index, reason);
        return -1;
    }
    v->count++;
    return 0;
}

int pod_view_read(cJSON *object, const char *group, const char *kind, pod_view *v, strbuf *why)
{
    memset(v, 0, sizeof *v);
    int k = kind_index(group, kind);
    if (k < 0)
        return 0;
    v->pointer = kinds[k].pointer;
    v->path_prefix = kinds[k].path_prefix;
    if (!cJSON_IsObject(object)) {
        sb_append(why, "the object is not a JSON object");
        return -1;
    }
    cJSON *tmpl = NULL;
    int r = follow(object, v->pointer, &tmpl, why);
    if (r <= 0)
        return r;

    cJSON *md = json_get(tmpl, "metadata");
    if (!json_is_absent(md)) {
        if (!cJSON_IsObject(md)) {
            sb_printf(why, "%smetadata is not an object", v->path_prefix);
            return -1;
        }
        v->metadata = md;
        cJSON *ann = json_get(md, "annotations");
        if (!json_is_absent(ann)) {
            if (!cJSON_IsObject(ann)) {
                sb_printf(why, "%smetadata.annotations is not an object", v->path_prefix);
                return -1;
            }
            for (cJSON *a = ann->child; a; a = a->next) {
                if (!cJSON_IsString(a)) {
                    sb_printf(why, "%smetadata.annotations values must be strings", v->path_prefix);
                    return -1;
                }
            }
            v->annotations = ann;
        }
    }
    v->spec = json_get(tmpl, "spec");
    if (!cJSON_IsObject(v->spec)) {
        sb_printf(why, "%sspec is %s", v->path_prefix,
                  json_is_absent(v->spec) ? "missing" : "not an object");
        return -1;
    }
    cJSON *sc = json_get(v->spec, "securityContext");
    if (!json_is_absent(sc)) {
        if (!cJSON_IsObject(sc)) {
            sb_printf(why, "%sspec.securityContext is not an object", v->path_prefix);
            return -1;
        }
        v->security_context = sc;
    }
    const char *reason = NULL;
    if (seccomp_field_read(v->security_context, &v->pod_field, &reason) < 0) {
        sb_printf(why, "%sspec.securityContext: %s", v->path_prefix, reason);
        return -1;
    }
    cJSON *os = json_get(v->spec, "os");
    if (!json_is_absent(os)) {
        const cJSON *name = json_get(os, "name");
        if (!cJSON_IsObject(os) || (!json_is_absent(name) && !cJSON_IsString(name))) {
            sb_printf(why, "%sspec.os is not an object with a string name", v->path_prefix);
            return -1;
        }
        v->windows = cJSON_IsString(name) && strcmp(name->valuestring, "windows") == 0;
    }
    cJSON *rc = json_get(v->spec, "runtimeClassName");
    if (!json_is_absent(rc)) {
        if (!cJSON_IsString(rc)) {
            sb_printf(why, "%sspec.runtimeClassName is not a string", v->path_prefix);
            return -1;
        }
        v->runtime_class = rc->valuestring;
    }
    if (*v->pointer == '\0')
        v->mirror = json_get(v->annotations, "kubernetes.io/config.mirror") != NULL;

    size_t total = 0;
    cJSON *lists[PODSPEC_LISTS];
    for (int l = 0; l < PODSPEC_LISTS; l++) {
        lists[l] = json_get(v->spec, podspec_list_names[l]);
        if (json_is_absent(lists[l])) {
            lists[l] = NULL;
            continue;
        }
        if (!cJSON_IsArray(lists[l])) {
            sb_printf(why, "%sspec.%s is not an array", v->path_prefix, podspec_list_names[l]);
            return -1;
        }
        total += (size_t)cJSON_GetArraySize(lists[l]);
    }
    if (total) {
        v->containers = calloc(total, sizeof *v->containers);
        if (!v->containers) {
            why->oom = true;
            return -1;
        }
    }
    for (int l = 0; l < PODSPEC_LISTS; l++) {
        size_t i = 0;
        for (cJSON *c = lists[l] ? lists[l]->child : NULL; c; c = c->next, i++)
            if (read_container(v, c, l, i, why) < 0)
                return -1;
    }
    return 1;
}

void pod_view_free(pod_view *v)
{
    free(v->containers);
    memset(v, 0, sizeof *v);
}

void podspec_container_pointer(strbuf *sb, const pod_view *v, const pod_container *c)
{
    sb_printf(sb, "%s/spec/%s/%zu", v->pointer, podspec_list_names[c->list], c->index);
}

void podspec_container_path(strbuf *sb, const pod_view *v, const pod_container *c)
{
    sb_append(sb, v->path_prefix);
    sb_append(sb, "spec.");
    sb_append(sb, podspec_list_names[c->list]);
    sb_append(sb, "[");
    sb_append_uint(sb, c->index);
    sb_append(sb, "]");
}

const char *pod_annotation(const pod_view *v, const char *key)
{
    return json_string(json_get(v->annotations, key));
}
