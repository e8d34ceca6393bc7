/*
 * test_oom.c — running out of memory anywhere in a review gives an error, never a different
 * answer, and leaks nothing.
 *
 * The API server calls the webhook on every pod creation: an allocation that fails halfway
 * through the engine must not drop a violation (a wrong allow), a warning or a patch operation,
 * nor word a failure as the client's fault. So for each AdmissionReview of the admission fuzz
 * corpus (tests/fuzz/corpus/admission: realistic pods, workloads and hostile bodies), under the
 * built-in policy and a richer one (the latter with its Localhost profiles' verdicts cached and
 * not), and for /mutate, /validate and both in a row as `review` does, every allocation the
 * review makes is failed in turn, one per run. Each run must either return -1 (the server
 * answers 500) with nothing in the reply, or give exactly the reply of a run without failures;
 * and once the reply is freed, as many blocks are allocated as before.
 * Decoding a policy file (at start and on every reload), checking a seccomp profile, and
 * reading and swapping in the serving certificate are swept the same way: they must refuse the
 * file (or say they ran out of memory, or keep what they had) or give the same result. So are
 * the commands a CI pipeline runs (`migrate -i`, `audit`, `check-config`, `lint-profile`,
 * `review`): each must exit 2, or exit and print exactly as it does with memory to spare.
 *
 * Allocations are counted and failed by replacing malloc, calloc, realloc and free (glibc routes
 * its own calls, strdup's for one, through them) with wrappers around glibc's allocator, and
 * OpenSSL's through its allocator hooks. That cannot coexist with AddressSanitizer's allocator,
 * so this test is built without SW_SANITIZE only; scripts/valgrind-oom.sh runs it under
 * valgrind memcheck instead. Reviews run twice over: with cJSON allocating through malloc, so
 * that every node of a tree can fail, and then with the server's per-request arena installed
 * (json_arena.h), as `serve` runs.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "admission.h"
#include "cert_holder.h"
#include "commands.h"
#include "json_arena.h"
#include "manifest.h"
#include "policy.h"
#include "profile.h"
#include "tls.h"

/* ------------------------------------------------------------------------------------------ */
/* The allocator                                                                              */
/* ------------------------------------------------------------------------------------------ */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

/* Every how many allocations one is failed: 1, each of them (the default); more under valgrind
 * (SW_OOM_STRIDE, scripts/valgrind-oom.sh), which runs some thirty times slower but also sees a
 * failure path read or write memory it no longer owns. */
static long stride = 1;

/* How many of `total` allocations a sweep fails. */
static long runs(long total)
{
    return (total + stride - 1) / stride;
}

/* volatile: GCC takes malloc for its builtin, which touches no variable of the program, and
 * would otherwise drop the stores around a call it cannot see calling this one. */
static volatile bool counting;     /* allocations are counted (and may fail) only in a review */
static volatile long allocations;  /* counted since counting began */
static volatile long fail_at = -1; /* the index of the allocation to fail; -1 for none */
static volatile long live;         /* blocks allocated and not yet freed, in the whole process */

/* Libraries whose own allocations are never failed (nor numbered), because what they do when one
 * fails is not this project's to fix:
 *   - libseccomp 2.5.4: seccomp_export_bpf() leaves two blocks behind (the 4th, 7th and 10th
 *     allocation of a small filter's 38) or never returns (the 22nd); a policy exports a small
 *     filter each time it is built (profile_warm_up());
 *   - libtasn1 4.19 (under GnuTLS's certificate import): once asn1_create_element() has had a
 *     calloc() fail, a later call crashes in it;
 *   - GMP (under GnuTLS's key import, through nettle): its allocation functions abort the
 *     process when malloc fails, as GMP documents. */
static const char *const NOT_FAILED[] = {"libseccomp", "libtasn1", "libgmp"};

/* Whether the allocation asked for from `caller` (a return address; NULL for OpenSSL's, which
 * come through its hooks) is failed. */
static bool fails(const void *caller)
{
    if (!counting)
        return false;
    /* dladdr() per allocation is slow: remember the answer for each call site. */
    static struct {
        const void *caller;
        bool exempt;
    } seen[1024];
    size_t slot = ((uintptr_t)caller >> 2) % (sizeof seen / sizeof seen[0]);
    if (seen[slot].caller != caller || caller == NULL) {
        Dl_info where;
        bool exempt = false;
        if (caller != NULL && dladdr(caller, &where) != 0 && where.dli_fname != NULL)
            for (size_t i = 0; i < sizeof NOT_FAILED / sizeof NOT_FAILED[0]; i++)
                exempt |= strstr(where.dli_fname, NOT_FAILED[i]) != NULL;
        seen[slot].exempt = exempt;
        seen[slot].caller = caller;
    }
    if (seen[slot].exempt)
        return false;
    if (allocations++ != fail_at)
        return false;
    errno = ENOMEM; /* as glibc's malloc sets it: opendir(), for one, passes it on */
    return true;
}

