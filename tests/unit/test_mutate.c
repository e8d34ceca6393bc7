/*
 * test_mutate.c — the admission engine through its one entry point, engine_review(), with the
 * built-in policy (SPEC §5.1) or a copy whose defaults a test changes: default injection and
 * annotation migration on /mutate (SPEC §7.3), the violation rules and modes on /validate
 * (SPEC §7.2, §7.4), and which requests are judged at all.
 *
 * Every patch the engine returns is checked three ways: its exact operations, that it applies
 * cleanly (RFC 6902, with the small applier below, which like a real one refuses `add` under a
 * missing parent and `remove` of a missing member) to the input and gives d.patched, and that
 * a second review of d.patched yields no patch (SPEC §9).
 *
 * Objects are written as JSON with single quotes for readability: doc() turns every ' into a "
 * before cJSON_Parse (no document here needs a literal apostrophe).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "engine.h"
#include "json.h"
#include "policy.h"

/* ---------------------------------------------------------------------------------------- */
/* Fixture: the policy and every review a test makes, freed in teardown even when an         */
/* assertion fails.                                                                          */

typedef struct {
    cJSON *owned_object; /* parsed here, or NULL when the object is borrowed or absent */
    cJSON *owned_old;
    engine_request req;
    engine_decision d;
} review;

#define MAX_REVIEWS 4

typedef struct {
    policy *p;
    review runs[MAX_REVIEWS];
    size_t n;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->p = policy_builtin();
    if (!f->p) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < f->n; i++) {
        engine_decision_free(&f->runs[i].d);
        cJSON_Delete(f->runs[i].owned_object);
        cJSON_Delete(f->runs[i].owned_old);
    }
    policy_free(f->p);
    free(f);
    return 0;
}

/* The request every test starts from: a Pod in namespace team-a, from user alice. */
static engine_request pod_request(const char *operation, const char *subresource, const char *ns)
{
    engine_request r = {
        .operation = operation,
        .subresource = subresource,
        .namespace_ = ns,
        .name = "web",
        .username = "alice",
        .group = "",
        .kind = "Pod",
        .object = NULL,
        .old_object = NULL,
        .dry_run = false,
    };
    return r;
}

/* Review borrowed objects (either may be NULL). */
static review *review_objects(fixture *f, engine_endpoint ep, const char *operation,
                              const char *subresource, const char *ns, const cJSON *object,
                              const cJSON *old_object)
{
    assert_true(f->n < MAX_REVIEWS);
    review *r = &f->runs[f->n++];
    memset(r, 0, sizeof *r);
    r->req = pod_request(operation, subresource, ns);
    r->req.object = object;
    r->req.old_object = old_object;
    assert_int_equal(engine_review(f->p, ep, &r->req, &r->d), 0);
    return r;
}

/* Review objects written as JSON (either may be NULL). */
static review *review_json(fixture *f, engine_endpoint ep, const char *operation,
                           const char *subresource, const char *ns, const char *object,
                           const char *old_object)
{
    cJSON *o = object ? doc(object) : NULL;
    cJSON *old = old_object ? doc(old_object) : NULL;
    review *r = review_objects(f, ep, operation, subresource, ns, o, old);
    r->owned_object = o;
    r->owned_old = old;
    return r;
}

