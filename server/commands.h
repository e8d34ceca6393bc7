/*
 * commands.h — the CLI commands (SPEC §3). Each takes the arguments after the program name
 * (argv[0] is the command's own name) and returns the process exit status: 0 success,
 * 1 a policy violation or denial found, 2 usage or input error.
 */
#ifndef SW_COMMANDS_H
#define SW_COMMANDS_H

int cmd_serve(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_lint_profile(int argc, char **argv);

#endif
