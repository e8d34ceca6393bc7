/*
 * fuzz_admission.c — libFuzzer target: an HTTP body in, the AdmissionReview answer out, through
 * admission_handle() (server/admission.h) as `serve` calls it for /mutate and /validate, and
 * admission_handle_both() as `review` calls it; under the built-in policy (SPEC §5.1) and under
 * a richer one (every mode, Localhost allow-lists with {namespace}, a Localhost default, no
 * default, allowUnconfined, exemptions, mutateTemplates, and a `profiles` section that reads
 * the profiles of tests/fixtures/profiles).
 *
 * Besides the sanitizers, every answer must keep the contract of SPEC §4, §7.3 and §7.4:
 *   - HTTP 400 {"error": "..."} or HTTP 200; 400 whenever json_parse_strict() refuses the body;
 *   - a 200 answer is strict JSON echoing apiVersion, kind AdmissionReview and response.uid,
 *     with a boolean `allowed`; a denial has status.code 403 (Forbidden) or 400 (BadRequest) and
 *     a message without raw control characters (newlines aside);
 *   - /validate never carries patch or patchType;
 *   - /mutate always allows; patch and patchType come together, patchType is JSONPatch, the
 *     patch is padded standard base64 of a JSON array of `add`/`remove` operations that applies
 *     to request.object, and a second /mutate of the patched object yields no patch;
 *   - warnings are at most 120 characters of valid UTF-8 without control characters;
 *     auditAnnotations keys are qualified names without '/', at most 63 characters;
 *   - admission_handle_both()'s mutate answer is the one admission_handle() gives.
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "admission.h"
#include "fuzz.h"
#include "json.h"
#include "policy.h"

#ifndef SW_SOURCE_DIR
#error "SW_SOURCE_DIR must name the source tree (for tests/fixtures/profiles)"
#endif

/* The richer policy; %s is the profiles directory. */
static const char RICH_POLICY[] =
    "apiVersion: seccomp-webhook/v1\n"
    "kind: SeccompPolicy\n"
    "defaults:\n"
    "  mode: enforce\n"
    "  defaultProfile: {type: RuntimeDefault}\n"
    "  migrateAnnotations: true\n"
    "  allowUnconfined: false\n"
    "  allowedLocalhostProfiles: [\"shared/*.json\", \"strict.json\"]\n"
    "  mutateTemplates: true\n"
    "namespaces:\n"
    "  - match: [\"warn-*\", \"legacy\"]\n"
    "    mode: warn\n"
    "  - match: [\"audit\"]\n"
    "    mode: audit\n"
    "  - match: [\"team-?\"]\n"
    "    allowedLocalhostProfiles: [\"{namespace}/*.json\", \"*.json\"]\n"
    "  - match: [\"local\"]\n"
    "    defaultProfile: {type: Localhost, localhostProfile: strict.json}\n"
    "    allowedLocalhostProfiles: [\"*.json\"]\n"
    "  - match: [\"none\"]\n"
    "    defaultProfile: null\n"
    "    migrateAnnotations: false\n"
    "    mutateTemplates: false\n"
    "  - match: [\"open\"]\n"
    "    allowUnconfined: true\n"
    "exemptions:\n"
    "  namespaces: [\"kube-system\"]\n"
    "  usernames: [\"system:serviceaccount:ops:breakglass\"]\n"
    "  runtimeClasses: [\"kata\"]\n"
    "profiles:\n"
    "  directory: %s\n"
    "  architectures: [SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64]\n"
    "  requireDefaultDeny: true\n"
    "  forbiddenSyscalls: [kexec_load, init_module]\n";

static policy *policies[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char text[sizeof RICH_POLICY + 4096];
    snprintf(text, sizeof text, RICH_POLICY, SW_SOURCE_DIR "/tests/fixtures/profiles");
    policy_errors errs = {0};
    policies[0] = policy_builtin();
    policies[1] = policy_parse(text, strlen(text), "rich.yaml", &errs);
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "rich.yaml:%u:%u: %s\n", errs.items[i].line, errs.items[i].column,
                errs.items[i].message);
    policy_errors_free(&errs);
    FUZZ_CHECK(policies[0] != NULL && policies[1] != NULL, "cannot build the policies");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON Patch (RFC 6902 add and remove; RFC 6901 pointers), to apply what /mutate returns     */
