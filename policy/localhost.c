/*
 * localhost.c — Localhost profile paths: the path rules and the per-namespace allow-list.
 */
#include "localhost.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

const char *localhost_path_problem(const char *path)
{
    if (path[0] == '\0')
        return "must not be empty";
    if (path[0] == '/')
        return "must be a relative path";
    if (text_has_control(path))
        return "must not contain control characters";
    const char *seg = path;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0)
            return "must not contain empty segments";
        if (n == 1 && seg[0] == '.')
            return "must not contain '.' segments";
        if (n == 2 && seg[0] == '.' && seg[1] == '.')
            return "must not contain '..'";
        if (!end)
            break;
        seg = end + 1;
    }
    return NULL;
}

/* The glob with `{namespace}` replaced by `ns`, glob characters of `ns` escaped; by `*` when
 * `ns` is NULL. */
static char *expand_glob(const char *glob, const char *ns)
{
    static const char marker[] = "{namespace}";
    strbuf sb = {0};
    sb_append(&sb, "");
    const char *p = glob;
    const char *hit;
    while ((hit = strstr(p, marker)) != NULL) {
        sb_append_n(&sb, p, (size_t)(hit - p));
        if (!ns)
            sb_append(&sb, "*");
        for (const char *c = ns ? ns : ""; *c; c++) {
            if (strchr("*?[]\\", *c))
                sb_append(&sb, "\\");
            sb_append_n(&sb, c, 1);
        }
        p = hit + sizeof marker - 1;
    }
    sb_append(&sb, p);
    return sb_take(&sb);
}

bool localhost_allowed(const policy_list *globs, const char *ns, const char *path, bool *oom)
{
    for (size_t i = 0; i < globs->count; i++) {
        char *g = expand_glob(globs->items[i], ns);
        if (!g) {
            *oom = true;
            return false;
        }
        int r = fnmatch(g, path, FNM_PATHNAME);
        free(g);
        if (r == 0)
            return true;
    }
    return false;
}
