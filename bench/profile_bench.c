/*
 * profile_bench.c — what a Localhost profile check costs a review (SPEC §6.3), through
 * engine_review() on /validate, no HTTP. Not a test.
 *
 *   bench_profile [--iterations N] [FIXTURES_DIR]
 *
 * It copies two profiles of tests/fixtures/profiles/ (strict.json, 1.7 KiB, and
 * runtime-default.json, 15 KiB and 428 names) into a temporary profiles.directory and times a
 * review of a one-container Pod referencing each:
 *   uncached  every review opens, reads, parses and checks the file with libseccomp (the
 *             policy's cache taken away: profile_cache_judge() with no cache)
 *   verified  cached, but the file changed less than 2 s ago: its bytes are read and their
 *             SHA-256 compared, no parsing
 *   cached    cached and settled: an open and an fstat per review
 * and, for scale, the same Pod with RuntimeDefault. Prints microseconds per review and reviews
 * per second; the figures are recorded in README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "policy.h"
#include "profile.h"

#ifndef SW_SOURCE_DIR
#define SW_SOURCE_DIR "."
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[1 << 16];
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* One /validate review of `pod`; returns whether it was allowed, or -1 on error. */
static int review(const policy *p, const cJSON *pod)
{
    engine_request req = {.operation = "CREATE",
                          .subresource = "",
                          .namespace_ = "shop",
                          .name = "web",
                          .username = "bench",
                          .group = "",
                          .kind = "Pod",
                          .object = pod};
    engine_decision d = {0};
    if (engine_review(p, ENGINE_VALIDATE, &req, &d) < 0)
        return -1;
    int allowed = d.allowed;
    engine_decision_free(&d);
    return allowed;
}

/* Microseconds per review over `n` reviews (or until `max_s` seconds have passed). */
static double time_reviews(const policy *p, const cJSON *pod, long n, double max_s, long *done)
{
    double t0 = now_s();
    long k = 0;
    for (; k < n; k++) {
        if (review(p, pod) != 1) {
            fprintf(stderr, "bench_profile: the review was not an allow\n");
            exit(2);
        }
        if (max_s > 0 && (k & 63) == 63 && now_s() - t0 > max_s)
            break;
    }
    *done = k < n ? k + 1 : n;
    return (now_s() - t0) * 1e6 / (double)*done;
}

static cJSON *pod_with(const char *profile_json)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
             "\"namespace\":\"shop\"},\"spec\":{\"securityContext\":{\"seccompProfile\":%s},"
             "\"containers\":[{\"name\":\"app\",\"image\":\"nginx:1.27\"}]}}",
             profile_json);
    return cJSON_Parse(text);
}

static void row(const char *profile, const char *mode, double us, long n)
{
    printf("%-22s %-10s %10ld %12.2f %11.0f\n", profile, mode, n, us, 1e6 / us);
}

int main(int argc, char **argv)
{
    long iterations = 200000;
    const char *fixtures = SW_SOURCE_DIR "/tests/fixtures/profiles";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
            iterations = strtol(argv[++i], NULL, 10);
        else if (argv[i][0] != '-')
            fixtures = argv[i];
        else {
            fprintf(stderr, "usage: bench_profile [--iterations N] [FIXTURES_DIR]\n");
            return 2;
        }
    }
    if (iterations <= 0)
        return 2;

    char dir[] = "/tmp/sw-bench-profile-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    static const char *const NAMES[] = {"strict.json", "runtime-default.json"};
    for (size_t i = 0; i < 2; i++) {
        char from[4096], to[4096];
        snprintf(from, sizeof from, "%s/%s", fixtures, NAMES[i]);
        snprintf(to, sizeof to, "%s/%s", dir, NAMES[i]);
        if (copy_file(from, to) != 0) {
            fprintf(stderr, "bench_profile: cannot copy %s\n", from);
            return 2;
        }
    }
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "apiVersion: seccomp-webhook/v1\nkind: SeccompPolicy\ndefaults:\n"
             "  allowedLocalhostProfiles: [\"*.json\"]\nprofiles:\n  directory: %s\n",
             dir);
    policy_errors errs = {0};
    policy *p = policy_parse(yaml, strlen(yaml), "bench.yaml", &errs);
    if (!p) {
        fprintf(stderr, "bench_profile: bad policy\n");
        return 2;
    }

    printf("%-22s %-10s %10s %12s %11s\n", "profile", "mode", "reviews", "us/review", "reviews/s");
    cJSON *rd = pod_with("{\"type\":\"RuntimeDefault\"}");
    long n;
    double us = time_reviews(p, rd, iterations, 0, &n);
    row("(RuntimeDefault)", "-", us, n);
    cJSON_Delete(rd);

    for (size_t i = 0; i < 2; i++) {
        char ref[128];
        snprintf(ref, sizeof ref, "{\"type\":\"Localhost\",\"localhostProfile\":\"%s\"}", NAMES[i]);
        cJSON *pod = pod_with(ref);
        /* uncached: the same policy without its cache */
        profile_cache *cache = p->profile_cache;
        p->profile_cache = NULL;
        long slow = iterations / 100 > 0 ? iterations / 100 : 1;
        us = time_reviews(p, pod, slow, 0, &n);
        row(NAMES[i], "uncached", us, n);
        p->profile_cache = cache;
        /* verified: rewrite the file, so that it is too recent to trust on fstat alone */
        char path[4096], from[4096];
        snprintf(path, sizeof path, "%s/%s", dir, NAMES[i]);
        snprintf(from, sizeof from, "%s/%s", fixtures, NAMES[i]);
        copy_file(from, path);
        review(p, pod); /* a new identity, the same bytes: a read, no parse */
        us = time_reviews(p, pod, iterations, 1.5, &n);
        row(NAMES[i], "verified", us, n);
        /* cached: once the file has settled */
        sleep(3);
        review(p, pod); /* settles the entry */
        us = time_reviews(p, pod, iterations, 0, &n);
        row(NAMES[i], "cached", us, n);
        cJSON_Delete(pod);
    }
    profile_cache_stats st;
    profile_cache_get_stats(p->profile_cache, &st);
    printf("cache: %lu hits, %lu reads, %lu parses\n", st.hits, st.reads, st.parses);
    policy_free(p);
    for (size_t i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, NAMES[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
