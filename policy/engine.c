/*
 * engine.c — the one entry point: which requests are judged, under which settings, and how
 * violations become a decision (SPEC §7). The rules themselves are in validate.c and
 * mutate.c; this file only routes and assembles.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonpatch.h"
#include "mutate.h"
#include "podspec.h"
#include "text.h"
#include "validate.h"

/* What kind of judgement a request gets. */
typedef enum {
    SCOPE_NONE,      /* allowed untouched */
    SCOPE_CREATE,    /* the whole pod (template) */
    SCOPE_UPDATE,    /* a workload's template, ratcheted against the old object */
    SCOPE_EPHEMERAL, /* only the ephemeral containers this update adds */
} review_scope;

/*
 * Which requests are judged (SPEC §7.2). Pods: CREATE, and the pods/ephemeralcontainers UPDATE
 * through which `kubectl debug` adds containers (a `pods` rule does not cover it: LESSONS #10).
 * Plain pod UPDATE and other subresources are allowed: the pod spec is immutable on update
 * (ValidatePodUpdate, pkg/apis/core/validation/validation.go), and patching it there breaks
 * the update (LESSONS #1, #2, #15). Workloads (the kinds of podspec_template_pointer): CREATE
 * and UPDATE of the object itself, not of subresources such as scale or status. DELETE and
 * CONNECT carry nothing to judge.
 */
static review_scope scope_of(const engine_request *r)
{
    const char *ptr = podspec_template_pointer(r->group, r->kind);
    if (!ptr)
        return SCOPE_NONE;
    bool create = strcmp(r->operation, "CREATE") == 0;
    bool update = strcmp(r->operation, "UPDATE") == 0;
    if (ptr[0] == '\0') { /* a Pod */
        if (r->subresource[0] == '\0' && create)
            return SCOPE_CREATE;
        if (strcmp(r->subresource, "ephemeralcontainers") == 0 && update)
            return SCOPE_EPHEMERAL;
        return SCOPE_NONE;
    }
    if (r->subresource[0] != '\0')
        return SCOPE_NONE;
    return create ? SCOPE_CREATE : update ? SCOPE_UPDATE : SCOPE_NONE;
}

static bool is_pod(const engine_request *r)
{
    return strcmp(r->group, "") == 0 && strcmp(r->kind, "Pod") == 0;
}

/* A workload object a controller owns (metadata.ownerReferences[].controller: true, e.g. the
 * ReplicaSet of a Deployment, the Job of a CronJob) is judged in warn whatever the mode: its
 * parent was judged, and Pods are where enforcement happens (SPEC §7.2; Pod Security Admission
 * likewise never enforces on workload objects: ValidatePodController, admission.go). */
static bool controller_owned(const cJSON *object)
{
    const cJSON *refs = json_get(json_get(object, "metadata"), "ownerReferences");
    if (!cJSON_IsArray(refs))
        return false;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, refs)
    {
        if (cJSON_IsTrue(json_get(ref, "controller")))
            return true;
    }
    return false;
}

/* The pod template at `pointer` in `object`, or NULL (plain tokens only, as podspec's). */
static const cJSON *template_at(const cJSON *object, const char *pointer)
{
    const cJSON *cur = object;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", pointer);
    for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok && cur;
         tok = strtok_r(NULL, "/", &save))
        cur = json_get(cur, tok);
    return cur;
}

/* On a workload UPDATE, templates are mutated only when the pod template itself changed, so
 * that an unrelated edit (scale, labels) never rolls out new pods (SPEC §7.3). */
static bool template_changed(const engine_request *r)
{
    const char *ptr = podspec_template_pointer(r->group, r->kind);
    const cJSON *now = template_at(r->object, ptr);
    const cJSON *before = r->old_object ? template_at(r->old_object, ptr) : NULL;
    if (!now || !before)
        return now != before;
    return !cJSON_Compare(now, before, 1);
}

/* Exemptions by namespace and user, resolved the same way for every path (LESSONS #11), like
 * Pod Security Admission's (exemptions in pod-security-admission/api). */
static bool exempt_request(const policy *p, const engine_request *r)
{
    return policy_list_contains(&p->exempt_namespaces, r->namespace_) ||
           policy_list_contains(&p->exempt_usernames, r->username);
}

/* The names of the ephemeral containers in `object` that `old_object` does not have. */
static int new_ephemeral_names(const cJSON *object, const cJSON *old_object, strlist *out)
{
    const cJSON *now = json_get(json_get(object, "spec"), "ephemeralContainers");
    const cJSON *before = json_get(json_get(old_object, "spec"), "ephemeralContainers");
    if (!cJSON_IsArray(now))
        return 0;
    if (!cJSON_IsArray(before))
        before = NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, now)
    {
        const char *name = json_string(json_get(c, "name"));
        if (!name)
            continue;
        bool existed = false;
        const cJSON *o;
        cJSON_ArrayForEach(o, before)
        {
            const char *oname = json_string(json_get(o, "name"));
            if (oname && strcmp(oname, name) == 0)
                existed = true;
        }
        if (!existed)
            strlist_push(out, name);
    }
    return out->oom ? -1 : 0;
}

