/*
 * watch.c — file watching with inotify on the directories plus a periodic check (see watch.h).
 *
 * Why directories. The kubelet updates a mounted ConfigMap or Secret by writing the new
 * version into a fresh hidden directory `..YYYY_MM_DD_hh_mm_ss.N`, pointing a `..data_tmp`
 * symlink at it and renaming that over `..data`; the visible `policy.yaml` is a symlink to
 * `..data/policy.yaml` and never changes itself. A watch on the file (which inotify resolves to
 * the old target) sees IN_DELETE_SELF when the old directory goes, and nothing ever after
 * (kubernetes#111947). A watch on the directory holding the visible name sees the rename of
 * `..data` (IN_MOVED_TO). The directory the file resolves to is watched too, so a symlink to a
 * file elsewhere that is edited in place is seen as well; that set is recomputed at every check,
 * since the target moves with each swap.
 *
 * What counts as a change. inotify events only say "look now": after a burst of events has
 * been quiet for the debounce time (at most WATCH_MAX_DELAY_MS after its first event, so a
 * constantly busy directory still gets checked), and at every periodic tick, each file's
 * identity is compared with the last one seen: realpath() and the target's st_dev, st_ino,
 * st_size, st_mtim and st_ctim. Unrelated activity in a directory thus costs a few stat() calls
 * and never a callback; and whatever inotify misses (a file system without it, a queue overflow,
 * an exhausted watch limit) is still caught by the periodic check.
 *
 * Threads: all state belongs to the watcher's thread once it runs, apart from the eventfd that
 * watch_stop() writes to wake it.
 */
#include "watch.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* A directory that never stops changing still gets its files checked this often. */
#define WATCH_MAX_DELAY_MS 2000u

/* The directory events that may mean one of our files changed. IN_MOVED_TO is the `..data`
 * rename; IN_DELETE_SELF / IN_MOVE_SELF tell that a watched directory itself went away. */
#define WATCH_MASK                                                                                 \
    (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE | IN_DELETE_SELF |       \
     IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR)

/* What a path resolves to, as far as telling a change goes. */
typedef struct {
    bool exists;
    char *real; /* realpath(), owned; NULL when missing */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
} file_id;

struct watch {
    char **paths;
    file_id *ids; /* the identity last seen, per path */
    size_t n;
    watch_fn fn;
    void *arg;
    unsigned interval_ms, debounce_ms;
    bool no_inotify;

    int inotify_fd; /* -1 when not used */
    int wake_fd;    /* eventfd: watch_stop() writes 1 */
    int *wds;       /* the directory watches held now */
    size_t nwds;
    pthread_t thread;
    bool started;
};

/* ------------------------------------------------------------------------------------------ */
/* Identities                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static void id_clear(file_id *id)
{
    free(id->real);
    memset(id, 0, sizeof *id);
}

/* The identity of `path` now. Out of memory for the realpath leaves `real` NULL, which only
 * makes a later comparison report a change (a spurious reload, never a missed one). */
static void id_read(const char *path, file_id *out)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    out->exists = true;
    out->real = realpath(path, NULL);
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    out->size = st.st_size;
    out->mtim = st.st_mtim;
    out->ctim = st.st_ctim;
}

static bool ts_equal(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool id_equal(const file_id *a, const file_id *b)
{
    if (a->exists != b->exists)
        return false;
    if (!a->exists)
        return true;
    if (a->real == NULL || b->real == NULL || strcmp(a->real, b->real) != 0)
        return false;
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           ts_equal(a->mtim, b->mtim) && ts_equal(a->ctim, b->ctim);
}

/* ------------------------------------------------------------------------------------------ */
/* Directory watches                                                                          */
/* ------------------------------------------------------------------------------------------ */

/* The directory part of `path` into `out` ("." for a bare name, "/" for a file in the root).
 * Returns false when it does not fit. */
static bool dir_of(const char *path, char *out, size_t size)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    size_t slash = len;
    while (slash > 0 && path[slash - 1] != '/')
        slash--;
    if (slash == 0)
        return snprintf(out, size, ".") < (int)size;
    size_t end = slash - 1; /* the last '/' */
    while (end > 0 && path[end - 1] == '/')
        end--; /* "a//b" → "a" */
    if (end == 0)
        return snprintf(out, size, "/") < (int)size;
    if (end >= size)
        return false;
    memcpy(out, path, end);
    out[end] = '\0';
    return true;
}

