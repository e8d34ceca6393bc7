/*
 * cmd_review.c — `seccomp-webhook review [FILE|-] [--endpoint mutate|validate] [--config FILE]`:
 * print exactly what the server would answer, through the same code path (admission.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "cli.h"
#include "commands.h"
#include "policy.h"

#define REVIEW_MAX_INPUT (64u << 20)

static const char review_usage[] =
    "usage: seccomp-webhook review [FILE|-] [--endpoint mutate|validate] [--config FILE]\n"
    "\n"
    "Read one AdmissionReview (admission.k8s.io/v1 or v1beta1) and print the response the\n"
    "server would give. Without --endpoint: both, as the API server calls them — /mutate, then\n"
    "/validate on the patched object — printed as a JSON array of the two responses.\n"
    "Exit 0 allowed, 1 denied, 2 bad input or usage.\n";

/* Read all of `f` (at most REVIEW_MAX_INPUT bytes). Returns the bytes or NULL with errno. */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= REVIEW_MAX_INPUT) {
                free(buf);
                errno = EFBIG;
                return NULL;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
            cap *= 2;
        }
    }
    if (buf && ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int print_error_reply(const char *file, const admission_reply *r)
{
    fprintf(stderr, "seccomp-webhook review: %s: %s\n", file, r->body);
    return 2;
}

int cmd_review(int argc, char **argv)
{
    const char *file = NULL;
    const char *config = NULL;
    int endpoint = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(review_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            const char *e = argv[++i];
            if (strcmp(e, "mutate") == 0)
                endpoint = ENGINE_MUTATE;
            else if (strcmp(e, "validate") == 0)
                endpoint = ENGINE_VALIDATE;
            else {
                fprintf(stderr, "seccomp-webhook review: --endpoint must be mutate or validate\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "seccomp-webhook review: unknown or incomplete option %s\n", argv[i]);
            return 2;
        } else if (file != NULL) {
            fprintf(stderr,
                    "seccomp-webhook review: one AdmissionReview at a time (got %s and %s)\n", file,
                    argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (file == NULL)
        file = "-";

    policy *pol = cli_load_policy(config, "review");
    if (!pol)
        return 2;

    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    size_t len = 0;
    char *body = f ? read_all(f, &len) : NULL;
    int saved = errno;
    if (f && f != stdin)
        fclose(f);
    if (!body) {
        fprintf(stderr, "seccomp-webhook review: %s: %s\n", file, strerror(saved));
        policy_free(pol);
        return 2;
    }

    int status = 0;
    admission_reply a = {0}, b = {0};
    if (endpoint >= 0) {
        if (admission_handle(pol, (engine_endpoint)endpoint, body, len, &a) < 0) {
            fprintf(stderr, "seccomp-webhook review: out of memory\n");
            status = 2;
        } else if (a.http_status != 200) {
            status = print_error_reply(file, &a);
        } else {
            printf("%s\n", a.body);
            status = strcmp(a.decision, "denied") == 0 ? 1 : 0;
        }
    } else {
        if (admission_handle_both(pol, body, len, &a, &b) < 0) {
            fprintf(stderr, "seccomp-webhook review: out of memory\n");
            status = 2;
        } else if (a.http_status != 200) {
            status = print_error_reply(file, &a);
        } else {
            printf("[%s,%s]\n", a.body, b.body);
            status = strcmp(b.decision, "denied") == 0 ? 1 : 0;
        }
    }
    admission_reply_free(&a);
    admission_reply_free(&b);
    free(body);
    policy_free(pol);
    return status;
}