/* A Pod CREATE in namespace team-a. */
static review *create(fixture *f, engine_endpoint ep, const char *pod)
{
    return review_json(f, ep, "CREATE", "", "team-a", pod, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Assertions                                                                                */

static void assert_json_equal(const cJSON *actual, const char *expected)
{
    cJSON *want = doc(expected);
    bool same = cJSON_Compare(actual, want, true);
    if (!same) {
        char *got = actual ? cJSON_PrintUnformatted(actual) : NULL;
        char *exp = cJSON_PrintUnformatted(want);
        print_error("expected %s\n     got %s\n", exp, got ? got : "(null)");
        free(got);
        free(exp);
    }
    cJSON_Delete(want);
    assert_true(same);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        print_error("\"%s\" does not contain \"%s\"\n", haystack ? haystack : "(null)", needle);
    assert_non_null(haystack);
    assert_non_null(strstr(haystack, needle));
}

static void assert_no_patch(const review *r)
{
    if (r->d.patch) {
        char *s = cJSON_PrintUnformatted(r->d.patch);
        print_error("unexpected patch %s\n", s);
        free(s);
    }
    assert_null(r->d.patch);
    assert_null(r->d.patched);
}

/* True when some warning contains every one of the (NULL-terminated) strings. */
static bool has_warning(const review *r, ...)
{
    for (size_t i = 0; i < r->d.warning_count; i++) {
        bool all = true;
        va_list ap;
        va_start(ap, r);
        for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
            all &= strstr(r->d.warnings[i], s) != NULL;
        va_end(ap);
        if (all)
            return true;
    }
    for (size_t i = 0; i < r->d.warning_count; i++)
        print_error("warning[%zu]: %s\n", i, r->d.warnings[i]);
    return false;
}

/* --- A minimal RFC 6902 applier for the operations the engine may emit (add, remove). --- */

/* Reference token `tok` (length n) unescaped per RFC 6901 §4: "~1" → '/', then "~0" → '~'. */
static char *unescape_token(const char *tok, size_t n)
{
    char *out = malloc(n + 1);
    assert_non_null(out);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (tok[i] == '~' && i + 1 < n && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
            out[j++] = tok[i + 1] == '1' ? '/' : '~';
            i++;
        } else if (tok[i] == '~') {
            free(out);
            return NULL; /* a lone '~' is not a valid pointer */
        } else {
            out[j++] = tok[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* An array index token: decimal digits, no leading zero. -1 when not one. */
static long array_index(const char *tok)
{
    if (!*tok || (tok[0] == '0' && tok[1]) || strspn(tok, "0123456789") != strlen(tok))
        return -1;
    return strtol(tok, NULL, 10);
}

/* Apply one add/remove to `root`. Returns false when RFC 6902 says the operation fails. */
static bool apply_op(cJSON *root, const cJSON *op)
{
    const char *kind = json_string(json_get(op, "op"));
    const char *path = json_string(json_get(op, "path"));
    const cJSON *value = json_get(op, "value");
    if (!kind || !path || path[0] != '/')
        return false;
    bool is_add = strcmp(kind, "add") == 0;
    if (!is_add && strcmp(kind, "remove") != 0)
        return false; /* the engine emits only add and remove (jsonpatch.h) */
    if (is_add && !value)
        return false;
    cJSON *parent = root;
    const char *p = path + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char *tok = unescape_token(p, n);
        if (!tok)
            return false;
        if (slash) { /* an intermediate token: the member or element must exist */
            cJSON *next = NULL;
            if (cJSON_IsObject(parent)) {
                next = cJSON_GetObjectItemCaseSensitive(parent, tok);
            } else if (cJSON_IsArray(parent)) {
                long i = array_index(tok);
                next = i >= 0 ? cJSON_GetArrayItem(parent, (int)i) : NULL;
            }
            free(tok);
            if (!next)
                return false;
            parent = next;
            p = slash + 1;
            continue;
        }
        bool ok = false;
        if (cJSON_IsObject(parent)) {
            cJSON *existing = cJSON_GetObjectItemCaseSensitive(parent, tok);
            if (is_add) {
                cJSON *v = cJSON_Duplicate(value, true);
                ok = existing ? cJSON_ReplaceItemInObjectCaseSensitive(parent, tok, v)
                              : cJSON_AddItemToObject(parent, tok, v);
            } else if (existing) {
                cJSON_DeleteItemFromObjectCaseSensitive(parent, tok);
                ok = true;
            }
        } else if (cJSON_IsArray(parent)) {
            long size = cJSON_GetArraySize(parent);
            long i = strcmp(tok, "-") == 0 && is_add ? size : array_index(tok);
            if (is_add && i >= 0 && i <= size) {
                cJSON *v = cJSON_Duplicate(value, true);
                ok = i == size ? cJSON_AddItemToArray(parent, v)
                               : cJSON_InsertItemInArray(parent, (int)i, v);
            } else if (!is_add && i >= 0 && i < size) {
                cJSON_DeleteItemFromArray(parent, (int)i);
                ok = true;
            }
        }
        free(tok);
        return ok;
    }
}

/* The patch of `r` applies cleanly to its input and gives exactly d.patched. */
static void assert_patch_applies(const review *r)
{
    assert_non_null(r->d.patch);
    assert_non_null(r->d.patched);
    assert_true(cJSON_IsArray(r->d.patch));
    cJSON *copy = cJSON_Duplicate(r->req.object, true);
    assert_non_null(copy);
    bool ok = true;
    const cJSON *op;
    cJSON_ArrayForEach(op, r->d.patch)
    {
        if (ok && !apply_op(copy, op)) {
            char *s = cJSON_PrintUnformatted(op);
            print_error("operation does not apply: %s\n", s);
            free(s);
            ok = false;
        }
    }
    bool same = ok && cJSON_Compare(copy, r->d.patched, true);
    if (ok && !same)
        print_error("the patch applied to the input differs from d.patched\n");
    cJSON_Delete(copy);
    assert_true(same);
}

/* A second /mutate review of d.patched (same request otherwise) yields no patch. */
static void assert_idempotent(fixture *f, const review *r)
{
    review *again = review_objects(f, ENGINE_MUTATE, r->req.operation, r->req.subresource,
                                   r->req.namespace_, r->d.patched, r->req.old_object);
    assert_true(again->d.allowed);
    assert_no_patch(again);
}

/* The exact patch, that it applies, and that it is idempotent. */
static void assert_patch(fixture *f, const review *r, const char *expected)
{
    assert_true(r->d.allowed);
    assert_json_equal(r->d.patch, expected);
    assert_patch_applies(r);
    assert_idempotent(f, r);
}

/* ---------------------------------------------------------------------------------------- */
/* /mutate: default injection                                                                */

static void test_mutate_adds_security_context_when_absent(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'apiVersion': 'v1', 'kind': 'Pod',"
                       " 'metadata': {'name': 'web', 'namespace': 'team-a'},"
                       " 'spec': {'containers': [{'name': 'app', 'image': 'nginx'}]}}");
    assert_true(r->d.judged);
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
}

static void test_mutate_adds_security_context_when_null(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'securityContext': null,"
                       "          'containers': [{'name': 'app', 'image': 'nginx'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
}

static void test_mutate_adds_profile_into_existing_security_context(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'securityContext': {'runAsNonRoot': true},"
                       "          'containers': [{'name': 'app', 'image': 'nginx'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/securityContext/seccompProfile',"
                 "  'value': {'type': 'RuntimeDefault'}}]");
    assert_json_equal(json_get(json_get(r->d.patched, "spec"), "securityContext"),
                      "{'runAsNonRoot': true, 'seccompProfile': {'type': 'RuntimeDefault'}}");
}

static void test_mutate_adds_profile_when_seccomp_profile_null(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'securityContext': {'seccompProfile': null},"
                       "          'containers': [{'name': 'app'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/securityContext/seccompProfile',"
                 "  'value': {'type': 'RuntimeDefault'}}]");
}

static void test_mutate_leaves_confined_pod_alone(void **state)
{
    fixture *f = *state;
    review *r =
        create(f, ENGINE_MUTATE,
               "{'metadata': {'name': 'web'},"
               " 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
               "          'containers': [{'name': 'app'}, {'name': 'side'}]}}");
    assert_true(r->d.allowed);
    assert_true(r->d.judged);
    assert_no_patch(r);
    assert_int_equal(r->d.warning_count, 0);
}

static void test_mutate_leaves_pod_with_every_container_confined_alone(void **state)
{
    fixture *f = *state;
    review *r = create(
        f, ENGINE_MUTATE,
        "{'metadata': {'name': 'web'},"
        " 'spec': {'initContainers': [{'name': 'init', 'securityContext':"
        "                              {'seccompProfile': {'type': 'RuntimeDefault'}}}],"
        "          'containers': [{'name': 'app', 'securityContext':"
        "                          {'seccompProfile': {'type': 'Localhost',"
        "                                              'localhostProfile': 'p/a.json'}}}]}}");
    assert_true(r->d.allowed);
    assert_no_patch(r);
}

static void test_mutate_injects_at_pod_level_when_one_container_lacks_profile(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'containers': [{'name': 'app', 'securityContext':"
                       "                          {'seccompProfile': {'type': 'RuntimeDefault'}}},"
                       "                         {'name': 'side'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
}

static void test_mutate_injects_nothing_when_default_profile_null(void **state)
{
    fixture *f = *state;
    f->p->defaults.default_profile = PROFILE_NONE; /* `defaultProfile: null` */
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web'}, 'spec': {'containers': [{'name': 'app'}]}}");
    assert_true(r->d.allowed);
    assert_no_patch(r);
}

/* ---------------------------------------------------------------------------------------- */
/* /mutate: annotation migration                                                             */

static void test_mutate_migrates_pod_annotation_runtime_default(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default',"
                       "   'team': 'a'}},"
                       " 'spec': {'containers': [{'name': 'app'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}},"
                 " {'op': 'remove',"
                 "  'path': '/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod'}]");
    assert_json_equal(json_get(json_get(r->d.patched, "metadata"), "annotations"), "{'team': 'a'}");
    assert_true(has_warning(r, "runtime/default", "moved", NULL));
}

/* With object_in_place the engine patches the request's own tree instead of a copy (the
 * server's path): the same patch and warnings, and the tree becomes what `patched` is when it
 * works on a copy. */
static void test_mutate_in_place_gives_the_same_patch_and_object(void **state)
{
    fixture *f = *state;
    const char *pod = "{'metadata': {'name': 'web', 'annotations': {"
                      "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default',"
                      "   'container.seccomp.security.alpha.kubernetes.io/init': 'unconfined',"
                      "   'team': 'a'}},"
                      " 'spec': {'initContainers': [{'name': 'init'}],"
                      "          'containers': [{'name': 'app', 'securityContext': {}},"
                      "                         {'name': 'side', 'securityContext': null}]}}";
    review *copy = create(f, ENGINE_MUTATE, pod);
    assert_non_null(copy->d.patch);
    assert_non_null(copy->d.patched);

    cJSON *mine = doc(pod);
    review *inplace = &f->runs[f->n++];
    memset(inplace, 0, sizeof *inplace);
    inplace->req = pod_request("CREATE", "", "team-a");
    inplace->req.object = mine;
    inplace->req.object_in_place = mine;
    inplace->owned_object = mine;
    assert_int_equal(engine_review(f->p, ENGINE_MUTATE, &inplace->req, &inplace->d), 0);

    assert_true(cJSON_Compare(inplace->d.patch, copy->d.patch, true));
    assert_null(inplace->d.patched);
    assert_true(cJSON_Compare(mine, copy->d.patched, true));
    assert_int_equal(inplace->d.warning_count, copy->d.warning_count);
    for (size_t i = 0; i < copy->d.warning_count; i++)
        assert_string_equal(inplace->d.warnings[i], copy->d.warnings[i]);
    /* The copy's input was left as it was. */
    assert_non_null(json_get(json_get(copy->owned_object, "metadata"), "annotations")->child);
    assert_false(cJSON_Compare(copy->owned_object, copy->d.patched, true));
}

static void test_mutate_migrates_docker_default_to_runtime_default(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'docker/default'}},"
                       " 'spec': {'securityContext': {'runAsUser': 1000},"
                       "          'containers': [{'name': 'app'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/securityContext/seccompProfile',"
                 "  'value': {'type': 'RuntimeDefault'}},"
                 " {'op': 'remove',"
                 "  'path': '/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod'}]");
}