/* malloc() for `caller`: each entry point passes its own return address, since at -O0 a call
 * from one to another would make the other's the caller. */
static void *malloc_for(const void *caller, size_t n)
{
    if (fails(caller))
        return NULL;
    void *p = __libc_malloc(n);
    if (p != NULL)
        live++;
    return p;
}

void *malloc(size_t n)
{
    return malloc_for(__builtin_return_address(0), n);
}

void *calloc(size_t n, size_t size)
{
    if (fails(__builtin_return_address(0)))
        return NULL;
    void *p = __libc_calloc(n, size);
    if (p != NULL)
        live++;
    return p;
}

void *realloc(void *p, size_t n)
{
    if (p == NULL)
        return malloc_for(__builtin_return_address(0), n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    if (fails(__builtin_return_address(0)))
        return NULL;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    if (p != NULL)
        live--;
    __libc_free(p);
}

/* OpenSSL's allocations come through its own hooks (CRYPTO_set_mem_functions()): they fail like
 * any other, but are counted apart. OpenSSL keeps state it fills as it goes (a thread's error
 * queue and the texts of its entries, names and methods of its providers), and a failure can
 * leave a little more of it than a run without one; so for OpenSSL what is checked is that its
 * blocks do not pile up run after run, as an object this project forgot to free would. */
static volatile long crypto_live;

static void *crypto_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    if (fails(NULL))
        return NULL;
    void *p = __libc_malloc(n);
    if (p != NULL)
        crypto_live++;
    return p;
}

static void crypto_free(void *p, const char *file, int line);

static void *crypto_realloc(void *p, size_t n, const char *file, int line)
{
    if (p == NULL)
        return crypto_malloc(n, file, line);
    if (n == 0) {
        crypto_free(p, file, line);
        return NULL;
    }
    if (fails(NULL))
        return NULL;
    return __libc_realloc(p, n);
}

static void crypto_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    if (p != NULL)
        crypto_live--;
    __libc_free(p);
}

/* After a sweep of `total` failed runs that began with crypto_live at `before`: no more blocks
 * held by OpenSSL than `max`. Its state fills up as it goes, and the first sweep over reading
 * a certificate chain leaves it 9 blocks fuller (of 9,293 failed runs); a second sweep over the
 * same runs, which must add none, tells that from an object this project forgot to free. */
static void check_crypto_growth(const char *what, long before, long total, long max)
{
    long grown = crypto_live - before;
    if (grown > max)
        fail_msg("%s: OpenSSL holds %ld blocks more after %ld failed runs", what, grown, total);
}

/* ------------------------------------------------------------------------------------------ */
/* Reviews                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* A policy that reaches more of the engine than the built-in one: warn and audit modes,
 * Localhost allow-lists with {namespace}, a Localhost default, no default, allowUnconfined,
 * templates mutated, exemptions, and profile content checks reading tests/fixtures/profiles
 * (%s). */
static const char POLICY[] =
    "apiVersion: seccomp-webhook/v1\n"
    "kind: SeccompPolicy\n"
    "defaults:\n"
    "  allowedLocalhostProfiles: [\"*.json\"]\n"
    "  mutateTemplates: true\n"
    "namespaces:\n"
    "  - match: [\"legacy*\", \"warn-*\"]\n"
    "    mode: warn\n"
    "  - match: [\"audit\", \"monitoring\"]\n"
    "    mode: audit\n"
    "  - match: [\"team-*\"]\n"
    "    allowedLocalhostProfiles: [\"{namespace}/*.json\"]\n"
    "  - match: [\"local\", \"ingress\"]\n"
    "    defaultProfile: {type: Localhost, localhostProfile: strict.json}\n"
    "  - match: [\"none\", \"batch\"]\n"
    "    defaultProfile: null\n"
    "  - match: [\"open\", \"debug\"]\n"
    "    allowUnconfined: true\n"
    "exemptions:\n"
    "  usernames: [\"system:serviceaccount:ops:breakglass\"]\n"
    "  runtimeClasses: [\"kata\"]\n"
    "profiles:\n"
    "  directory: %s/profiles\n"
    "  requireDefaultDeny: true\n"
    "  forbiddenSyscalls: [kexec_load, init_module]\n";

typedef enum { RUN_MUTATE, RUN_VALIDATE, RUN_BOTH } run_kind;

typedef struct {
    int rc;
    unsigned status[2];
    char *body[2]; /* malloc'd copies, NULL when there is none */
} outcome;

