/*
 * test_update.c — workloads and UPDATE ratcheting through engine_review() (SPEC §7.2, §7.3):
 * only the violations an update introduces are enforced, identified by (list, container
 * name, rule, value) and never by index; templates are mutated only with mutateTemplates.
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
#include "policy.h"

/* One review: the objects it parsed and the decision, freed by done(). */
typedef struct {
    cJSON *object, *old;
    engine_decision d;
} run;

static run review(const policy *p, engine_endpoint ep, const char *group, const char *kind,
                  const char *operation, const char *subresource, const char *object,
                  const char *old)
{
    run r = {object ? doc(object) : NULL, old ? doc(old) : NULL, {0}};
    engine_request req = {
        .operation = operation,
        .subresource = subresource,
        .namespace_ = "shop",
        .name = "web",
        .username = "alice",
        .group = group,
        .kind = kind,
        .object = r.object,
        .old_object = r.old,
    };
    assert_int_equal(engine_review(p, ep, &req, &r.d), 0);
    return r;
}

static void done(run *r)
{
    engine_decision_free(&r->d);
    cJSON_Delete(r->object);
    cJSON_Delete(r->old);
}

static bool has_warning(const engine_decision *d, const char *fragment)
{
    for (size_t i = 0; i < d->warning_count; i++)
        if (strstr(d->warnings[i], fragment))
            return true;
    return false;
}

#define DEPLOY(CONTAINERS)                                                                         \
    "{'metadata':{'name':'web'},'spec':{'replicas':3,'template':{'metadata':{'labels':{'app':"     \
    "'web'}},'spec':{'containers':[" CONTAINERS "]}}}}"
#define DEPLOY_SCALED(CONTAINERS)                                                                  \
    "{'metadata':{'name':'web'},'spec':{'replicas':5,'template':{'metadata':{'labels':{'app':"     \
    "'web'}},'spec':{'containers':[" CONTAINERS "]}}}}"
#define UNCONFINED(NAME)                                                                           \
    "{'name':'" NAME "','securityContext':{'seccompProfile':{'type':'Unconfined'}}}"
#define PLAIN(NAME) "{'name':'" NAME "'}"

static void test_workload_create_with_unconfined_container_is_denied_with_root_path(void **state)
{
    policy *p = *state;
    run r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "CREATE", "",
                   DEPLOY(UNCONFINED("app")), NULL);
    assert_false(r.d.allowed);
    assert_int_equal(r.d.code, 403);
    assert_non_null(strstr(r.d.message, "Deployment shop/web"));
    assert_non_null(strstr(r.d.message,
                           "spec.template.spec.containers[0].securityContext.seccompProfile.type "
                           "(container \"app\")"));
    done(&r);
}

static void test_scaling_an_old_violating_workload_is_allowed_with_a_warning(void **state)
{
    policy *p = *state;
    run r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "UPDATE", "",
                   DEPLOY_SCALED(UNCONFINED("app")), DEPLOY(UNCONFINED("app")));
    assert_true(r.d.allowed);
    assert_true(has_warning(&r.d, "new pods of this Deployment will be denied"));
    assert_true(has_warning(&r.d, "container \"app\": unconfined (Unconfined)"));
    done(&r);
}

static void test_inserting_a_sidecar_does_not_make_an_old_violation_new(void **state)
{
    policy *p = *state;
    /* The old violation moves from containers[0] to containers[1]: same name, same rule. */
    run r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "UPDATE", "",
                   DEPLOY(PLAIN("proxy") "," UNCONFINED("app")), DEPLOY(UNCONFINED("app")));
    assert_true(r.d.allowed);
    assert_true(has_warning(&r.d, "container \"app\""));
    done(&r);
}

static void test_an_update_that_adds_a_violation_is_denied_naming_only_the_new_one(void **state)
{
    policy *p = *state;
    run r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "UPDATE", "",
                   DEPLOY(UNCONFINED("app") "," UNCONFINED("debug")), DEPLOY(UNCONFINED("app")));
    assert_false(r.d.allowed);
    assert_non_null(strstr(r.d.message, "(1 violation)"));
    assert_non_null(strstr(r.d.message, "container \"debug\""));
    assert_null(strstr(r.d.message, "container \"app\""));
    assert_true(has_warning(&r.d, "container \"app\""));
    assert_int_equal(r.d.violation_count, 2); /* both stay in the decision for the log */
    done(&r);
}

