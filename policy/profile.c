/*
 * profile.c — Localhost seccomp profiles judged for what they contain (SPEC §6.3).
 *
 * Bytes → strict JSON tree (json_parse_strict: no duplicate keys, no \u0000, valid UTF-8) →
 * a small model of the profile (decode) → libseccomp: names per architecture and a filter
 * built and exported per checked architecture (build_filters) → the policy checks
 * (check_policy). Every step appends problems to a profile_report; a shape error stops the
 * later steps, since they would only repeat it.
 *
 * Two things cJSON does not do the way runtimes (Go) do, handled here: numbers that must be
 * exact (`args` values up to 2^64−1) are read from their text, never from cJSON's double
 * (see "Exact numbers"); member names are matched by Go's encoding/json case-insensitively,
 * so a member that differs from a known one only in case is refused rather than read
 * differently (see "Members").
 *
 * The cache at the end remembers verdicts by path and file identity.
 */
#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <seccomp.h>

#include "json.h"
#include "text.h"

/* ---------------------------------------------------------------------------------------------
 * Report
 * ------------------------------------------------------------------------------------------- */

static void report_addv(profile_report *r, profile_severity sev, const char *pointer, unsigned line,
                        unsigned column, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static void report_addv(profile_report *r, profile_severity sev, const char *pointer, unsigned line,
                        unsigned column, const char *fmt, va_list ap)
{
    if (r->oom)
        return;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        profile_problem *p = realloc(r->items, cap * sizeof *p);
        if (!p) {
            r->oom = true;
            return;
        }
        r->items = p;
        r->cap = cap;
    }
    strbuf sb = {0};
    char raw[512];
    vsnprintf(raw, sizeof raw, fmt, ap);
    sb_append_escaped(&sb, raw);
    char *msg = sb_take(&sb);
    char *ptr = pointer ? text_escape(pointer) : NULL;
    if (!msg || (pointer && !ptr)) {
        free(msg);
        free(ptr);
        r->oom = true;
        return;
    }
    r->items[r->count++] = (profile_problem){sev, ptr, line, column, msg};
    if (sev > r->worst)
        r->worst = sev;
}

static void report_add(profile_report *r, profile_severity sev, const char *pointer,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report_add(profile_report *r, profile_severity sev, const char *pointer,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_addv(r, sev, pointer, 0, 0, fmt, ap);
    va_end(ap);
}

/* A JSON syntax error, at its line and column. */
static void report_at(profile_report *r, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report_at(profile_report *r, unsigned line, unsigned column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_addv(r, PROFILE_INVALID, NULL, line, column, fmt, ap);
    va_end(ap);
}

void profile_report_free(profile_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].pointer);
        free(r->items[i].message);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

char *profile_problem_format(const char *file, const profile_problem *p)
{
    strbuf sb = {0};
    if (file) {
        sb_append_escaped(&sb, file);
        if (p->line)
            sb_printf(&sb, ":%u:%u", p->line, p->column);
        sb_append(&sb, ": ");
    } else if (p->line) {
        sb_printf(&sb, "%u:%u: ", p->line, p->column);
    }
    if (p->pointer && !p->line) {
        sb_append(&sb, p->pointer[0] ? p->pointer : "(document)");
        sb_append(&sb, ": ");
    }
    if (p->severity == PROFILE_WARNING)
        sb_append(&sb, "warning: ");
    sb_append(&sb, p->message);
    return sb_take(&sb);
}

/* ---------------------------------------------------------------------------------------------
 * Vocabulary: actions, operators, flags, architectures
 * ------------------------------------------------------------------------------------------- */

/* The actions of the OCI runtime-spec (config-linux.md §Seccomp, "as of libseccomp v2.5.0")
 * and their libseccomp values (seccomp_rule_add(3)). SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD.
 * ERRNO and TRACE carry a 16-bit value: errnoRet / defaultErrnoRet, EPERM when absent. */
typedef enum { ACT_PLAIN, ACT_ERRNO, ACT_TRACE } act_kind;

static const struct {
    const char *name;
    uint32_t value;
    act_kind kind;
} ACTIONS[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, ACT_PLAIN},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, ACT_PLAIN},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, ACT_PLAIN},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, ACT_PLAIN},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), ACT_ERRNO},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), ACT_TRACE},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, ACT_PLAIN},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, ACT_PLAIN},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, ACT_PLAIN},
};
#define N_ACTIONS (sizeof ACTIONS / sizeof *ACTIONS)

