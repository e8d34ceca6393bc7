/*
 * main.c — command dispatch (SPEC §3).
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <seccomp.h>
#include <yaml.h>

#include "commands.h"
#include "json_arena.h"

static const char usage[] =
    "usage: seccomp-webhook <command> [flags]\n"
    "\n"
    "Kubernetes admission webhook that makes seccomp confinement the norm: denies Unconfined,\n"
    "injects RuntimeDefault, migrates the alpha seccomp annotations (non-functional since\n"
    "Kubernetes 1.27) and checks Localhost profile references.\n"
    "\n"
    "commands:\n"
    "  serve          run the webhook server (HTTPS: /mutate, /validate, /healthz, /readyz,\n"
    "                 /metrics)\n"
    "  review         print the server's answer to an AdmissionReview file\n"
    "  migrate        apply the mutations to manifests, editing only the lines that change\n"
    "  audit          list the violations in manifests or `kubectl get -o json` output\n"
    "  check-config   validate a policy file and the profiles it can reach\n"
    "  lint-profile   check seccomp profile JSON files with libseccomp\n"
    "  version        print the version and the linked library versions\n"
    "\n"
    "Every command takes --help. Exit status: 0 success, 1 a denial or violation, 2 usage or\n"
    "input error.\n";

static int cmd_version(void)
{
    const struct scmp_version *sv = seccomp_version();
    printf("seccomp-webhook %s\n", SW_VERSION);
    printf("libmicrohttpd %s\n", MHD_get_version());
    printf("gnutls %s\n", gnutls_check_version(NULL));
    printf("openssl %s\n", OpenSSL_version(OPENSSL_VERSION_STRING));
    printf("cjson %s\n", cJSON_Version());
    printf("libyaml %s\n", yaml_get_version_string());
    printf("libseccomp %u.%u.%u\n", sv->major, sv->minor, sv->micro);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    json_arena_install(); /* before any thread: cJSON's hooks are process-wide */
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "review") == 0)
        return cmd_review(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return cmd_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "check-config") == 0)
        return cmd_check_config(argc - 1, argv + 1);
    if (strcmp(cmd, "lint-profile") == 0)
        return cmd_lint_profile(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            puts("usage: seccomp-webhook version\n\nPrint the version and the versions of the "
                 "linked libraries.");
            return 0;
        }
        if (argc > 2) {
            fputs("seccomp-webhook version: takes no arguments (usage: seccomp-webhook "
                  "version)\n",
                  stderr);
            return 2;
        }
        return cmd_version();
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    fprintf(stderr, "seccomp-webhook: unknown command \"%s\"\n%s", cmd, usage);
    return 2;
}