/* "Pod team-a/web-1" — the object as users know it (SPEC §7.4). */
static void object_name(strbuf *sb, const engine_request *r)
{
    const cJSON *md = json_get(r->object, "metadata");
    const char *name = r->name[0] ? r->name : json_string(json_get(md, "name"));
    const char *gen = json_string(json_get(md, "generateName"));
    sb_append_escaped(sb, r->kind);
    sb_append(sb, " ");
    if (r->namespace_[0]) {
        sb_append_escaped(sb, r->namespace_);
        sb_append(sb, "/");
    }
    if (name && name[0]) {
        sb_append_escaped(sb, name);
    } else if (gen) {
        sb_append_escaped(sb, gen);
        sb_append(sb, "* (generateName)");
    } else {
        sb_append(sb, "(unnamed)");
    }
}

static void add_warning(engine_decision *d, char *w, bool *oom)
{
    if (!w) {
        *oom = true;
        return;
    }
    char **p = realloc(d->warnings, (d->warning_count + 1) * sizeof *p);
    if (!p) {
        free(w);
        *oom = true;
        return;
    }
    d->warnings = p;
    d->warnings[d->warning_count++] = w;
}

static void add_audit(engine_decision *d, const char *key, char *value, bool *oom)
{
    char *k = strdup(key);
    char **pk = realloc(d->audit_keys, (d->audit_count + 1) * sizeof *pk);
    if (pk)
        d->audit_keys = pk;
    char **pv = realloc(d->audit_values, (d->audit_count + 1) * sizeof *pv);
    if (pv)
        d->audit_values = pv;
    if (!k || !value || !pk || !pv) {
        free(k);
        free(value);
        *oom = true;
        return;
    }
    d->audit_keys[d->audit_count] = k;
    d->audit_values[d->audit_count++] = value;
}

/* Turn the violations into the decision the namespace's mode asks for (SPEC §7.2, §7.4):
 * enforce denies with every violation in one message; warn returns each as a short warning;
 * audit records them in auditAnnotations. Mirror pods are never denied (a denial would only
 * hide a static pod that runs anyway): their violations come back as warnings. */
static void decide(const engine_request *r, policy_mode mode, bool mirror, violation_list *vl,
                   engine_decision *d, bool *oom)
{
    d->violations = vl->items;
    d->violation_count = vl->count;
    engine_violation *items = vl->items;
    size_t n = vl->count;
    memset(vl, 0, sizeof *vl);
    if (n == 0)
        return;
    if (mode == POLICY_MODE_ENFORCE && !mirror) {
        strbuf sb = {0};
        object_name(&sb, r);
        sb_printf(&sb, " violates the seccomp policy (%zu violation%s):", n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
            sb_append(&sb, "\n");
            sb_append(&sb, items[i].line);
        }
        d->allowed = false;
        d->code = 403;
        d->message = sb_take(&sb);
        if (!d->message)
            *oom = true;
        return;
    }
    if (mode == POLICY_MODE_AUDIT && !mirror) {
        strbuf sb = {0};
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_append(&sb, " | ");
            sb_append(&sb, items[i].line);
        }
        add_audit(d, "seccomp-violations", sb_take(&sb), oom);
        return;
    }
    for (size_t i = 0; i < n; i++)
        add_warning(d, violation_short(&items[i]), oom);
}

/* A Pod or template whose shape the engine cannot read: /validate denies it with code 400
 * (never a wrong allow), /mutate lets it through unpatched with a warning (SPEC §4). */
static void shape_error(const engine_request *r, engine_endpoint ep, strbuf *why,
                        engine_decision *d, bool *oom)
{
    strbuf sb = {0};
    if (ep == ENGINE_VALIDATE) {
        object_name(&sb, r);
        sb_append(&sb, " cannot be judged: ");
        sb_append_escaped(&sb, why->data ? why->data : "unreadable object");
        d->allowed = false;
        d->code = 400;
        d->message = sb_take(&sb);
        *oom |= d->message == NULL;
    } else {
        sb_append(&sb, "seccomp-webhook could not read the object: ");
        sb_append_escaped(&sb, why->data ? why->data : "unreadable object");
        char *w = sb_take(&sb);
        if (w)
            text_cut_in_place(w, WARNING_MAX);
        add_warning(d, w, oom);
    }
}

