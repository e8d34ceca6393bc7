/*
 * sandbox.h — the server's own seccomp filter (SPEC §8): once `serve` runs (daemon started,
 * certificate and policy loaded, watcher threads started), every thread of the process is
 * confined to the system calls that serving, logging and reloading need. The allow-list, and
 * why each group is on it, is in sandbox.c.
 *
 * A call outside the list is not executed: the kernel raises SIGSYS in the calling thread, and
 * the handler installed here writes one JSON log line naming the call ("sandbox_violation")
 * and makes the call return -1 with errno EPERM, so the server goes on serving instead of
 * dying silently. Running a program (execve, execveat) kills the process at once instead: no
 * code path of the server does it, so it can only mean that the process has been taken over.
 */
#ifndef SW_SANDBOX_H
#define SW_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    /* Allow unlink(2): the development certificate's PEM file is removed at exit. */
    bool allow_unlink;
} sandbox_options;

/*
 * sandbox_install — install the filter on every thread of the process (SCMP_FLTATR_CTL_TSYNC,
 * with no_new_privs set), after installing the SIGSYS handler and precomputing the syscall
 * names it prints (the handler may only make async-signal-safe calls). Call it once, from any
 * thread, when every thread the server will ever have exists: creating threads is not allowed
 * afterwards. Returns the number of system calls allowed (> 0), or -1 with a one-line reason in
 * `err` (the process is then unchanged, apart from the SIGSYS handler).
 */
int sandbox_install(const sandbox_options *opt, char *err, size_t errlen);

/*
 * sandbox_selftest — make one forbidden system call (personality(2) with 0xffffffff, which
 * would only query the execution domain), so that its "sandbox_violation" log line can be
 * seen; for tests and for checking a deployment (serve --sandbox-selftest). Returns true when
 * the call was refused with EPERM, as the filter does.
 */
bool sandbox_selftest(void);

#endif