static void test_mutate_migrates_container_localhost_annotation(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'container.seccomp.security.alpha.kubernetes.io/app':"
                       "   'localhost/profiles/a.json'}},"
                       " 'spec': {'containers': [{'name': 'app', 'securityContext': {}}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/containers/0/securityContext/seccompProfile',"
                 "  'value': {'type': 'Localhost', 'localhostProfile': 'profiles/a.json'}},"
                 " {'op': 'remove', 'path':"
                 "  '/metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1app'}]");
    assert_true(has_warning(r, "container \"app\"", "moved", NULL));
}

static void test_mutate_migrates_unconfined_annotation_then_validate_denies(void **state)
{
    fixture *f = *state;
    /* LESSONS #16: never inject a field that contradicts a remaining annotation; the
     * annotation becomes the field and the validator rules on it. */
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'unconfined'}},"
                       " 'spec': {'containers': [{'name': 'app'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'Unconfined'}}},"
                 " {'op': 'remove',"
                 "  'path': '/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod'}]");
    review *v = review_objects(f, ENGINE_VALIDATE, "CREATE", "", "team-a", r->d.patched, NULL);
    assert_false(v->d.allowed);
    assert_int_equal(v->d.code, 403);
    assert_contains(v->d.message, "spec.securityContext.seccompProfile.type");
}

