/*
 * admission.h — the AdmissionReview codec (admission.k8s.io/v1 and v1beta1).
 *
 * Bytes in, bytes out: admission_handle() reads the body the way the API server's Go decoder
 * would (or refuses it), builds an engine_request, calls engine_review() and encodes the
 * decision in the apiVersion the request used. The HTTP server and the `review` command both
 * go through it, so they answer identically.
 */
#ifndef SW_ADMISSION_H
#define SW_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "policy.h"

/* What admission_handle() produced. `body` is owned (free with admission_reply_free()). */
typedef struct {
    unsigned http_status; /* 200 for any AdmissionReview answer; 400 for a malformed body */
    char *body;           /* JSON: the AdmissionReview response, or {"error": "..."} */
    size_t body_len;
    /* For the review log line (owned strings, "" when unknown). */
    char *uid, *kind, *namespace_, *name, *operation;
    bool dry_run;
    const char *decision; /* static: "allowed", "denied", "patched", "error" */
    size_t violation_count;
    char **rules; /* the rule id of each violation (violation_count of them), for metrics */
    size_t patch_ops;
    char *violations; /* the violations joined by "; " for the log, or "" */
} admission_reply;

/*
 * admission_handle — answer one AdmissionReview body for endpoint `ep` under policy `p`.
 * `body` need not be NUL-terminated. Fills `out` (caller zeroes it first and frees it with
 * admission_reply_free()). Malformed JSON (SPEC §9: duplicate keys, \u0000 in a string,
 * invalid UTF-8, trailing data, line:column in the message) or a body that is not an
 * AdmissionReview gives http_status 400 and {"error": "..."}. Returns 0, or -1 when out of
 * memory (out then holds nothing and the caller answers 500).
 */
int admission_handle(const policy *p, engine_endpoint ep, const char *body, size_t len,
                     admission_reply *out);

/*
 * admission_handle_both — what the API server does with both webhooks: /mutate, then
 * /validate on the request with the patched object. Two replies, as admission_handle().
 * If the body is malformed, both replies carry the same 400 answer.
 */
int admission_handle_both(const policy *p, const char *body, size_t len, admission_reply *mutate,
                          admission_reply *validate);

/*
 * admission_error_body — {"error": msg} as an owned, NUL-terminated string (NULL when out of
 * memory), printed by cJSON: release it with cJSON_free() (see json_arena.h). Used for protocol
 * errors (404, 405, 413, 415, 400).
 */
char *admission_error_body(const char *msg);

void admission_reply_free(admission_reply *r);

#endif