static char *copy(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* A policy with a `profiles` section gets an empty profile cache before and after each run, so
 * that the verdicts a run leaves are not taken for blocks it left behind. With `warm` false,
 * each run reads and checks the Localhost profiles it names, as the first review after a start
 * or a reload does; with `warm` true, a review without failures first fills the cache, and the
 * run finds the verdicts there, as every later review does. */
static bool warm;

static void empty_cache(const policy *p)
{
    if (!p->profiles.present)
        return;
    policy *w = (policy *)p; /* the test's own: only the cache changes, between reviews */
    profile_cache_free(w->profile_cache);
    w->profile_cache = profile_cache_new();
    assert_non_null(w->profile_cache);
}

static int review(const policy *p, run_kind kind, const char *body, size_t len,
                  admission_reply r[2])
{
    memset(r, 0, 2 * sizeof *r);
    if (kind == RUN_BOTH)
        return admission_handle_both(p, body, len, &r[0], &r[1]);
    return admission_handle(p, kind == RUN_MUTATE ? ENGINE_MUTATE : ENGINE_VALIDATE, body, len,
                            &r[0]);
}

/* One review; the reply is copied out and freed before counting stops, so that what the
 * review leaves allocated can be told from the copy. */
static void run(const policy *p, run_kind kind, const char *body, size_t len, outcome *o)
{
    admission_reply r[2];
    empty_cache(p);
    if (warm && p->profiles.present) {
        review(p, kind, body, len, r);
        admission_reply_free(&r[0]);
        admission_reply_free(&r[1]);
    }
    counting = true;
    o->rc = review(p, kind, body, len, r);
    counting = false;
    for (int i = 0; i < 2; i++) {
        o->status[i] = r[i].http_status;
        o->body[i] = copy(r[i].body);
    }
    counting = true;
    admission_reply_free(&r[0]);
    admission_reply_free(&r[1]);
    counting = false;
    empty_cache(p);
}

static void outcome_free(outcome *o)
{
    free(o->body[0]);
    free(o->body[1]);
}

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The bytes of the file at `path`, NUL-terminated (manifest_read_file()); fails the test when it
 * cannot be read. */
static char *read_file(const char *path, size_t *len)
{
    char *text = manifest_read_file(path, 64 << 20, len);
    assert_non_null(text);
    return text;
}

/* Fail each allocation of one review in turn; returns how many were failed. */
static long sweep(const policy *p, run_kind kind, const char *name, const char *body, size_t len)
{
    static const char *const kinds[] = {"mutate", "validate", "both"};
    outcome want;
    fail_at = -1;
    allocations = 0;
    run(p, kind, body, len, &want);
    long total = allocations;
    assert_int_equal(want.rc, 0);
    json_arena_trim();
    long before = live, crypto_before = crypto_live;
    for (long i = 0; i < total; i += stride) {
        outcome got;
        fail_at = i;
        allocations = 0;
        run(p, kind, body, len, &got);
        fail_at = -1;
        if (got.rc == 0 && (got.status[0] != want.status[0] || got.status[1] != want.status[1] ||
                            !same(got.body[0], want.body[0]) || !same(got.body[1], want.body[1])))
            fail_msg("%s, %s: allocation %ld of %ld failed, and the review answered\n%s\n%s\n"
                     "instead of\n%s\n%s",
                     name, kinds[kind], i, total, got.body[0] ? got.body[0] : "(none)",
                     got.body[1] ? got.body[1] : "(none)", want.body[0] ? want.body[0] : "(none)",
                     want.body[1] ? want.body[1] : "(none)");
        if (got.rc != 0 && (got.body[0] != NULL || got.body[1] != NULL))
            fail_msg("%s, %s: allocation %ld failed: -1 returned with a reply", name, kinds[kind],
                     i);
        outcome_free(&got);
        json_arena_trim();
        if (live != before)
            fail_msg("%s, %s: allocation %ld of %ld failed, and %ld blocks were left", name,
                     kinds[kind], i, total, live - before);
    }
    outcome_free(&want);
    check_crypto_growth(name, crypto_before, total, 0);
    return runs(total);
}

/* Every body of the admission fuzz corpus, under both policies, for each run kind. */
static void sweep_corpus(void)
{
    const char *fixtures = getenv("SW_FIXTURES");
    assert_non_null(fixtures);
    char text[sizeof POLICY + 4096];
    snprintf(text, sizeof text, POLICY, fixtures);
    policy_errors errs = {0};
    policy *policies[2] = {policy_builtin(), policy_parse(text, strlen(text), "oom.yaml", &errs)};
    for (size_t i = 0; i < errs.count; i++)
        print_error("oom.yaml:%u:%u: %s\n", errs.items[i].line, errs.items[i].column,
                    errs.items[i].message);
    policy_errors_free(&errs);
    assert_non_null(policies[0]);
    assert_non_null(policies[1]);

    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../fuzz/corpus/admission", fixtures);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n > 2);
    long failed = 0;
    int bodies = 0;
    for (int k = 0; k < n; k++) {
        if (names[k]->d_name[0] != '.') {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, names[k]->d_name);
            size_t len;
            char *body = read_file(path, &len);
            for (int p = 0; p < 2; p++)
                for (int w = 0; w < 1 + policies[p]->profiles.present; w++)
                    for (int kind = RUN_MUTATE; kind <= RUN_BOTH; kind++) {
                        warm = w == 1;
                        failed += sweep(policies[p], (run_kind)kind, names[k]->d_name, body, len);
                    }
            warm = false;
            free(body);
            bodies++;
        }
        free(names[k]);
    }
    free(names);
    print_message("%d bodies, %ld allocations failed one at a time\n", bodies, failed);
    policy_free(policies[0]);
    policy_free(policies[1]);
}