static void test_mutate_removes_annotation_for_missing_container(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'container.seccomp.security.alpha.kubernetes.io/ghost':"
                       "   'runtime/default'}},"
                       " 'spec': {'containers': [{'name': 'app'}]}}");
    assert_patch(f, r,
                 "[{'op': 'remove', 'path':"
                 "  '/metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1ghost'},"
                 " {'op': 'add', 'path': '/spec/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
    assert_true(has_warning(r, "ghost", NULL));
}

static void test_mutate_field_wins_over_disagreeing_pod_annotation(void **state)
{
    fixture *f = *state;
    review *r =
        create(f, ENGINE_MUTATE,
               "{'metadata': {'name': 'web', 'annotations': {"
               "   'seccomp.security.alpha.kubernetes.io/pod': 'unconfined'}},"
               " 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
               "          'containers': [{'name': 'app'}]}}");
    assert_patch(f, r,
                 "[{'op': 'remove',"
                 "  'path': '/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod'}]");
    assert_json_equal(json_get(json_get(r->d.patched, "spec"), "securityContext"),
                      "{'seccompProfile': {'type': 'RuntimeDefault'}}");
    assert_true(has_warning(r, "unconfined", "wins", NULL));
}

static void test_mutate_field_wins_over_disagreeing_container_annotation(void **state)
{
    fixture *f = *state;
    review *r =
        create(f, ENGINE_MUTATE,
               "{'metadata': {'name': 'web', 'annotations': {"
               "   'container.seccomp.security.alpha.kubernetes.io/app': 'runtime/default'}},"
               " 'spec': {'containers': [{'name': 'app', 'securityContext':"
               "   {'seccompProfile': {'type': 'Localhost',"
               "                       'localhostProfile': 'p/a.json'}}}]}}");
    assert_patch(f, r,
                 "[{'op': 'remove', 'path':"
                 "  '/metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1app'}]");
    assert_true(has_warning(r, "container \"app\"", "wins", NULL));
}

static void test_mutate_invalid_pod_annotation_left_and_default_goes_on_containers(void **state)
{
    fixture *f = *state;
    /* The pod level keeps an annotation, so no field there (LESSONS #16). Container
     * securityContext absent, null and {} each get the right operation (LESSONS #14). */
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'Runtime/Default'}},"
                       " 'spec': {'initContainers': [{'name': 'init'}],"
                       "          'containers': [{'name': 'a'},"
                       "                         {'name': 'b', 'securityContext': null},"
                       "                         {'name': 'c', 'securityContext': {}}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/containers/0/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}},"
                 " {'op': 'add', 'path': '/spec/containers/1/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}},"
                 " {'op': 'add', 'path': '/spec/containers/2/securityContext/seccompProfile',"
                 "  'value': {'type': 'RuntimeDefault'}},"
                 " {'op': 'add', 'path': '/spec/initContainers/0/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
    assert_json_equal(json_get(json_get(r->d.patched, "metadata"), "annotations"),
                      "{'seccomp.security.alpha.kubernetes.io/pod': 'Runtime/Default'}");
    assert_true(has_warning(r, "Runtime/Default", NULL));
}

static void test_mutate_container_with_remaining_annotation_gets_no_field(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'bogus',"
                       "   'container.seccomp.security.alpha.kubernetes.io/side': 'bogus'}},"
                       " 'spec': {'containers': [{'name': 'app'}, {'name': 'side'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/containers/0/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
    assert_true(has_warning(r, "container \"side\"", "bogus", NULL));
}

static void test_mutate_invalid_localhost_annotation_path_left(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'localhost/../../etc/x'}},"
                       " 'spec': {'containers': [{'name': 'app'}]}}");
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/containers/0/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
}