/* ------------------------------------------------------------------------------------------ */

/* The next reference token of pointer `*p` (just after a '/'), unescaped (owned), advancing
 * `*p` to the next '/' or the end. NULL for a bad escape. */
static char *next_token(const char **p)
{
    size_t n = strcspn(*p, "/");
    char *tok = malloc(n + 1);
    FUZZ_CHECK(tok != NULL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c == '~') {
            char e = i + 1 < n ? (*p)[i + 1] : '\0';
            if (e != '0' && e != '1') {
                free(tok);
                return NULL;
            }
            c = e == '0' ? '~' : '/';
            i++;
        }
        tok[k++] = c;
    }
    tok[k] = '\0';
    *p += n;
    return tok;
}

/* An array index token: digits without a leading zero; -1 otherwise. */
static long array_index(const char *tok)
{
    if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0') || strlen(tok) > 9)
        return -1;
    for (const char *c = tok; *c; c++)
        if (!isdigit((unsigned char)*c))
            return -1;
    return strtol(tok, NULL, 10);
}

/* Apply one operation to `doc` (the document's root, an object). Returns false when it does not
 * apply. */
static bool apply_op(cJSON *doc, const cJSON *op)
{
    const char *kind = json_string(json_get(op, "op"));
    const char *path = json_string(json_get(op, "path"));
    const cJSON *value = json_get(op, "value");
    FUZZ_CHECK(kind != NULL && path != NULL, "a patch operation without op or path");
    bool add = strcmp(kind, "add") == 0;
    FUZZ_CHECK(add || strcmp(kind, "remove") == 0, "patch operation '%s' (only add and remove)",
               kind);
    FUZZ_CHECK(!add || value != NULL, "an add without a value at %s", path);
    FUZZ_CHECK(path[0] == '/', "patch path '%s' does not start with '/'", path);
    cJSON *parent = doc;
    const char *p = path;
    for (;;) {
        p++; /* the '/' */
        char *tok = next_token(&p);
        if (tok == NULL)
            return false;
        bool last = *p == '\0';
        if (!last) {
            cJSON *child = NULL;
            if (cJSON_IsObject(parent)) {
                child = cJSON_GetObjectItemCaseSensitive(parent, tok);
            } else if (cJSON_IsArray(parent)) {
                long i = array_index(tok);
                child = i >= 0 ? cJSON_GetArrayItem(parent, (int)i) : NULL;
            }
            free(tok);
            if (child == NULL)
                return false;
            parent = child;
            continue;
        }
        bool ok = false;
        if (cJSON_IsObject(parent)) {
            bool present = cJSON_GetObjectItemCaseSensitive(parent, tok) != NULL;
            if (add) {
                cJSON *v = cJSON_Duplicate(value, true);
                FUZZ_CHECK(v != NULL, "out of memory");
                ok = present ? cJSON_ReplaceItemInObjectCaseSensitive(parent, tok, v)
                             : cJSON_AddItemToObject(parent, tok, v);
            } else if (present) {
                cJSON_DeleteItemFromObjectCaseSensitive(parent, tok);
                ok = true;
            }
        } else if (cJSON_IsArray(parent)) {
            int size = cJSON_GetArraySize(parent);
            long i = add && strcmp(tok, "-") == 0 ? size : array_index(tok);
            if (add && i >= 0 && i <= size) {
                cJSON *v = cJSON_Duplicate(value, true);
                FUZZ_CHECK(v != NULL, "out of memory");
                ok = i == size ? cJSON_AddItemToArray(parent, v)
                               : cJSON_InsertItemInArray(parent, (int)i, v);
            } else if (!add && i >= 0 && i < size) {
                cJSON_DeleteItemFromArray(parent, (int)i);
                ok = true;
            }
        }
        free(tok);
        return ok;
    }
}

