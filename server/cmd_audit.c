/*
 * cmd_audit.c — `seccomp-webhook audit [--config FILE] [--namespace NS] [-o table|json]
 * FILE...|-`: what /validate would say about manifests, or about what is already running
 * (`kubectl get pods,deployments,... -A -o json`), before a namespace is switched to enforce
 * (SPEC §3, issue 7).
 *
 * Each object is judged as a CREATE on /validate with the policy as given (mode, exemptions,
 * namespace rules), as the object is written — not as the mutating webhook would leave it:
 * the summary counts separately the objects `migrate` would change (those that get a patch on
 * /mutate under migrate's policy, with mutateTemplates forced on).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "manifest.h"
#include "policy.h"

#define AUDIT_MAX_INPUT (64u << 20)

static const char audit_usage[] =
    "usage: seccomp-webhook audit [--config FILE] [--namespace NS] [-o table|json] FILE...|-\n"
    "\n"
    "Judge Kubernetes manifests (multi-document YAML, JSON, List objects such as the output of\n"
    "`kubectl get pods,deployments,statefulsets,daemonsets,jobs,cronjobs -A -o json`) as the\n"
    "validating webhook would judge their creation, and list every violation by object,\n"
    "container and field path. Exemptions and namespace rules apply as in admission. A summary\n"
    "line counts objects, violations and the objects `migrate` would change.\n"
    "\n"
    "  --config FILE    the policy file (default: the built-in policy)\n"
    "  --namespace NS   the namespace of objects that carry none (default: default)\n"
    "  -o table|json    a table (default), or a JSON array of violations (summary on stderr)\n"
    "\n"
    "Example: kubectl get pods,deployments -A -o json | seccomp-webhook audit -\n"
    "Exit 0 no violation, 1 a violation found, 2 usage or input error (FILE:LINE:COLUMN for\n"
    "YAML and JSON errors).\n";

#define ME "seccomp-webhook audit"

/* One line of the report. Strings are owned. */
typedef struct {
    const char *file;
    char *object; /* "Deployment shop/web" */
    char *kind, *namespace_, *name;
    char *container; /* NULL: the pod level */
    char *path;
    char *rule;
    char *value;
    char *violation;
} audit_row;

typedef struct {
    const policy *pol;         /* as given: for /validate */
    const policy *migrate_pol; /* mutateTemplates forced on: for "migrate would change" */
    const char *namespace_;
    audit_row *rows;
    size_t nrows, cap;
    size_t objects, objects_with_violations, fixable;
    bool oom;
} audit_run;

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static char *escaped(const char *s)
{
    return text_escape(s ? s : "");
}

static void add_row(audit_run *run, const char *file, const manifest_object *o, const char *label,
                    const char *container, const char *path, const char *rule, const char *value,
                    const char *violation)
{
    if (run->nrows == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 16;
        audit_row *r = realloc(run->rows, cap * sizeof *r);
        if (!r) {
            run->oom = true;
            return;
        }
        run->rows = r;
        run->cap = cap;
    }
    audit_row *r = &run->rows[run->nrows++];
    *r = (audit_row){
        .file = file,
        .object = dup_or_empty(label),
        .kind = escaped(o->kind),
        .namespace_ = escaped(o->namespace_ ? o->namespace_ : run->namespace_),
        .name = escaped(o->name ? o->name : o->generate_name),
        .container = container ? strdup(container) : NULL,
        .path = dup_or_empty(path),
        .rule = dup_or_empty(rule),
        .value = dup_or_empty(value),
        .violation = dup_or_empty(violation),
    };
    if (!r->object || !r->kind || !r->namespace_ || !r->name || (container && !r->container) ||
        !r->path || !r->rule || !r->value || !r->violation)
        run->oom = true;
}