static void test_mutate_annotations_kept_when_migration_off(void **state)
{
    fixture *f = *state;
    f->p->defaults.migrate_annotations = false;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default'}},"
                       " 'spec': {'containers': [{'name': 'app'}]}}");
    /* The pod level still carries the annotation: the default goes on the container. */
    assert_patch(f, r,
                 "[{'op': 'add', 'path': '/spec/containers/0/securityContext',"
                 "  'value': {'seccompProfile': {'type': 'RuntimeDefault'}}}]");
}

/* ---------------------------------------------------------------------------------------- */
/* Requests that are never patched                                                           */

static void test_mutate_skips_windows_pod(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default'}},"
                       " 'spec': {'os': {'name': 'windows'},"
                       "          'containers': [{'name': 'app'}]}}");
    assert_true(r->d.allowed);
    assert_no_patch(r);
    assert_true(has_warning(r, "Windows", NULL));
}

static void test_mutate_skips_mirror_pod(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'kubernetes.io/config.mirror': 'abc123',"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default'}},"
                       " 'spec': {'containers': [{'name': 'app'}]}}");
    assert_true(r->d.allowed);
    assert_no_patch(r);
}

static void test_delete_with_null_object_allowed(void **state)
{
    fixture *f = *state;
    const char *old = "{'metadata': {'name': 'web'},"
                      " 'spec': {'containers': [{'name': 'app', 'securityContext':"
                      "   {'seccompProfile': {'type': 'Unconfined'}}}]}}";
    review *m = review_json(f, ENGINE_MUTATE, "DELETE", "", "team-a", NULL, old);
    assert_true(m->d.allowed);
    assert_no_patch(m);
    review *v = review_json(f, ENGINE_VALIDATE, "DELETE", "", "team-a", NULL, old);
    assert_true(v->d.allowed);
    assert_null(v->d.message);
}

static void test_exempt_namespace_untouched(void **state)
{
    fixture *f = *state;
    const char *pod = "{'metadata': {'name': 'web', 'namespace': 'kube-system'},"
                      " 'spec': {'containers': [{'name': 'app', 'securityContext':"
                      "   {'privileged': true}}]}}";
    review *m = review_json(f, ENGINE_MUTATE, "CREATE", "", "kube-system", pod, NULL);
    assert_true(m->d.allowed);
    assert_false(m->d.judged);
    assert_no_patch(m);
    review *v = review_json(f, ENGINE_VALIDATE, "CREATE", "", "kube-system", pod, NULL);
    assert_true(v->d.allowed);
    assert_false(v->d.judged);
    assert_int_equal(v->d.violation_count, 0);
}

static void test_pod_update_and_other_subresources_never_patched(void **state)
{
    fixture *f = *state;
    /* LESSONS #1, #2, #15: a pod created before the policy is labelled later. */
    const char *pod = "{'metadata': {'name': 'web', 'labels': {'foo': 'bar'}},"
                      " 'spec': {'containers': [{'name': 'app'}]}}";
    const char *old = "{'metadata': {'name': 'web'}, 'spec': {'containers': [{'name': 'app'}]}}";
    review *u = review_json(f, ENGINE_MUTATE, "UPDATE", "", "team-a", pod, old);
    assert_true(u->d.allowed);
    assert_no_patch(u);
    review *s = review_json(f, ENGINE_MUTATE, "UPDATE", "status", "team-a", pod, old);
    assert_true(s->d.allowed);
    assert_no_patch(s);
    review *v = review_json(f, ENGINE_VALIDATE, "UPDATE", "", "team-a", pod, old);
    assert_true(v->d.allowed);
}

/* ---------------------------------------------------------------------------------------- */
/* /validate                                                                                 */

static void test_validate_denies_pod_level_unconfined_in_enforce(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_VALIDATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'securityContext': {'seccompProfile': {'type': 'Unconfined'}},"
                       "          'containers': [{'name': 'app'}]}}");
    assert_false(r->d.allowed);
    assert_int_equal(r->d.code, 403);
    assert_contains(r->d.message, "spec.securityContext.seccompProfile.type");
    assert_contains(r->d.message, "Pod team-a/web");
    assert_null(r->d.patch);
}

static void test_validate_denies_privileged_container(void **state)
{
    fixture *f = *state;
    review *r =
        create(f, ENGINE_VALIDATE,
               "{'metadata': {'name': 'web'},"
               " 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
               "          'containers': [{'name': 'app'},"
               "                         {'name': 'debug',"
               "                          'securityContext': {'privileged': true}}]}}");
    assert_false(r->d.allowed);
    assert_int_equal(r->d.code, 403);
    assert_contains(r->d.message, "container \"debug\"");
    assert_contains(r->d.message, "privileged");
    assert_contains(r->d.message, "spec.containers[1].securityContext.privileged");
    assert_int_equal(r->d.violation_count, 1);
}

static void test_validate_allows_pod_level_profile_only(void **state)
{
    fixture *f = *state;
    /* LESSONS #5: the effective profile of each container is the pod's. */
    review *r =
        create(f, ENGINE_VALIDATE,
               "{'metadata': {'name': 'web'},"
               " 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
               "          'initContainers': [{'name': 'init'}],"
               "          'containers': [{'name': 'app'}, {'name': 'side'}]}}");
    assert_true(r->d.allowed);
    assert_int_equal(r->d.violation_count, 0);
    assert_int_equal(r->d.warning_count, 0);
}

