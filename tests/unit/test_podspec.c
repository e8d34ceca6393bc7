/*
 * test_podspec.c — the pod-spec walker: for every kind of SPEC §7.1 it finds the template, every
 * container list, and gives each container the right JSON Pointer and field path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "podspec.h"

/* A pod spec with one container of each list; the walker reports all three in list order. */
#define SPEC                                                                                       \
    "{'securityContext':{'seccompProfile':{'type':'RuntimeDefault'}},"                             \
    "'containers':[{'name':'app'},{'name':'side','securityContext':{'privileged':true}}],"         \
    "'initContainers':[{'name':'init'}],'ephemeralContainers':[{'name':'dbg'}]}"

static const struct {
    const char *group, *kind, *object, *pointer, *path;
} kinds[] = {
    {"", "Pod", "{'metadata':{'annotations':{'a':'b'}},'spec':" SPEC "}", "", ""},
    {"apps", "Deployment",
     "{'spec':{'template':{'metadata':{'annotations':{'a':'b'}},'spec':" SPEC "}}}",
     "/spec/template", "spec.template."},
    {"apps", "ReplicaSet", "{'spec':{'template':{'spec':" SPEC "}}}", "/spec/template",
     "spec.template."},
    {"apps", "StatefulSet", "{'spec':{'template':{'spec':" SPEC "}}}", "/spec/template",
     "spec.template."},
    {"apps", "DaemonSet", "{'spec':{'template':{'spec':" SPEC "}}}", "/spec/template",
     "spec.template."},
    {"batch", "Job", "{'spec':{'template':{'spec':" SPEC "}}}", "/spec/template", "spec.template."},
    {"", "ReplicationController", "{'spec':{'template':{'spec':" SPEC "}}}", "/spec/template",
     "spec.template."},
    {"batch", "CronJob", "{'spec':{'jobTemplate':{'spec':{'template':{'spec':" SPEC "}}}}}",
     "/spec/jobTemplate/spec/template", "spec.jobTemplate.spec.template."},
    {"", "PodTemplate", "{'template':{'spec':" SPEC "}}", "/template", "template."},
};

static void test_every_kind_finds_its_template_and_all_container_lists(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        cJSON *obj = doc(kinds[k].object);
        pod_view v;
        strbuf why = {0};
        assert_int_equal(pod_view_read(obj, kinds[k].group, kinds[k].kind, &v, &why), 1);
        assert_string_equal(podspec_template_pointer(kinds[k].group, kinds[k].kind),
                            kinds[k].pointer);
        assert_true(v.pod_field.set);
        assert_int_equal(v.pod_field.type, PROFILE_RUNTIME_DEFAULT);
        assert_int_equal(v.count, 4);
        static const char *names[] = {"app", "side", "init", "dbg"};
        static const int lists[] = {PODSPEC_CONTAINERS, PODSPEC_CONTAINERS, PODSPEC_INIT_CONTAINERS,
                                    PODSPEC_EPHEMERAL_CONTAINERS};
        static const size_t index[] = {0, 1, 0, 0};
        for (size_t i = 0; i < 4; i++) {
            assert_string_equal(v.containers[i].name, names[i]);
            assert_int_equal(v.containers[i].list, lists[i]);
            assert_int_equal(v.containers[i].index, index[i]);
        }
        assert_true(v.containers[1].privileged);
        assert_false(v.containers[0].privileged);

        strbuf sb = {0};
        podspec_container_pointer(&sb, &v, &v.containers[2]);
        char *ptr = sb_take(&sb);
        podspec_container_path(&sb, &v, &v.containers[1]);
        char *path = sb_take(&sb);
        char want_ptr[128], want_path[128];
        snprintf(want_ptr, sizeof want_ptr, "%s/spec/initContainers/0", kinds[k].pointer);
        snprintf(want_path, sizeof want_path, "%sspec.containers[1]", kinds[k].path);
        assert_string_equal(ptr, want_ptr);
        assert_string_equal(path, want_path);
        free(ptr);
        free(path);
        pod_view_free(&v);
        sb_free(&why);
        cJSON_Delete(obj);
    }
}

