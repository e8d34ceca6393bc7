/*
 * cli.h — what the CLI commands share: loading the policy named by --config (or the built-in
 * one) and reporting why it cannot be loaded, the same way everywhere.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include "policy.h"

/*
 * cli_print_policy_errors — each problem on stderr as `FILE:LINE:COL: message`, or
 * `FILE: message` when it has no position (an unreadable file).
 */
void cli_print_policy_errors(const policy_errors *errs);

/*
 * cli_load_policy — the policy in `config` (SPEC §5), or the built-in one (§5.1) when `config`
 * is NULL. On failure prints every problem (cli_print_policy_errors), or a line naming
 * `command` when there is none to print (out of memory), and returns NULL. The caller frees
 * the policy with policy_free().
 */
policy *cli_load_policy(const char *config, const char *command);

#endif