static void test_validate_allows_mutated_pod(void **state)
{
    fixture *f = *state;
    review *m = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'docker/default'}},"
                       " 'spec': {'containers': [{'name': 'app'}]}}");
    assert_non_null(m->d.patched);
    review *v = review_objects(f, ENGINE_VALIDATE, "CREATE", "", "team-a", m->d.patched, NULL);
    assert_true(v->d.allowed);
    assert_int_equal(v->d.violation_count, 0);
}

static void test_validate_denies_pod_without_profile(void **state)
{
    fixture *f = *state;
    /* Defence in depth: /mutate should have set one (SPEC §7.2). */
    review *r = create(f, ENGINE_VALIDATE,
                       "{'metadata': {'name': 'web'}, 'spec': {'containers': [{'name': 'app'}]}}");
    assert_false(r->d.allowed);
    assert_int_equal(r->d.code, 403);
    assert_contains(r->d.message, "spec.containers[0].securityContext.seccompProfile");
    assert_contains(r->d.message, "container \"app\"");
}

static void test_validate_annotation_alone_does_not_count(void **state)
{
    fixture *f = *state;
    /* LESSONS #8: kubelets ignore the annotation since 1.25. */
    review *r = create(f, ENGINE_VALIDATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default'}},"
                       " 'spec': {'containers': [{'name': 'app'}]}}");
    assert_false(r->d.allowed);
    assert_contains(r->d.message, "container \"app\"");
}

static void test_validate_denies_field_and_annotation_that_disagree(void **state)
{
    fixture *f = *state;
    review *r =
        create(f, ENGINE_VALIDATE,
               "{'metadata': {'name': 'web', 'annotations': {"
               "   'seccomp.security.alpha.kubernetes.io/pod': 'localhost/p/a.json'}},"
               " 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
               "          'containers': [{'name': 'app'}]}}");
    assert_false(r->d.allowed);
    assert_contains(r->d.message, "disagree");
}

static void test_validate_denies_invalid_annotation_value(void **state)
{
    fixture *f = *state;
    review *r =
        create(f, ENGINE_VALIDATE,
               "{'metadata': {'name': 'web', 'annotations': {"
               "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/defualt'}},"
               " 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
               "          'containers': [{'name': 'app'}]}}");
    assert_false(r->d.allowed);
    assert_contains(r->d.message, "runtime/defualt");
}

static void test_validate_skips_windows_pod(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_VALIDATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'os': {'name': 'windows'}, 'containers': [{'name': 'app'}]}}");
    assert_true(r->d.allowed);
    assert_int_equal(r->d.violation_count, 0);
}

static void test_validate_mirror_pod_violations_are_warnings(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_VALIDATE,
                       "{'metadata': {'name': 'web', 'annotations': {"
                       "   'kubernetes.io/config.mirror': 'abc123'}},"
                       " 'spec': {'securityContext': {'seccompProfile': {'type': 'Unconfined'}},"
                       "          'containers': [{'name': 'app'}]}}");
    assert_true(r->d.allowed);
    assert_true(r->d.violation_count >= 1);
    assert_true(has_warning(r, "unconfined", NULL));
}

static void test_validate_containers_object_is_bad_request(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_VALIDATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'containers': {'name': 'app', 'securityContext':"
                       "   {'seccompProfile': {'type': 'Unconfined'}}}}}");
    assert_false(r->d.allowed);
    assert_int_equal(r->d.code, 400);
    assert_contains(r->d.message, "spec.containers");
}

static void test_mutate_containers_object_allowed_with_warning(void **state)
{
    fixture *f = *state;
    review *r = create(f, ENGINE_MUTATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'containers': {'name': 'app'}}}");
    assert_true(r->d.allowed);
    assert_no_patch(r);
    assert_true(has_warning(r, "spec.containers", NULL));
}

static void test_validate_warn_mode_allows_with_short_warnings(void **state)
{
    fixture *f = *state;
    f->p->defaults.mode = POLICY_MODE_WARN;
    /* Container names far beyond 120 bytes, one of them multi-byte, so cuts are exercised. */
    review *r =
        create(f, ENGINE_VALIDATE,
               "{'metadata': {'name': 'web'},"
               " 'spec': {'containers': ["
               "   {'name': 'a-very-long-container-name-that-goes-on-and-on-and-on-and-on-and-on-"
               "and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on',"
               "    'securityContext': {'seccompProfile': {'type': 'Unconfined'}}},"
               "   {'name': "
               "'\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
               "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
               "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
               "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
               "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
               "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9',"
               "    'securityContext': {'privileged': true,"
               "                        'seccompProfile': {'type': 'RuntimeDefault'}}}]}}");
    assert_true(r->d.allowed);
    assert_null(r->d.message);
    assert_int_equal(r->d.violation_count, 2);
    assert_int_equal(r->d.warning_count, 2);
    for (size_t i = 0; i < r->d.warning_count; i++) {
        assert_true(strlen(r->d.warnings[i]) <= 120);
        assert_true(valid_utf8(r->d.warnings[i]));
        assert_contains(r->d.warnings[i], "container \"");
    }
}

