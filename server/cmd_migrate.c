/*
 * cmd_migrate.c — `seccomp-webhook migrate [--config FILE] [--namespace NS] [--check | -i]
 * FILE...|-`: the mutating webhook's changes, made to manifests in git before they reach a
 * cluster (SPEC §3, issue 7).
 *
 * Each object goes through engine_review() as a CREATE on /mutate, under the policy with
 * `mutateTemplates` forced on (manifest_migrate_policy()), and its patch becomes edits of the
 * file's text (manifest_plan_patch()). Before anything is written, the edited text is read
 * again and every object in it must equal what the engine's patch gives (d.patched), or
 * the input where there was no patch: a file is written right or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "manifest.h"
#include "policy.h"

#define MIGRATE_MAX_INPUT (64u << 20)

static const char migrate_usage[] =
    "usage: seccomp-webhook migrate [--config FILE] [--namespace NS] [--check | -i] FILE...|-\n"
    "\n"
    "Read Kubernetes manifests (multi-document YAML, JSON, List objects) and write them back\n"
    "with the webhook's mutations applied: alpha seccomp annotations moved into\n"
    "securityContext.seccompProfile, the policy's default profile set where a pod would run\n"
    "without one — on Pods and on the pod templates of every workload kind, whatever\n"
    "mutateTemplates says. Only the changed lines differ: comments, quoting, block scalars,\n"
    "anchors and key order stay exactly as written. Documents without a kind pass through.\n"
    "\n"
    "  --config FILE    the policy file (default: the built-in policy)\n"
    "  --namespace NS   the namespace of objects that carry none (default: default)\n"
    "  --check          change nothing; print each object that would change, and why\n"
    "                   (the edits are made and checked in memory: what -i would refuse,\n"
    "                   --check refuses too)\n"
    "  -i               edit the files in place (a temporary file renamed over each)\n"
    "\n"
    "Without -i the result goes to standard output; several files make one YAML stream, each\n"
    "file after a --- line (JSON is YAML: kubectl, this command and `audit` read it back).\n"
    "Example: seccomp-webhook migrate --check deploy/*.yaml && echo nothing to migrate\n"
    "Exit 0 done (--check: nothing would change), 1 (--check) something would change,\n"
    "2 usage or input error (FILE:LINE:COLUMN for YAML and JSON errors).\n";

#define ME "seccomp-webhook migrate"

/* One input file and what became of it. */
typedef struct {
    const char *path;
    char *text;
    size_t len;
    char *out; /* the migrated text, or NULL when nothing changed */
    size_t out_len;
    manifest_format format;
} migrate_file;

typedef struct {
    const policy *pol;
    const char *namespace_;
    bool check;
    size_t would_change; /* objects */
} migrate_run;

static void print_error(const char *path, const manifest_error *err, const char *label)
{
    if (err->line)
        fprintf(stderr, "%s:%u:%u: ", path, err->line, err->column);
    else
        fprintf(stderr, "%s: ", path);
    if (label)
        fprintf(stderr, "%s: ", label);
    fprintf(stderr, "%s\n", err->message);
}

/* "add /spec/securityContext {...}; remove ..." for --check, after what `sb` holds. */
static void describe_ops(strbuf *sb, const cJSON *patch)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, patch)
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "op"));
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "path"));
        if (sb->len)
            sb_append(sb, "; ");
        sb_append(sb, kind ? kind : "?");
        sb_append(sb, " ");
        sb_append_escaped(sb, path ? path : "?");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, "value");
        if (v) {
            char *t = cJSON_PrintUnformatted(v);
            sb_append(sb, " ");
            sb_append_escaped(sb, t ? t : "?");
            free(t);
        }
    }
}

/* The edited text must read back as the migrated objects: the same objects, in the same
 * order, each equal to the engine's patched object (or to the input when it had no patch). */
