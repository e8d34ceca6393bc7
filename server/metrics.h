/*
 * metrics.h — the server's Prometheus metrics (SPEC §8, text exposition format 0.0.4).
 *
 * Request threads only ever do relaxed atomic increments on fixed arrays, and, for a
 * violation in a namespace seen for the first time, one compare-and-swap into a fixed-size
 * table: no lock is taken on the request path. Rendering reads the same atomics.
 */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metrics metrics;

/* What a review ended as, for seccomp_webhook_requests_total{decision=...}. */
typedef enum {
    METRICS_ALLOWED = 0,
    METRICS_DENIED,
    METRICS_PATCHED,
    METRICS_ERROR,
    METRICS_DECISIONS
} metrics_decision;

/* metrics_create — a new, zeroed set of metrics; `start_time` is the process start (Unix
 * seconds). NULL when out of memory. Free with metrics_free() once no thread uses it. */
metrics *metrics_create(double start_time);
void metrics_free(metrics *m);

/*
 * metrics_review — count one answered review. `endpoint` is "mutate" or "validate";
 * `operation` and `kind` are the request's (anything else than the four operations and the
 * nine judged kinds is counted as "other", so a client cannot grow the label set); `seconds`
 * is the time from the request's arrival to the answer. Any thread, lock-free.
 */
void metrics_review(metrics *m, const char *endpoint, const char *operation, const char *kind,
                    metrics_decision decision, double seconds);

/*
 * metrics_violation — count one violation of `rule` (an engine rule id) in namespace `ns`.
 * The table holds a bounded number of (namespace, rule) series; past that, the namespace is
 * counted as "_other". Any thread, lock-free.
 */
void metrics_violation(metrics *m, const char *ns, const char *rule);

/* metrics_in_flight — add `delta` (+1 when a review starts, -1 when it ends). */
void metrics_in_flight(metrics *m, int delta);

/* The values that live elsewhere, read when rendering. */
typedef struct {
    uint64_t reloads_ok;
    uint64_t reloads_failed;
    const char *policy_hash; /* of the policy in force */
    double cert_not_after;   /* Unix seconds; 0 when unknown */
} metrics_state;

/*
 * metrics_render — the exposition text (Content-Type text/plain; version=0.0.4). Owned by the
 * caller; NULL when out of memory. Includes process metrics read from /proc/self.
 */
char *metrics_render(metrics *m, const metrics_state *state);

#endif
