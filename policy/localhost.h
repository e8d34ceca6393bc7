/*
 * localhost.h — the rules for `Localhost` profile paths (SPEC §6 items 1–2).
 */
#ifndef SW_LOCALHOST_H
#define SW_LOCALHOST_H

#include <stdbool.h>

#include "policy.h"

/*
 * localhost_path_problem — NULL when `path` is an acceptable localhostProfile, else a static
 * sentence saying what is wrong. Accepted: non-empty, relative, no `..`, `.` or empty
 * segments, no control characters. This is stricter than the API server's
 * validateLocalDescendingPath (pkg/apis/core/validation/validation.go), which only refuses
 * absolute paths and `..` elements and lets "" through — the hole of CVE-2023-2431
 * (kubernetes#118690) — so that allow-list matching is unambiguous.
 */
const char *localhost_path_problem(const char *path);

/*
 * localhost_allowed — true when `path` matches one of `globs` with fnmatch(3) and FNM_PATHNAME
 * (so `*` does not cross `/`), after replacing each `{namespace}` in a glob with `ns` (glob
 * characters in `ns` are escaped, so they match only themselves). With `ns` NULL,
 * `{namespace}` is read as `*`: whether the path is allowed in some namespace (for checking the
 * policy file itself). Sets *oom on allocation failure (and returns false).
 */
bool localhost_allowed(const policy_list *globs, const char *ns, const char *path, bool *oom);

#endif
