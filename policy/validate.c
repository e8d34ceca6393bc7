/*
 * validate.c — the violation rules of SPEC §7.2. Each rule is one function below, with the
 * Kubernetes source it follows. Everything a user wrote is escaped before it is stored.
 */
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#include "localhost.h"
#include "profile.h"
#include "text.h"

/* ------------------------------------------------------------------------------------------ */
/* Violation list                                                                              */

/* Append a violation; `message` (built from escaped parts) becomes the violation's own, and is
 * freed here whatever happens. The full line is built once, here, for every later use. */
static void add_violation(violation_list *out, const char *path, const char *list,
                          const char *container, const char *rule, const char *value, char *message)
{
    if (out->oom || !message) {
        out->oom = true;
        free(message);
        return;
    }
    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 8;
        engine_violation *p = realloc(out->items, cap * sizeof *p);
        if (!p) {
            out->oom = true;
            free(message);
            return;
        }
        out->items = p;
        out->cap = cap;
    }
    engine_violation *x = &out->items[out->count];
    x->path = text_escape(path);
    x->list = list;
    x->container = container ? text_escape(container) : NULL;
    x->rule = strdup(rule);
    x->value = text_escape(value);
    x->message = message;
    strbuf sb = {0};
    sb_append(&sb, x->path ? x->path : "");
    if (x->container) {
        sb_append(&sb, " (container \"");
        sb_append(&sb, x->container);
        sb_append(&sb, "\")");
    }
    sb_append(&sb, ": ");
    sb_append(&sb, message);
    x->line = sb_take(&sb);
    out->count++;
    if (!x->path || (container && !x->container) || !x->rule || !x->value || !x->line)
        out->oom = true;
}

void violation_list_free(violation_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].path);
        free(l->items[i].container);
        free(l->items[i].rule);
        free(l->items[i].value);
        free(l->items[i].message);
        free(l->items[i].line);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

void text_cut_in_place(char *s, size_t max)
{
    size_t len = strlen(s);
    s[text_cut_utf8(s, len, max)] = '\0';
}

