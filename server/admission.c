/*
 * admission.c — AdmissionReview v1/v1beta1: decode the request, call the engine, encode the
 * response in the version received (WEBHOOK-SERVER-NOTES §1). Data flows one way:
 * bytes → AdmissionReview → engine_request → decision → response bytes.
 */
#include "admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "json.h"
#include "json_arena.h"
#include "text.h"

/* A decoded request: the parsed body (owned) and the engine's view of it (borrowing). */
typedef struct {
    cJSON *root;
    const char *api_version;
    const char *uid;
    engine_request req;
} decoded;

char *admission_error_body(const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (o && cJSON_AddStringToObject(o, "error", msg))
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

/* Optional string member: absent or null → "" ; a string → it; anything else → NULL. */
static const char *opt_string(const cJSON *obj, const char *key)
{
    const cJSON *v = json_get(obj, key);
    if (json_is_absent(v))
        return "";
    return json_string(v);
}

/* Decode the envelope. Returns NULL on success, else a static reason for a 400. The fields
 * follow k8s.io/api admission/v1 types.go; object, oldObject and options are raw extensions
 * that Go serialises as null when empty, so null and absent are the same. */
static const char *decode_envelope(cJSON *root, decoded *d)
{
    if (!cJSON_IsObject(root))
        return "the body is not a JSON object";
    d->api_version = json_string(json_get(root, "apiVersion"));
    if (!d->api_version || (strcmp(d->api_version, "admission.k8s.io/v1") != 0 &&
                            strcmp(d->api_version, "admission.k8s.io/v1beta1") != 0))
        return "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1";
    const char *kind = json_string(json_get(root, "kind"));
    if (!kind || strcmp(kind, "AdmissionReview") != 0)
        return "kind must be AdmissionReview";
    const cJSON *rq = json_get(root, "request");
    if (!cJSON_IsObject(rq))
        return "request is missing or not an object";
    d->uid = json_string(json_get(rq, "uid"));
    if (!d->uid || !d->uid[0])
        return "request.uid is missing or not a string";
    const cJSON *k = json_get(rq, "kind");
    if (!cJSON_IsObject(k))
        return "request.kind is missing or not an object";
    d->req.kind = json_string(json_get(k, "kind"));
    d->req.group = opt_string(k, "group");
    if (!d->req.kind || !d->req.group)
        return "request.kind.kind and request.kind.group must be strings";
    d->req.operation = json_string(json_get(rq, "operation"));
    if (!d->req.operation ||
        (strcmp(d->req.operation, "CREATE") != 0 && strcmp(d->req.operation, "UPDATE") != 0 &&
         strcmp(d->req.operation, "DELETE") != 0 && strcmp(d->req.operation, "CONNECT") != 0))
        return "request.operation must be CREATE, UPDATE, DELETE or CONNECT";
    d->req.subresource = opt_string(rq, "subResource");
    d->req.namespace_ = opt_string(rq, "namespace");
    d->req.name = opt_string(rq, "name");
    if (!d->req.subresource || !d->req.namespace_ || !d->req.name)
        return "request.subResource, namespace and name must be strings";
    const cJSON *ui = json_get(rq, "userInfo");
    if (!json_is_absent(ui) && !cJSON_IsObject(ui))
        return "request.userInfo is not an object";
    d->req.username = opt_string(ui, "username");
    if (!d->req.username)
        return "request.userInfo.username is not a string";
    const cJSON *obj = json_get(rq, "object");
    const cJSON *old = json_get(rq, "oldObject");
    if ((!json_is_absent(obj) && !cJSON_IsObject(obj)) ||
        (!json_is_absent(old) && !cJSON_IsObject(old)))
        return "request.object and request.oldObject must be objects or null";
    d->req.object = json_is_absent(obj) ? NULL : obj;
    d->req.old_object = json_is_absent(old) ? NULL : old;
    const cJSON *dry = json_get(rq, "dryRun");
    if (!json_is_absent(dry) && !cJSON_IsBool(dry))
        return "request.dryRun is not a boolean";
    d->req.dry_run = cJSON_IsTrue(dry);
    return NULL;
}

/* Parse and decode. Returns 0 decoded, 1 a 400 answer was written to `out`, -1 OOM. */
static int decode(const char *body, size_t len, decoded *d, admission_reply *out)
{
    memset(d, 0, sizeof *d);
    json_error err;
    char msg[320];
    d->root = json_parse_strict(body, len, &err);
    if (!d->root && err.out_of_memory)
        return -1; /* not the client's fault: the server answers 500 */
    const char *why = NULL;
    if (!d->root)
        snprintf(msg, sizeof msg, "malformed JSON at line %u, column %u: %s", err.line, err.column,
                 err.message);
    else if ((why = decode_envelope(d->root, d)) != NULL)
        snprintf(msg, sizeof msg, "not an AdmissionReview: %s", why);
    else
        return 0;
    cJSON_Delete(d->root);
    d->root = NULL;
    out->http_status = 400;
    out->decision = "error";
    out->body = admission_error_body(msg);
    if (!out->body)
        return -1;
    out->body_len = strlen(out->body);
    return 1;
}

/* `data` in standard base64 (RFC 4648 §4, padded, no line breaks), as Go's encoding/json
 * decodes []byte fields such as response.patch, between double quotes: a JSON string as it is
 * (no base64 character needs escaping), for cJSON_AddRawToObject(). */
static char *base64_json(const char *data, size_t len)
{
    size_t cap = 4 * ((len + 2) / 3) + 3;
    char *out = malloc(cap);
    if (out) {
        out[0] = '"';
        int n = EVP_EncodeBlock((unsigned char *)out + 1, (const unsigned char *)data, (int)len);
        out[1 + n] = '"';
        out[2 + n] = '\0';
    }
    return out;
}

static char *dupe(const char *s)
{
    return strdup(s ? s : "");
}

/* Build the response AdmissionReview for decision `dec`. Returns the body or NULL (OOM). */
static char *encode(const decoded *d, engine_endpoint ep, const engine_decision *dec)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *resp = cJSON_CreateObject();
    bool ok = root && resp;
    ok = ok && cJSON_AddStringToObject(root, "apiVersion", d->api_version);
    ok = ok && cJSON_AddStringToObject(root, "kind", "AdmissionReview");
    ok = ok && cJSON_AddItemToObject(root, "response", resp);
    if (!ok) {
        if (!cJSON_GetObjectItemCaseSensitive(root, "response"))
            cJSON_Delete(resp);
        cJSON_Delete(root);
        return NULL;
    }
    ok = cJSON_AddStringToObject(resp, "uid", d->uid) &&
         cJSON_AddBoolToObject(resp, "allowed", dec->allowed);
    if (ok && !dec->allowed) {
        /* The code as raw text: cJSON prints any number through sprintf("%1.15g") and a
         * sscanf() round trip (about 3% of a small denied review); an int needs neither. */
        char code[16];
        snprintf(code, sizeof code, "%d", dec->code);
        cJSON *st = cJSON_AddObjectToObject(resp, "status");
        ok = st && cJSON_AddRawToObject(st, "code", code) &&
             cJSON_AddStringToObject(st, "reason", dec->code == 400 ? "BadRequest" : "Forbidden") &&
             cJSON_AddStringToObject(st, "message", dec->message ? dec->message : "denied");
    }
    /* A validating answer never carries a patch: the API server refuses one
     * (VerifyAdmissionResponse, apiserver/pkg/admission/plugin/webhook/request). */
    if (ok && ep == ENGINE_MUTATE && dec->patch) {
        char *text = cJSON_PrintUnformatted(dec->patch);
        char *b64 = text ? base64_json(text, strlen(text)) : NULL;
        ok = b64 && cJSON_AddRawToObject(resp, "patch", b64) &&
             cJSON_AddStringToObject(resp, "patchType", "JSONPatch");
        cJSON_free(text);
        free(b64);
    }
    if (ok && dec->warning_count) {
        cJSON *w = cJSON_AddArrayToObject(resp, "warnings");
        ok = w != NULL;
        for (size_t i = 0; ok && i < dec->warning_count; i++) {
            cJSON *s = cJSON_CreateString(dec->warnings[i]);
            ok = s != NULL;
            if (s)
                cJSON_AddItemToArray(w, s);
        }
    }
    if (ok && dec->audit_count) {
        cJSON *a = cJSON_AddObjectToObject(resp, "auditAnnotations");
        ok = a != NULL;
        for (size_t i = 0; ok && i < dec->audit_count; i++)
            ok = cJSON_AddStringToObject(a, dec->audit_keys[i], dec->audit_values[i]) != NULL;
    }
    char *out = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return out;
}