static void test_template_annotations_are_read_from_the_template_metadata(void **state)
{
    (void)state;
    cJSON *obj = doc("{'metadata':{'annotations':{'outer':'x'}},'spec':{'template':{'metadata':"
                     "{'annotations':{'inner':'y'}},'spec':{'containers':[]}}}}");
    pod_view v;
    strbuf why = {0};
    assert_int_equal(pod_view_read(obj, "apps", "Deployment", &v, &why), 1);
    assert_string_equal(pod_annotation(&v, "inner"), "y");
    assert_null(pod_annotation(&v, "outer"));
    pod_view_free(&v);
    cJSON_Delete(obj);
}

static void test_unknown_kind_and_absent_template_have_nothing_to_judge(void **state)
{
    (void)state;
    cJSON *obj = doc("{'spec':{'replicas':1}}");
    pod_view v;
    strbuf why = {0};
    assert_int_equal(pod_view_read(obj, "", "Service", &v, &why), 0);
    pod_view_free(&v);
    assert_null(podspec_template_pointer("", "Service"));
    assert_null(podspec_template_pointer("apps", "Pod")); /* the group counts */
    /* A ReplicationController's template is optional. */
    assert_int_equal(pod_view_read(obj, "", "ReplicationController", &v, &why), 0);
    pod_view_free(&v);
    cJSON_Delete(obj);
}

static void test_shapes_the_engine_cannot_read_are_reported_with_their_path(void **state)
{
    (void)state;
    static const struct {
        const char *group, *kind, *object, *fragment;
    } cases[] = {
        {"", "Pod", "{'spec':{'containers':{'name':'x'}}}", "spec.containers is not an array"},
        {"", "Pod", "{'spec':{'containers':[{'name':1}]}}", "spec.containers[0].name"},
        {"", "Pod", "{'spec':{'containers':[{'name':'a','securityContext':'x'}]}}",
         "spec.containers[0].securityContext is not an object"},
        {"", "Pod", "{'spec':{'securityContext':{'seccompProfile':'RuntimeDefault'}}}",
         "seccompProfile is not an object"},
        {"", "Pod", "{'metadata':{'annotations':{'k':1}},'spec':{}}", "annotations values"},
        {"apps", "Deployment", "{'spec':{'template':[]}}", "spec.template is not an object"},
        {"batch", "CronJob", "{'spec':{'jobTemplate':{'spec':{'template':{'spec':5}}}}}",
         "spec.jobTemplate.spec.template.spec is not an object"},
        {"", "Pod",
         "{'spec':{'initContainers':[{'name':'a','securityContext':{'privileged':'yes'"
         "}}]}}",
         "privileged is not a boolean"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *obj = doc(cases[i].object);
        pod_view v;
        strbuf why = {0};
        assert_int_equal(pod_view_read(obj, cases[i].group, cases[i].kind, &v, &why), -1);
        assert_non_null(why.data);
        if (!strstr(why.data, cases[i].fragment))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why.data, cases[i].fragment);
        pod_view_free(&v);
        sb_free(&why);
        cJSON_Delete(obj);
    }
}

static void test_windows_mirror_and_runtime_class_are_read(void **state)
{
    (void)state;
    cJSON *obj =
        doc("{'metadata':{'annotations':{'kubernetes.io/config.mirror':'abc'}},"
            "'spec':{'os':{'name':'windows'},'runtimeClassName':'gvisor','containers':[]}}");
    pod_view v;
    strbuf why = {0};
    assert_int_equal(pod_view_read(obj, "", "Pod", &v, &why), 1);
    assert_true(v.windows);
    assert_true(v.mirror);
    assert_string_equal(v.runtime_class, "gvisor");
    pod_view_free(&v);
    cJSON_Delete(obj);
    /* The mirror annotation means something only on a Pod. */
    obj = doc("{'spec':{'template':{'metadata':{'annotations':{'kubernetes.io/config.mirror':'a'}},"
              "'spec':{'os':{'name':'linux'},'containers':[]}}}}");
    assert_int_equal(pod_view_read(obj, "apps", "Deployment", &v, &why), 1);
    assert_false(v.mirror);
    assert_false(v.windows);
    pod_view_free(&v);
    cJSON_Delete(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_finds_its_template_and_all_container_lists),
        cmocka_unit_test(test_template_annotations_are_read_from_the_template_metadata),
        cmocka_unit_test(test_unknown_kind_and_absent_template_have_nothing_to_judge),
        cmocka_unit_test(test_shapes_the_engine_cannot_read_are_reported_with_their_path),
        cmocka_unit_test(test_windows_mirror_and_runtime_class_are_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