/* Padded standard base64 (RFC 4648 §4) → bytes, NUL-terminated (owned); NULL when it is not. */
static char *unbase64(const char *b64)
{
    size_t n = strlen(b64), pad = 0;
    while (pad < 2 && pad < n && b64[n - 1 - pad] == '=')
        pad++;
    if (n % 4 != 0)
        return NULL;
    for (size_t i = 0; i < n - pad; i++)
        if (!isalnum((unsigned char)b64[i]) && b64[i] != '+' && b64[i] != '/')
            return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 1);
    FUZZ_CHECK(out != NULL, "out of memory");
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (len < 0 || (size_t)len < pad) {
        free(out);
        return NULL;
    }
    len -= (int)pad;
    out[len] = '\0';
    return (char *)out;
}

/* ------------------------------------------------------------------------------------------ */
/* Checks of one answer                                                                       */
/* ------------------------------------------------------------------------------------------ */

static bool has_nonfinite(const cJSON *item)
{
    if (cJSON_IsNumber(item))
        return !isfinite(item->valuedouble);
    for (const cJSON *c = item->child; c != NULL; c = c->next)
        if (has_nonfinite(c))
            return true;
    return false;
}

/* True when `item` is the string `s`. */
static bool same_string(const char *s, const cJSON *item)
{
    return cJSON_IsString(item) && strcmp(s, item->valuestring) == 0;
}

static bool qualified_name(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 63 || !isalnum((unsigned char)k[0]) || !isalnum((unsigned char)k[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)k[i]) && k[i] != '-' && k[i] != '_' && k[i] != '.')
            return false;
    return true;
}

/*
 * Check one reply to `input` (the body, strictly parsed: NULL when refused) from `ep`.
 * Returns the patched object (owned) when /mutate answered with a patch, else NULL.
 */
