/*
 * fuzz_manifest.c — libFuzzer target: `migrate`'s path through a manifest file (server/
 * manifest.h, SPEC §3), on arbitrary bytes: manifest_parse() (multi-document YAML or JSON),
 * manifest_find_objects(), engine_review() on /mutate under the built-in policy as `migrate`
 * uses it (manifest_migrate_policy()), manifest_plan_patch() of each patch, and
 * manifest_apply_edits() — then, as cmd_migrate.c does before writing, the edited text read
 * back.
 *
 * Invariants besides the sanitizers (the cases cmd_migrate.c calls "a bug: please report"):
 *   - a refusal has a message, and a position inside the text;
 *   - when every patch could be planned, the edits never overlap, the edited text parses, it
 *     holds the same number of objects, and — when the text has no anchor ('&'), so no alias or
 *     merge key can share a node between objects — each object reads back equal to the
 *     engine's patched object (or to the original when it had no patch).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz.h"
#include "manifest.h"
#include "policy.h"

static policy *pol;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pol = policy_builtin();
    FUZZ_CHECK(pol != NULL, "out of memory");
    manifest_migrate_policy(pol);
    return 0;
}

/* A refusal's position is inside the text (or just past its end). */
static void check_error(const uint8_t *data, size_t size, const manifest_error *err)
{
    FUZZ_CHECK(err->message[0] != '\0', "a refusal without a message");
    FUZZ_CHECK(!fuzz_has_control(err->message, NULL), "raw control character in: %s", err->message);
    size_t lines = fuzz_yaml_lines(data, size);
    FUZZ_CHECK(err->line <= lines + 1, "error at line %u of a %zu-line text: %s", err->line, lines,
               err->message);
}

/* Read `text` back and compare its objects with `expected` (count objects). */
static void check_read_back(const char *text, size_t len, cJSON **expected, size_t count,
                            bool compare)
{
    manifest m2;
    manifest_error err;
    manifest_objects after = {0};
    FUZZ_CHECK(manifest_parse(text, len, &m2, &err) == 0,
               "the edited text does not parse (%u:%u %s):\n%.2000s", err.line, err.column,
               err.message, text);
    FUZZ_CHECK(manifest_find_objects(&m2, &after) == 0, "out of memory");
    FUZZ_CHECK(after.count == count, "the edited text holds %zu objects, not %zu:\n%.2000s",
               after.count, count, text);
    for (size_t i = 0; compare && i < count; i++)
        FUZZ_CHECK(cJSON_Compare(expected[i], after.items[i].object, true),
                   "object %zu does not read back as the migrated object:\n%.2000s", i, text);
    manifest_objects_free(&after);
    manifest_free(&m2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    manifest m;
    manifest_error err;
    if (manifest_parse(text, size, &m, &err) != 0) {
        check_error(data, size, &err);
        manifest_free(&m);
        return 0;
    }
    manifest_objects objs = {0};
    FUZZ_CHECK(manifest_find_objects(&m, &objs) == 0, "out of memory");
    cJSON **expected = calloc(objs.count + 1, sizeof *expected);
    FUZZ_CHECK(expected != NULL, "out of memory");
    manifest_edits edits = {0};
    strlist notes = {0};
    bool planned = true;
    for (size_t i = 0; i < objs.count; i++) {
        const manifest_object *o = &objs.items[i];
        engine_request req;
        engine_decision d = {0};
        manifest_request(o, "default", &req);
        FUZZ_CHECK(engine_review(pol, ENGINE_MUTATE, &req, &d) == 0, "out of memory");
        strbuf label = {0};
        manifest_object_label(&label, o, "default");
        FUZZ_CHECK(label.data != NULL && !fuzz_has_control(label.data, NULL),
                   "object label with a raw control character");
        sb_free(&label);
        if (d.patch != NULL && planned &&
            manifest_plan_patch(&m, &m.docs[o->doc], o->node, d.patch, &edits, &notes, &err) != 0) {
            check_error(data, size, &err);
            planned = false; /* migrate leaves such a file alone */
        }
        expected[i] = cJSON_Duplicate(d.patched != NULL ? d.patched : o->object, true);
        FUZZ_CHECK(expected[i] != NULL, "out of memory");
        engine_decision_free(&d);
    }
    FUZZ_CHECK(!edits.oom && !notes.oom, "out of memory");
    if (planned && edits.count > 0) {
        size_t out_len;
        char *out = manifest_apply_edits(&m, &edits, &out_len, &err);
        FUZZ_CHECK(out != NULL, "the planned edits overlap: %s", err.message);
        check_read_back(out, out_len, expected, objs.count, memchr(data, '&', size) == NULL);
        free(out);
    }
    for (size_t i = 0; i < objs.count; i++)
        cJSON_Delete(expected[i]);
    free(expected);
    strlist_free(&notes);
    manifest_edits_free(&edits);
    manifest_objects_free(&objs);
    manifest_free(&m);
    return 0;
}