static int verify(const migrate_file *f, const manifest_objects *before, cJSON **expected,
                  const char *ns)
{
    manifest m2;
    manifest_error err;
    manifest_objects after = {0};
    int rc = -1;
    if (manifest_parse(f->out, f->out_len, &m2, &err) < 0) {
        print_error(f->path, &err, "the edited text does not parse (a bug: please report)");
        goto out;
    }
    if (manifest_find_objects(&m2, &after) < 0) {
        fprintf(stderr, ME ": out of memory\n");
        goto out;
    }
    if (after.count != before->count) {
        fprintf(stderr, "%s: the edited text holds %zu objects, not %zu (a bug: please report)\n",
                f->path, after.count, before->count);
        goto out;
    }
    for (size_t i = 0; i < after.count; i++) {
        const cJSON *want = expected[i] ? expected[i] : before->items[i].object;
        if (!cJSON_Compare(want, after.items[i].object, true)) {
            strbuf sb = {0};
            manifest_object_label(&sb, &before->items[i], ns);
            fprintf(stderr,
                    "%s: %s: the edited text would not read back as the migrated object (an "
                    "anchor or alias shared with another place?); nothing written: edit this "
                    "object by hand\n",
                    f->path, sb.data ? sb.data : "?");
            sb_free(&sb);
            goto out;
        }
    }
    rc = 0;
out:
    manifest_objects_free(&after);
    manifest_free(&m2);
    return rc;
}

/* Migrate one file into f->out (or, with --check, report). Returns 0, or 2 on an error
 * already printed. */