static cJSON *check_reply(const cJSON *input, engine_endpoint ep, const admission_reply *r)
{
    const char *name = ep == ENGINE_MUTATE ? "mutate" : "validate";
    FUZZ_CHECK(r->body != NULL && r->body_len == strlen(r->body), "%s: no body, or a NUL in it",
               name);
    json_error err;
    cJSON *out = json_parse_strict(r->body, r->body_len, &err);
    FUZZ_CHECK(out != NULL, "%s: the answer is not strict JSON (%u:%u %s): %.300s", name, err.line,
               err.column, err.message, r->body);
    FUZZ_CHECK(r->http_status == 200 || r->http_status == 400, "%s: HTTP %u", name, r->http_status);
    if (input == NULL)
        FUZZ_CHECK(r->http_status == 400, "%s: a body json_parse_strict refuses got HTTP %u", name,
                   r->http_status);
    if (r->http_status == 400) {
        const char *e = json_string(json_get(out, "error"));
        FUZZ_CHECK(e != NULL && e[0] != '\0' && cJSON_GetArraySize(out) == 1,
                   "%s: a 400 answer that is not {\"error\": \"...\"}: %.300s", name, r->body);
        FUZZ_CHECK(!fuzz_has_control(e, NULL), "%s: raw control character in the error", name);
        cJSON_Delete(out);
        return NULL;
    }

    const cJSON *req = json_get(input, "request");
    const char *api = json_string(json_get(input, "apiVersion"));
    const char *uid = json_string(json_get(req, "uid"));
    FUZZ_CHECK(api != NULL && uid != NULL, "%s: HTTP 200 for a body without apiVersion or uid",
               name);
    FUZZ_CHECK(same_string(api, json_get(out, "apiVersion")), "%s: apiVersion not echoed", name);
    FUZZ_CHECK(same_string("AdmissionReview", json_get(out, "kind")),
               "%s: kind is not AdmissionReview", name);
    const cJSON *resp = json_get(out, "response");
    FUZZ_CHECK(cJSON_IsObject(resp), "%s: no response object", name);
    FUZZ_CHECK(same_string(uid, json_get(resp, "uid")), "%s: response.uid is not request.uid",
               name);
    const cJSON *allowed = json_get(resp, "allowed");
    FUZZ_CHECK(cJSON_IsBool(allowed), "%s: allowed is not a boolean", name);

    if (cJSON_IsFalse(allowed)) {
        FUZZ_CHECK(ep == ENGINE_VALIDATE, "mutate denied: %.300s", r->body);
        const cJSON *st = json_get(resp, "status");
        const cJSON *code = json_get(st, "code");
        const char *reason = json_string(json_get(st, "reason"));
        const char *msg = json_string(json_get(st, "message"));
        FUZZ_CHECK(cJSON_IsNumber(code) && reason != NULL && msg != NULL && msg[0] != '\0',
                   "validate: a denial without code, reason and message: %.300s", r->body);
        FUZZ_CHECK((code->valuedouble == 403 && strcmp(reason, "Forbidden") == 0) ||
                       (code->valuedouble == 400 && strcmp(reason, "BadRequest") == 0),
                   "validate: denial with code %g, reason %s", code->valuedouble, reason);
        FUZZ_CHECK(!fuzz_has_control(msg, "\n"), "validate: raw control character in: %.300s", msg);
    } else {
        FUZZ_CHECK(json_get(resp, "status") == NULL || cJSON_IsObject(json_get(resp, "status")),
                   "%s: status is not an object", name);
    }

    const cJSON *warnings = json_get(resp, "warnings");
    if (warnings != NULL) {
        FUZZ_CHECK(cJSON_IsArray(warnings) && cJSON_GetArraySize(warnings) > 0,
                   "%s: warnings is not a non-empty array", name);
        for (const cJSON *w = warnings->child; w != NULL; w = w->next) {
            const char *s = json_string(w);
            FUZZ_CHECK(s != NULL, "%s: a warning that is not a string", name);
            size_t chars = fuzz_utf8_chars(s);
            FUZZ_CHECK(chars != (size_t)-1 && chars <= 120,
                       "%s: warning of %zu characters (at most 120 of valid UTF-8): %s", name,
                       chars, s);
            FUZZ_CHECK(!fuzz_has_control(s, NULL), "%s: raw control character in warning %s", name,
                       s);
        }
    }
    const cJSON *audit = json_get(resp, "auditAnnotations");
    if (audit != NULL) {
        FUZZ_CHECK(cJSON_IsObject(audit), "%s: auditAnnotations is not an object", name);
        for (const cJSON *a = audit->child; a != NULL; a = a->next)
            FUZZ_CHECK(qualified_name(a->string) && cJSON_IsString(a),
                       "%s: auditAnnotations key '%s' (qualified name without '/', at most 63 "
                       "characters, string value)",
                       name, a->string);
    }

    const cJSON *patch = json_get(resp, "patch");
    const cJSON *patch_type = json_get(resp, "patchType");
    cJSON *patched = NULL;
    if (ep == ENGINE_VALIDATE) {
        FUZZ_CHECK(patch == NULL && patch_type == NULL, "validate answered with a patch");
    } else if (patch != NULL || patch_type != NULL) {
        FUZZ_CHECK(json_string(patch) != NULL && json_string(patch_type) != NULL &&
                       strcmp(patch_type->valuestring, "JSONPatch") == 0,
                   "mutate: patch and patchType (JSONPatch) must come together: %.300s", r->body);
        char *ops_text = unbase64(patch->valuestring);
        FUZZ_CHECK(ops_text != NULL, "mutate: the patch is not padded standard base64");
        cJSON *ops = json_parse_strict(ops_text, strlen(ops_text), &err);
        FUZZ_CHECK(cJSON_IsArray(ops) && cJSON_GetArraySize(ops) > 0,
                   "mutate: the patch is not a non-empty JSON array: %.300s", ops_text);
        const cJSON *object = json_get(req, "object");
        FUZZ_CHECK(cJSON_IsObject(object), "mutate: a patch for a request without an object");
        patched = cJSON_Duplicate(object, true);
        FUZZ_CHECK(patched != NULL, "out of memory");
        for (const cJSON *op = ops->child; op != NULL; op = op->next)
            FUZZ_CHECK(apply_op(patched, op), "mutate: the patch does not apply: %.500s", ops_text);
        cJSON_Delete(ops);
        free(ops_text);
    }
    cJSON_Delete(out);
    return patched;
}

