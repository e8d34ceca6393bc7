/*
 * cpus.c — the CPUs this process may use (see cpus.h).
 *
 * A container limited with `resources.limits.cpu: 2` on a 64-core node still sees 64 CPUs in its
 * affinity mask: the limit is a CFS quota in the cgroup's `cpu.max` ("200000 100000"). Sizing a
 * thread pool from the affinity mask alone would start 64 threads that the quota throttles, so
 * the quota caps the count (as Go 1.25's GOMAXPROCS and the JVM do).
 */
#include "cpus.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPUs in the affinity mask, or 0 if it cannot be read. Handles machines with more CPUs than
 * a static cpu_set_t holds by retrying with a bigger dynamic set. */
static unsigned affinity_count(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return (unsigned)CPU_COUNT(&set);
    if (errno != EINVAL)
        return 0;
    for (int ncpus = 2 * CPU_SETSIZE; ncpus <= (1 << 20); ncpus *= 2) {
        cpu_set_t *dyn = CPU_ALLOC((size_t)ncpus);
        if (dyn == NULL)
            return 0;
        size_t size = CPU_ALLOC_SIZE((size_t)ncpus);
        CPU_ZERO_S(size, dyn);
        if (sched_getaffinity(0, size, dyn) == 0) {
            unsigned n = (unsigned)CPU_COUNT_S(size, dyn);
            CPU_FREE(dyn);
            return n;
        }
        CPU_FREE(dyn);
        if (errno != EINVAL)
            return 0;
    }
    return 0;
}

/* Parse a non-negative decimal integer that fits unsigned long long; advance *s past it. */
static int parse_ull(const char **s, unsigned long long *out)
{
    const char *p = *s;
    unsigned long long v = 0;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        p++;
    }
    *s = p;
    *out = v;
    return 0;
}

unsigned cpus_cgroup_quota(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    char line[128];
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    if (ok == NULL)
        return 0;
    /* cgroup v2 (Documentation/admin-guide/cgroup-v2.rst): "$MAX $PERIOD", $MAX may be "max". */
    if (strncmp(line, "max", 3) == 0)
        return 0;
    const char *p = line;
    unsigned long long quota, period;
    if (parse_ull(&p, &quota) != 0 || *p++ != ' ' || parse_ull(&p, &period) != 0)
        return 0;
    if (*p != '\n' && *p != '\0')
        return 0;
    if (quota == 0 || period == 0)
        return 0;
    unsigned long long n = quota / period + (quota % period != 0);
    if (n > UINT_MAX)
        return UINT_MAX;
    return n == 0 ? 1 : (unsigned)n;
}

static unsigned min_limit(unsigned a, unsigned b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/* The quota of the cgroup /proc/self/cgroup names ("0::/PATH" on a cgroup v2 host) and of each
 * of its ancestors: a limit anywhere up the tree applies. 0 when none is found. */
static unsigned own_cgroup_quota(void)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return 0;
    char line[4096];
    char rel[4096] = "";
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "0::", 3) == 0) {
            size_t n = strcspn(line + 3, "\n");
            memcpy(rel, line + 3, n);
            rel[n] = '\0';
            break;
        }
    }
    fclose(f);
    if (rel[0] != '/' || strstr(rel, "/..") != NULL)
        return 0;
    unsigned limit = 0;
    char path[4200];
    for (;;) {
        size_t len = strlen(rel);
        if (len <= 1)
            break; /* the root cgroup: checked by the caller */
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", rel);
        limit = min_limit(limit, cpus_cgroup_quota(path));
        char *slash = strrchr(rel, '/');
        *slash = '\0';
        if (slash == rel)
            break;
    }
    return limit;
}

unsigned cpus_available(void)
{
    unsigned n = affinity_count();
    unsigned quota = min_limit(cpus_cgroup_quota("/sys/fs/cgroup/cpu.max"), own_cgroup_quota());
    n = min_limit(n, quota);
    return n == 0 ? 1 : n;
}