/* Judge the decoded request for `ep` (with `object` in place of request.object when not
 * NULL) and fill `out`. `dec` is left for the caller to free. */
static int answer(const policy *p, engine_endpoint ep, const decoded *d, const cJSON *object,
                  engine_decision *dec, admission_reply *out)
{
    engine_request req = d->req;
    if (object)
        req.object = object;
    memset(dec, 0, sizeof *dec);
    if (engine_review(p, ep, &req, dec) < 0)
        return -1;
    out->http_status = 200;
    out->body = encode(d, ep, dec);
    out->uid = dupe(d->uid);
    out->kind = dupe(d->req.kind);
    out->namespace_ = dupe(d->req.namespace_);
    const char *name = d->req.name;
    if (!name[0] && req.object)
        name = json_string(json_get(json_get(req.object, "metadata"), "name"));
    if ((!name || !name[0]) && req.object)
        name = json_string(json_get(json_get(req.object, "metadata"), "generateName"));
    out->name = dupe(name);
    out->operation = dupe(d->req.operation);
    out->dry_run = d->req.dry_run;
    out->violation_count = dec->violation_count;
    out->patch_ops = ep == ENGINE_MUTATE && dec->patch ? (size_t)cJSON_GetArraySize(dec->patch) : 0;
    out->decision = !dec->allowed ? "denied" : out->patch_ops ? "patched" : "allowed";
    strbuf sb = {0};
    sb_append(&sb, "");
    for (size_t i = 0; i < dec->violation_count; i++) {
        if (i)
            sb_append(&sb, "; ");
        sb_append(&sb, dec->violations[i].line);
    }
    out->violations = sb_take(&sb);
    bool rules_ok = true;
    if (dec->violation_count) {
        out->rules = calloc(dec->violation_count, sizeof *out->rules);
        rules_ok = out->rules != NULL;
        for (size_t i = 0; rules_ok && i < dec->violation_count; i++)
            rules_ok = (out->rules[i] = strdup(dec->violations[i].rule)) != NULL;
    }
    if (!out->body || !out->uid || !out->kind || !out->namespace_ || !out->name ||
        !out->operation || !out->violations || !rules_ok) {
        admission_reply_free(out);
        return -1;
    }
    out->body_len = strlen(out->body);
    return 0;
}