static void review_mutate(const engine_request *r, review_scope scope, const policy_settings *st,
                          const strlist *only, engine_decision *d, bool *oom)
{
    bool in_place = r->object_in_place != NULL && r->object_in_place == r->object;
    cJSON *work = in_place ? r->object_in_place : cJSON_Duplicate(r->object, 1);
    if (!work) {
        *oom = true;
        return;
    }
    jsonpatch patch = {0};
    strlist warnings = {0};
    strbuf why = {0};
    mutate_scope ms = {st, scope == SCOPE_EPHEMERAL ? only : NULL};
    int rc = mutate_pod(work, r->group, r->kind, &ms, &patch, &warnings, &why);
    if (rc < 0 && (patch.oom || warnings.oom || why.oom)) {
        *oom = true;
    } else if (rc < 0) {
        shape_error(r, ENGINE_MUTATE, &why, d, oom);
    } else {
        for (size_t i = 0; i < warnings.count; i++) {
            add_warning(d, warnings.items[i], oom);
            warnings.items[i] = NULL;
        }
        if (jsonpatch_count(&patch) > 0) {
            d->patch = patch.ops;
            d->patched = in_place ? NULL : work;
            patch.ops = NULL;
            work = NULL;
        }
    }
    cJSON_Delete(patch.ops);
    if (!in_place)
        cJSON_Delete(work);
    strlist_free(&warnings);
    sb_free(&why);
}

/* Windows pods and templates: the API server forbids any seccompProfile on them
 * (validateWindows, pkg/apis/core/validation/validation.go), so they are neither migrated nor
 * given a default, and skip the seccomp rules; their annotations stay, with a warning. */
static void windows_warning(const pod_view *v, engine_endpoint ep, review_scope scope,
                            engine_decision *d, bool *oom)
{
    if (ep != ENGINE_MUTATE || !v->annotations || scope == SCOPE_EPHEMERAL)
        return;
    const size_t plen = strlen(SECCOMP_CONTAINER_ANNOTATION);
    bool any = false;
    for (const cJSON *a = v->annotations->child; a; a = a->next)
        any |= strcmp(a->string, SECCOMP_POD_ANNOTATION) == 0 ||
               strncmp(a->string, SECCOMP_CONTAINER_ANNOTATION, plen) == 0;
    if (any)
        add_warning(d,
                    strdup("pod: alpha seccomp annotations left in place on a Windows pod "
                           "(seccomp does not apply)"),
                    oom);
}

/* Whether /mutate may patch: never a mirror pod (the kubelet owns it); a workload template
 * only with mutateTemplates, and on UPDATE only when the template itself changed; never a
 * controller-owned one: its template is a copy its controller compares with its own (the
 * Deployment controller finds its ReplicaSets by template equality, so a patched copy would
 * look foreign) and the parent's template was already mutated. */
static bool may_mutate(const engine_request *r, review_scope scope, const pod_view *v,
                       const policy_settings *st)
{
    if (v->mirror)
        return false;
    if (is_pod(r))
        return true;
    if (!st->mutate_templates || controller_owned(r->object))
        return false;
    return scope != SCOPE_UPDATE || template_changed(r);
}

/* Two violations are the same when they are at the same place by name — container list,
 * container name — and break the same rule with the same value (SPEC §7.2 ratcheting). */
static bool same_violation(const engine_violation *a, const engine_violation *b)
{
    return strcmp(a->list, b->list) == 0 && strcmp(a->rule, b->rule) == 0 &&
           strcmp(a->value, b->value) == 0 &&
           ((!a->container && !b->container) ||
            (a->container && b->container && strcmp(a->container, b->container) == 0));
}

/* On UPDATE, the violations the old object already had: they are not enforced, so that
 * finalizer removal, scaling, relabelling or a rollout restart of an object that predates the
 * policy is never blocked (LESSONS #3, #4). Moves them from `vl` to `old_out`. */
static void ratchet(const engine_request *r, const validate_scope *vs, violation_list *vl,
                    violation_list *old_out)
{
    pod_view ov;
    strbuf why = {0};
    violation_list before = {0};
    if (pod_view_read((cJSON *)r->old_object, r->group, r->kind, &ov, &why) > 0 && !ov.windows)
        validate_pod(&ov, vs, &before);
    pod_view_free(&ov);
    sb_free(&why);
    if (before.oom) {
        vl->oom = true;
        violation_list_free(&before);
        return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < vl->count; i++) {
        bool existed = false;
        for (size_t j = 0; j < before.count && !existed; j++)
            existed = same_violation(&vl->items[i], &before.items[j]);
        if (!existed) {
            vl->items[kept++] = vl->items[i];
            continue;
        }
        if (old_out->count == old_out->cap) {
            size_t cap = old_out->cap ? old_out->cap * 2 : 4;
            engine_violation *p = realloc(old_out->items, cap * sizeof *p);
            if (!p) {
                vl->items[kept++] = vl->items[i]; /* keep it enforced rather than lose it */
                vl->oom = true;
                continue;
            }
            old_out->items = p;
            old_out->cap = cap;
        }
        old_out->items[old_out->count++] = vl->items[i];
    }
    vl->count = kept;
    violation_list_free(&before);
}