/* A second /mutate of the patched object: no patch (SPEC §7.3: the patch is idempotent). */
static void check_idempotent(const policy *p, const cJSON *input, const cJSON *patched)
{
    if (has_nonfinite(input))
        return; /* 1e999 prints as null: the second body would not be the same object */
    cJSON *again = cJSON_Duplicate(input, true);
    FUZZ_CHECK(again != NULL, "out of memory");
    cJSON *dup = cJSON_Duplicate(patched, true);
    FUZZ_CHECK(dup != NULL, "out of memory");
    FUZZ_CHECK(cJSON_ReplaceItemInObjectCaseSensitive(json_get(again, "request"), "object", dup),
               "cannot replace request.object");
    char *text = cJSON_PrintUnformatted(again);
    FUZZ_CHECK(text != NULL, "out of memory");
    admission_reply r = {0};
    FUZZ_CHECK(admission_handle(p, ENGINE_MUTATE, text, strlen(text), &r) == 0, "out of memory");
    FUZZ_CHECK(r.http_status == 200, "re-mutate of the patched object: HTTP %u: %s", r.http_status,
               r.body);
    cJSON *still = check_reply(again, ENGINE_MUTATE, &r);
    FUZZ_CHECK(still == NULL, "re-mutate of the patched object gave a patch again: %.500s", r.body);
    admission_reply_free(&r);
    cJSON_free(text);
    cJSON_Delete(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    json_error err;
    cJSON *input = json_parse_strict(body, size, &err);
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        const policy *p = policies[i];
        admission_reply m = {0}, v = {0}, bm = {0}, bv = {0};
        FUZZ_CHECK(admission_handle(p, ENGINE_MUTATE, body, size, &m) == 0, "out of memory");
        cJSON *patched = check_reply(input, ENGINE_MUTATE, &m);
        if (patched != NULL)
            check_idempotent(p, input, patched);

        FUZZ_CHECK(admission_handle(p, ENGINE_VALIDATE, body, size, &v) == 0, "out of memory");
        cJSON_Delete(check_reply(input, ENGINE_VALIDATE, &v));
        FUZZ_CHECK(m.http_status == v.http_status, "mutate HTTP %u, validate HTTP %u",
                   m.http_status, v.http_status);

        FUZZ_CHECK(admission_handle_both(p, body, size, &bm, &bv) == 0, "out of memory");
        FUZZ_CHECK(bm.body != NULL && strcmp(bm.body, m.body) == 0,
                   "admission_handle_both's mutate answer differs from admission_handle's");
        FUZZ_CHECK(bv.http_status == m.http_status, "admission_handle_both: validate HTTP %u",
                   bv.http_status);
        if (bv.http_status == 200) {
            /* The validate half judged the patched object: check it as an answer to that. */
            cJSON *judged = cJSON_Duplicate(input, true);
            FUZZ_CHECK(judged != NULL, "out of memory");
            if (patched != NULL) {
                cJSON *dup = cJSON_Duplicate(patched, true);
                FUZZ_CHECK(dup != NULL, "out of memory");
                cJSON_ReplaceItemInObjectCaseSensitive(json_get(judged, "request"), "object", dup);
            }
            cJSON_Delete(check_reply(judged, ENGINE_VALIDATE, &bv));
            cJSON_Delete(judged);
        }
        cJSON_Delete(patched);
        admission_reply_free(&m);
        admission_reply_free(&v);
        admission_reply_free(&bm);
        admission_reply_free(&bv);
    }
    cJSON_Delete(input);
    return 0;
}
