/*
 * engine_bench.c — reviews per second of the engine alone, no HTTP: AdmissionReview bytes in,
 * response bytes out, through admission_handle() (strict JSON parse, engine, encode), for the
 * bodies bench/make_bodies.py writes. Not a test: numbers go to bench/RESULTS.md.
 *
 *   bench_engine [--iterations N] [--endpoint mutate|validate] FILE...
 *
 * Prints, per file and endpoint (both unless --endpoint names one), microseconds per review
 * and reviews per second. For an instruction count that does not drift with machine load,
 * bench/instructions.sh runs it under `valgrind --tool=callgrind` with a small --iterations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission.h"
#include "json_arena.h"
#include "policy.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long iterations = 20000;
    const char *only = NULL;
    int first = 1;
    while (first + 1 < argc && strncmp(argv[first], "--", 2) == 0) {
        if (strcmp(argv[first], "--iterations") == 0)
            iterations = strtol(argv[first + 1], NULL, 10);
        else if (strcmp(argv[first], "--endpoint") == 0)
            only = argv[first + 1];
        else
            break;
        first += 2;
    }
    if (first >= argc || iterations <= 0 ||
        (only && strcmp(only, "mutate") != 0 && strcmp(only, "validate") != 0)) {
        fprintf(stderr,
                "usage: bench_engine [--iterations N] [--endpoint mutate|validate] FILE...\n");
        return 2;
    }
    json_arena_install(); /* as the server does */
    policy *p = policy_builtin();
    if (!p)
        return 2;
    static const struct {
        engine_endpoint ep;
        const char *name;
    } eps[] = {{ENGINE_MUTATE, "mutate"}, {ENGINE_VALIDATE, "validate"}};
    printf("%-36s %-9s %8s %12s %10s\n", "body", "endpoint", "bytes", "us/review", "reviews/s");
    for (int i = first; i < argc; i++) {
        size_t len;
        char *body = slurp(argv[i], &len);
        if (!body) {
            fprintf(stderr, "bench_engine: cannot read %s\n", argv[i]);
            policy_free(p);
            return 2;
        }
        for (size_t e = 0; e < sizeof eps / sizeof eps[0]; e++) {
            if (only && strcmp(only, eps[e].name) != 0)
                continue;
            double t0 = now_s();
            for (long k = 0; k < iterations; k++) {
                admission_reply r = {0};
                if (admission_handle(p, eps[e].ep, body, len, &r) < 0 || r.http_status != 200) {
                    fprintf(stderr, "bench_engine: %s: not answered\n", argv[i]);
                    admission_reply_free(&r);
                    free(body);
                    policy_free(p);
                    return 2;
                }
                admission_reply_free(&r);
            }
            double us = (now_s() - t0) * 1e6 / (double)iterations;
            const char *base = strrchr(argv[i], '/');
            printf("%-36s %-9s %8zu %12.2f %10.0f\n", base ? base + 1 : argv[i], eps[e].name, len,
                   us, 1e6 / us);
        }
        free(body);
    }
    policy_free(p);
    return 0;
}