/* ------------------------------------------------------------------------------------------ */
/* Policy files                                                                               */
/* ------------------------------------------------------------------------------------------ */

static bool same_list(const policy_list *a, const policy_list *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->items[i], b->items[i]) != 0)
            return false;
    return true;
}

static bool same_settings(const policy_settings *a, const policy_settings *b)
{
    return a->mode == b->mode && a->default_profile == b->default_profile &&
           same(a->default_localhost, b->default_localhost) &&
           a->migrate_annotations == b->migrate_annotations &&
           a->allow_unconfined == b->allow_unconfined &&
           same_list(&a->allowed_localhost_profiles, &b->allowed_localhost_profiles) &&
           a->mutate_templates == b->mutate_templates;
}

/* Every field of the model (policy.h) but the profile cache, which starts empty. */
static bool same_policy(const policy *a, const policy *b)
{
    if (!same_settings(&a->defaults, &b->defaults) || a->rule_count != b->rule_count)
        return false;
    for (size_t i = 0; i < a->rule_count; i++)
        if (!same_list(&a->rules[i].match, &b->rules[i].match) ||
            !same_settings(&a->rules[i].settings, &b->rules[i].settings) ||
            a->rules[i].line != b->rules[i].line)
            return false;
    const policy_profiles *x = &a->profiles, *y = &b->profiles;
    return same_list(&a->exempt_namespaces, &b->exempt_namespaces) &&
           same_list(&a->exempt_usernames, &b->exempt_usernames) &&
           same_list(&a->exempt_runtime_classes, &b->exempt_runtime_classes) &&
           x->present == y->present && same(x->directory, y->directory) &&
           same_list(&x->architectures, &y->architectures) &&
           x->require_default_deny == y->require_default_deny &&
           same_list(&x->forbidden_syscalls, &y->forbidden_syscalls) &&
           strcmp(a->hash, b->hash) == 0;
}

/* Fail each allocation of decoding `text` in turn: the decoder must refuse the file with an
 * error, or give the very policy it gives without failures; and leave nothing allocated. A
 * policy with a rule or an exemption missing would judge pods by other rules than the file's,
 * after a reload as well as at start. Returns how many allocations were failed. */
static long sweep_policy(const char *name, const char *text)
{
    policy_errors errs = {0};
    fail_at = -1;
    allocations = 0;
    counting = true;
    policy *want = policy_parse(text, strlen(text), name, &errs);
    counting = false;
    long total = allocations;
    assert_non_null(want);
    assert_int_equal(errs.count, 0);
    long before = live, crypto_before = crypto_live;
    for (long i = 0; i < total; i += stride) {
        policy_errors got_errs = {0};
        fail_at = i;
        allocations = 0;
        counting = true;
        policy *got = policy_parse(text, strlen(text), name, &got_errs);
        counting = false;
        fail_at = -1;
        if (got != NULL && !same_policy(got, want))
            fail_msg("%s: allocation %ld of %ld failed, and the policy decoded differs", name, i,
                     total);
        if (got == NULL && got_errs.count == 0)
            fail_msg("%s: allocation %ld of %ld failed: no policy and no error", name, i, total);
        if (got != NULL && got_errs.count != 0)
            fail_msg("%s: allocation %ld of %ld failed: a policy and an error", name, i, total);
        policy_free(got);
        policy_errors_free(&got_errs);
        if (live != before)
            fail_msg("%s: allocation %ld of %ld failed, and %ld blocks were left", name, i, total,
                     live - before);
    }
    policy_free(want);
    check_crypto_growth(name, crypto_before, total, 0);
    return runs(total);
}