/* Operators for `args[].op` (config-linux.md; seccomp_rule_add(3)). */
static const struct {
    const char *name;
    enum scmp_compare op;
} OPERATORS[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* `flags` (config-linux.md). */
static const char *const FLAGS[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};
#define FLAG_SPEC_ALLOW "SECCOMP_FILTER_FLAG_SPEC_ALLOW"

/* The architecture names of the OCI runtime-spec (config-linux.md lists those of libseccomp
 * 2.5.0; specs-go/config.go adds LOONGARCH64, M68K, SH and SHEB) with libseccomp's own name
 * for each (seccomp_arch_resolve_name(3)). A name outside this list is an error; one in it
 * that this libseccomp does not know (2.5.4 knows none of the last four) is a warning. */
static const struct {
    const char *oci;
    const char *lib;
} ARCHES[] = {
    {"SCMP_ARCH_X86", "x86"},
    {"SCMP_ARCH_X86_64", "x86_64"},
    {"SCMP_ARCH_X32", "x32"},
    {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "aarch64"},
    {"SCMP_ARCH_MIPS", "mips"},
    {"SCMP_ARCH_MIPS64", "mips64"},
    {"SCMP_ARCH_MIPS64N32", "mips64n32"},
    {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
    {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_PPC64", "ppc64"},
    {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_S390X", "s390x"},
    {"SCMP_ARCH_PARISC", "parisc"},
    {"SCMP_ARCH_PARISC64", "parisc64"},
    {"SCMP_ARCH_RISCV64", "riscv64"},
    {"SCMP_ARCH_LOONGARCH64", "loongarch64"},
    {"SCMP_ARCH_M68K", "m68k"},
    {"SCMP_ARCH_SH", "sh"},
    {"SCMP_ARCH_SHEB", "sheb"},
};
#define N_ARCHES (sizeof ARCHES / sizeof *ARCHES)

/* The index in ARCHES of an OCI name, or -1. */
static int arch_index(const char *oci)
{
    for (size_t i = 0; i < N_ARCHES; i++)
        if (strcmp(ARCHES[i].oci, oci) == 0)
            return (int)i;
    return -1;
}

/* An architecture profiles are checked for: its libseccomp token and its OCI name. */
typedef struct {
    uint32_t token;
    const char *name;
} checked_arch;

/* The architectures of cfg->architectures that this libseccomp knows, without repeats, or the
 * webhook's own when the list is empty or none is known. Unknown ones are reported to `r`
 * (when not NULL) as warnings. Returns the count (at least 1; `out` has room for N_ARCHES). */
static size_t checked_arches(const policy_profiles *cfg, checked_arch *out, profile_report *r)
{
    size_t n = 0;
    for (size_t i = 0; cfg && i < cfg->architectures.count; i++) {
        const char *name = cfg->architectures.items[i];
        int k = arch_index(name);
        uint32_t token = k >= 0 ? seccomp_arch_resolve_name(ARCHES[k].lib) : 0;
        if (!token) {
            if (r)
                report_add(r, PROFILE_WARNING, NULL,
                           "profiles.architectures: %s is not an architecture this libseccomp "
                           "knows: profiles are not checked for it",
                           name);
            continue;
        }
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen |= out[j].token == token;
        if (!seen && n < N_ARCHES)
            out[n++] = (checked_arch){token, ARCHES[k].oci};
    }
    if (n == 0) {
        uint32_t native = seccomp_arch_native();
        const char *name = "the webhook's own architecture";
        for (size_t k = 0; k < N_ARCHES; k++)
            if (seccomp_arch_resolve_name(ARCHES[k].lib) == native)
                name = ARCHES[k].oci;
        out[n++] = (checked_arch){native, name};
    }
    return n;
}

/* "SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64" for messages, into buf. */
static const char *arch_names(const checked_arch *a, size_t n, const bool *pick, char *buf,
                              size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (pick && !pick[i])
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", a[i].name);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* ---------------------------------------------------------------------------------------------
 * Decoding context, members and exact numbers
 * ------------------------------------------------------------------------------------------- */

#define PTR_MAX 192 /* a JSON Pointer this code builds; member names longer are not shown */

typedef struct {
    const cJSON *node;
    size_t offset; /* of the number's first byte in the text */
} numref;

typedef struct {
    profile_report *r;
    const char *text;
    size_t len;
    numref *nums; /* every number of the document, sorted by node address; built on demand */
    size_t num_count;
    bool nums_built;
    bool nums_failed;
} dctx;

static void invalid(dctx *c, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void invalid(dctx *c, const char *pointer, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_addv(c->r, PROFILE_INVALID, pointer, 0, 0, fmt, ap);
    va_end(ap);
}

static void warning(dctx *c, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warning(dctx *c, const char *pointer, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_addv(c->r, PROFILE_WARNING, pointer, 0, 0, fmt, ap);
    va_end(ap);
}

static const char *json_kind(const cJSON *j)
{
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsBool(j))
        return "a boolean";
    if (cJSON_IsNull(j))
        return "null";
    if (cJSON_IsArray(j))
        return "an array";
    return "an object";
}

/* printf into a JSON Pointer buffer of PTR_MAX bytes (cut when longer: the pointers built
 * here are short, and a cut one still names the place). */
static void ptrf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ptrf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PTR_MAX, fmt, ap);
    va_end(ap);
}

/* `base` + "/" + `key`, with `~` and `/` escaped as RFC 6901 says. Returns false (and leaves
 * `base` in out) when it does not fit. */
static bool ptr_key(char *out, const char *base, const char *key)
{
    size_t n = (size_t)snprintf(out, PTR_MAX, "%s/", base);
    for (const char *k = key; *k; k++) {
        const char *piece = *k == '~' ? "~0" : *k == '/' ? "~1" : NULL;
        size_t len = piece ? 2 : 1;
        if (n + len >= PTR_MAX) {
            snprintf(out, PTR_MAX, "%s", base);
            return false;
        }
        memcpy(out + n, piece ? piece : k, len);
        n += len;
    }
    out[n] = '\0';
    return true;
}

/*
 * Go's encoding/json assigns an object member to a struct field whose name matches it exactly
 * or, failing that, case-insensitively under Unicode simple folding, where U+017F (long s)
 * folds to 's' and U+212A (Kelvin sign) to 'k'; when several members match, the last wins.
 * So {"defaultAction": "SCMP_ACT_ERRNO", "DefaultAction": "SCMP_ACT_ALLOW"} is an ALLOW
 * profile to a runtime. This returns true when `key` folds to the ASCII name `field`.
 */
static bool go_fold_equal(const char *key, const char *field)
{
    const unsigned char *k = (const unsigned char *)key;
    for (const char *f = field; *f; f++) {
        int want = tolower((unsigned char)*f);
        if (*k && *k < 0x80) {
            if (tolower(*k) != want)
                return false;
            k++;
        } else if (k[0] == 0xc5 && k[1] == 0xbf && want == 's') {
            k += 2;
        } else if (k[0] == 0xe2 && k[1] == 0x84 && k[2] == 0xaa && want == 'k') {
            k += 3;
        } else {
            return false;
        }
    }
    return *k == '\0';
}

/* Every member of `obj` (at pointer `base`) must be one of `known`: one that differs only in
 * case is an error (a runtime would read it, this code would not); any other is a warning
 * (runtimes ignore it: a misspelling, most likely). */
static void check_members(dctx *c, const cJSON *obj, const char *base, const char *const *known,
                          size_t n)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        bool exact = false;
        const char *folded = NULL;
        for (size_t i = 0; i < n && !exact; i++) {
            exact = strcmp(m->string, known[i]) == 0;
            if (!folded && go_fold_equal(m->string, known[i]))
                folded = known[i];
        }
        if (exact)
            continue;
        char p[PTR_MAX];
        bool shown = ptr_key(p, base, m->string);
        if (folded)
            invalid(c, p,
                    "%smember name differs from \"%s\" only in case: runtimes (Go's "
                    "encoding/json) read it as %s, so write it exactly",
                    shown ? "" : "a long ", folded, folded);
        else
            warning(c, p, "%snot a member runtimes read here: ignored (misspelled?)",
                    shown ? "" : "a member with a long name: ");
    }
}

/* The byte offsets of every number token of the (already validated) text, in order. */
static size_t scan_numbers(const char *s, size_t len, size_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        char ch = s[i];
        if (ch == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            if (out && n < cap)
                out[n] = i;
            n++;
            while (i < len && strchr("+-.eE0123456789", s[i]) && s[i] != '\0')
                i++;
        } else {
            i++;
        }
    }
    return n;
}

/* Number nodes in document order: a pre-order walk visits values in the order the text has
 * them, and json_parse_strict() refused duplicate keys, so no member was dropped. */
static void collect_numbers(const cJSON *j, numref *out, size_t cap, size_t *n)
{
    for (; j; j = j->next) {
        if (cJSON_IsNumber(j)) {
            if (*n < cap)
                out[*n].node = j;
            (*n)++;
        }
        if (cJSON_IsArray(j) || cJSON_IsObject(j))
            collect_numbers(j->child, out, cap, n);
    }
}

static int numref_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const numref *)a)->node;
    uintptr_t y = (uintptr_t)((const numref *)b)->node;
    return x < y ? -1 : x > y;
}

/* Pair the k-th number token of the text with the k-th number node of the tree, then sort by
 * node so that a node's text is found by binary search. */
static bool build_numbers(dctx *c, const cJSON *root)
{
    c->nums_built = true;
    size_t tokens = scan_numbers(c->text, c->len, NULL, 0);
    size_t nodes = 0;
    collect_numbers(root, NULL, 0, &nodes);
    if (tokens != nodes) {
        c->nums_failed = true;
        return false;
    }
    if (tokens == 0)
        return true;
    size_t *offs = malloc(tokens * sizeof *offs);
    c->nums = malloc(tokens * sizeof *c->nums);
    if (!offs || !c->nums) {
        free(offs);
        c->r->oom = true;
        c->nums_failed = true;
        return false;
    }
    scan_numbers(c->text, c->len, offs, tokens);
    size_t n = 0;
    collect_numbers(root, c->nums, tokens, &n);
    for (size_t i = 0; i < tokens; i++)
        c->nums[i].offset = offs[i];
    free(offs);
    c->num_count = tokens;
    qsort(c->nums, tokens, sizeof *c->nums, numref_cmp);
    return true;
}

/*
 * An unsigned integer read exactly from its text, as Go's encoding/json decodes a JSON number
 * into a uint / uint64 field (strconv.ParseUint on the literal): no sign, no fraction, no
 * exponent, at most `max`. cJSON keeps numbers as doubles, which cannot hold 2^53+1, so its
 * value is never used. Reports and returns false when the value does not qualify.
 */