static void review_validate(const policy *pol, const engine_request *r, review_scope scope,
                            const pod_view *v, const policy_settings *st, const strlist *only,
                            engine_decision *d, bool *oom)
{
    violation_list vl = {0}, old = {0};
    validate_scope vs = {
        .policy = pol,
        .settings = st,
        .namespace_ = r->namespace_,
        .require_profile = is_pod(r) || st->mutate_templates,
        .only_containers = scope == SCOPE_EPHEMERAL ? only : NULL,
    };
    validate_pod(v, &vs, &vl);
    if (scope == SCOPE_UPDATE && r->old_object && !vl.oom)
        ratchet(r, &vs, &vl, &old);
    if (vl.oom) {
        *oom = true;
        violation_list_free(&vl);
        violation_list_free(&old);
        return;
    }
    policy_mode mode = st->mode;
    if (!is_pod(r) && controller_owned(r->object))
        mode = POLICY_MODE_WARN;
    decide(r, mode, v->mirror, &vl, d, oom);
    violation_list_free(&vl);
    /* The ones the object already had come back as warnings, and stay in the decision's
     * violations for the log. The violation comes first, so that the cut at 120 characters
     * takes the explanation, not the violation; what happens to new pods depends on the
     * namespace's mode, which judges them. */
    const char *fate = st->mode == POLICY_MODE_ENFORCE ? " will be denied" : " violate the policy";
    for (size_t i = 0; i < old.count && !*oom; i++) {
        strbuf sb = {0};
        char *brief = violation_short(&old.items[i]);
        sb_append(&sb, brief ? brief : "");
        sb_append(&sb, "; new pods of this ");
        sb_append_escaped(&sb, r->kind);
        sb_append(&sb, fate);
        *oom |= brief == NULL;
        free(brief);
        char *w = sb_take(&sb);
        if (w)
            text_cut_in_place(w, WARNING_MAX);
        add_warning(d, w, oom);
    }
    if (old.count && !*oom) {
        engine_violation *p = realloc(d->violations, (d->violation_count + old.count) * sizeof *p);
        if (p) {
            memcpy(p + d->violation_count, old.items, old.count * sizeof *p);
            d->violations = p;
            d->violation_count += old.count;
            old.count = 0;
        } else {
            *oom = true;
        }
    }
    violation_list_free(&old);
}

int engine_review(const policy *p, engine_endpoint ep, const engine_request *r, engine_decision *d)
{
    d->allowed = true;
    review_scope scope = scope_of(r);
    if (scope == SCOPE_NONE || !r->object || exempt_request(p, r))
        return 0;

    bool oom = false;
    strbuf why = {0};
    strlist only = {0};
    pod_view v;
    int rc = pod_view_read((cJSON *)r->object, r->group, r->kind, &v, &why);
    if (rc < 0 && why.oom) {
        oom = true;
    } else if (rc < 0) {
        d->judged = true;
        shape_error(r, ep, &why, d, &oom);
    } else if (rc > 0 && !(v.runtime_class &&
                           policy_list_contains(&p->exempt_runtime_classes, v.runtime_class))) {
        d->judged = true;
        const policy_settings *st = policy_settings_for(p, r->namespace_);
        if (scope == SCOPE_EPHEMERAL && new_ephemeral_names(r->object, r->old_object, &only) < 0)
            oom = true;
        else if (v.windows)
            windows_warning(&v, ep, scope, d, &oom);
        else if (ep == ENGINE_VALIDATE)
            review_validate(p, r, scope, &v, st, &only, d, &oom);
        else if (may_mutate(r, scope, &v, st))
            review_mutate(r, scope, st, &only, d, &oom);
    }
    pod_view_free(&v);
    sb_free(&why);
    strlist_free(&only);
    if (oom) {
        engine_decision_free(d);
        return -1;
    }
    return 0;
}

void engine_decision_free(engine_decision *d)
{
    free(d->message);
    for (size_t i = 0; i < d->warning_count; i++)
        free(d->warnings[i]);
    free(d->warnings);
    for (size_t i = 0; i < d->audit_count; i++) {
        free(d->audit_keys[i]);
        free(d->audit_values[i]);
    }
    free(d->audit_keys);
    free(d->audit_values);
    cJSON_Delete(d->patch);
    cJSON_Delete(d->patched);
    violation_list vl = {d->violations, d->violation_count, d->violation_count, false};
    violation_list_free(&vl);
    memset(d, 0, sizeof *d);
}