static void test_oom_decoding_policy_files(void **state)
{
    (void)state;
    const char *fixtures = getenv("SW_FIXTURES");
    assert_non_null(fixtures);
    char rich[sizeof POLICY + 4096];
    snprintf(rich, sizeof rich, POLICY, fixtures);
    char path[4096];
    snprintf(path, sizeof path, "%s/policy/spec-example.yaml", fixtures);
    size_t len;
    char *example = read_file(path, &len);
    long failed = sweep_policy("oom.yaml", rich) + sweep_policy("spec-example.yaml", example);
    print_message("%ld allocations failed one at a time\n", failed);
    free(example);
}

/* ------------------------------------------------------------------------------------------ */
/* Seccomp profiles                                                                           */
/* ------------------------------------------------------------------------------------------ */

static bool same_report(const profile_report *a, const profile_report *b)
{
    if (a->count != b->count || a->worst != b->worst || a->oom != b->oom)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const profile_problem *x = &a->items[i], *y = &b->items[i];
        if (x->severity != y->severity || !same(x->pointer, y->pointer) || x->line != y->line ||
            x->column != y->column || !same(x->message, y->message))
            return false;
    }
    return true;
}

/* Fail each allocation of checking one profile in turn: the report must say it is out of
 * memory, or be the report of a check without failures. A report that lost a problem would
 * let a profile through (`check-config`, `lint-profile`, and the review of a Localhost
 * reference when `profiles` is configured). Returns how many allocations were failed. */
static long sweep_profile(const char *name, const char *text, size_t len,
                          const policy_profiles *cfg)
{
    profile_report want = {0};
    fail_at = -1;
    allocations = 0;
    counting = true;
    profile_check_text(text, len, cfg, &want);
    counting = false;
    long total = allocations;
    assert_false(want.oom);
    long before = live, crypto_before = crypto_live;
    for (long i = 0; i < total; i += stride) {
        profile_report got = {0};
        fail_at = i;
        allocations = 0;
        counting = true;
        profile_check_text(text, len, cfg, &got);
        counting = false;
        fail_at = -1;
        if (!got.oom && !same_report(&got, &want))
            fail_msg("%s: allocation %ld of %ld failed, and the report differs (%zu problems, "
                     "not %zu)",
                     name, i, total, got.count, want.count);
        profile_report_free(&got);
        if (live != before)
            fail_msg("%s: allocation %ld of %ld failed, and %ld blocks were left", name, i, total,
                     live - before);
    }
    profile_report_free(&want);
    check_crypto_growth(name, crypto_before, total, 0);
    return runs(total);
}

static void test_oom_checking_profiles(void **state)
{
    (void)state;
    const char *fixtures = getenv("SW_FIXTURES");
    assert_non_null(fixtures);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/profiles", fixtures);
    char *arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"};
    char *forbidden[] = {"kexec_load", "init_module", "ptrace"};
    policy_profiles cfg = {.present = true,
                           .directory = dir,
                           .architectures = {arches, 2},
                           .require_default_deny = true,
                           .forbidden_syscalls = {forbidden, 3}};
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n > 2);
    long failed = 0;
    for (int k = 0; k < n; k++) {
        if (names[k]->d_name[0] != '.') {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, names[k]->d_name);
            size_t len;
            char *text = read_file(path, &len);
            failed += sweep_profile(names[k]->d_name, text, len, &cfg) +
                      sweep_profile(names[k]->d_name, text, len, NULL);
            free(text);
        }
        free(names[k]);
    }
    free(names);
    print_message("%ld allocations failed one at a time\n", failed);
}

/* ------------------------------------------------------------------------------------------ */
/* The serving certificate                                                                    */
/* ------------------------------------------------------------------------------------------ */

static bool same_pair(const tls_pair *a, const tls_pair *b)
{
    return same(a->cert_pem, b->cert_pem) && same(a->key_pem, b->key_pem) &&
           a->not_before == b->not_before && a->not_after == b->not_after &&
           same(a->subject, b->subject) && same(a->sans, b->sans) && a->chain_len == b->chain_len &&
           strcmp(a->fingerprint, b->fingerprint) == 0 &&
           memcmp(a->identity, b->identity, sizeof a->identity) == 0;
}

/* The pair a holder serves is `p`: the holder keeps no key text. */
static bool serves(const cert_holder *h, const tls_pair *p)
{
    const tls_pair *now = cert_holder_current(h);
    return same(now->cert_pem, p->cert_pem) && same(now->subject, p->subject) &&
           same(now->sans, p->sans) && now->chain_len == p->chain_len &&
           strcmp(now->fingerprint, p->fingerprint) == 0 &&
           memcmp(now->identity, p->identity, sizeof p->identity) == 0 &&
           cert_holder_not_after(h) == p->not_after;
}