static void test_an_update_that_removes_a_violation_is_allowed_quietly(void **state)
{
    policy *p = *state;
    run r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "UPDATE", "", DEPLOY(PLAIN("app")),
                   DEPLOY(UNCONFINED("app")));
    assert_true(r.d.allowed);
    assert_int_equal(r.d.warning_count, 0);
    done(&r);
}

static void test_changing_the_value_of_a_violation_counts_as_new(void **state)
{
    policy *p = *state; /* the built-in policy allows no Localhost profile at all */
    run r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "UPDATE", "",
                   DEPLOY("{'name':'app','securityContext':{'seccompProfile':{'type':'Localhost',"
                          "'localhostProfile':'b.json'}}}"),
                   DEPLOY("{'name':'app','securityContext':{'seccompProfile':{'type':'Localhost',"
                          "'localhostProfile':'a.json'}}}"));
    assert_false(r.d.allowed);
    assert_non_null(strstr(r.d.message, "b.json"));
    done(&r);
}

static void test_controller_owned_workload_is_judged_in_warn(void **state)
{
    policy *p = *state;
    run r = review(p, ENGINE_VALIDATE, "apps", "ReplicaSet", "CREATE", "",
                   "{'metadata':{'name':'web-5d4f','ownerReferences':[{'apiVersion':'apps/v1',"
                   "'kind':'Deployment','name':'web','uid':'1','controller':true}]},'spec':{"
                   "'template':{'spec':{'containers':[" UNCONFINED("app") "]}}}}",
                   NULL);
    assert_true(r.d.allowed);
    assert_true(has_warning(&r.d, "container \"app\": unconfined (Unconfined)"));
    done(&r);
}

static void test_plain_pod_update_and_workload_subresources_are_not_judged(void **state)
{
    policy *p = *state;
    const char *pod =
        "{'metadata':{'name':'web','finalizers':[]},'spec':{'containers':[" UNCONFINED("app") "]}}";
    run r = review(p, ENGINE_VALIDATE, "", "Pod", "UPDATE", "", pod, pod);
    assert_true(r.d.allowed);
    assert_false(r.d.judged);
    done(&r);
    r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "UPDATE", "scale",
               DEPLOY(UNCONFINED("app")), DEPLOY(UNCONFINED("app")));
    assert_true(r.d.allowed);
    assert_false(r.d.judged);
    done(&r);
}

static void test_templates_are_not_patched_unless_mutate_templates(void **state)
{
    policy *p = *state;
    run r =
        review(p, ENGINE_MUTATE, "apps", "Deployment", "CREATE", "", DEPLOY(PLAIN("app")), NULL);
    assert_null(r.d.patch);
    done(&r);
    /* ...and without mutateTemplates a template with no profile is no violation. */
    r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "CREATE", "", DEPLOY(PLAIN("app")), NULL);
    assert_true(r.d.allowed);
    assert_int_equal(r.d.violation_count, 0);
    done(&r);
}

static void test_mutate_templates_patches_on_create_and_on_template_change_only(void **state)
{
    policy *p = *state;
    p->defaults.mutate_templates = true;
    run r =
        review(p, ENGINE_MUTATE, "apps", "Deployment", "CREATE", "", DEPLOY(PLAIN("app")), NULL);
    assert_non_null(r.d.patch);
    char *text = cJSON_PrintUnformatted(r.d.patch);
    assert_string_equal(text, "[{\"op\":\"add\",\"path\":\"/spec/template/spec/securityContext\","
                              "\"value\":{\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}}]");
    free(text);
    done(&r);
    /* Scaling: the template did not change, so no rollout is triggered. */
    r = review(p, ENGINE_MUTATE, "apps", "Deployment", "UPDATE", "", DEPLOY_SCALED(PLAIN("app")),
               DEPLOY(PLAIN("app")));
    assert_null(r.d.patch);
    done(&r);
    /* A new image in the template: the rollout happens anyway, so it is confined too. */
    r = review(p, ENGINE_MUTATE, "apps", "Deployment", "UPDATE", "",
               DEPLOY("{'name':'app','image':'web:2'}"), DEPLOY("{'name':'app','image':'web:1'}"));
    assert_non_null(r.d.patch);
    done(&r);
    /* With mutateTemplates, a template left without a profile is a violation. */
    r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "CREATE", "", DEPLOY(PLAIN("app")), NULL);
    assert_false(r.d.allowed);
    assert_non_null(strstr(r.d.message, "no seccomp profile"));
    done(&r);
}