char *violation_short(const engine_violation *x)
{
    strbuf sb = {0};
    if (x->container) {
        sb_append(&sb, "container \"");
        sb_append(&sb, x->container);
        sb_append(&sb, "\": ");
    } else {
        sb_append(&sb, "pod: ");
    }
    sb_append(&sb, x->rule);
    sb_append(&sb, " (");
    sb_append(&sb, x->value);
    sb_append(&sb, ")");
    char *s = sb_take(&sb);
    if (s)
        text_cut_in_place(s, WARNING_MAX);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Rules                                                                                       */

/* Where a profile reference was found, for messages. */
typedef struct {
    const char *path;      /* field path of the value judged */
    const char *container; /* NULL for the pod level */
    const char *list;      /* "pod", "annotations" or the container list (engine_violation) */
} site;

static void violation_fmt(violation_list *out, const site *at, const char *rule, const char *value,
                          const char *what, const char *allowed)
{
    strbuf sb = {0};
    sb_append(&sb, what);
    sb_append(&sb, "; allowed: ");
    sb_append(&sb, allowed);
    add_violation(out, at->path, at->list, at->container, rule, value, sb_take(&sb));
}

/* Unconfined is refused unless the namespace allows it (SPEC §7.2; PSA baseline forbids it:
 * check_seccompProfile_baseline.go). */
static void rule_unconfined(violation_list *out, const validate_scope *s, const site *at,
                            const char *value)
{
    if (s->settings->allow_unconfined)
        return;
    violation_fmt(out, at, "unconfined", value, "Unconfined runs with no seccomp filter",
                  "RuntimeDefault or an allowed Localhost profile");
}

/* The profile file itself, when the policy has a `profiles` section (SPEC §6.3): it must be a
 * regular file of at most 1 MiB under profiles.directory holding a valid profile that passes
 * the policy checks (profile.h). The verdict comes from the policy's cache, so a file that has
 * not changed since the last review costs an open and an fstat. Warnings are not violations. */
static void rule_localhost_file(violation_list *out, const validate_scope *s, const site *at,
                                const char *path, const char *shown)
{
    const policy *p = s->policy;
    if (!p || !p->profiles.present || !p->profiles.directory)
        return;
    char *why = NULL;
    int verdict = profile_cache_judge(p->profile_cache, &p->profiles, path, &why);
    if (verdict < 0) {
        out->oom = true;
        return;
    }
    if (verdict >= PROFILE_VIOLATION) {
        strbuf sb = {0};
        sb_printf(&sb, "Localhost profile \"%s\" %s", shown, why);
        char *what = sb_take(&sb);
        if (what)
            violation_fmt(out, at, "localhost-profile", shown, what,
                          p->profiles.require_default_deny
                              ? "a valid deny-by-default profile file of at most 1 MiB in "
                                "profiles.directory that lets containers start and allows no "
                                "forbidden syscall (seccomp-webhook lint-profile checks one)"
                              : "a valid profile file of at most 1 MiB in profiles.directory that "
                                "lets containers start and allows no forbidden syscall "
                                "(seccomp-webhook lint-profile checks one)");
        else
            out->oom = true;
        free(what);
    }
    free(why);
}

/* A Localhost reference: the path rules of SPEC §6.1 (localhost_path_problem), then the
 * namespace's allow-list (§6.2), then the file (§6.3). */
static void rule_localhost(violation_list *out, const validate_scope *s, const site *at,
                           const char *path)
{
    strbuf sb = {0};
    char *shown = text_escape(path ? path : "");
    if (!shown) {
        out->oom = true;
        return;
    }
    const char *problem = path ? localhost_path_problem(path) : "must be set for type Localhost";
    if (problem) {
        sb_printf(&sb, "localhostProfile \"%s\" %s", shown, problem);
        char *what = sb_take(&sb);
        if (what)
            violation_fmt(out, at, "localhost-path", shown, what,
                          "a relative path under the kubelet's seccomp directory, like "
                          "\"profiles/app.json\"");
        else
            out->oom = true;
        free(what);
        free(shown);
        return;
    }
    bool oom = false;
    const policy_list *globs = &s->settings->allowed_localhost_profiles;
    if (!localhost_allowed(globs, s->namespace_, path, &oom)) {
        if (oom) {
            out->oom = true;
            free(shown);
            return;
        }
        sb_printf(&sb, "Localhost profile \"%s\" is not allowed in namespace \"", shown);
        sb_append_escaped(&sb, s->namespace_);
        sb_append(&sb, "\"");
        char *what = sb_take(&sb);
        strbuf allowed = {0};
        if (globs->count == 0)
            sb_append(&allowed, "no Localhost profile in this namespace; use RuntimeDefault");
        for (size_t i = 0; i < globs->count; i++) {
            sb_printf(&allowed, "%s\"", i ? ", " : "");
            sb_append_escaped(&allowed, globs->items[i]);
            sb_append(&allowed, "\"");
        }
        char *allow = sb_take(&allowed);
        if (what && allow)
            violation_fmt(out, at, "localhost-not-allowed", shown, what, allow);
        else
            out->oom = true;
        free(what);
        free(allow);
    } else {
        rule_localhost_file(out, s, at, path, shown);
    }
    free(shown);
}

/* The field itself: `type` is required and one of three values; localhostProfile only with
 * Localhost. Source: validateSeccompProfileField / validateSeccompProfileType,
 * pkg/apis/core/validation/validation.go. Then Unconfined and Localhost rules. */
static void rule_field(violation_list *out, const validate_scope *s, const char *base,
                       const char *list, const char *container, const seccomp_field *f)
{
    if (!f->set)
        return;
    /* The common cases break no rule: leave before building any path. */
    if (!f->localhost && (f->type == PROFILE_RUNTIME_DEFAULT ||
                          (f->type == PROFILE_UNCONFINED && s->settings->allow_unconfined)))
        return;
    strbuf p = {0};
    sb_append(&p, base);
    sb_append(&p, ".type");
    char *type_path = sb_take(&p);
    sb_append(&p, base);
    sb_append(&p, ".localhostProfile");
    char *lp_path = sb_take(&p);
    if (!type_path || !lp_path) {
        out->oom = true;
        free(type_path);
        free(lp_path);
        return;
    }
    site at_type = {type_path, container, list};
    site at_lp = {lp_path, container, list};
    if (f->type == PROFILE_NONE) {
        char *shown = text_escape(f->type_text ? f->type_text : "");
        strbuf w = {0};
        if (f->type_text)
            sb_printf(&w, "seccompProfile.type \"%s\" is not supported", shown ? shown : "");
        else
            sb_append(&w, "seccompProfile.type is missing");
        char *what = sb_take(&w);
        if (what && shown)
            violation_fmt(out, &at_type, "profile-type", shown, what,
                          "RuntimeDefault or Localhost");
        else
            out->oom = true;
        free(what);
        free(shown);
    } else if (f->type != PROFILE_LOCALHOST && f->localhost) {
        violation_fmt(out, &at_lp, "profile-type", f->localhost,
                      "localhostProfile is set but type is not Localhost",
                      "localhostProfile only with type Localhost");
    }
    if (f->type == PROFILE_UNCONFINED)
        rule_unconfined(out, s, &at_type, "Unconfined");
    else if (f->type == PROFILE_LOCALHOST)
        rule_localhost(out, s, &at_lp, f->localhost);
    free(type_path);
    free(lp_path);
}

/* An alpha annotation: its value must be one of the accepted forms (ValidateSeccompProfile,
 * pkg/apis/core/validation/validation.go); `unconfined` and `localhost/<p>` are judged like
 * the field; a field at the same level must agree with it (validateSeccompAnnotationsAndFields
 * Match). An annotation alone never counts as a profile: kubelets ignore it since 1.25 and the
 * API server stopped copying it into the field in 1.27 (kubernetes PRs #109819, #114947). */
static void rule_annotation(violation_list *out, const validate_scope *s, const pod_view *v,
                            const char *key, const char *value, const char *container,
                            const seccomp_field *same_level)
{
    strbuf p = {0};
    sb_printf(&p, "%smetadata.annotations[%s]", v->path_prefix, key);
    char *path = sb_take(&p);
    char *shown = text_escape(value);
    if (!path || !shown) {
        out->oom = true;
        free(path);
        free(shown);
        return;
    }
    site at = {path, container, "annotations"};
    seccomp_annotation a = seccomp_annotation_parse(value);
    if (!a.valid) {
        strbuf w = {0};
        sb_printf(&w, "\"%s\" is not a valid seccomp annotation value", shown);
        char *what = sb_take(&w);
        if (what)
            violation_fmt(out, &at, "annotation-invalid", shown, what,
                          "the seccompProfile field (runtime/default, docker/default, "
                          "localhost/<path> or unconfined in the legacy annotation)");
        else
            out->oom = true;
        free(what);
    } else if (a.type == PROFILE_UNCONFINED) {
        rule_unconfined(out, s, &at, "unconfined");
    } else if (a.type == PROFILE_LOCALHOST) {
        rule_localhost(out, s, &at, a.localhost);
    }
    if (a.valid && same_level && same_level->set &&
        !seccomp_field_matches_annotation(same_level, value)) {
        strbuf w = {0};
        sb_printf(&w, "the annotation \"%s\" and the seccompProfile field (%s) disagree", shown,
                  profile_type_name(same_level->type));
        char *what = sb_take(&w);
        if (what)
            violation_fmt(out, &at, "annotation-mismatch", shown, what,
                          "the field alone; remove the annotation");
        else
            out->oom = true;
        free(what);
    }
    free(path);
    free(shown);
}

/* A privileged container runs unconfined whatever its profile says (kubernetes website,
 * reference/node/seccomp.md). */
static void rule_privileged(violation_list *out, const validate_scope *s, const char *cpath,
                            const pod_container *c)
{
    if (!c->privileged)
        return;
    strbuf p = {0};
    sb_append(&p, cpath);
    sb_append(&p, ".securityContext.privileged");
    char *path = sb_take(&p);
    if (!path) {
        out->oom = true;
        return;
    }
    if (!s->settings->allow_unconfined) {
        site at = {path, c->name, podspec_list_names[c->list]};
        violation_fmt(out, &at, "privileged", "true",
                      "a privileged container runs with no seccomp filter whatever its profile",
                      "privileged: false");
    }
    free(path);
}

/* Defence in depth: the mutating webhook sets defaultProfile wherever a container has no
 * effective profile (own field, else the pod's: getSeccompProfile,
 * pkg/kubelet/kuberuntime/helpers.go), so one without is a sign that it failed open. */
static void rule_no_profile(violation_list *out, const validate_scope *s, const pod_view *v,
                            const char *cpath, const pod_container *c)
{
    if (!s->require_profile || s->settings->default_profile == PROFILE_NONE)
        return;
    if (c->field.set || v->pod_field.set)
        return;
    strbuf p = {0};
    sb_append(&p, cpath);
    sb_append(&p, ".securityContext.seccompProfile");
    char *path = sb_take(&p);
    if (!path) {
        out->oom = true;
        return;
    }
    site at = {path, c->name, podspec_list_names[c->list]};
    violation_fmt(out, &at, "no-profile", "none",
                  "no seccomp profile is set, so it runs unconfined unless the node enables "
                  "SeccompDefault (alpha annotations do not count; the mutating webhook would "
                  "have set one: it failed open or was bypassed)",
                  "securityContext.seccompProfile RuntimeDefault or an allowed Localhost profile");
    free(path);
}

/* Whether container `c` is judged: every container, or on a pods/ephemeralcontainers UPDATE
 * only the new ephemeral containers (validate_scope.only_containers). */
static bool in_scope(const validate_scope *s, const pod_container *c)
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

void validate_pod(const pod_view *v, const validate_scope *s, violation_list *out)
{
    strbuf sb = {0};
    bool whole = s->only_containers == NULL;
    if (whole && v->pod_field.set) {
        sb_printf(&sb, "%sspec.securityContext.seccompProfile", v->path_prefix);
        char *base = sb_take(&sb);
        if (!base) {
            out->oom = true;
            return;
        }
        rule_field(out, s, base, "pod", NULL, &v->pod_field);
        free(base);
    }
    const char *pa = whole ? pod_annotation(v, SECCOMP_POD_ANNOTATION) : NULL;
    if (pa)
        rule_annotation(out, s, v, SECCOMP_POD_ANNOTATION, pa, NULL, &v->pod_field);
    for (size_t i = 0; i < v->count; i++) {
        const pod_container *c = &v->containers[i];
        if (!in_scope(s, c))
            continue;
        bool unset = !c->field.set && !v->pod_field.set;
        /* A new ephemeral container without a profile of its own runs with the pod's, which
         * was judged when the pod was created — perhaps exempt then, or before this policy:
         * judge it again as this container's effective profile, so `kubectl debug` cannot
         * bring an Unconfined container into such a pod (LESSONS #10). */
        bool inherits = !whole && !c->field.set && v->pod_field.set;
        if (!c->field.set && !c->privileged && !inherits && !(unset && s->require_profile))
            continue; /* no rule can fire: build no path */
        podspec_container_path(&sb, v, c);
        char *cpath = sb_take(&sb);
        sb_append(&sb, cpath ? cpath : "");
        sb_append(&sb, ".securityContext.seccompProfile");
        char *base = sb_take(&sb);
        if (!cpath || !base) {
            out->oom = true;
            free(cpath);
            free(base);
            return;
        }
        if (inherits) {
            sb_printf(&sb, "%sspec.securityContext.seccompProfile", v->path_prefix);
            char *pod_base = sb_take(&sb);
            if (!pod_base)
                out->oom = true;
            else
                rule_field(out, s, pod_base, podspec_list_names[c->list], c->name, &v->pod_field);
            free(pod_base);
        }
        rule_field(out, s, base, podspec_list_names[c->list], c->name, &c->field);
        rule_privileged(out, s, cpath, c);
        rule_no_profile(out, s, v, cpath, c);
        free(cpath);
        free(base);
    }
    if (!v->annotations)
        return;
    /* Container annotations, whatever their suffix (ValidateSeccompPodAnnotations checks every
     * key with the prefix). One naming no container is judged on its value alone.
     * On a pods/ephemeralcontainers UPDATE, the annotation of each new ephemeral container is
     * judged as at CREATE: kubelets up to 1.24 read a container's annotation before the pod's
     * field (container field, container annotation, pod field, pod annotation: getSeccompProfile
     * in pkg/kubelet/kuberuntime/helpers.go before kubernetes PR #109819; KEP 135 "Kubelet
     * Backwards compatibility"), ephemeral containers included, and the annotation may never
     * have been judged: seccomp annotations are mutable on a plain pod UPDATE
     * (ValidatePodSpecificAnnotationUpdates, pkg/apis/core/validation/validation.go), and at
     * CREATE one naming no container was judged on its value alone. */
    size_t plen = strlen(SECCOMP_CONTAINER_ANNOTATION);
    for (const cJSON *a = v->annotations->child; a; a = a->next) {
        if (strncmp(a->string, SECCOMP_CONTAINER_ANNOTATION, plen) != 0)
            continue;
        const char *name = a->string + plen;
        const pod_container *match = NULL;
        for (size_t i = 0; i < v->count && !match; i++)
            if (in_scope(s, &v->containers[i]) && strcmp(v->containers[i].name, name) == 0)
                match = &v->containers[i];
        if (match) {
            rule_annotation(out, s, v, a->string, a->valuestring, name, &match->field);
        } else if (whole && !seccomp_annotation_parse(a->valuestring).valid) {
            rule_annotation(out, s, v, a->string, a->valuestring, name, NULL);
        }
    }
}