static bool read_uint(dctx *c, const cJSON *root, const cJSON *item, const char *ptr, uint64_t max,
                      uint64_t *out)
{
    if (!cJSON_IsNumber(item)) {
        invalid(c, ptr, "must be a non-negative integer, found %s", json_kind(item));
        return false;
    }
    if (!c->nums_built)
        build_numbers(c, root);
    const numref *hit = NULL;
    if (!c->nums_failed) {
        numref key = {item, 0};
        hit = bsearch(&key, c->nums, c->num_count, sizeof *c->nums, numref_cmp);
    }
    if (!hit) {
        if (!c->r->oom)
            invalid(c, ptr, "the number's text cannot be located in the file");
        return false;
    }
    const char *p = c->text + hit->offset;
    const char *end = c->text + c->len;
    if (*p == '-') {
        invalid(c, ptr, "must not be negative (an unsigned integer)");
        return false;
    }
    uint64_t v = 0;
    bool over = false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = true;
        else
            v = v * 10 + d;
    }
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) {
        invalid(c, ptr,
                "must be an integer written without a fraction or an exponent (runtimes read "
                "it with Go's strconv.ParseUint)");
        return false;
    }
    if (over || v > max) {
        invalid(c, ptr, "is larger than %llu, the largest value allowed here",
                (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}

/* A string member; NULL (after reporting) when present but not a string. */
static const char *want_string(dctx *c, const cJSON *item, const char *ptr)
{
    if (cJSON_IsString(item))
        return item->valuestring;
    invalid(c, ptr, "must be a string, found %s", json_kind(item));
    return NULL;
}

/* An array of strings; false (after reporting) otherwise. `nonempty` refuses "". */
static bool want_strings(dctx *c, const cJSON *item, const char *ptr, bool nonempty)
{
    if (!cJSON_IsArray(item)) {
        invalid(c, ptr, "must be an array of strings, found %s", json_kind(item));
        return false;
    }
    bool ok = true;
    size_t i = 0;
    for (const cJSON *e = item->child; e; e = e->next, i++) {
        char p[PTR_MAX];
        ptrf(p, "%s/%zu", ptr, i);
        if (!cJSON_IsString(e)) {
            invalid(c, p, "must be a string, found %s", json_kind(e));
            ok = false;
        } else if (nonempty && e->valuestring[0] == '\0') {
            invalid(c, p, "must not be empty");
            ok = false;
        }
    }
    return ok;
}

/* ---------------------------------------------------------------------------------------------
 * The model: decoding a profile
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    size_t index;       /* position in syscalls[] */
    const char **names; /* borrowed from the tree */
    size_t name_count;
    bool legacy;     /* the single `name` form */
    uint32_t action; /* libseccomp value, with its errno / trace data */
    const char *action_name;
    bool allows; /* SCMP_ACT_ALLOW or SCMP_ACT_LOG */
    struct scmp_arg_cmp *args;
    size_t arg_count;
    bool split_args;    /* two conditions on one argument: one rule each, as runc does */
    bool caps_required; /* includes.caps: applies only to containers with those capabilities */
    bool caps_excluded; /* excludes.caps: applies only to containers without them */
    bool redundant;     /* same action as the default: skipped when building */
} prule;

typedef struct {
    uint32_t default_action;
    const char *default_name;
    bool default_allows;
    long spec_allow_flag; /* index in flags[] of SECCOMP_FILTER_FLAG_SPEC_ALLOW, or -1 */
    bool has_syscalls;
    bool has_listener;
    prule *rules;
    size_t rule_count;
    bool caps_conditions; /* some rule has includes.caps or excludes.caps */
} pmodel;

static void model_free(pmodel *m)
{
    for (size_t i = 0; i < m->rule_count; i++) {
        free(m->rules[i].names);
        free(m->rules[i].args);
    }
    free(m->rules);
}

static const char *rule_pointer(const prule *r, size_t j, char *buf)
{
    if (r->legacy)
        snprintf(buf, PTR_MAX, "/syscalls/%zu/name", r->index);
    else
        snprintf(buf, PTR_MAX, "/syscalls/%zu/names/%zu", r->index, j);
    return buf;
}

/* An action string and its errno / trace value (errnoRet or defaultErrnoRet, `ret_item`,
 * NULL when absent), as runtimes combine them. Returns false after reporting. */
static bool decode_action(dctx *c, const cJSON *root, const cJSON *item, const char *ptr,
                          const cJSON *ret_item, const char *ret_ptr, uint32_t *value,
                          const char **name)
{
    const char *s = want_string(c, item, ptr);
    if (!s)
        return false;
    size_t k = 0;
    while (k < N_ACTIONS && strcmp(ACTIONS[k].name, s) != 0)
        k++;
    if (k == N_ACTIONS) {
        invalid(c, ptr,
                "unknown action: one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, "
                "SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, "
                "SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY");
        return false;
    }
    *name = ACTIONS[k].name;
    uint64_t ret = 1; /* EPERM, the OCI default for errnoRet and defaultErrnoRet */
    if (!json_is_absent(ret_item)) {
        if (ACTIONS[k].kind == ACT_PLAIN) {
            /* config-linux.md: "When the action doesn't support an errno, the runtime MUST
             * print and error and fail." */
            invalid(c, ret_ptr, "%s takes no errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do",
                    ACTIONS[k].name);
            return false;
        }
        /* The kernel's SECCOMP_RET_DATA is 16 bits; libseccomp would silently cut more. */
        if (!read_uint(c, root, ret_item, ret_ptr, 0xffff, &ret))
            return false;
    }
    *value = ACTIONS[k].kind == ACT_ERRNO   ? SCMP_ACT_ERRNO((uint32_t)ret)
             : ACTIONS[k].kind == ACT_TRACE ? SCMP_ACT_TRACE((uint32_t)ret)
                                            : ACTIONS[k].value;
    return true;
}

/* moby profiles/seccomp KernelVersion.UnmarshalJSON: "" (no condition) or two dot-separated
 * numbers of 0 to 255 (strconv.ParseUint(part, 10, 8)). */
static bool kernel_version_ok(const char *s)
{
    if (!*s)
        return true;
    for (int part = 0; part < 2; part++) {
        unsigned v = 0;
        const char *start = s;
        while (isdigit((unsigned char)*s) && s - start < 4)
            v = v * 10 + (unsigned)(*s++ - '0');
        if (s == start || s - start > 3 || v > 255)
            return false;
        if (part == 0 && *s++ != '.')
            return false;
    }
    return *s == '\0';
}

/* includes / excludes (moby profiles/seccomp/seccomp.go, type Filter): caps, arches, minKernel
 * ("<kernel>.<major>"). Returns whether `caps` lists anything. */
static bool decode_filter(dctx *c, const cJSON *f, const char *ptr)
{
    static const char *const KEYS[] = {"caps", "arches", "minKernel"};
    if (!cJSON_IsObject(f)) {
        invalid(c, ptr, "must be an object with caps, arches or minKernel, found %s", json_kind(f));
        return false;
    }
    check_members(c, f, ptr, KEYS, 3);
    char p[PTR_MAX];
    bool caps = false;
    const cJSON *v = json_get(f, "caps");
    ptrf(p, "%s/caps", ptr);
    if (!json_is_absent(v) && want_strings(c, v, p, true))
        caps = cJSON_GetArraySize(v) > 0;
    v = json_get(f, "arches");
    ptrf(p, "%s/arches", ptr);
    if (!json_is_absent(v))
        want_strings(c, v, p, true);
    v = json_get(f, "minKernel");
    ptrf(p, "%s/minKernel", ptr);
    if (!json_is_absent(v)) {
        const char *s = want_string(c, v, p);
        if (s && !kernel_version_ok(s))
            invalid(c, p, "must be a kernel version \"<kernel>.<major>\", like \"4.8\"");
    }
    return caps;
}

static void decode_rule(dctx *c, const cJSON *root, const cJSON *item, size_t index, pmodel *m,
                        prule *r)
{
    static const char *const KEYS[] = {"names", "name",    "action",   "errnoRet",
                                       "args",  "comment", "includes", "excludes"};
    char base[PTR_MAX], p[PTR_MAX], q[PTR_MAX];
    ptrf(base, "/syscalls/%zu", index);
    r->index = index;
    if (!cJSON_IsObject(item)) {
        invalid(c, base, "must be an object with names and action, found %s", json_kind(item));
        return;
    }
    check_members(c, item, base, KEYS, 8);

    const cJSON *names = json_get(item, "names");
    const cJSON *name = json_get(item, "name");
    bool has_names = !json_is_absent(names) && !(cJSON_IsArray(names) && !names->child);
    bool has_name = !json_is_absent(name) && !(cJSON_IsString(name) && !name->valuestring[0]);
    if (has_names && has_name) {
        /* moby seccomp_linux.go: "'name' and 'names' were specified in the seccomp profile,
         * use either 'name' or 'names'" */
        invalid(c, base, "has both name and names: use names alone");
    } else if (has_name) {
        ptrf(p, "%s/name", base);
        const char *s = want_string(c, name, p);
        if (s && (r->names = malloc(sizeof *r->names))) {
            r->names[0] = s;
            r->name_count = 1;
            r->legacy = true;
        } else if (s) {
            c->r->oom = true;
        }
    } else if (!json_is_absent(names)) {
        ptrf(p, "%s/names", base);
        if (cJSON_IsArray(names) && !names->child) {
            invalid(c, p, "must list at least one syscall name");
        } else if (want_strings(c, names, p, true)) {
            size_t n = (size_t)cJSON_GetArraySize(names);
            if ((r->names = malloc(n * sizeof *r->names)) != NULL) {
                for (const cJSON *e = names->child; e; e = e->next)
                    r->names[r->name_count++] = e->valuestring;
            } else {
                c->r->oom = true;
            }
        }
    } else {
        ptrf(p, "%s/names", base);
        invalid(c, p, "is required: the syscalls this rule applies to");
    }

    ptrf(p, "%s/action", base);
    ptrf(q, "%s/errnoRet", base);
    const cJSON *action = json_get(item, "action");
    if (json_is_absent(action))
        invalid(c, p, "is required: what happens when one of the names is called");
    else if (decode_action(c, root, action, p, json_get(item, "errnoRet"), q, &r->action,
                           &r->action_name))
        r->allows = r->action == SCMP_ACT_ALLOW || r->action == SCMP_ACT_LOG;

    const cJSON *args = json_get(item, "args");
    ptrf(p, "%s/args", base);
    if (!json_is_absent(args) && !cJSON_IsArray(args)) {
        invalid(c, p, "must be an array of {index, value, valueTwo, op}, found %s",
                json_kind(args));
    } else if (!json_is_absent(args) && args->child) {
        size_t n = (size_t)cJSON_GetArraySize(args);
        r->args = calloc(n, sizeof *r->args);
        if (!r->args) {
            c->r->oom = true;
            return;
        }
        unsigned used = 0; /* bit i: a condition on argument i */
        size_t i = 0;
        for (const cJSON *a = args->child; a; a = a->next, i++) {
            static const char *const AKEYS[] = {"index", "value", "valueTwo", "op"};
            char ap[PTR_MAX];
            ptrf(ap, "%s/%zu", p, i);
            if (!cJSON_IsObject(a)) {
                invalid(c, ap, "must be an object {index, value, valueTwo, op}, found %s",
                        json_kind(a));
                continue;
            }
            check_members(c, a, ap, AKEYS, 4);
            struct scmp_arg_cmp *cmp = &r->args[r->arg_count];
            uint64_t index_v = 0, value = 0, value_two = 0;
            bool ok = true;
            const cJSON *f;
            /* The kernel passes six arguments (seccomp_rule_add(3): SCMP_A0..SCMP_A5). */
            ptrf(q, "%s/index", ap);
            if (json_is_absent(f = json_get(a, "index"))) {
                invalid(c, q, "is required: the argument number, 0 to 5");
                ok = false;
            } else {
                ok &= read_uint(c, root, f, q, 5, &index_v);
            }
            ptrf(q, "%s/value", ap);
            if (json_is_absent(f = json_get(a, "value"))) {
                invalid(c, q, "is required");
                ok = false;
            } else {
                ok &= read_uint(c, root, f, q, UINT64_MAX, &value);
            }
            ptrf(q, "%s/valueTwo", ap);
            if (!json_is_absent(f = json_get(a, "valueTwo")))
                ok &= read_uint(c, root, f, q, UINT64_MAX, &value_two);
            ptrf(q, "%s/op", ap);
            const char *op = NULL;
            if (json_is_absent(f = json_get(a, "op")))
                invalid(c, q, "is required: SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT or _MASKED_EQ");
            else
                op = want_string(c, f, q);
            size_t k = 0;
            while (op && k < sizeof OPERATORS / sizeof *OPERATORS &&
                   strcmp(OPERATORS[k].name, op) != 0)
                k++;
            if (op && k == sizeof OPERATORS / sizeof *OPERATORS)
                invalid(c, q,
                        "unknown operator: one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
                        "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ");
            if (!ok || !op || k == sizeof OPERATORS / sizeof *OPERATORS)
                continue;
            *cmp = (struct scmp_arg_cmp){(unsigned)index_v, OPERATORS[k].op, value, value_two};
            if (used & (1u << index_v))
                r->split_args = true;
            used |= 1u << index_v;
            r->arg_count++;
        }
    }

    const cJSON *inc = json_get(item, "includes");
    ptrf(p, "%s/includes", base);
    if (!json_is_absent(inc))
        r->caps_required = decode_filter(c, inc, p);
    const cJSON *exc = json_get(item, "excludes");
    ptrf(p, "%s/excludes", base);
    if (!json_is_absent(exc))
        r->caps_excluded = decode_filter(c, exc, p);
    m->caps_conditions |= r->caps_required || r->caps_excluded;

    const cJSON *comment = json_get(item, "comment");
    ptrf(p, "%s/comment", base);
    if (!json_is_absent(comment))
        want_string(c, comment, p);
}

/* architectures (OCI) or archMap (Docker): names checked against the OCI list and
 * libseccomp. */
static void decode_arch_name(dctx *c, const cJSON *item, const char *ptr)
{
    const char *s = want_string(c, item, ptr);
    if (!s)
        return;
    int k = arch_index(s);
    if (k < 0)
        invalid(c, ptr,
                "not an architecture of the OCI runtime-spec (SCMP_ARCH_X86_64, "
                "SCMP_ARCH_AARCH64, SCMP_ARCH_ARM, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390X, ...)");
    else if (!seccomp_arch_resolve_name(ARCHES[k].lib))
        warning(c, ptr, "%s is not known to this libseccomp: runtimes built with it refuse it",
                ARCHES[k].oci);
}

static void decode_arches(dctx *c, const cJSON *obj)
{
    const cJSON *arches = json_get(obj, "architectures");
    const cJSON *map = json_get(obj, "archMap");
    if (!json_is_absent(arches) && want_strings(c, arches, "/architectures", false)) {
        size_t i = 0;
        for (const cJSON *e = arches->child; e; e = e->next, i++) {
            char p[PTR_MAX];
            ptrf(p, "/architectures/%zu", i);
            decode_arch_name(c, e, p);
        }
    }
    if (json_is_absent(map))
        return;
    if (!cJSON_IsArray(map)) {
        invalid(c, "/archMap", "must be an array of {architecture, subArchitectures}, found %s",
                json_kind(map));
        return;
    }
    /* moby seccomp_linux.go: "both 'architectures' and 'archMap' are specified in the seccomp
     * profile, use either 'architectures' or 'archMap'" (by length: empty lists do not count). */
    if (map->child && cJSON_IsArray(arches) && arches->child)
        invalid(c, "/archMap", "given together with architectures: use one or the other");
    size_t i = 0;
    for (const cJSON *e = map->child; e; e = e->next, i++) {
        static const char *const KEYS[] = {"architecture", "subArchitectures"};
        char p[PTR_MAX], q[PTR_MAX];
        ptrf(p, "/archMap/%zu", i);
        if (!cJSON_IsObject(e)) {
            invalid(c, p, "must be an object {architecture, subArchitectures}, found %s",
                    json_kind(e));
            continue;
        }
        check_members(c, e, p, KEYS, 2);
        ptrf(q, "%s/architecture", p);
        const cJSON *a = json_get(e, "architecture");
        if (json_is_absent(a))
            invalid(c, q, "is required");
        else
            decode_arch_name(c, a, q);
        const cJSON *subs = json_get(e, "subArchitectures");
        ptrf(q, "%s/subArchitectures", p);
        if (!json_is_absent(subs) && want_strings(c, subs, q, false)) {
            size_t j = 0;
            for (const cJSON *s = subs->child; s; s = s->next, j++) {
                char sp[PTR_MAX];
                ptrf(sp, "%s/%zu", q, j);
                decode_arch_name(c, s, sp);
            }
        }
    }
}

/* The whole document into `m`. Shape problems are reported as PROFILE_INVALID. */
static void decode(dctx *c, const cJSON *root, pmodel *m)
{
    static const char *const KEYS[] = {"defaultAction",    "defaultErrnoRet", "architectures",
                                       "archMap",          "flags",           "listenerPath",
                                       "listenerMetadata", "syscalls"};
    m->spec_allow_flag = -1;
    if (!cJSON_IsObject(root)) {
        invalid(c, "", "a seccomp profile is a JSON object with defaultAction, found %s",
                json_kind(root));
        return;
    }
    check_members(c, root, "", KEYS, 8);

    const cJSON *def = json_get(root, "defaultAction");
    if (json_is_absent(def)) {
        invalid(c, "/defaultAction", "is required: what happens to a syscall no rule names");
    } else if (decode_action(c, root, def, "/defaultAction", json_get(root, "defaultErrnoRet"),
                             "/defaultErrnoRet", &m->default_action, &m->default_name)) {
        m->default_allows =
            m->default_action == SCMP_ACT_ALLOW || m->default_action == SCMP_ACT_LOG;
        if (m->default_action == SCMP_ACT_NOTIFY)
            /* Kubernetes reference/node/seccomp.md: SCMP_ACT_NOTIFY cannot be the default. */
            invalid(c, "/defaultAction",
                    "SCMP_ACT_NOTIFY cannot be the default action: every syscall, including "
                    "those of the runtime's own set-up, would wait for a user-space agent");
    }

    decode_arches(c, root);

    const cJSON *flags = json_get(root, "flags");
    if (!json_is_absent(flags) && want_strings(c, flags, "/flags", false)) {
        long i = 0;
        for (const cJSON *f = flags->child; f; f = f->next, i++) {
            char p[PTR_MAX];
            ptrf(p, "/flags/%ld", i);
            bool known = false;
            for (size_t k = 0; k < sizeof FLAGS / sizeof *FLAGS; k++)
                known |= strcmp(FLAGS[k], f->valuestring) == 0;
            if (!known)
                invalid(c, p,
                        "unknown flag: one of SECCOMP_FILTER_FLAG_TSYNC, "
                        "SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, "
                        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
            else if (strcmp(f->valuestring, FLAG_SPEC_ALLOW) == 0 && m->spec_allow_flag < 0)
                m->spec_allow_flag = i;
        }
    }

    const cJSON *lp = json_get(root, "listenerPath");
    if (!json_is_absent(lp) && want_string(c, lp, "/listenerPath"))
        m->has_listener = lp->valuestring[0] != '\0';
    const cJSON *lm = json_get(root, "listenerMetadata");
    if (!json_is_absent(lm) && want_string(c, lm, "/listenerMetadata") && !m->has_listener &&
        lm->valuestring[0])
        /* config-linux.md: "This field MUST NOT be set if listenerPath is not set." */
        invalid(c, "/listenerMetadata", "must not be set without listenerPath");

    const cJSON *sys = json_get(root, "syscalls");
    if (json_is_absent(sys))
        return;
    if (!cJSON_IsArray(sys)) {
        invalid(c, "/syscalls", "must be an array of rules, found %s", json_kind(sys));
        return;
    }
    m->has_syscalls = true;
    size_t n = (size_t)cJSON_GetArraySize(sys);
    if (n && !(m->rules = calloc(n, sizeof *m->rules))) {
        c->r->oom = true;
        return;
    }
    size_t i = 0;
    for (const cJSON *e = sys->child; e; e = e->next, i++) {
        decode_rule(c, root, e, i, m, &m->rules[i]);
        m->rule_count = i + 1;
        const prule *r = &m->rules[i];
        if (r->action == SCMP_ACT_NOTIFY && r->action_name && !m->has_listener) {
            char p[PTR_MAX];
            ptrf(p, "/syscalls/%zu/action", i);
            /* runc fails container creation with "seccomp listenerPath is not set". */
            invalid(c, p,
                    "SCMP_ACT_NOTIFY needs listenerPath, the agent's socket: without it runc "
                    "refuses to create the container");
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * libseccomp: names and filters
 * ------------------------------------------------------------------------------------------- */

/* Names libseccomp does not know on some or all checked architectures (runtimes skip them),
 * and rules that repeat the default action (libseccomp refuses them with EACCES; runtimes
 * skip them). A name libseccomp knows but that is no syscall of an architecture (its table
 * gives a negative pseudo number, like `open` on aarch64) is not reported: libseccomp leaves
 * it out of that architecture's filter, or rewrites it (socketcall on x86). */
static void check_names(dctx *c, pmodel *m, const checked_arch *arches, size_t n)
{
    for (size_t i = 0; i < m->rule_count; i++) {
        prule *r = &m->rules[i];
        if (r->action == m->default_action && r->action_name) {
            char p[PTR_MAX];
            ptrf(p, "/syscalls/%zu/action", r->index);
            warning(c, p,
                    "the same action as defaultAction: the rule changes nothing and is skipped "
                    "(libseccomp refuses it)");
            r->redundant = true;
        }
        for (size_t j = 0; j < r->name_count; j++) {
            bool unknown[N_ARCHES] = {false};
            size_t missing = 0;
            for (size_t a = 0; a < n; a++)
                if (seccomp_syscall_resolve_name_arch(arches[a].token, r->names[j]) ==
                    __NR_SCMP_ERROR) {
                    unknown[a] = true;
                    missing++;
                }
            if (!missing)
                continue;
            char p[PTR_MAX], list[256];
            rule_pointer(r, j, p);
            arch_names(arches, n, unknown, list, sizeof list);
            if (missing == n)
                warning(c, p,
                        "not a syscall this libseccomp knows (on %s): runtimes skip it "
                        "(misspelled?)",
                        list);
            else
                warning(c, p, "not a syscall this libseccomp knows on %s: skipped there", list);
        }
    }
}

static int add_rule(scmp_filter_ctx ctx, const prule *r, int nr)
{
    if (!r->split_args || r->arg_count < 2)
        return seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->arg_count, r->args);
    /* runc (libcontainer/seccomp): when one argument has several conditions, each condition
     * becomes a rule of its own, so they are ORed; libseccomp refuses them in one rule. */
    for (size_t k = 0; k < r->arg_count; k++) {
        int rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &r->args[k]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * The (syscall, rule) pairs one filter is built from, without repeats. libseccomp keeps every
 * rule it is given and rescans them as it adds more, so a 1 MiB profile that names the same
 * syscalls over and over (73,000 names) took minutes to build; each distinct pair is added
 * once: the same syscall with the same action and the same comparisons (or none).
 */
typedef struct {
    int nr;         /* native syscall number, as seccomp_rule_add(3) takes it */
    const prule *r; /* NULL: the syscall alone (for counting distinct syscalls) */
} build_key;

/* A rule to add for one syscall. */
typedef struct {
    int nr;      /* native number */
    int on_arch; /* the number on the filter's architecture; negative: no syscall there */
    const prule *r;
} build_item;

typedef struct {
    build_key *slots; /* nr == INT_MIN: empty */
    size_t cap;       /* a power of two */
} build_set;

static bool same_args(const prule *a, const prule *b)
{
    if (a->action != b->action || a->arg_count != b->arg_count || a->split_args != b->split_args)
        return false;
    for (size_t k = 0; k < a->arg_count; k++)
        if (a->args[k].arg != b->args[k].arg || a->args[k].op != b->args[k].op ||
            a->args[k].datum_a != b->args[k].datum_a || a->args[k].datum_b != b->args[k].datum_b)
            return false;
    return true;
}

static uint64_t key_hash(int nr, const prule *r)
{
    uint64_t h = 1469598103934665603ull ^ (uint32_t)nr;
    h *= 1099511628211ull;
    if (r) {
        h = (h ^ r->action) * 1099511628211ull;
        for (size_t k = 0; k < r->arg_count; k++) {
            h = (h ^ r->args[k].arg ^ ((uint64_t)r->args[k].op << 8)) * 1099511628211ull;
            h = (h ^ r->args[k].datum_a) * 1099511628211ull;
            h = (h ^ r->args[k].datum_b) * 1099511628211ull;
        }
    } else {
        h = (h ^ 0x5bd1e995u) * 1099511628211ull;
    }
    return h ^ (h >> 29);
}

/* Add (nr, r) to the set; true when it was not there yet. */
static bool build_set_add(build_set *s, int nr, const prule *r)
{
    size_t i = (size_t)key_hash(nr, r) & (s->cap - 1);
    for (;; i = (i + 1) & (s->cap - 1)) {
        build_key *k = &s->slots[i];
        if (k->nr == INT_MIN) {
            *k = (build_key){nr, r};
            return true;
        }
        if (k->nr == nr && (k->r == NULL) == (r == NULL) && (!r || same_args(k->r, r)))
            return false;
    }
}

/* A rule that applies in `variant` (0: a container without the capabilities some rules name —
 * rules with includes.caps left out; 1: one with them all — rules with excludes.caps left
 * out). Rules with the default action are skipped (libseccomp refuses them). */
static bool in_variant(const prule *r, int variant)
{
    return !r->redundant && !(variant == 0 && r->caps_required) &&
           !(variant == 1 && r->caps_excluded);
}

/* One filter: the default action, one architecture, every rule that applies in `variant`,
 * exported as BPF to a memfd (libseccomp 2.5.4 exports to a file descriptor only). `set` has
 * room for every (name, rule) pair twice over; `todo` for every pair. */
static void build_one(dctx *c, const pmodel *m, const checked_arch *a, int variant,
                      bool *rule_failed, build_set *set, build_item *todo)
{
    /* The pairs to add, and a lower bound of the filter's size: the kernel loads at most
     * BPF_MAXINSNS (4096) instructions, and a filter needs at least one per distinct syscall
     * (to find it) and one per distinct comparison. A profile over the bound is refused
     * before libseccomp spends seconds building it. */
    for (size_t i = 0; i < set->cap; i++)
        set->slots[i].nr = INT_MIN;
    size_t n = 0, bound = 0;
    for (size_t i = 0; i < m->rule_count; i++) {
        const prule *r = &m->rules[i];
        if (!in_variant(r, variant))
            continue;
        for (size_t j = 0; j < r->name_count; j++) {
            int on_arch = seccomp_syscall_resolve_name_arch(a->token, r->names[j]);
            if (on_arch == __NR_SCMP_ERROR)
                continue;
            /* seccomp_rule_add(3) takes the syscall number of the native architecture and
             * translates it (by name) for each architecture of the filter. */
            int nr = seccomp_syscall_resolve_name(r->names[j]);
            if (nr == __NR_SCMP_ERROR || !build_set_add(set, nr, r))
                continue;
            todo[n++] = (build_item){nr, on_arch, r};
            bound += r->arg_count;
            if (nr >= 0 && build_set_add(set, nr, NULL))
                bound++;
        }
    }
    if (bound > 4096) {
        report_add(c->r, PROFILE_INVALID, NULL,
                   "the filter for %s needs at least %zu BPF instructions (one per distinct "
                   "syscall and per distinct argument comparison): the kernel loads at most 4096",
                   a->name, bound);
        return;
    }

    scmp_filter_ctx ctx = seccomp_init(m->default_action);
    if (!ctx) {
        invalid(c, "/defaultAction", "libseccomp refuses %s as the default action",
                m->default_name);
        return;
    }
    char ebuf[96];
    int rc = 0;
    if (a->token != seccomp_arch_native()) {
        /* The native architecture goes first: libseccomp refuses (EDOM) to mix byte orders in
         * one filter, so s390x could not join an x86_64 one. */
        rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
        if (rc == 0)
            rc = seccomp_arch_add(ctx, a->token);
        if (rc < 0) {
            report_add(c->r, PROFILE_INVALID, NULL, "libseccomp cannot build a filter for %s: %s",
                       a->name, strerror_r(-rc, ebuf, sizeof ebuf));
            seccomp_release(ctx);
            return;
        }
    }
    for (size_t k = 0; k < n; k++) {
        const prule *r = todo[k].r;
        size_t i = (size_t)(r - m->rules);
        if (rule_failed[i])
            continue;
        rc = add_rule(ctx, r, todo[k].nr);
        /* A negative number is a name libseccomp knows that is no syscall of this
         * architecture: left out of its filter, or refused, as runtimes leave it out. */
        if (rc < 0 && todo[k].on_arch >= 0) {
            char p[PTR_MAX];
            ptrf(p, "/syscalls/%zu", r->index);
            invalid(c, p, "libseccomp refuses this rule on %s: %s", a->name,
                    strerror_r(-rc, ebuf, sizeof ebuf));
            rule_failed[i] = true;
        }
    }
    int fd = memfd_create("seccomp-webhook-profile", MFD_CLOEXEC);
    if (fd < 0) {
        report_add(c->r, PROFILE_INVALID, NULL, "exporting the filter for %s failed: memfd: %s",
                   a->name, strerror_r(errno, ebuf, sizeof ebuf));
    } else if ((rc = seccomp_export_bpf(ctx, fd)) < 0) {
        report_add(c->r, PROFILE_INVALID, NULL, "libseccomp cannot export the filter for %s: %s",
                   a->name, strerror_r(-rc, ebuf, sizeof ebuf));
    } else {
        /* The kernel loads at most BPF_MAXINSNS (4096) instructions of 8 bytes each. */
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size > 4096 * 8)
            report_add(c->r, PROFILE_INVALID, NULL,
                       "the filter for %s has %lld BPF instructions: the kernel loads at most "
                       "4096",
                       a->name, (long long)st.st_size / 8);
    }
    if (fd >= 0)
        close(fd);
    seccomp_release(ctx);
}

static void build_filters(dctx *c, const pmodel *m, const checked_arch *arches, size_t n)
{
    size_t pairs = 0;
    for (size_t i = 0; i < m->rule_count; i++)
        pairs += m->rules[i].name_count;
    size_t cap = 16;
    while (cap < 4 * pairs + 16)
        cap *= 2;
    bool *failed = calloc(m->rule_count + 1, sizeof *failed);
    build_set set = {malloc(cap * sizeof *set.slots), cap};
    build_item *todo = malloc((pairs + 1) * sizeof *todo);
    if (failed && set.slots && todo)
        for (size_t a = 0; a < n; a++)
            for (int v = 0; v < (m->caps_conditions ? 2 : 1); v++)
                build_one(c, m, &arches[a], v, failed, &set, todo);
    else
        c->r->oom = true;
    free(failed);
    free(set.slots);
    free(todo);
}

/* ---------------------------------------------------------------------------------------------
 * Policy checks (SPEC §6.3)
 * ------------------------------------------------------------------------------------------- */

static bool names_syscall(const prule *r, const char *name, size_t *at)
{
    for (size_t j = 0; j < r->name_count; j++)
        if (strcmp(r->names[j], name) == 0) {
            if (at)
                *at = j;
            return true;
        }
    return false;
}

/* A rule that applies to every container whatever its arguments: no `args`, no
 * `includes.caps`. minKernel and arches conditions count as met (SPEC §6.3); an `excludes`
 * never hides a rule (most containers lack the capabilities it names). */
static bool unconditional(const prule *r)
{
    return r->arg_count == 0 && !r->caps_required;
}

/* The first rule that applies and denies `name` unconditionally, or NULL. */
static const prule *denied_by_rule(const pmodel *m, const char *name)
{
    for (size_t i = 0; i < m->rule_count; i++) {
        const prule *r = &m->rules[i];
        if (!r->redundant && !r->allows && unconditional(r) && names_syscall(r, name, NULL))
            return r;
    }
    return NULL;
}

/* Whether `name` can run at all: an ALLOW/LOG rule names it (arguments and capabilities
 * ignored), or the default action allows it and no rule denies it unconditionally. */
static bool ever_allowed(const pmodel *m, const char *name)
{
    for (size_t i = 0; i < m->rule_count; i++)
        if (!m->rules[i].redundant && m->rules[i].allows && names_syscall(&m->rules[i], name, NULL))
            return true;
    return m->default_allows && !denied_by_rule(m, name);
}

static bool known_on(const checked_arch *a, const char *name)
{
    return seccomp_syscall_resolve_name_arch(a->token, name) != __NR_SCMP_ERROR;
}

/*
 * The runtime installs the filter before it executes the container's first process (runc
 * libcontainer/standard_init_linux.go: InitSeccomp, then the exec of the entrypoint), so a
 * profile that allows neither execve nor execveat makes every container fail to start.
 */
static void check_can_start(dctx *c, const pmodel *m, const checked_arch *arches, size_t n)
{
    bool stuck[N_ARCHES] = {false};
    size_t count = 0;
    for (size_t a = 0; a < n; a++) {
        bool ok = false;
        if (known_on(&arches[a], "execve"))
            ok |= ever_allowed(m, "execve");
        if (known_on(&arches[a], "execveat"))
            ok |= ever_allowed(m, "execveat");
        if (!ok) {
            stuck[a] = true;
            count++;
        }
    }
    if (!count)
        return;
    char list[256], p[PTR_MAX];
    arch_names(arches, n, count == n ? NULL : stuck, list, sizeof list);
    const prule *deny = denied_by_rule(m, "execve");
    if (deny)
        ptrf(p, "/syscalls/%zu", deny->index);
    else
        ptrf(p, "%s", m->has_syscalls ? "/syscalls" : "/defaultAction");
    const char *effect = "so every container fails to start";
    if (m->default_action == SCMP_ACT_ERRNO(1))
        effect = "so every container fails to start with \"operation not permitted\" (EPERM)";
    report_add(c->r, PROFILE_VIOLATION, p,
               "no container can start under this profile (on %s): it allows neither execve "
               "nor execveat, and the runtime installs the filter before it executes the "
               "container's first process, %s",
               list, effect);
}

static void check_default_deny(dctx *c, const pmodel *m)
{
    if (m->default_allows)
        report_add(c->r, PROFILE_VIOLATION, "/defaultAction",
                   "%s lets every syscall no rule names run: profiles.requireDefaultDeny wants "
                   "a deny-by-default profile (SCMP_ACT_ERRNO, SCMP_ACT_KILL_PROCESS, ...)",
                   m->default_name);
    if (m->spec_allow_flag >= 0) {
        char p[PTR_MAX];
        ptrf(p, "/flags/%ld", m->spec_allow_flag);
        report_add(c->r, PROFILE_VIOLATION, p,
                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW turns off the Speculative Store Bypass "
                   "mitigation for the container: profiles.requireDefaultDeny forbids it");
    }
}

/* forbiddenSyscalls: allowed unconditionally is a violation, only under conditions a
 * warning. A name no checked architecture knows cannot be called there: nothing to say. */
static void check_forbidden(dctx *c, const pmodel *m, const policy_list *forbidden,
                            const checked_arch *arches, size_t n)
{
    for (size_t f = 0; f < forbidden->count; f++) {
        const char *name = forbidden->items[f];
        bool callable = false;
        for (size_t a = 0; a < n; a++)
            callable |= known_on(&arches[a], name);
        if (!callable)
            continue;
        bool violated = false;
        char p[PTR_MAX];
        for (size_t i = 0; i < m->rule_count; i++) {
            const prule *r = &m->rules[i];
            size_t j;
            if (r->redundant || !r->allows || !names_syscall(r, name, &j))
                continue;
            rule_pointer(r, j, p);
            if (unconditional(r)) {
                report_add(c->r, PROFILE_VIOLATION, p,
                           "%s allows %s unconditionally: it is in profiles.forbiddenSyscalls",
                           r->action_name, name);
                violated = true;
            } else {
                report_add(
                    c->r, PROFILE_WARNING, p,
                    "%s allows %s %s: it is in profiles.forbiddenSyscalls", r->action_name, name,
                    r->caps_required ? "only to containers with the capabilities in includes.caps "
                                       "(to every container under containerd, which does not read "
                                       "includes)"
                                     : "for some argument values");
            }
        }
        if (violated || !m->default_allows)
            continue;
        if (!denied_by_rule(m, name)) {
            bool partly = false;
            for (size_t i = 0; i < m->rule_count; i++)
                partly |= !m->rules[i].redundant && !m->rules[i].allows &&
                          names_syscall(&m->rules[i], name, NULL);
            report_add(c->r, partly ? PROFILE_WARNING : PROFILE_VIOLATION, "/defaultAction",
                       partly ? "%s allows %s except where a rule's conditions deny it: it is "
                                "in profiles.forbiddenSyscalls"
                              : "%s allows %s (no rule denies it unconditionally): it is in "
                                "profiles.forbiddenSyscalls",
                       m->default_name, name);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Entry points: text and files
 * ------------------------------------------------------------------------------------------- */

void profile_check_text(const char *text, size_t len, const policy_profiles *cfg,
                        profile_report *out)
{
    size_t ws = 0;
    while (ws < len && strchr(" \t\r\n", text[ws]) && text[ws] != '\0')
        ws++;
    if (ws == len) {
        report_add(out, PROFILE_INVALID, NULL,
                   "is empty: a seccomp profile is a JSON object with at least defaultAction");
        return;
    }
    json_error jerr;
    cJSON *root = json_parse_strict(text, len, &jerr);
    if (!root) {
        if (jerr.out_of_memory)
            out->oom = true;
        else
            report_at(out, jerr.line, jerr.column, "not valid JSON: %s", jerr.message);
        return;
    }
    dctx c = {.r = out, .text = text, .len = len};
    pmodel m = {0};
    decode(&c, root, &m);
    if (out->worst < PROFILE_INVALID && !out->oom) {
        checked_arch arches[N_ARCHES];
        size_t n = checked_arches(cfg, arches, NULL);
        check_names(&c, &m, arches, n);
        build_filters(&c, &m, arches, n);
        if (out->worst < PROFILE_INVALID) {
            check_can_start(&c, &m, arches, n);
            if (!cfg || cfg->require_default_deny)
                check_default_deny(&c, &m);
            if (cfg)
                check_forbidden(&c, &m, &cfg->forbidden_syscalls, arches, n);
        }
    }
    model_free(&m);
    free(c.nums);
    cJSON_Delete(root);
}

int profile_rule_args(const char *text, size_t len, size_t index, struct scmp_arg_cmp *out,
                      size_t max)
{
    json_error jerr;
    cJSON *root = json_parse_strict(text, len, &jerr);
    if (!root)
        return -1;
    profile_report r = {0};
    dctx c = {.r = &r, .text = text, .len = len};
    pmodel m = {0};
    decode(&c, root, &m);
    int n = -1;
    if (r.worst < PROFILE_INVALID && !r.oom && index < m.rule_count) {
        const prule *pr = &m.rules[index];
        for (size_t k = 0; k < pr->arg_count && k < max; k++)
            out[k] = pr->args[k];
        n = (int)pr->arg_count;
    }
    model_free(&m);
    free(c.nums);
    cJSON_Delete(root);
    profile_report_free(&r);
    return n;
}

void profile_check_config(const policy_profiles *cfg, profile_report *out)
{
    checked_arch arches[N_ARCHES];
    size_t n = checked_arches(cfg, arches, out);
    for (size_t f = 0; cfg && f < cfg->forbidden_syscalls.count; f++) {
        const char *name = cfg->forbidden_syscalls.items[f];
        bool known = false;
        for (size_t a = 0; a < n; a++)
            known |= known_on(&arches[a], name);
        if (!known) {
            char list[256];
            report_add(out, PROFILE_WARNING, NULL,
                       "profiles.forbiddenSyscalls: %s is not a syscall this libseccomp knows "
                       "on %s: it can never be found allowed (misspelled?)",
                       name, arch_names(arches, n, NULL, list, sizeof list));
        }
    }
}

/* Describe a file type for "not a regular file". */
static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    return "not a regular file";
}

/* The identity of a file's content, as far as fstat(2) can tell. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} file_id;

static file_id id_of(const struct stat *st)
{
    return (file_id){st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim};
}

static bool id_equal(const file_id *a, const file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Open `path` for a profile read: never blocks (O_NONBLOCK: a FIFO opens at once and is
 * then refused by fstat), never becomes a controlling terminal, not inherited. */
static int open_profile(const char *path)
{
    return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

/* fstat `fd` and require a regular file of at most PROFILE_MAX_BYTES. Reports and returns
 * false otherwise. */
static bool stat_profile(int fd, struct stat *st, profile_report *r)
{
    char ebuf[96];
    if (fstat(fd, st) != 0) {
        report_add(r, PROFILE_INVALID, NULL, "cannot stat: %s",
                   strerror_r(errno, ebuf, sizeof ebuf));
        return false;
    }
    if (!S_ISREG(st->st_mode)) {
        report_add(r, PROFILE_INVALID, NULL, "is %s, not a regular file", file_kind(st->st_mode));
        return false;
    }
    if (st->st_size > (off_t)PROFILE_MAX_BYTES) {
        report_add(r, PROFILE_INVALID, NULL,
                   "is too large (%lld bytes): a profile is at most 1 MiB, and a bigger one is "
                   "not read",
                   (long long)st->st_size);
        return false;
    }
    return true;
}

/* Read `fd` to its end, at most PROFILE_MAX_BYTES (the file may have grown since fstat).
 * Returns a new buffer and its length, or NULL after reporting. */
static char *read_profile(int fd, size_t *len, profile_report *r)
{
    char ebuf[96];
    char *buf = malloc(PROFILE_MAX_BYTES + 1);
    if (!buf) {
        r->oom = true;
        return NULL;
    }
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, PROFILE_MAX_BYTES + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            report_add(r, PROFILE_INVALID, NULL, "cannot read: %s",
                       strerror_r(errno, ebuf, sizeof ebuf));
            free(buf);
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > PROFILE_MAX_BYTES) {
            report_add(r, PROFILE_INVALID, NULL,
                       "is too large (more than 1 MiB): a profile is at most 1 MiB");
            free(buf);
            return NULL;
        }
    }
    *len = n;
    return buf;
}

void profile_check_file(const char *path, const policy_profiles *cfg, profile_report *out)
{
    char ebuf[96];
    int fd = open_profile(path);
    if (fd < 0) {
        report_add(out, PROFILE_INVALID, NULL, "cannot open: %s",
                   strerror_r(errno, ebuf, sizeof ebuf));
        return;
    }
    struct stat st;
    size_t len = 0;
    char *buf = stat_profile(fd, &st, out) ? read_profile(fd, &len, out) : NULL;
    close(fd);
    if (buf)
        profile_check_text(buf, len, cfg, out);
    free(buf);
}

/* ---------------------------------------------------------------------------------------------
 * The cache
 *
 * An entry is trusted on fstat alone (same device, inode, size, mtime and ctime) only when the
 * file's times were at least RACY_NS older than the moment it was read: file timestamps are
 * coarse (a jiffy, or a whole second on some filesystems), so an edit that keeps the size
 * within one tick of the read would keep the old times (the "racily clean" problem of git's
 * index). Such a racy entry, and any entry whose identity changed, is verified by reading the
 * file and comparing a SHA-256 of its bytes: the same bytes cost a read and no parsing (a
 * ConfigMap update that swaps every file leaves the unchanged ones unparsed), other bytes are
 * checked again.
 * ------------------------------------------------------------------------------------------- */

#define CACHE_BUCKETS 128
#define RACY_NS       2000000000LL /* 2 s: coarser than any Linux filesystem's timestamps */

typedef struct cache_entry {
    struct cache_entry *next;
    char *path; /* relative to profiles.directory */
    file_id id;
    bool racy; /* the file's times were too recent when it was read: verify the bytes */
    unsigned char digest[32];
    profile_severity verdict;
    char *why;          /* the reason for a verdict >= PROFILE_VIOLATION, else NULL */
    unsigned long used; /* the tick of its last use, for eviction */
} cache_entry;

struct profile_cache {
    pthread_mutex_t lock;
    cache_entry *buckets[CACHE_BUCKETS];
    size_t count;
    unsigned long tick;
    unsigned long hits;
    unsigned long reads;
    unsigned long parses;
};

void profile_warm_up(void)
{
    /* One rule per action (rule actions that libseccomp probes: LOG, KILL_PROCESS, NOTIFY),
     * then an export: every probe libseccomp makes happens here, once per process. */
    static const char *const NAMES[] = {"read", "write", "close", "lseek", "mmap", "munmap"};
    static const uint32_t ACTS[] = {SCMP_ACT_LOG,  SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD,
                                    SCMP_ACT_TRAP, SCMP_ACT_TRACE(1),     SCMP_ACT_NOTIFY};
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(1));
    if (!ctx)
        return;
    for (size_t i = 0; i < sizeof ACTS / sizeof *ACTS; i++)
        seccomp_rule_add_array(ctx, ACTS[i], seccomp_syscall_resolve_name(NAMES[i]), 0, NULL);
    int fd = memfd_create("seccomp-webhook-warm-up", MFD_CLOEXEC);
    if (fd >= 0) {
        seccomp_export_bpf(ctx, fd);
        close(fd);
    }
    seccomp_release(ctx);
}

profile_cache *profile_cache_new(void)
{
    profile_warm_up();
    profile_cache *c = calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

static void entry_free(cache_entry *e)
{
    free(e->path);
    free(e->why);
    free(e);
}

void profile_cache_free(profile_cache *c)
{
    if (!c)
        return;
    for (size_t b = 0; b < CACHE_BUCKETS; b++) {
        cache_entry *e = c->buckets[b];
        while (e) {
            cache_entry *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void profile_cache_get_stats(profile_cache *c, profile_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    out->hits = c->hits;
    out->reads = c->reads;
    out->parses = c->parses;
    out->entries = c->count;
    pthread_mutex_unlock(&c->lock);
}

/* FNV-1a, for the bucket of a path. */
static size_t bucket_of(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % CACHE_BUCKETS;
}

/* The entry for `path`, or NULL; *link (when asked) is the pointer that holds it. Called with
 * the lock held. */
static cache_entry *cache_find(profile_cache *c, const char *path, cache_entry ***link)
{
    cache_entry **l = &c->buckets[bucket_of(path)];
    for (; *l; l = &(*l)->next)
        if (strcmp((*l)->path, path) == 0) {
            if (link)
                *link = l;
            return *l;
        }
    return NULL;
}

/* Forget the least recently used entry. Called with the lock held. */
static void cache_evict(profile_cache *c)
{
    cache_entry **oldest = NULL;
    for (size_t b = 0; b < CACHE_BUCKETS; b++)
        for (cache_entry **l = &c->buckets[b]; *l; l = &(*l)->next)
            if (!oldest || (*l)->used < (*oldest)->used)
                oldest = l;
    if (oldest) {
        cache_entry *e = *oldest;
        *oldest = e->next;
        entry_free(e);
        c->count--;
    }
}

/* Store (or replace) the verdict on `path`; `why` is copied. On allocation failure nothing is
 * stored (the next review checks the file again). */
static void cache_store(profile_cache *c, const char *path, const cache_entry *proto)
{
    cache_entry *e = malloc(sizeof *e);
    if (!e)
        return;
    *e = *proto;
    e->path = strdup(path);
    e->why = proto->why ? strdup(proto->why) : NULL;
    if (!e->path || (proto->why && !e->why)) {
        entry_free(e);
        return;
    }
    pthread_mutex_lock(&c->lock);
    cache_entry **link = NULL;
    cache_entry *old = cache_find(c, path, &link);
    if (old) {
        *link = old->next;
        entry_free(old);
        c->count--;
    }
    if (c->count >= PROFILE_CACHE_MAX)
        cache_evict(c);
    e->used = ++c->tick;
    size_t b = bucket_of(path);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->count++;
    pthread_mutex_unlock(&c->lock);
}

/* The reason for a refused verdict: the first problem of the worst severity, with how many
 * more there are. */
static char *reason_of(const profile_report *r)
{
    const profile_problem *first = NULL;
    size_t more = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i].severity != r->worst)
            continue;
        if (!first)
            first = &r->items[i];
        else
            more++;
    }
    if (!first)
        return NULL;
    char *line = profile_problem_format(NULL, first);
    if (!line)
        return NULL;
    /* A problem of the file as a whole reads on from the path ("is a FIFO, ..."). */
    bool whole_file =
        !first->pointer && !first->line &&
        (strncmp(first->message, "is ", 3) == 0 || strncmp(first->message, "cannot ", 7) == 0);
    strbuf sb = {0};
    if (!whole_file)
        sb_append(&sb, r->worst == PROFILE_INVALID ? "is not a valid seccomp profile: "
                                                   : "fails the profile checks: ");
    sb_append(&sb, line);
    if (more)
        sb_printf(&sb, " (and %zu more problem%s: seccomp-webhook lint-profile lists them)", more,
                  more == 1 ? "" : "s");
    free(line);
    return sb_take(&sb);
}

/* The verdict a report gives: its worst severity, with the reason when it refuses; -1 when
 * out of memory. */
static int verdict_of(const profile_report *r, char **why)
{
    if (r->oom)
        return -1;
    if (r->worst < PROFILE_VIOLATION)
        return (int)r->worst;
    *why = reason_of(r);
    return *why ? (int)r->worst : -1;
}

static long long ns_of(struct timespec t)
{
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Whether a file of identity `id`, read at `read_at`, changed too recently for its times to
 * tell a later same-size edit apart. */
static bool is_racy(const file_id *id, struct timespec read_at)
{
    long long newest = ns_of(id->mtime) > ns_of(id->ctime) ? ns_of(id->mtime) : ns_of(id->ctime);
    return newest + RACY_NS > ns_of(read_at);
}

/* A hit: the entry's verdict (and a copy of its reason). Called with the lock held. */
static int use_entry(profile_cache *c, cache_entry *e, char **why)
{
    e->used = ++c->tick;
    c->hits++;
    if (e->why && !(*why = strdup(e->why)))
        return -1;
    return (int)e->verdict;
}

/* Judge the opened file `fd` (relpath under the directory), through the cache when there is
 * one. */
static int judge_fd(profile_cache *c, const policy_profiles *cfg, const char *relpath, int fd,
                    profile_report *r, char **why)
{
    struct stat st;
    if (!stat_profile(fd, &st, r))
        return verdict_of(r, why);
    file_id id = id_of(&st);
    int result = 0;
    bool hit = false;
    if (c) {
        pthread_mutex_lock(&c->lock);
        cache_entry *e = cache_find(c, relpath, NULL);
        if (e && !e->racy && id_equal(&e->id, &id)) {
            hit = true;
            result = use_entry(c, e, why);
        }
        pthread_mutex_unlock(&c->lock);
        if (hit)
            return result;
    }
    struct timespec read_at;
    clock_gettime(CLOCK_REALTIME, &read_at);
    size_t len = 0;
    char *buf = read_profile(fd, &len, r);
    if (!buf)
        return verdict_of(r, why);
    cache_entry fresh = {.id = id, .racy = is_racy(&id, read_at)};
    unsigned int dlen = 0;
    bool digested = EVP_Digest(buf, len, fresh.digest, &dlen, EVP_sha256(), NULL) && dlen == 32;
    if (!digested)
        ERR_clear_error(); /* the queue is per thread: leave nothing for a later reader */
    /* Cache only what was read from a file that did not change while it was read. */
    struct stat after;
    file_id id2;
    bool steady = fstat(fd, &after) == 0 && (id2 = id_of(&after), id_equal(&id, &id2));
    if (c) {
        pthread_mutex_lock(&c->lock);
        c->reads++;
        cache_entry *e = digested ? cache_find(c, relpath, NULL) : NULL;
        if (e && memcmp(e->digest, fresh.digest, sizeof fresh.digest) == 0) {
            hit = true;
            result = use_entry(c, e, why);
            if (steady) {
                e->id = id;
                e->racy = fresh.racy;
            }
        }
        pthread_mutex_unlock(&c->lock);
        if (hit) {
            free(buf);
            return result;
        }
    }
    profile_check_text(buf, len, cfg, r);
    free(buf);
    result = verdict_of(r, why);
    if (!c)
        return result;
    pthread_mutex_lock(&c->lock);
    c->parses++;
    pthread_mutex_unlock(&c->lock);
    if (result >= 0 && digested && steady) {
        fresh.verdict = (profile_severity)result;
        fresh.why = *why;
        cache_store(c, relpath, &fresh);
    }
    return result;
}

int profile_cache_judge(profile_cache *c, const policy_profiles *cfg, const char *relpath,
                        char **why)
{
    *why = NULL;
    strbuf sb = {0};
    const char *dir = cfg->directory ? cfg->directory : ".";
    sb_append(&sb, dir);
    if (!dir[0] || dir[strlen(dir) - 1] != '/')
        sb_append(&sb, "/");
    sb_append(&sb, relpath);
    char *full = sb_take(&sb);
    if (!full)
        return -1;
    int fd = open_profile(full);
    int err = errno;
    free(full);
    if (fd < 0) {
        char ebuf[96];
        if (err == ENOENT || err == ENOTDIR)
            sb_printf(&sb, "does not exist in profiles.directory (%s)", dir);
        else
            sb_printf(&sb, "cannot be opened: %s", strerror_r(err, ebuf, sizeof ebuf));
        *why = sb_take(&sb);
        return *why ? PROFILE_INVALID : -1;
    }
    profile_report r = {0};
    int result = judge_fd(c, cfg, relpath, fd, &r, why);
    close(fd);
    profile_report_free(&r);
    return result;
}
