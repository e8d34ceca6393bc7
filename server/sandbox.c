/*
 * sandbox.c — the server's own seccomp filter (see sandbox.h).
 *
 * The filter is built with libseccomp: default action SCMP_ACT_TRAP (SIGSYS, handled below),
 * SCMP_ACT_KILL_PROCESS for running a program and for any other architecture's system call
 * numbers (a 32-bit int 0x80 call on x86_64), SCMP_ACT_ALLOW for the list below, installed on
 * every thread at once (SCMP_FLTATR_CTL_TSYNC) with no_new_privs set (SCMP_FLTATR_CTL_NNP).
 *
 * How the list was found. The end-to-end suites (admission, workloads, policy reload, TLS and
 * client certificates, certificate rotation, the sandbox's own) were run with every server under
 * `strace -f` and the filter on, and every system call any thread made after the seccomp(2)
 * call that installed the filter was collected; the suites' servers log no "sandbox_violation"
 * with this list. What that run cannot show — a rare path — was added from the code with its
 * reason below; what it showed only at start-up is not on the list: once serving, the server
 * creates no socket, thread or process (socket, bind, listen, connect, clone, clone3 are
 * refused), loads no code (no PROT_EXEC mapping), writes no file (openat only reads), and
 * changes no signal disposition (rt_sigaction is refused: the SIGSYS handler cannot be
 * replaced).
 *
 * The groups, and why each call is needed:
 *   - serving (libmicrohttpd's epoll worker threads; GnuTLS reads and writes through them):
 *     epoll_wait (epoll_pwait on aarch64) and epoll_ctl, the event loop; accept4, new
 *     connections; recvfrom and sendmsg, TLS records; read and write, the inter-thread eventfd;
 *     setsockopt, TCP_NODELAY / TCP_CORK around each response; shutdown and close, ending
 *     connections; poll (ppoll on aarch64), the file watchers' wait.
 *   - memory (glibc malloc and its per-thread arenas, GnuTLS and OpenSSL buffers): brk; mmap and
 *     mprotect only without PROT_EXEC (no new code can be mapped); munmap; mremap, a growing
 *     request body; madvise, free() returning memory.
 *   - threads, signals and time: futex, every lock and condition variable; clock_nanosleep,
 *     the holders' swaps sleeping 1 ms while a reader finishes; clock_gettime, gettimeofday and
 *     time, for when the vDSO falls back to the real calls; getpid, gettid and tgkill (only to
 *     this process), so that abort() still ends the process and the SIGSYS handler can name the
 *     thread; rt_sigprocmask and rt_sigtimedwait, the main thread waiting for SIGTERM;
 *     rt_sigreturn, returning from the SIGSYS handler; restart_syscall; exit, a thread ending at
 *     shutdown, and exit_group; sysinfo, glibc's qsort() asking once for the memory size
 *     (sysconf(_SC_PHYS_PAGES)) before it sorts a large array — seen with a hostile request.
 *   - a thread created just before the filter (libmicrohttpd's workers start asynchronously)
 *     may still be starting: glibc's set_robust_list and rseq, and prctl only as
 *     PR_SET_NAME, libmicrohttpd naming the thread.
 *   - randomness: getrandom, GnuTLS and OpenSSL seeding their generators for every handshake.
 *   - reloading (the watchers; the loaders of the policy, the certificate and key, and Localhost
 *     profiles): openat only without O_WRONLY, O_RDWR, O_CREAT and O_TRUNC; newfstatat (stat()
 *     and fstat() in glibc), the files' identities; readlink (readlinkat on aarch64), realpath()
 *     following the `..data` symlink; getcwd, realpath() of a relative path; inotify_add_watch
 *     and inotify_rm_watch, the watched directories following each swap; memfd_create, the
 *     profile checker exporting each filter to a memory file to count its instructions.
 *   - the process metrics read /proc/self: getdents64 (its fd directory) and lseek (fclose()).
 *   - logging: write to stderr (above).
 *   - stopping: unlink, only when a development certificate's file is to be removed.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <seccomp.h>

/* System call numbers whose names the SIGSYS handler can print (x86_64 and aarch64 stop well
 * below; a number past it is printed without a name). */
#define SANDBOX_NAMES     512
#define SANDBOX_NAME_SIZE 32

/* Conditions on a call's arguments. */
typedef enum {
    ARGS_ANY = 0,
    ARGS_NO_EXEC_PROT, /* mmap, mprotect: (arg 2 & PROT_EXEC) == 0 */
    ARGS_READ_ONLY,    /* openat: (arg 2 & (O_WRONLY|O_RDWR|O_CREAT|O_TRUNC)) == 0 */
    ARGS_OWN_PROCESS,  /* tgkill: arg 0 == getpid() */
    ARGS_SET_NAME,     /* prctl: arg 0 == PR_SET_NAME */
} args_rule;