/* The reply's body as malloc'ed memory when cJSON printed it into the json_arena scope, whose
 * end reclaims it. Returns -1 when out of memory (the reply is freed). */
static int detach_body(admission_reply *out)
{
    if (!out->body || !json_arena_owns(out->body))
        return 0;
    char *copy = malloc(out->body_len + 1);
    if (!copy) {
        out->body = NULL; /* arena memory: never free()d */
        admission_reply_free(out);
        return -1;
    }
    memcpy(copy, out->body, out->body_len + 1);
    out->body = copy;
    return 0;
}

static int handle_one(const policy *p, engine_endpoint ep, const char *body, size_t len,
                      admission_reply *out)
{
    decoded d;
    int r = decode(body, len, &d, out);
    if (r != 0)
        return r < 0 ? -1 : 0;
    /* Nothing reads the request object after the engine but for metadata.name, which /mutate
     * never changes: it may patch the object in place rather than a copy. */
    if (d.req.object != NULL)
        d.req.object_in_place = json_get(json_get(d.root, "request"), "object");
    engine_decision dec;
    r = answer(p, ep, &d, NULL, &dec, out);
    engine_decision_free(&dec);
    json_arena_delete(d.root);
    return r;
}

int admission_handle(const policy *p, engine_endpoint ep, const char *body, size_t len,
                     admission_reply *out)
{
    json_arena_begin();
    int r = handle_one(p, ep, body, len, out);
    if (r == 0)
        r = detach_body(out);
    if (r != 0)
        admission_reply_free(out); /* inside the scope: its body may be arena memory */
    json_arena_end();
    return r;
}

static int handle_both(const policy *p, const char *body, size_t len, admission_reply *mutate,
                       admission_reply *validate)
{
    decoded d;
    int r = decode(body, len, &d, mutate);
    if (r != 0) {
        if (r > 0) {
            validate->http_status = mutate->http_status;
            validate->decision = mutate->decision;
            validate->body = strdup(mutate->body);
            validate->body_len = mutate->body_len;
            if (!validate->body)
                r = -1;
        }
        return r < 0 ? -1 : 0;
    }
    engine_decision dm = {0}, dv = {0};
    r = answer(p, ENGINE_MUTATE, &d, NULL, &dm, mutate);
    if (r == 0)
        r = answer(p, ENGINE_VALIDATE, &d, dm.patched, &dv, validate);
    engine_decision_free(&dv);
    engine_decision_free(&dm);
    cJSON_Delete(d.root);
    return r;
}

int admission_handle_both(const policy *p, const char *body, size_t len, admission_reply *mutate,
                          admission_reply *validate)
{
    json_arena_begin();
    int r = handle_both(p, body, len, mutate, validate);
    if (r == 0)
        r = detach_body(mutate);
    if (r == 0)
        r = detach_body(validate);
    if (r != 0) {
        /* Inside the scope: a reply that was answered before the other ran out of memory
         * holds a body in arena memory. */
        admission_reply_free(mutate);
        admission_reply_free(validate);
    }
    json_arena_end();
    return r;
}

void admission_reply_free(admission_reply *r)
{
    cJSON_free(r->body); /* printed by cJSON: inside a json_arena scope, arena memory */
    free(r->uid);
    free(r->kind);
    free(r->namespace_);
    free(r->name);
    free(r->operation);
    free(r->violations);
    for (size_t i = 0; r->rules && i < r->violation_count; i++)
        free(r->rules[i]);
    free(r->rules);
    memset(r, 0, sizeof *r);
}
