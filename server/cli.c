/*
 * cli.c — helpers shared by the CLI commands.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "text.h"

void cli_print_policy_errors(const policy_errors *errs)
{
    for (size_t i = 0; i < errs->count; i++) {
        const policy_error *e = &errs->items[i];
        char *file = text_escape(e->file); /* the messages escape what they quote already */
        const char *shown = file ? file : "(out of memory)";
        if (e->line)
            fprintf(stderr, "%s:%u:%u: %s\n", shown, e->line, e->column, e->message);
        else
            fprintf(stderr, "%s: %s\n", shown, e->message);
        free(file);
    }
}

policy *cli_load_policy(const char *config, const char *command)
{
    policy_errors errs = {0};
    policy *pol = config ? policy_load_file(config, &errs) : policy_builtin();
    if (!pol) {
        cli_print_policy_errors(&errs);
        if (errs.count == 0)
            fprintf(stderr, "seccomp-webhook %s: cannot load the policy\n", command);
    }
    policy_errors_free(&errs);
    return pol;
}
