/*
 * watch.h — notice when files change on disk: the policy file now, the TLS certificate and key
 * later. Made for files mounted from a ConfigMap or Secret, which the kubelet replaces by
 * renaming a `..data` symlink (WEBHOOK-SERVER-NOTES §3.7), as well as for plain files edited in
 * place or replaced by rename.
 *
 * A watcher has its own thread. It watches the directory holding each file with inotify (a
 * watch on the file itself misses the symlink swap) and re-checks every file's identity — the
 * resolved path and the target's device, inode, size, mtime and ctime — after every burst of
 * directory events (once the directory has been quiet for the debounce time) and every
 * `interval_ms` in any case, the safety net for whatever inotify cannot see. When an identity
 * differs from the last one seen, the callback runs once, on the watcher's thread.
 *
 * Use: watch_create() records the files' identities; load the files; watch_start(); ...;
 * watch_stop(). Creating before loading means a change made while loading is not missed.
 */
#ifndef SW_WATCH_H
#define SW_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#define WATCH_DEFAULT_INTERVAL_MS 10000u
#define WATCH_DEFAULT_DEBOUNCE_MS 200u

/* Called on the watcher's thread when at least one file's identity changed. It may take its
 * time (say, to reload and swap); changes meanwhile are seen at the next check. It must not
 * call watch_stop() on its own watcher. */
typedef void (*watch_fn)(void *arg);

typedef struct {
    unsigned interval_ms; /* the periodic check; 0: WATCH_DEFAULT_INTERVAL_MS */
    unsigned debounce_ms; /* quiet time after a directory event before checking; 0: default */
    bool no_inotify;      /* the periodic check only (tests; file systems without inotify) */
} watch_options;

typedef struct watch watch;

/*
 * watch_create — a watcher for `paths` (n >= 1; each copied) that will call fn(arg). Records
 * each file's identity now (a file that does not exist is recorded as missing; its appearing is
 * a change). `opt` may be NULL for the defaults. Starts nothing yet: no thread, no inotify.
 * Returns the watcher (free it with watch_stop()), or NULL with a one-line reason in `err`
 * (out of memory, no paths).
 */
watch *watch_create(const char *const *paths, size_t n, const watch_options *opt, watch_fn fn,
                    void *arg, char *err, size_t errlen);

/*
 * watch_start — start the thread. Block the signals other threads should not receive before
 * calling: the thread inherits the caller's signal mask. When inotify cannot be used (the
 * per-user instance limit, say) the watcher logs a warning and relies on the periodic check.
 * Returns 0, or -1 with a reason in `err` (no eventfd, no thread); the watcher can then still
 * be freed with watch_stop().
 */
int watch_start(watch *w, char *err, size_t errlen);

/*
 * watch_stop — stop the thread (waking it at once; a callback in progress is finished first),
 * join it and free everything, `w` included. Works on a watcher that was never started. NULL is
 * accepted.
 */
void watch_stop(watch *w);

#endif