/* Reading a certificate chain and its key (at start, and on every reload of the files), and
 * swapping the pair into the holder the handshakes use, with each allocation failed in turn:
 * the files are refused with a reason, or read into exactly the pair read without failures —
 * never, say, a leaf without its intermediate, which clients could not verify; and the holder
 * keeps serving the pair it had, or serves the new one whole. tests/fixtures/tls holds a
 * leaf and its intermediate (chain.pem) and the leaf's key (key.pem), made for these tests and
 * valid until 2125. */
static void test_oom_loading_and_swapping_the_certificate(void **state)
{
    (void)state;
    const char *fixtures = getenv("SW_FIXTURES");
    assert_non_null(fixtures);
    char chain[4096], key[4096], err[256];
    snprintf(chain, sizeof chain, "%s/tls/chain.pem", fixtures);
    snprintf(key, sizeof key, "%s/tls/key.pem", fixtures);

    tls_pair want = {0};
    fail_at = -1;
    allocations = 0;
    counting = true;
    int rc = tls_load_files(chain, key, &want, err, sizeof err);
    counting = false;
    long total = allocations;
    assert_int_equal(rc, 0);
    assert_int_equal(want.chain_len, 2);
    long before = live;
    for (int pass = 0; pass < 2; pass++) {
        long crypto_before = crypto_live;
        for (long i = 0; i < total; i += stride) {
            tls_pair got = {0};
            err[0] = '\0';
            fail_at = i;
            allocations = 0;
            counting = true;
            rc = tls_load_files(chain, key, &got, err, sizeof err);
            counting = false;
            fail_at = -1;
            if (rc == 0 && !same_pair(&got, &want))
                fail_msg("tls_load_files: allocation %ld of %ld failed, and the pair read differs "
                         "(%u certificates)",
                         i, total, got.chain_len);
            if (rc != 0 && err[0] == '\0')
                fail_msg("tls_load_files: allocation %ld of %ld failed, with no reason", i, total);
            tls_pair_free(&got);
            if (live != before)
                fail_msg("tls_load_files: allocation %ld of %ld failed, and %ld blocks were left",
                         i, total, live - before);
        }
        check_crypto_growth(pass == 0 ? "tls_load_files" : "tls_load_files, again", crypto_before,
                            total, pass == 0 ? 64 : 0);
    }

    tls_pair first = {0};
    assert_int_equal(tls_generate_dev(&first, err, sizeof err), 0);
    cert_holder *h = cert_holder_new(&first, err, sizeof err);
    assert_non_null(h);
    fail_at = -1;
    allocations = 0;
    counting = true;
    assert_int_equal(cert_holder_swap(h, &want, err, sizeof err), 1);
    counting = false;
    long swap_total = allocations;
    assert_int_equal(cert_holder_swap(h, &first, err, sizeof err), 1);
    before = live;
    long crypto_before = crypto_live;
    for (long i = 0; i < swap_total; i += stride) {
        fail_at = i;
        allocations = 0;
        counting = true;
        rc = cert_holder_swap(h, &want, err, sizeof err);
        counting = false;
        fail_at = -1;
        if (rc == 1 ? !serves(h, &want) : rc != -1 || !serves(h, &first))
            fail_msg("cert_holder_swap: allocation %ld of %ld failed, returned %d, and the pair "
                     "served is %s",
                     i, swap_total, rc, cert_holder_current(h)->fingerprint);
        if (rc == 1)
            assert_int_equal(cert_holder_swap(h, &first, err, sizeof err), 1);
        if (cert_holder_live_generations(h) != 1)
            fail_msg("cert_holder_swap: allocation %ld of %ld failed, and %u generations live", i,
                     swap_total, cert_holder_live_generations(h));
        if (live != before)
            fail_msg("cert_holder_swap: allocation %ld of %ld failed, and %ld blocks were left", i,
                     swap_total, live - before);
    }
    check_crypto_growth("cert_holder_swap", crypto_before, swap_total, 0);
    cert_holder_free(h);
    tls_pair_free(&first);
    tls_pair_free(&want);
    print_message("%ld + %ld allocations failed one at a time\n", 2 * runs(total),
                  runs(swap_total));
}

/* ------------------------------------------------------------------------------------------ */
/* migrate -i                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Whether the two manifest texts hold the same documents (what they say, whatever the style). */
static bool same_documents(const char *a, size_t alen, const char *b, size_t blen)
{
    manifest ma, mb;
    manifest_error err;
    bool same_docs = manifest_parse(a, alen, &ma, &err) == 0;
    if (!same_docs)
        return false;
    same_docs = manifest_parse(b, blen, &mb, &err) == 0;
    if (same_docs) {
        same_docs = ma.count == mb.count;
        for (size_t i = 0; same_docs && i < ma.count; i++)
            same_docs = cJSON_Compare(ma.docs[i].root, mb.docs[i].root, true);
        manifest_free(&mb);
    }
    manifest_free(&ma);
    return same_docs;
}