static bool wd_in(const int *wds, size_t n, int wd)
{
    for (size_t i = 0; i < n; i++)
        if (wds[i] == wd)
            return true;
    return false;
}

/* Watch each file's directory and its target's directory; drop watches no longer needed.
 * inotify_add_watch() on a directory already watched returns the same descriptor, so two names
 * for one directory share one watch. A directory that cannot be watched now (gone for a moment,
 * the watch limit reached) is tried again at the next check; the periodic check covers it. */
static void rescan_watches(watch *w)
{
    if (w->inotify_fd < 0)
        return;
    size_t cap = 2 * w->n;
    int *now = malloc(cap * sizeof *now);
    if (now == NULL)
        return; /* keep the old set; the next check tries again */
    size_t count = 0;
    char dir[PATH_MAX];
    for (size_t i = 0; i < w->n; i++) {
        const char *names[2] = {w->paths[i], w->ids[i].real};
        for (size_t k = 0; k < 2; k++) {
            if (names[k] == NULL || !dir_of(names[k], dir, sizeof dir))
                continue;
            int wd = inotify_add_watch(w->inotify_fd, dir, WATCH_MASK);
            if (wd < 0) {
                if (log_enabled(LOG_DEBUG))
                    log_msg(LOG_DEBUG, "watch", "cannot watch the directory %s: %s", dir,
                            strerror(errno));
                continue;
            }
            if (!wd_in(now, count, wd))
                now[count++] = wd;
        }
    }
    for (size_t i = 0; i < w->nwds; i++) {
        /* EINVAL when the kernel already dropped it (the directory was deleted). */
        if (!wd_in(now, count, w->wds[i]))
            (void)inotify_rm_watch(w->inotify_fd, w->wds[i]);
    }
    free(w->wds);
    w->wds = now;
    w->nwds = count;
}

