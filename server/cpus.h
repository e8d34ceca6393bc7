/*
 * cpus.h — how many CPUs this process may use, to size the server's thread pool (SPEC §3
 * `--threads`): the CPUs of its affinity mask, further capped by a cgroup v2 CPU quota.
 */
#ifndef SW_CPUS_H
#define SW_CPUS_H

/*
 * cpus_available — the CPUs this process may use: the number of CPUs in its
 * sched_getaffinity(2) mask, capped by ceil(quota / period) of the cgroup v2 `cpu.max` files
 * that apply (/sys/fs/cgroup/cpu.max — the container's own cgroup under a cgroup namespace — and
 * the cgroup named in /proc/self/cgroup with its ancestors). Never fails: unreadable files are
 * ignored, and the answer is at least 1.
 */
unsigned cpus_available(void);

/*
 * cpus_cgroup_quota — the CPU limit a cgroup v2 `cpu.max` file at `path` sets: ceil(quota /
 * period) for a line "QUOTA PERIOD", at least 1. Returns 0 when there is no limit ("max ..."),
 * the file cannot be read or its content is not understood. Exposed for unit tests.
 */
unsigned cpus_cgroup_quota(const char *path);

#endif