static const struct {
    const char *name;
    args_rule args;
} allowed[] = {
    /* serving */
    {"epoll_wait", ARGS_ANY},
    {"epoll_pwait", ARGS_ANY},
    {"epoll_ctl", ARGS_ANY},
    {"accept4", ARGS_ANY},
    {"recvfrom", ARGS_ANY},
    {"sendmsg", ARGS_ANY},
    {"read", ARGS_ANY},
    {"write", ARGS_ANY},
    {"setsockopt", ARGS_ANY},
    {"shutdown", ARGS_ANY},
    {"close", ARGS_ANY},
    {"poll", ARGS_ANY},
    {"ppoll", ARGS_ANY},
    /* memory */
    {"brk", ARGS_ANY},
    {"mmap", ARGS_NO_EXEC_PROT},
    {"mprotect", ARGS_NO_EXEC_PROT},
    {"munmap", ARGS_ANY},
    {"mremap", ARGS_ANY},
    {"madvise", ARGS_ANY},
    /* threads, signals, time */
    {"futex", ARGS_ANY},
    {"clock_nanosleep", ARGS_ANY},
    {"clock_gettime", ARGS_ANY},
    {"gettimeofday", ARGS_ANY},
    {"time", ARGS_ANY},
    {"getpid", ARGS_ANY},
    {"gettid", ARGS_ANY},
    {"tgkill", ARGS_OWN_PROCESS},
    {"rt_sigprocmask", ARGS_ANY},
    {"rt_sigtimedwait", ARGS_ANY},
    {"rt_sigreturn", ARGS_ANY},
    {"restart_syscall", ARGS_ANY},
    {"exit", ARGS_ANY},
    {"exit_group", ARGS_ANY},
    {"sysinfo", ARGS_ANY},
    /* a thread created just before the filter may still be starting */
    {"set_robust_list", ARGS_ANY},
    {"rseq", ARGS_ANY},
    {"prctl", ARGS_SET_NAME},
    /* randomness */
    {"getrandom", ARGS_ANY},
    /* reloading */
    {"openat", ARGS_READ_ONLY},
    {"newfstatat", ARGS_ANY},
    {"readlink", ARGS_ANY},
    {"readlinkat", ARGS_ANY},
    {"getcwd", ARGS_ANY},
    {"inotify_add_watch", ARGS_ANY},
    {"inotify_rm_watch", ARGS_ANY},
    {"memfd_create", ARGS_ANY},
    /* reading /proc/self for the process metrics */
    {"getdents64", ARGS_ANY},
    {"lseek", ARGS_ANY},
};

/* Killed at once: nothing in the server runs a program. */
static const char *const deadly[] = {"execve", "execveat"};

/* The names, filled before the filter is installed: the SIGSYS handler may not call
 * seccomp_syscall_resolve_num_arch() (it allocates). */
static char names[SANDBOX_NAMES][SANDBOX_NAME_SIZE];

/* ------------------------------------------------------------------------------------------ */
/* The SIGSYS handler: async-signal-safe calls only (clock_gettime, gettid, write)            */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    char buf[512];
    size_t len;
} line_buf;

static void put_str(line_buf *b, const char *s)
{
    while (*s != '\0' && b->len < sizeof b->buf - 2)
        b->buf[b->len++] = *s++;
}

static void put_uint(line_buf *b, unsigned long long v, int min_digits)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < (int)sizeof tmp);
    while (n < min_digits && n < (int)sizeof tmp)
        tmp[n++] = '0';
    while (n > 0 && b->len < sizeof b->buf - 2)
        b->buf[b->len++] = tmp[--n];
}

/* Now as RFC 3339 UTC with microseconds, like log.c, without gmtime_r (days to a civil date:
 * H. Hinnant's algorithm). */
static void put_timestamp(line_buf *b)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_REALTIME, &ts);
    long long secs = (long long)ts.tv_sec;
    long long days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    put_uint(b, (unsigned long long)y, 4);
    put_str(b, "-");
    put_uint(b, (unsigned long long)m, 2);
    put_str(b, "-");
    put_uint(b, (unsigned long long)d, 2);
    put_str(b, "T");
    put_uint(b, (unsigned long long)(rem / 3600), 2);
    put_str(b, ":");
    put_uint(b, (unsigned long long)(rem / 60 % 60), 2);
    put_str(b, ":");
    put_uint(b, (unsigned long long)(rem % 60), 2);
    put_str(b, ".");
    put_uint(b, (unsigned long long)(ts.tv_nsec / 1000), 6);
    put_str(b, "Z");
}