/* One run of a command with stdout into the file `out` and stderr to /dev/null; returns its exit
 * status. What it printed is read back with read_file(). */
static int run_cli(int (*command)(int, char **), int argc, char **argv, const char *out)
{
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    int to = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), null = open("/dev/null", O_WRONLY);
    assert_true(saved_out >= 0 && saved_err >= 0 && to >= 0 && null >= 0);
    dup2(to, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(to);
    close(null);
    allocations = 0;
    counting = true;
    int rc = command(argc, argv);
    counting = false;
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    return rc;
}

/* `migrate -i` on a copy of tests/fixtures/manifests/`name`, with each allocation failed in
 * turn: it ends 2 with the file untouched, or 0 with the file holding the documents a run
 * without failures writes. Nothing a user wrote may be lost or half-edited. (Not always the
 * same bytes: when it cannot tell whether a new key would read as a string without quotes,
 * migrate quotes it.) Returns how many allocations were failed. */
static long sweep_migrate(const char *fixtures, const char *name)
{
    char src[4096], dir[] = "/tmp/sw-oom-migrate.XXXXXX", tmp[4200];
    snprintf(src, sizeof src, "%s/manifests/%s", fixtures, name);
    assert_non_null(mkdtemp(dir));
    snprintf(tmp, sizeof tmp, "%s/%s", dir, name);
    size_t len, mlen;
    char *orig = read_file(src, &len);
    char *argv[] = {"migrate", "-i", tmp, NULL};

    write_file(tmp, orig, len);
    fail_at = -1;
    int rc = run_cli(cmd_migrate, 3, argv, "/dev/null"); /* what it says is not under test */
    long total = allocations;
    assert_int_equal(rc, 0);
    char *migrated = read_file(tmp, &mlen);
    assert_false(mlen == len && memcmp(migrated, orig, len) == 0); /* it has work to do */
    long before = live;
    for (long i = 0; i < total; i += stride) {
        write_file(tmp, orig, len);
        fail_at = i;
        rc = run_cli(cmd_migrate, 3, argv, "/dev/null");
        fail_at = -1;
        size_t glen;
        char *got = read_file(tmp, &glen);
        bool good = rc == 2 ? glen == len && memcmp(got, orig, len) == 0
                            : rc == 0 && same_documents(got, glen, migrated, mlen);
        free(got);
        if (!good)
            fail_msg("migrate -i %s: allocation %ld of %ld failed, it returned %d, and the file "
                     "is neither the original nor the migrated documents",
                     name, i, total, rc);
        if (live != before)
            fail_msg("migrate -i %s: allocation %ld of %ld failed, and %ld blocks were left", name,
                     i, total, live - before);
    }
    unlink(tmp);
    rmdir(dir);
    free(migrated);
    free(orig);
    return runs(total);
}

static void test_oom_migrating_manifests_in_place(void **state)
{
    (void)state;
    const char *fixtures = getenv("SW_FIXTURES");
    assert_non_null(fixtures);
    long failed = sweep_migrate(fixtures, "shop.yaml") + sweep_migrate(fixtures, "cluster.json");
    print_message("%ld allocations failed one at a time\n", failed);
}

/* ------------------------------------------------------------------------------------------ */
/* audit, check-config, lint-profile, review                                                  */
/* ------------------------------------------------------------------------------------------ */

/* A command run with each of its allocations failed in turn. A run must end 2 (an error: it
 * cannot say what it was asked, and says so on stderr), or end as a run without failures ends,
 * having printed the very same bytes: a failed allocation never turns into "no violation", a
 * shorter table, a missing problem or a different verdict. Nothing may be left allocated.
 * Returns how many allocations were failed. */
static long sweep_cli(const char *name, int (*command)(int, char **), int argc, char **argv,
                      int want_rc)
{
    char out[] = "/tmp/sw-oom-cli.XXXXXX";
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    fail_at = -1;
    int rc = run_cli(command, argc, argv, out);
    long total = allocations;
    size_t want_len, got_len;
    char *want = read_file(out, &want_len);
    /* Under valgrind, which does not know seccomp(2), libseccomp refuses some actions: profiles
     * get other verdicts there, and that run's own is the reference. */
    if (RUNNING_ON_VALGRIND)
        want_rc = rc;
    if (rc != want_rc)
        fail_msg("%s: it ended %d without failures, not %d", name, rc, want_rc);
    assert_true(want_len > 0);
    long before = live;
    for (long i = 0; i < total; i += stride) {
        fail_at = i;
        rc = run_cli(command, argc, argv, out);
        fail_at = -1;
        char *got = read_file(out, &got_len);
        if (rc != 2 && (rc != want_rc || got_len != want_len || memcmp(got, want, want_len) != 0))
            fail_msg("%s: allocation %ld of %ld failed, and it ended %d having printed\n%s\n"
                     "instead of ending %d having printed\n%s",
                     name, i, total, rc, got, want_rc, want);
        free(got);
        if (live != before)
            fail_msg("%s: allocation %ld of %ld failed, and %ld blocks were left", name, i, total,
                     live - before);
    }
    free(want);
    unlink(out);
    return runs(total);
}