static void test_controller_owned_templates_are_never_patched(void **state)
{
    policy *p = *state;
    p->defaults.mutate_templates = true;
    run r = review(p, ENGINE_MUTATE, "batch", "Job", "CREATE", "",
                   "{'metadata':{'name':'nightly-28','ownerReferences':[{'kind':'CronJob',"
                   "'name':'nightly','uid':'1','controller':true}]},'spec':{'template':{'spec':{"
                   "'containers':[{'name':'app'}]}}}}",
                   NULL);
    assert_null(r.d.patch);
    done(&r);
}

static void test_cronjob_container_annotation_is_migrated_in_its_template(void **state)
{
    policy *p = *state;
    p->defaults.mutate_templates = true;
    run r = review(p, ENGINE_MUTATE, "batch", "CronJob", "CREATE", "",
                   "{'metadata':{'name':'nightly'},'spec':{'jobTemplate':{'spec':{'template':{"
                   "'metadata':{'annotations':{'container.seccomp.security.alpha.kubernetes.io/"
                   "app':'runtime/default'}},'spec':{'containers':[{'name':'app'}]}}}}}}",
                   NULL);
    assert_non_null(r.d.patch);
    char *text = cJSON_PrintUnformatted(r.d.patch);
    assert_non_null(strstr(text, "\"path\":\"/spec/jobTemplate/spec/template/spec/containers/0/"
                                 "securityContext\""));
    assert_non_null(strstr(text,
                           "\"op\":\"remove\",\"path\":\"/spec/jobTemplate/spec/template/metadata/"
                           "annotations/container.seccomp.security.alpha.kubernetes.io~1app\""));
    free(text);
    /* Idempotent: the patched object gives no patch. */
    engine_request again = {.operation = "CREATE",
                            .subresource = "",
                            .namespace_ = "shop",
                            .name = "",
                            .username = "alice",
                            .group = "batch",
                            .kind = "CronJob",
                            .object = r.d.patched};
    engine_decision d2 = {0};
    assert_int_equal(engine_review(p, ENGINE_MUTATE, &again, &d2), 0);
    assert_null(d2.patch);
    engine_decision_free(&d2);
    done(&r);
}

static void test_old_annotation_and_pod_level_violations_are_ratcheted(void **state)
{
    policy *p = *state;
    const char *old = "{'metadata':{'name':'web'},'spec':{'replicas':1,'template':{'metadata':{"
                      "'annotations':{'seccomp.security.alpha.kubernetes.io/pod':'runtime/defualt'"
                      "}},'spec':{'securityContext':{'seccompProfile':{'type':'Unconfined'}},"
                      "'containers':[{'name':'app'}]}}}}";
    const char *now = "{'metadata':{'name':'web'},'spec':{'replicas':2,'template':{'metadata':{"
                      "'annotations':{'seccomp.security.alpha.kubernetes.io/pod':'runtime/defualt'"
                      "}},'spec':{'securityContext':{'seccompProfile':{'type':'Unconfined'}},"
                      "'containers':[{'name':'app'}]}}}}";
    run r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "UPDATE", "", now, old);
    assert_true(r.d.allowed);
    assert_true(has_warning(&r.d, "pod: annotation-invalid (runtime/defualt); new pods"));
    assert_true(has_warning(&r.d, "pod: unconfined (Unconfined); new pods"));
    done(&r);
}