static int migrate_one(migrate_run *run, migrate_file *f)
{
    f->text = manifest_read_file(f->path, MIGRATE_MAX_INPUT, &f->len);
    if (!f->text) {
        fprintf(stderr, ME ": %s: %s\n", f->path,
                errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
        return 2;
    }
    manifest m;
    manifest_error err;
    manifest_objects objs = {0};
    manifest_edits edits = {0};
    strlist notes = {0};
    cJSON **expected = NULL;
    int status = 2;
    if (manifest_parse(f->text, f->len, &m, &err) < 0) {
        print_error(f->path, &err, NULL);
        goto out;
    }
    f->format = m.format;
    if (manifest_find_objects(&m, &objs) < 0 ||
        !(expected = calloc(objs.count ? objs.count : 1, sizeof *expected))) {
        fprintf(stderr, ME ": out of memory\n");
        goto out;
    }
    size_t changed = 0;
    for (size_t i = 0; i < objs.count; i++) {
        const manifest_object *o = &objs.items[i];
        engine_request req;
        engine_decision d = {0};
        manifest_request(o, run->namespace_, &req);
        if (engine_review(run->pol, ENGINE_MUTATE, &req, &d) < 0) {
            fprintf(stderr, ME ": out of memory\n");
            goto out;
        }
        strbuf label = {0};
        manifest_object_label(&label, o, run->namespace_);
        const char *lab = label.data ? label.data : "?";
        if (d.patch && run->check) {
            strbuf why = {0};
            for (size_t w = 0; w < d.warning_count; w++)
                sb_printf(&why, "%s%s", w ? "; " : "", d.warnings[w]);
            describe_ops(&why, d.patch);
            printf("%s: %s: %s\n", f->path, lab, why.data ? why.data : "out of memory");
            sb_free(&why);
        } else {
            for (size_t w = 0; w < d.warning_count; w++)
                fprintf(stderr, "%s: %s: %s%s\n", f->path, lab,
                        d.patch ? "" : "note: ", d.warnings[w]);
        }
        int rc = 0;
        /* --check plans and verifies the edits too: it fails where migrate would. */
        if (d.patch) {
            changed++;
            rc = manifest_plan_patch(&m, &m.docs[o->doc], o->node, d.patch, &edits, &notes, &err);
            if (rc < 0)
                print_error(f->path, &err, lab);
            expected[i] = d.patched;
            d.patched = NULL;
        }
        sb_free(&label);
        engine_decision_free(&d);
        if (rc < 0)
            goto out;
    }
    for (size_t i = 0; i < notes.count; i++)
        fprintf(stderr, "%s:%s\n", f->path, notes.items[i]);
    run->would_change += changed;
    if (edits.count > 0) {
        f->out = manifest_apply_edits(&m, &edits, &f->out_len, &err);
        if (!f->out) {
            print_error(f->path, &err, NULL);
            goto out;
        }
        if (verify(f, &objs, expected, run->namespace_) < 0) {
            free(f->out);
            f->out = NULL;
            goto out;
        }
    }
    status = 0;
out:
    for (size_t i = 0; expected && i < objs.count; i++)
        cJSON_Delete(expected[i]);
    free(expected);
    strlist_free(&notes);
    manifest_edits_free(&edits);
    manifest_objects_free(&objs);
    manifest_free(&m);
    return status;
}

/* Replace `path` with `data` atomically: a temporary file in the same directory (so rename(2)
 * stays within one file system), written, given the old file's mode, fsync'd, and renamed
 * over the original — a reader sees the old file or the new one, never half of one. A
 * symbolic link is followed: the file it points to is replaced, the link stays. */
static int write_in_place(const char *path, const char *data, size_t len)
{
    char *real = realpath(path, NULL);
    if (!real) {
        fprintf(stderr, ME ": %s: %s\n", path, strerror(errno));
        return 2;
    }
    struct stat st;
    char *dircopy = strdup(real), *basecopy = strdup(real);
    char *tmp = NULL;
    int fd = -1, rc = 2;
    if (!dircopy || !basecopy || stat(real, &st) != 0) {
        fprintf(stderr, ME ": %s: %s\n", path, strerror(errno ? errno : ENOMEM));
        goto out;
    }
    const char *dir = dirname(dircopy);
    const char *base = basename(basecopy);
    if (asprintf(&tmp, "%s/.%s.migrate-XXXXXX", dir, base) < 0) {
        tmp = NULL;
        fprintf(stderr, ME ": out of memory\n");
        goto out;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, ME ": %s: cannot create a temporary file in %s: %s\n", path, dir,
                strerror(errno));
        goto out;
    }
    bool ok = fchmod(fd, st.st_mode & 07777) == 0;
    /* Keep the owner too where we may (as root); otherwise the file becomes ours. */
    if (ok && fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)
        ok = false;
    for (size_t off = 0; ok && off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        off += ok ? (size_t)n : 0;
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    fd = -1;
    if (!ok || rename(tmp, real) != 0) {
        if (ok)
            saved = errno;
        fprintf(stderr, ME ": %s: cannot write: %s (the file is unchanged)\n", path,
                strerror(saved));
        unlink(tmp);
        goto out;
    }
    /* Make the rename itself durable. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    free(dircopy);
    free(basecopy);
    free(real);
    return rc;
}

/* What standard output gets before file `i` of `n` is written (`t`, `len`: what is written of
 * it), so that several files read as one YAML stream, each file one or more documents (JSON
 * is YAML): "---" before each file after the first, and before a first file in JSON too, since
 * `kubectl apply -f -` reads a stream that starts with '{' as JSON only. A file whose first line
 * after blank and comment lines is "---" needs none; one whose first such line is a directive
 * ("%YAML") gets "..." instead, which ends the document before it, since a directive cannot
 * follow "---". One file is written as it is. Returns a string literal. */
static const char *separator_before(const migrate_file *files, size_t n, size_t i, const char *t,
                                    size_t len)
{
    if (n == 1 || (i == 0 && files[0].format == MANIFEST_YAML))
        return "";
    size_t p = 0; /* the first line that is not blank nor a comment */
    for (;;) {
        size_t q = p;
        while (q < len && (t[q] == ' ' || t[q] == '\t'))
            q++;
        if (q < len && t[q] != '\n' && t[q] != '\r' && t[q] != '#')
            break;
        const char *nl = memchr(t + p, '\n', len - p);
        if (!nl) {
            p = len;
            break;
        }
        p = (size_t)(nl - t) + 1;
    }
    if (len - p >= 3 && memcmp(t + p, "---", 3) == 0 &&
        (len - p == 3 || strchr(" \t\r\n", t[p + 3])))
        return "";
    if (p < len && t[p] == '%')
        return i == 0 ? "" : "...\n";
    return "---\n";
}

int cmd_migrate(int argc, char **argv)
{
    const char *config = NULL, *ns = "default";
    bool check = false, in_place = false, options = true;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    size_t npaths = 0;
    if (!paths) {
        fprintf(stderr, ME ": out of memory\n");
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(migrate_usage, stdout);
            free(paths);
            return 0;
        } else if (options && strcmp(a, "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (options && strcmp(a, "--namespace") == 0 && i + 1 < argc) {
            ns = argv[++i];
        } else if (options && strcmp(a, "--check") == 0) {
            check = true;
        } else if (options && strcmp(a, "-i") == 0) {
            in_place = true;
        } else if (options && strcmp(a, "--") == 0) {
            options = false;
        } else if (options && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, ME ": unknown or incomplete option %s (see --help)\n", a);
            status = 2;
        } else {
            paths[npaths++] = a;
        }
    }
    if (status == 0 && npaths == 0) {
        fprintf(stderr, ME ": no FILE given (use - for standard input; see --help)\n");
        status = 2;
    }
    if (status == 0 && check && in_place) {
        fprintf(stderr, ME ": --check and -i exclude each other\n");
        status = 2;
    }
    for (size_t i = 0; status == 0 && in_place && i < npaths; i++)
        if (strcmp(paths[i], "-") == 0) {
            fprintf(stderr, ME ": -i cannot edit standard input in place\n");
            status = 2;
        }
    if (!ns[0]) {
        fprintf(stderr, ME ": --namespace must not be empty\n");
        status = 2;
    }
    policy *pol = status == 0 ? cli_load_policy(config, "migrate") : NULL;
    if (status == 0 && !pol)
        status = 2;
    if (status != 0) {
        free(paths);
        policy_free(pol);
        return status;
    }
    manifest_migrate_policy(pol);

    migrate_run run = {pol, ns, check, 0};
    migrate_file *files = calloc(npaths, sizeof *files);
    if (!files) {
        fprintf(stderr, ME ": out of memory\n");
        status = 2;
    }
    /* Every file is read, migrated and checked before any is written: an error in one
     * leaves standard output empty and every file as it was. */
    for (size_t i = 0; files && i < npaths; i++) {
        files[i].path = paths[i];
        if (migrate_one(&run, &files[i]) != 0)
            status = 2;
    }
    if (status == 0 && !check) {
        for (size_t i = 0; i < npaths; i++) {
            migrate_file *f = &files[i];
            const char *t = f->out ? f->out : f->text;
            size_t n = f->out ? f->out_len : f->len;
            if (in_place) {
                if (f->out && write_in_place(f->path, f->out, f->out_len) != 0)
                    status = 2;
                continue;
            }
            /* In one stream of several files, a byte-order mark could only come first. */
            if (npaths > 1 && n >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0) {
                t += 3;
                n -= 3;
            }
            fputs(separator_before(files, npaths, i, t, n), stdout);
            fwrite(t, 1, n, stdout);
            if (i + 1 < npaths && n > 0 && t[n - 1] != '\n')
                fputs("\n", stdout);
        }
        if (!in_place && fflush(stdout) != 0) {
            fprintf(stderr, ME ": cannot write to standard output: %s\n", strerror(errno));
            status = 2;
        }
    }
    if (status == 0 && check)
        status = run.would_change > 0 ? 1 : 0;
    for (size_t i = 0; files && i < npaths; i++) {
        free(files[i].text);
        free(files[i].out);
    }
    free(files);
    free(paths);
    policy_free(pol);
    return status;
}