/* Read every pending event. Returns true when there was at least one. */
static bool drain_inotify(watch *w)
{
    /* Aligned as inotify(7) asks; room for several events with names. */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool any = false;
    for (;;) {
        ssize_t r = read(w->inotify_fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return any; /* EAGAIN: all read */
        any = true;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The thread                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Compare every identity with the last one seen; remember the new ones and call the callback
 * once when any differs. The identities are taken before the callback, so a change made while
 * it runs is seen by the next check. */
static void check(watch *w)
{
    bool changed = false;
    for (size_t i = 0; i < w->n; i++) {
        file_id now;
        id_read(w->paths[i], &now);
        if (id_equal(&now, &w->ids[i])) {
            id_clear(&now);
            continue;
        }
        if (log_enabled(LOG_DEBUG))
            log_msg(LOG_DEBUG, "watch", "%s changed (now %s)", w->paths[i],
                    now.exists ? (now.real != NULL ? now.real : "?") : "missing");
        id_clear(&w->ids[i]);
        w->ids[i] = now;
        changed = true;
    }
    rescan_watches(w); /* a swap moves the targets' directories */
    if (changed)
        w->fn(w->arg);
}

static void *watch_main(void *arg)
{
    watch *w = arg;
    uint64_t next_tick = mono_ms() + w->interval_ms;
    bool pending = false;       /* directory events not yet followed by a check */
    uint64_t quiet_until = 0;   /* check once no event came until then ... */
    uint64_t pending_limit = 0; /* ... or at this time at the latest */
    for (;;) {
        uint64_t now = mono_ms();
        uint64_t due = next_tick;
        if (pending) {
            uint64_t at = quiet_until < pending_limit ? quiet_until : pending_limit;
            if (at < due)
                due = at;
        }
        int timeout = due <= now ? 0 : (due - now > INT_MAX ? INT_MAX : (int)(due - now));
        struct pollfd fds[2] = {{.fd = w->wake_fd, .events = POLLIN},
                                {.fd = w->inotify_fd, .events = POLLIN}};
        int rc = poll(fds, w->inotify_fd >= 0 ? 2 : 1, timeout);
        if (rc < 0 && errno != EINTR) {
            log_msg(LOG_ERROR, "watch", "poll: %s; checking every %u ms only", strerror(errno),
                    w->interval_ms);
            struct timespec ts = {.tv_sec = w->interval_ms / 1000,
                                  .tv_nsec = (long)(w->interval_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (rc > 0 && (fds[0].revents & POLLIN))
            break;
        now = mono_ms();
        if (rc > 0 && w->inotify_fd >= 0 && (fds[1].revents & POLLIN) && drain_inotify(w)) {
            if (!pending)
                pending_limit = now + WATCH_MAX_DELAY_MS;
            pending = true;
            quiet_until = now + w->debounce_ms;
        }
        bool tick = now >= next_tick;
        bool settled = pending && (now >= quiet_until || now >= pending_limit);
        if (tick || settled) {
            pending = false;
            check(w);
            if (tick)
                next_tick = mono_ms() + w->interval_ms;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Public functions                                                                           */
/* ------------------------------------------------------------------------------------------ */

watch *watch_create(const char *const *paths, size_t n, const watch_options *opt, watch_fn fn,
                    void *arg, char *err, size_t errlen)
{
    if (paths == NULL || n == 0 || fn == NULL) {
        snprintf(err, errlen, "nothing to watch");
        return NULL;
    }
    watch *w = calloc(1, sizeof *w);
    if (w == NULL)
        goto oom;
    w->inotify_fd = -1;
    w->wake_fd = -1;
    w->fn = fn;
    w->arg = arg;
    w->interval_ms =
        opt != NULL && opt->interval_ms != 0 ? opt->interval_ms : WATCH_DEFAULT_INTERVAL_MS;
    w->debounce_ms =
        opt != NULL && opt->debounce_ms != 0 ? opt->debounce_ms : WATCH_DEFAULT_DEBOUNCE_MS;
    w->no_inotify = opt != NULL && opt->no_inotify;
    w->paths = calloc(n, sizeof *w->paths);
    w->ids = calloc(n, sizeof *w->ids);
    if (w->paths == NULL || w->ids == NULL)
        goto oom;
    w->n = n;
    for (size_t i = 0; i < n; i++) {
        w->paths[i] = strdup(paths[i] != NULL ? paths[i] : "");
        if (w->paths[i] == NULL)
            goto oom;
        id_read(w->paths[i], &w->ids[i]);
    }
    return w;
oom:
    watch_stop(w);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

int watch_start(watch *w, char *err, size_t errlen)
{
    if (w->started) {
        snprintf(err, errlen, "the watcher is already running");
        return -1;
    }
    if (w->wake_fd < 0) {
        w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->wake_fd < 0) {
            snprintf(err, errlen, "eventfd: %s", strerror(errno));
            return -1;
        }
    }
    if (!w->no_inotify && w->inotify_fd < 0) {
        w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->inotify_fd < 0)
            log_msg(LOG_WARN, "watch",
                    "inotify is not available (%s): changes to %s are seen by the periodic "
                    "check only, every %u ms",
                    strerror(errno), w->paths[0], w->interval_ms);
        else
            rescan_watches(w);
    }
    int rc = pthread_create(&w->thread, NULL, watch_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the file watcher thread: %s", strerror(rc));
        return -1;
    }
    w->started = true;
    return 0;
}

void watch_stop(watch *w)
{
    if (w == NULL)
        return;
    if (w->started) {
        uint64_t one = 1;
        ssize_t r;
        do
            r = write(w->wake_fd, &one, sizeof one);
        while (r < 0 && errno == EINTR);
        pthread_join(w->thread, NULL);
    }
    if (w->inotify_fd >= 0)
        close(w->inotify_fd); /* drops every watch with it */
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    free(w->wds);
    for (size_t i = 0; i < w->n; i++) {
        free(w->paths[i]);
        id_clear(&w->ids[i]);
    }
    free(w->paths);
    free(w->ids);
    free(w);
}