static void test_ratchet_warning_follows_the_namespace_mode(void **state)
{
    policy *p = *state;
    p->defaults.mode = POLICY_MODE_WARN;
    run r = review(p, ENGINE_VALIDATE, "apps", "Deployment", "UPDATE", "",
                   DEPLOY_SCALED(UNCONFINED("app")), DEPLOY(UNCONFINED("app")));
    assert_true(r.d.allowed);
    assert_true(has_warning(&r.d, "container \"app\": unconfined (Unconfined); new pods of this "
                                  "Deployment violate the policy"));
    assert_false(has_warning(&r.d, "will be denied"));
    done(&r);
}

static void test_ratchet_warning_keeps_the_violation_when_cut(void **state)
{
    policy *p = *state;
    /* A 63-character container name and a long kind: the cut takes the tail, not the rule. */
    const char *name = "billing-reconciler-with-a-very-long-name-for-the-legacy-system1";
    char old[512], now[512];
    snprintf(old, sizeof old,
             "{'spec':{'replicas':1,'template':{'spec':{'containers':[{'name':'%s',"
             "'securityContext':{'seccompProfile':{'type':'Unconfined'}}}]}}}}",
             name);
    snprintf(now, sizeof now,
             "{'spec':{'replicas':2,'template':{'spec':{'containers':[{'name':'%s',"
             "'securityContext':{'seccompProfile':{'type':'Unconfined'}}}]}}}}",
             name);
    run r = review(p, ENGINE_VALIDATE, "", "ReplicationController", "UPDATE", "", now, old);
    assert_int_equal(r.d.warning_count, 1);
    assert_true(strlen(r.d.warnings[0]) <= 120);
    assert_non_null(strstr(r.d.warnings[0], "unconfined (Unconfined)"));
    done(&r);
}

static void test_debug_container_inheriting_pod_level_unconfined_is_denied(void **state)
{
    policy *p = *state;
    const char *old = "{'metadata':{'name':'cart'},'spec':{'securityContext':{'seccompProfile':{"
                      "'type':'Unconfined'}},'containers':[{'name':'cart'}]}}";
    const char *now = "{'metadata':{'name':'cart'},'spec':{'securityContext':{'seccompProfile':{"
                      "'type':'Unconfined'}},'containers':[{'name':'cart'}],"
                      "'ephemeralContainers':[{'name':'debugger','image':'busybox'}]}}";
    /* Not patched: it has an effective profile (the pod's) ... */
    run r = review(p, ENGINE_MUTATE, "", "Pod", "UPDATE", "ephemeralcontainers", now, old);
    assert_null(r.d.patch);
    done(&r);
    /* ... and that profile is Unconfined: denied, naming the debug container only. */
    r = review(p, ENGINE_VALIDATE, "", "Pod", "UPDATE", "ephemeralcontainers", now, old);
    assert_false(r.d.allowed);
    assert_non_null(strstr(r.d.message, "spec.securityContext.seccompProfile.type (container "
                                        "\"debugger\")"));
    assert_null(strstr(r.d.message, "container \"cart\""));
    done(&r);
}

static int setup(void **state)
{
    *state = policy_builtin();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    policy *p = *state;
    policy_free(p);
    return 0;
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_workload_create_with_unconfined_container_is_denied_with_root_path),
        T(test_scaling_an_old_violating_workload_is_allowed_with_a_warning),
        T(test_inserting_a_sidecar_does_not_make_an_old_violation_new),
        T(test_an_update_that_adds_a_violation_is_denied_naming_only_the_new_one),
        T(test_an_update_that_removes_a_violation_is_allowed_quietly),
        T(test_changing_the_value_of_a_violation_counts_as_new),
        T(test_controller_owned_workload_is_judged_in_warn),
        T(test_plain_pod_update_and_workload_subresources_are_not_judged),
        T(test_templates_are_not_patched_unless_mutate_templates),
        T(test_mutate_templates_patches_on_create_and_on_template_change_only),
        T(test_controller_owned_templates_are_never_patched),
        T(test_cronjob_container_annotation_is_migrated_in_its_template),
        T(test_old_annotation_and_pod_level_violations_are_ratcheted),
        T(test_ratchet_warning_follows_the_namespace_mode),
        T(test_ratchet_warning_keeps_the_violation_when_cut),
        T(test_debug_container_inheriting_pod_level_unconfined_is_denied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