static void test_validate_audit_mode_records_audit_annotation(void **state)
{
    fixture *f = *state;
    f->p->defaults.mode = POLICY_MODE_AUDIT;
    review *r = create(f, ENGINE_VALIDATE,
                       "{'metadata': {'name': 'web'},"
                       " 'spec': {'securityContext': {'seccompProfile': {'type': 'Unconfined'}},"
                       "          'containers': [{'name': 'app'}]}}");
    assert_true(r->d.allowed);
    assert_null(r->d.message);
    assert_int_equal(r->d.audit_count, 1);
    assert_string_equal(r->d.audit_keys[0], "seccomp-violations");
    assert_contains(r->d.audit_values[0], "spec.securityContext.seccompProfile.type");
}

/* ---------------------------------------------------------------------------------------- */
/* pods/ephemeralcontainers UPDATE (LESSONS #10, #12)                                        */

/* A pod whose containers set their own profiles, no pod-level profile, and one old
 * ephemeral container without any profile. */
#define EPHEMERAL_OLD                                                                              \
    "{'metadata': {'name': 'web', 'annotations': {"                                                \
    "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default'}},"                          \
    " 'spec': {'containers': [{'name': 'app', 'securityContext':"                                  \
    "            {'seccompProfile': {'type': 'RuntimeDefault'}}}],"                                \
    "          'ephemeralContainers': [{'name': 'old-debug', 'image': 'busybox'}]}}"

#define EPHEMERAL_NEW                                                                              \
    "{'metadata': {'name': 'web', 'annotations': {"                                                \
    "   'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default'}},"                          \
    " 'spec': {'containers': [{'name': 'app', 'securityContext':"                                  \
    "            {'seccompProfile': {'type': 'RuntimeDefault'}}}],"                                \
    "          'ephemeralContainers': [{'name': 'old-debug', 'image': 'busybox'},"                 \
    "                                  {'name': 'debugger', 'image': 'busybox',"                   \
    "                                   'securityContext': {'runAsUser': 0}}]}}"

static void test_mutate_ephemeral_update_patches_only_new_container(void **state)
{
    fixture *f = *state;
    review *r = review_json(f, ENGINE_MUTATE, "UPDATE", "ephemeralcontainers", "team-a",
                            EPHEMERAL_NEW, EPHEMERAL_OLD);
    /* Not the pod level, not the old ephemeral container, no annotation migration. */
    assert_patch(
        f, r,
        "[{'op': 'add', 'path': '/spec/ephemeralContainers/1/securityContext/seccompProfile',"
        "  'value': {'type': 'RuntimeDefault'}}]");
}

static void test_validate_ephemeral_update_denies_new_unconfined_container(void **state)
{
    fixture *f = *state;
    review *r =
        review_json(f, ENGINE_VALIDATE, "UPDATE", "ephemeralcontainers", "team-a",
                    "{'metadata': {'name': 'web'},"
                    " 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
                    "          'containers': [{'name': 'app'}],"
                    "          'ephemeralContainers': [{'name': 'debugger', 'securityContext':"
                    "            {'seccompProfile': {'type': 'Unconfined'}}}]}}",
                    "{'metadata': {'name': 'web'},"
                    " 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
                    "          'containers': [{'name': 'app'}]}}");
    assert_false(r->d.allowed);
    assert_int_equal(r->d.code, 403);
    assert_contains(r->d.message, "container \"debugger\"");
    assert_contains(r->d.message,
                    "spec.ephemeralContainers[0].securityContext.seccompProfile.type");
}

static void test_validate_ephemeral_update_ignores_old_unconfined_container(void **state)
{
    fixture *f = *state;
    /* old-debug predates the update (and the policy); only "debugger" is new. */
    review *r = review_json(f, ENGINE_VALIDATE, "UPDATE", "ephemeralcontainers", "team-a",
                            "{'metadata': {'name': 'web'},"
                            " 'spec': {'containers': [{'name': 'app', 'securityContext':"
                            "            {'seccompProfile': {'type': 'Unconfined'}}}],"
                            "          'ephemeralContainers': ["
                            "            {'name': 'old-debug', 'securityContext':"
                            "              {'seccompProfile': {'type': 'Unconfined'}}},"
                            "            {'name': 'debugger', 'securityContext':"
                            "              {'seccompProfile': {'type': 'RuntimeDefault'}}}]}}",
                            "{'metadata': {'name': 'web'},"
                            " 'spec': {'containers': [{'name': 'app', 'securityContext':"
                            "            {'seccompProfile': {'type': 'Unconfined'}}}],"
                            "          'ephemeralContainers': ["
                            "            {'name': 'old-debug', 'securityContext':"
                            "              {'seccompProfile': {'type': 'Unconfined'}}}]}}");
    assert_true(r->d.allowed);
    assert_int_equal(r->d.violation_count, 0);
}

/* `kubectl debug` adds "dbg" to a pod with a pod-level RuntimeDefault whose annotations, added
 * by a plain pod UPDATE after CREATE, name "dbg" and "app" with `value`: kubelets up to 1.24
 * read a container's annotation before the pod's field (see validate_pod). */