static void test_oom_in_the_other_commands(void **state)
{
    (void)state;
    const char *fixtures = getenv("SW_FIXTURES");
    assert_non_null(fixtures);
    char dir[] = "/tmp/sw-oom-cli-policy.XXXXXX", config[4200], shop[4200], cluster[4200];
    assert_non_null(mkdtemp(dir));
    snprintf(config, sizeof config, "%s/policy.yaml", dir);
    char text[sizeof POLICY + 4096];
    int n = snprintf(text, sizeof text, POLICY, fixtures);
    write_file(config, text, (size_t)n);
    snprintf(shop, sizeof shop, "%s/manifests/shop.yaml", fixtures);
    snprintf(cluster, sizeof cluster, "%s/manifests/cluster.json", fixtures);

    long failed = 0;
    char *audit_table[] = {"audit", "--config", config, shop, cluster, NULL};
    failed += sweep_cli("audit", cmd_audit, 5, audit_table, 1);
    char *audit_json[] = {"audit", "-o", "json", "--namespace", "team-a", shop, cluster, NULL};
    failed += sweep_cli("audit -o json", cmd_audit, 7, audit_json, 1);
    char *check[] = {"check-config", config, NULL};
    failed += sweep_cli("check-config", cmd_check_config, 2, check, 1);

    /* lint-profile, with the policy's checks: valid profiles, some of which fail a check (a
     * failure must not turn into a pass, nor hide a problem); then profiles that are not valid
     * (a failure must not make one valid). */
    static const char *const valid[] = {
        "allows-kexec.json",       "allows-ptrace.json",   "default-allow.json", "minimal.json",
        "misspelled-syscall.json", "runtime-default.json", "strict.json"};
    static const char *const invalid[] = {"archmap-and-architectures.json",
                                          "empty.json",
                                          "invalid-json.json",
                                          "name-and-names.json",
                                          "unknown-action.json",
                                          "unknown-arch.json"};
    char paths[13][4200];
    char *lint[16] = {"lint-profile", "--config", config};
    int argc = 3;
    for (size_t k = 0; k < sizeof valid / sizeof valid[0]; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/profiles/%s", fixtures, valid[k]);
        lint[argc++] = paths[k];
    }
    lint[argc] = NULL;
    failed += sweep_cli("lint-profile", cmd_lint_profile, argc, lint, 1);
    argc = 1;
    for (size_t k = 0; k < sizeof invalid / sizeof invalid[0]; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/profiles/%s", fixtures, invalid[k]);
        lint[argc++] = paths[k];
    }
    lint[argc] = NULL;
    failed += sweep_cli("lint-profile (invalid profiles)", cmd_lint_profile, argc, lint, 2);

    /* review: both endpoints in a row, as the API server calls them. */
    char body[4200];
    snprintf(body, sizeof body, "%s/../../examples/admissionreview-pod.json", fixtures);
    char *review[] = {"review", "--config", config, body, NULL};
    failed += sweep_cli("review", cmd_review, 4, review, 0);

    unlink(config);
    rmdir(dir);
    print_message("%ld allocations failed one at a time\n", failed);
}

static void test_oom_with_cjson_on_malloc(void **state)
{
    (void)state;
    sweep_corpus();
}

static void test_oom_with_the_request_arena(void **state)
{
    (void)state;
    json_arena_install();
    sweep_corpus();
}

int main(void)
{
    const char *every = getenv("SW_OOM_STRIDE");
    if (every != NULL && atol(every) > 0)
        stride = atol(every);
    if (!CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free)) {
        fprintf(stderr, "OpenSSL allocated before main(): its hooks cannot be set\n");
        return 1;
    }
    /* In this order: the arena, once installed, stays. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_decoding_policy_files),
        cmocka_unit_test(test_oom_checking_profiles),
        cmocka_unit_test(test_oom_loading_and_swapping_the_certificate),
        cmocka_unit_test(test_oom_migrating_manifests_in_place),
        cmocka_unit_test(test_oom_in_the_other_commands),
        cmocka_unit_test(test_oom_with_cjson_on_malloc),
        cmocka_unit_test(test_oom_with_the_request_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