static void on_sigsys(int sig, siginfo_t *si, void *context)
{
    (void)sig;
    int saved_errno = errno;
    int nr = si->si_syscall;
    line_buf b = {.len = 0};
    put_str(&b, "{\"ts\":\"");
    put_timestamp(&b);
    put_str(&b, "\",\"level\":\"error\",\"event\":\"sandbox_violation\",\"syscall\":\"");
    /* The names are libseccomp's: lower-case letters, digits and '_', nothing to escape. */
    put_str(&b, nr >= 0 && nr < SANDBOX_NAMES && names[nr][0] != '\0' ? names[nr] : "unknown");
    put_str(&b, "\",\"nr\":");
    put_uint(&b, (unsigned long long)(nr >= 0 ? nr : 0), 1);
    put_str(&b, ",\"tid\":");
    put_uint(&b, (unsigned long long)syscall(SYS_gettid), 1);
#if defined(__x86_64__) || defined(__aarch64__)
    put_str(&b, ",\"action\":\"refused with EPERM\",\"msg\":\"the self-sandbox refused a system "
                "call the server is not expected to make; it returned EPERM. If this happens "
                "in normal operation, report it; --no-self-sandbox turns the filter off\"}\n");
#else
    put_str(&b, ",\"action\":\"exit\",\"msg\":\"the self-sandbox refused a system call the "
                "server is not expected to make; on this architecture the server cannot resume "
                "and exits; --no-self-sandbox turns the filter off\"}\n");
#endif
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(STDERR_FILENO, b.buf + off, b.len - off);
        if (w <= 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    /* The call returns -EPERM: set the return register of the interrupted context. */
    ucontext_t *uc = context;
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
    uc->uc_mcontext.regs[0] = (unsigned long long)(long long)-EPERM;
#else
    (void)uc;
    _exit(70);
#endif
    errno = saved_errno;
}

/* ------------------------------------------------------------------------------------------ */
/* Installing                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static void fill_names(void)
{
    for (int nr = 0; nr < SANDBOX_NAMES; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (name == NULL)
            continue;
        size_t len = strlen(name);
        if (len < SANDBOX_NAME_SIZE)
            memcpy(names[nr], name, len + 1);
        free(name);
    }
}

/* Add the rule for `name` with its argument conditions. Returns 1 when added, 0 when the
 * call does not exist here (say, `time` on aarch64), or a negative errno. */
static int add_allowed(scmp_filter_ctx ctx, const char *name, args_rule args)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR || nr < 0)
        return 0;
    int rc;
    switch (args) {
    case ARGS_NO_EXEC_PROT:
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)PROT_EXEC, 0));
        break;
    case ARGS_READ_ONLY:
        rc = seccomp_rule_add(
            ctx, SCMP_ACT_ALLOW, nr, 1,
            SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC), 0));
        break;
    case ARGS_OWN_PROCESS:
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
        break;
    case ARGS_SET_NAME:
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)PR_SET_NAME, 0));
        break;
    default:
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        break;
    }
    return rc < 0 ? rc : 1;
}

int sandbox_install(const sandbox_options *opt, char *err, size_t errlen)
{
    fill_names();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0) {
        snprintf(err, errlen, "cannot install the SIGSYS handler: %s", strerror(errno));
        return -1;
    }
    /* SIGSYS must reach the handler in every thread. */
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &sys, NULL);

    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (ctx == NULL) {
        snprintf(err, errlen, "libseccomp cannot create a filter");
        return -1;
    }
    int count = 0;
    const char *step = "setting the filter's attributes";
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    for (size_t i = 0; rc == 0 && i < sizeof allowed / sizeof allowed[0]; i++) {
        step = allowed[i].name;
        int added = add_allowed(ctx, allowed[i].name, allowed[i].args);
        if (added < 0)
            rc = added;
        else
            count += added;
    }
    if (rc == 0 && opt != NULL && opt->allow_unlink) {
        step = "unlink";
        int added = add_allowed(ctx, "unlink", ARGS_ANY);
        if (added < 0)
            rc = added;
        else
            count += added;
    }
    for (size_t i = 0; rc == 0 && i < sizeof deadly / sizeof deadly[0]; i++) {
        step = deadly[i];
        int nr = seccomp_syscall_resolve_name(deadly[i]);
        if (nr != __NR_SCMP_ERROR && nr >= 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
    }
    if (rc == 0) {
        step = "loading the filter";
        rc = seccomp_load(ctx);
    }
    seccomp_release(ctx);
    if (rc != 0) {
        snprintf(err, errlen, "seccomp: %s failed: %s", step, strerror(rc < 0 ? -rc : rc));
        return -1;
    }
    return count;
}

bool sandbox_selftest(void)
{
    errno = 0;
    long r = syscall(SYS_personality, 0xffffffffUL);
    return r == -1 && errno == EPERM;
}