static void free_rows(audit_run *run)
{
    for (size_t i = 0; i < run->nrows; i++) {
        audit_row *r = &run->rows[i];
        free(r->object);
        free(r->kind);
        free(r->namespace_);
        free(r->name);
        free(r->container);
        free(r->path);
        free(r->rule);
        free(r->value);
        free(r->violation);
    }
    free(run->rows);
}

/* Judge every object of one file. Returns 0, or 2 on an input error (already printed). */
static int audit_one(audit_run *run, const char *path)
{
    size_t len;
    char *text = manifest_read_file(path, AUDIT_MAX_INPUT, &len);
    if (!text) {
        fprintf(stderr, ME ": %s: %s\n", path,
                errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
        return 2;
    }
    manifest m;
    manifest_error err;
    manifest_objects objs = {0};
    int status = 2;
    if (manifest_parse(text, len, &m, &err) < 0) {
        if (err.line)
            fprintf(stderr, "%s:%u:%u: %s\n", path, err.line, err.column, err.message);
        else
            fprintf(stderr, "%s: %s\n", path, err.message);
        goto out;
    }
    if (manifest_find_objects(&m, &objs) < 0) {
        run->oom = true;
        goto out;
    }
    for (size_t i = 0; i < objs.count && !run->oom; i++) {
        const manifest_object *o = &objs.items[i];
        engine_request req;
        engine_decision v = {0}, mu = {0};
        manifest_request(o, run->namespace_, &req);
        if (engine_review(run->pol, ENGINE_VALIDATE, &req, &v) < 0 ||
            engine_review(run->migrate_pol, ENGINE_MUTATE, &req, &mu) < 0) {
            engine_decision_free(&v);
            run->oom = true;
            break;
        }
        run->objects++;
        run->fixable += mu.patch != NULL;
        strbuf label = {0};
        manifest_object_label(&label, o, run->namespace_);
        for (size_t k = 0; k < v.violation_count; k++) {
            const engine_violation *x = &v.violations[k];
            add_row(run, path, o, label.data, x->container, x->path, x->rule, x->value, x->message);
        }
        /* An object the engine cannot read: /validate denies it (code 400) with no
         * violation list; it is reported as one. */
        if (v.violation_count == 0 && !v.allowed)
            add_row(run, path, o, label.data, NULL, "-", "unreadable", "",
                    v.message ? v.message : "denied");
        run->objects_with_violations += v.violation_count > 0 || !v.allowed;
        run->oom |= label.oom;
        sb_free(&label);
        engine_decision_free(&v);
        engine_decision_free(&mu);
    }
    status = 0;
out:
    manifest_objects_free(&objs);
    manifest_free(&m);
    free(text);
    return status;
}

static size_t width(size_t w, const char *s)
{
    size_t n = strlen(s);
    return n > w ? n : w;
}

static void print_table(const audit_run *run)
{
    if (run->nrows == 0)
        return;
    size_t wo = strlen("OBJECT"), wc = strlen("CONTAINER"), wp = strlen("FIELD PATH");
    for (size_t i = 0; i < run->nrows; i++) {
        const audit_row *r = &run->rows[i];
        wo = width(wo, r->object);
        wc = width(wc, r->container ? r->container : "-");
        wp = width(wp, r->path);
    }
    printf("%-*s  %-*s  %-*s  %s\n", (int)wo, "OBJECT", (int)wc, "CONTAINER", (int)wp, "FIELD PATH",
           "VIOLATION");
    for (size_t i = 0; i < run->nrows; i++) {
        const audit_row *r = &run->rows[i];
        printf("%-*s  %-*s  %-*s  %s\n", (int)wo, r->object, (int)wc,
               r->container ? r->container : "-", (int)wp, r->path, r->violation);
    }
}

/* A JSON array, one violation per line. */
static int print_json(const audit_run *run)
{
    fputs("[", stdout);
    for (size_t i = 0; i < run->nrows; i++) {
        const audit_row *r = &run->rows[i];
        cJSON *o = cJSON_CreateObject();
        bool ok = o && cJSON_AddStringToObject(o, "file", r->file) &&
                  cJSON_AddStringToObject(o, "object", r->object) &&
                  cJSON_AddStringToObject(o, "kind", r->kind) &&
                  cJSON_AddStringToObject(o, "namespace", r->namespace_) &&
                  cJSON_AddStringToObject(o, "name", r->name) &&
                  (r->container ? cJSON_AddStringToObject(o, "container", r->container) != NULL
                                : cJSON_AddNullToObject(o, "container") != NULL) &&
                  cJSON_AddStringToObject(o, "path", r->path) &&
                  cJSON_AddStringToObject(o, "rule", r->rule) &&
                  cJSON_AddStringToObject(o, "value", r->value) &&
                  cJSON_AddStringToObject(o, "violation", r->violation);
        char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        if (!text)
            return -1;
        printf("%s\n  %s", i ? "," : "", text);
        free(text);
    }
    fputs(run->nrows ? "\n]\n" : "]\n", stdout);
    return 0;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

int cmd_audit(int argc, char **argv)
{
    const char *config = NULL, *ns = "default", *output = "table";
    bool options = true;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    size_t npaths = 0;
    int status = 0;
    if (!paths) {
        fprintf(stderr, ME ": out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(audit_usage, stdout);
            free(paths);
            return 0;
        } else if (options && strcmp(a, "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (options && strcmp(a, "--namespace") == 0 && i + 1 < argc) {
            ns = argv[++i];
        } else if (options && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) &&
                   i + 1 < argc) {
            output = argv[++i];
        } else if (options && strcmp(a, "--") == 0) {
            options = false;
        } else if (options && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, ME ": unknown or incomplete option %s (see --help)\n", a);
            status = 2;
        } else {
            paths[npaths++] = a;
        }
    }
    if (status == 0 && strcmp(output, "table") != 0 && strcmp(output, "json") != 0) {
        fprintf(stderr, ME ": -o must be table or json\n");
        status = 2;
    }
    if (status == 0 && npaths == 0) {
        fprintf(stderr, ME ": no FILE given (use - for standard input; see --help)\n");
        status = 2;
    }
    if (status == 0 && !ns[0]) {
        fprintf(stderr, ME ": --namespace must not be empty\n");
        status = 2;
    }
    policy *pol = status == 0 ? cli_load_policy(config, "audit") : NULL;
    policy *mpol = pol ? cli_load_policy(config, "audit") : NULL;
    if (status == 0 && (!pol || !mpol))
        status = 2;
    if (status != 0) {
        policy_free(pol);
        policy_free(mpol);
        free(paths);
        return status;
    }
    manifest_migrate_policy(mpol);

    audit_run run = {.pol = pol, .migrate_pol = mpol, .namespace_ = ns};
    for (size_t i = 0; i < npaths && !run.oom; i++)
        if (audit_one(&run, paths[i]) != 0)
            status = 2;
    if (run.oom) {
        fprintf(stderr, ME ": out of memory\n");
        status = 2;
    } else {
        if (strcmp(output, "json") == 0) {
            if (print_json(&run) < 0) {
                fprintf(stderr, ME ": out of memory\n");
                status = 2;
            }
        } else {
            print_table(&run);
        }
        FILE *summary = strcmp(output, "json") == 0 ? stderr : stdout;
        fprintf(summary, "%zu %s, %zu %s in %zu %s, %zu %s that migrate would change\n",
                run.objects, plural(run.objects, "object", "objects"), run.nrows,
                plural(run.nrows, "violation", "violations"), run.objects_with_violations,
                plural(run.objects_with_violations, "object", "objects"), run.fixable,
                plural(run.fixable, "object", "objects"));
        if (status == 0 && run.nrows > 0)
            status = 1;
    }
    free_rows(&run);
    policy_free(pol);
    policy_free(mpol);
    free(paths);
    return status;
}