static review *debug_into_pod_annotated(fixture *f, const char *value)
{
    char meta[512], old[1024], now[1024];
    snprintf(meta, sizeof meta,
             "'metadata': {'name': 'web', 'annotations': {"
             "   'container.seccomp.security.alpha.kubernetes.io/dbg': '%s',"
             "   'container.seccomp.security.alpha.kubernetes.io/app': '%s'}}",
             value, value);
    snprintf(old, sizeof old,
             "{%s, 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
             "              'containers': [{'name': 'app', 'image': 'nginx'}]}}",
             meta);
    snprintf(now, sizeof now,
             "{%s, 'spec': {'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},"
             "              'containers': [{'name': 'app', 'image': 'nginx'}],"
             "              'ephemeralContainers': [{'name': 'dbg', 'image': 'busybox'}]}}",
             meta);
    return review_json(f, ENGINE_VALIDATE, "UPDATE", "ephemeralcontainers", "team-a", now, old);
}

/* Only the new container's annotation is judged: "app" was there before the update. */
static void assert_denied_for_dbg_annotation(const review *r, const char *what)
{
    assert_false(r->d.allowed);
    assert_int_equal(r->d.code, 403);
    assert_int_equal(r->d.violation_count, 1);
    assert_contains(r->d.message,
                    "\nmetadata.annotations[container.seccomp.security.alpha.kubernetes.io/dbg]"
                    " (container \"dbg\"): ");
    assert_contains(r->d.message, what);
    assert_null(strstr(r->d.message, "container \"app\""));
}

static void
test_validate_ephemeral_update_denies_unconfined_annotation_of_new_container(void **state)
{
    fixture *f = *state;
    review *r = debug_into_pod_annotated(f, "unconfined");
    assert_denied_for_dbg_annotation(r, "Unconfined runs with no seccomp filter; allowed: "
                                        "RuntimeDefault or an allowed Localhost profile");
}

static void test_validate_ephemeral_update_denies_invalid_annotation_of_new_container(void **state)
{
    fixture *f = *state;
    review *r = debug_into_pod_annotated(f, "runtime/none");
    assert_denied_for_dbg_annotation(r, "\"runtime/none\" is not a valid seccomp annotation value");
}

static void
test_validate_ephemeral_update_checks_localhost_annotation_of_new_container(void **state)
{
    fixture *f = *state;
    review *r = debug_into_pod_annotated(f, "localhost/profiles/debug.json");
    assert_denied_for_dbg_annotation(
        r, "Localhost profile \"profiles/debug.json\" is not allowed in namespace \"team-a\"");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mutate_adds_security_context_when_absent),
        T(test_mutate_adds_security_context_when_null),
        T(test_mutate_adds_profile_into_existing_security_context),
        T(test_mutate_adds_profile_when_seccomp_profile_null),
        T(test_mutate_leaves_confined_pod_alone),
        T(test_mutate_leaves_pod_with_every_container_confined_alone),
        T(test_mutate_injects_at_pod_level_when_one_container_lacks_profile),
        T(test_mutate_injects_nothing_when_default_profile_null),
        T(test_mutate_migrates_pod_annotation_runtime_default),
        T(test_mutate_in_place_gives_the_same_patch_and_object),
        T(test_mutate_migrates_docker_default_to_runtime_default),
        T(test_mutate_migrates_container_localhost_annotation),
        T(test_mutate_migrates_unconfined_annotation_then_validate_denies),
        T(test_mutate_removes_annotation_for_missing_container),
        T(test_mutate_field_wins_over_disagreeing_pod_annotation),
        T(test_mutate_field_wins_over_disagreeing_container_annotation),
        T(test_mutate_invalid_pod_annotation_left_and_default_goes_on_containers),
        T(test_mutate_container_with_remaining_annotation_gets_no_field),
        T(test_mutate_invalid_localhost_annotation_path_left),
        T(test_mutate_annotations_kept_when_migration_off),
        T(test_mutate_skips_windows_pod),
        T(test_mutate_skips_mirror_pod),
        T(test_delete_with_null_object_allowed),
        T(test_exempt_namespace_untouched),
        T(test_pod_update_and_other_subresources_never_patched),
        T(test_validate_denies_pod_level_unconfined_in_enforce),
        T(test_validate_denies_privileged_container),
        T(test_validate_allows_pod_level_profile_only),
        T(test_validate_allows_mutated_pod),
        T(test_validate_denies_pod_without_profile),
        T(test_validate_annotation_alone_does_not_count),
        T(test_validate_denies_field_and_annotation_that_disagree),
        T(test_validate_denies_invalid_annotation_value),
        T(test_validate_skips_windows_pod),
        T(test_validate_mirror_pod_violations_are_warnings),
        T(test_validate_containers_object_is_bad_request),
        T(test_mutate_containers_object_allowed_with_warning),
        T(test_validate_warn_mode_allows_with_short_warnings),
        T(test_validate_audit_mode_records_audit_annotation),
        T(test_mutate_ephemeral_update_patches_only_new_container),
        T(test_validate_ephemeral_update_denies_new_unconfined_container),
        T(test_validate_ephemeral_update_ignores_old_unconfined_container),
        T(test_validate_ephemeral_update_denies_unconfined_annotation_of_new_container),
        T(test_validate_ephemeral_update_denies_invalid_annotation_of_new_container),
        T(test_validate_ephemeral_update_checks_localhost_annotation_of_new_container),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
