#!/usr/bin/python3
"""
test_migrate.py — `migrate` and `audit`, end to end (SPEC §3, issue 7).

`migrate` runs on tests/fixtures/manifests/shop.yaml, a multi-document file as people keep
them in git: Deployments with alpha seccomp annotations at pod and container level, a CronJob
with no profile at all, a StatefulSet, a Service, a ConfigMap whose data holds a YAML string
with seccomp annotation text (data, to be left alone), comments, quoted, literal and folded
scalars, and an anchor with its alias. The test checks that

  - the output differs from the input in exactly the expected hunks (difflib, line by line:
    the removed annotation lines, the inserted seccompProfile lines, `annotations: {}`);
  - the output, read with python3-yaml, is the object the engine's patch gives: each input
    document (read with python3-yaml too) goes to `seccomp-webhook review --endpoint mutate`
    in an AdmissionReview, and the returned patch is applied with python3-jsonpatch;
  - `migrate --check` exits 1 on the input (one line per object, the file untouched) and 0 on
    the output; migrating the output again changes nothing;
  - `-i` edits a copy in place (same mode, through a symlink, no temporary file left) and
    leaves a file it cannot migrate exactly as it was;
  - JSON (`kubectl get -o json` output: tests/fixtures/manifests/cluster.json) stays JSON
    with kubectl's layout, and syntax errors give FILE:LINE:COLUMN and exit 2.

`audit` runs on cluster.json (Pods and Deployments from several namespaces, one exempt):
table and JSON output, the summary line, exit codes, --namespace for objects without one.

Only Debian's python3 with python3-yaml and python3-jsonpatch. The last line is
`N passed, M failed`; the exit status is 1 on any failure.
"""

import argparse
import base64
import copy
import difflib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid

import jsonpatch
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures", "manifests")
SHOP = os.path.join(FIXTURES, "shop.yaml")
CLUSTER = os.path.join(FIXTURES, "cluster.json")

# `migrate` mutates templates of every workload kind: the same as a policy that says so.
TEMPLATES_POLICY = """apiVersion: seccomp-webhook/v1
kind: SeccompPolicy
defaults:
  mutateTemplates: true
exemptions:
  namespaces: ["kube-system"]
"""

ALLOW_PROFILES_POLICY = """apiVersion: seccomp-webhook/v1
kind: SeccompPolicy
defaults:
  allowedLocalhostProfiles: ["profiles/*.json"]
exemptions:
  namespaces: ["kube-system"]
"""

# The hunks migrating shop.yaml makes, as (first input line, lines removed, lines added):
# for an insertion, the input line it goes before.
SHOP_HUNKS = [
    (27, [
        "        seccomp.security.alpha.kubernetes.io/pod: runtime/default",
        "        container.seccomp.security.alpha.kubernetes.io/envoy: "
        "'localhost/profiles/envoy.json'",
    ], []),
    (50, [], [
        "            seccompProfile:",
        "              type: Localhost",
        "              localhostProfile: profiles/envoy.json",
        "      securityContext:",
        "        seccompProfile:",
        "          type: RuntimeDefault",
    ]),
    (100, [], [
        "          securityContext:",
        "            seccompProfile:",
        "              type: RuntimeDefault",
    ]),
    (113, [
        "      annotations:",
        "        container.seccomp.security.alpha.kubernetes.io/redis: docker/default",
    ], [
        "      annotations: {}",
    ]),
    (122, [], [
        "        securityContext:",
        "          seccompProfile:",
        "            type: RuntimeDefault",
    ]),
]

CLUSTER_HUNKS = [
    (56, [
        '                "annotations": {',
        '                    "seccomp.security.alpha.kubernetes.io/pod": "runtime/default"',
        '                },',
    ], [
        '                "annotations": {},',
    ]),
    (68, [
        '                ]',
    ], [
        '                ],',
        '                "securityContext": {',
        '                    "seccompProfile": {',
        '                        "type": "RuntimeDefault"',
        '                    }',
        '                }',
    ]),
    (187, [
        '                        "annotations": {',
        '                            "container.seccomp.security.alpha.kubernetes.io/runner": '
        '"unconfined"',
        '                        },',
    ], [
        '                        "annotations": {},',
    ]),
    (198, [
        '                                "name": "runner"',
    ], [
        '                                "name": "runner",',
        '                                "securityContext": {',
        '                                    "seccompProfile": {',
        '                                        "type": "Unconfined"',
        '                                    }',
        '                                }',
    ]),
]

# What `audit` finds in cluster.json with the built-in policy: (object, container, field path,
# rule). kube-system is exempt; the compliant Pod and Deployment have nothing.
CLUSTER_VIOLATIONS = [
    ("Pod shop/legacy-worker", "worker",
     "spec.containers[0].securityContext.seccompProfile", "no-profile"),
    ("Pod team-b/netdebug", "shell",
     "spec.containers[0].securityContext.seccompProfile.type", "unconfined"),
    ("Pod team-b/netdebug", "cni", "spec.containers[1].securityContext.privileged", "privileged"),
    ("Deployment team-b/batch-runner", "runner",
     "spec.template.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/runner]",
     "unconfined"),
]
CLUSTER_SUMMARY = "6 objects, 4 violations in 3 objects, 2 objects that migrate would change"


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------

class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS %s" % name, flush=True)
        else:
            self.failed += 1
            print("FAIL %s%s" % (name, (": " + detail) if detail else ""), flush=True)
        return ok


R = Results()


def run(binary, *args, stdin=None, cwd=None):
    p = subprocess.run([binary] + list(args), input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, cwd=cwd)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def read(path):
    with open(path, "rb") as f:
        return f.read().decode()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def hunks(before, after):
    """The differing line ranges, as (first input line, removed, added)."""
    a = before.splitlines()
    b = after.splitlines()
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append((i1 + 1, a[i1:i2], b[j1:j2]))
    return out


def show_hunks(hs):
    return "\n".join("@%d -%r +%r" % h for h in hs)


# ------------------------------------------------------------------------------------------------
# The engine's own answer, through `review`
# ------------------------------------------------------------------------------------------------

def engine_patched(binary, policy_path, obj, namespace="default"):
    """The object as the engine's /mutate patch leaves it (a CREATE), via `review`."""
    api = obj.get("apiVersion", "")
    group, _, version = api.rpartition("/")
    ns = (obj.get("metadata") or {}).get("namespace") or namespace
    review = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": group, "version": version, "kind": obj["kind"]},
            "resource": {"group": group, "version": version, "resource": "x"},
            "operation": "CREATE",
            "namespace": ns,
            "name": (obj.get("metadata") or {}).get("name", ""),
            "userInfo": {"username": "migrate-test"},
            "object": obj,
        },
    }
    rc, out, err = run(binary, "review", "--endpoint", "mutate", "--config", policy_path, "-",
                       stdin=json.dumps(review).encode())
    if rc != 0:
        raise RuntimeError("review failed (%d): %s" % (rc, err))
    resp = json.loads(out)["response"]
    if "patch" not in resp:
        return obj, False
    patch = json.loads(base64.b64decode(resp["patch"]))
    return jsonpatch.apply_patch(copy.deepcopy(obj), patch), True


def expected_objects(binary, policy_path, docs):
    """Each document as migrate should leave it: List items one by one."""
    out = []
    for d in docs:
        if not isinstance(d, dict) or "kind" not in d:
            out.append(d)
        elif d["kind"] == "List":
            d = copy.deepcopy(d)
            d["items"] = [engine_patched(binary, policy_path, it)[0] for it in d["items"]]
            out.append(d)
        else:
            out.append(engine_patched(binary, policy_path, d)[0])
    return out


# ------------------------------------------------------------------------------------------------
# migrate
# ------------------------------------------------------------------------------------------------

def test_migrate_yaml(binary, tmp):
    policy_path = os.path.join(tmp, "templates.yaml")
    write(policy_path, TEMPLATES_POLICY)
    before = read(SHOP)
    rc, out, err = run(binary, "migrate", SHOP)
    R.check("migrate shop.yaml exits 0", rc == 0, err)
    got = hunks(before, out)
    R.check("migrate changes exactly the expected hunks", got == SHOP_HUNKS,
            "got:\n" + show_hunks(got))
    R.check("migrate reports each migrated annotation on stderr",
            err.count("moved alpha seccomp annotation") == 3, err)

    docs_in = list(yaml.safe_load_all(before))
    try:
        docs_out = list(yaml.safe_load_all(out))
    except yaml.YAMLError as e:
        R.check("the output is valid YAML", False, str(e))
        return out
    R.check("the output has the same documents", len(docs_out) == len(docs_in),
            "%d vs %d" % (len(docs_out), len(docs_in)))
    want = expected_objects(binary, policy_path, docs_in)
    for i, (w, g) in enumerate(zip(want, docs_out)):
        name = "%s %s" % (w.get("kind"), (w.get("metadata") or {}).get("name")) \
            if isinstance(w, dict) else "document %d" % i
        R.check("output document %d (%s) equals the engine's patched object" % (i, name), w == g,
                "want %s\n got %s" % (json.dumps(w, sort_keys=True), json.dumps(g, sort_keys=True)))
    configmap = docs_out[2]
    R.check("the ConfigMap's YAML string with seccomp text is untouched",
            configmap["data"] == docs_in[2]["data"] and
            "seccomp.security.alpha.kubernetes.io/pod: runtime/default" in
            configmap["data"]["pod.yaml"])

    rc, out2, err2 = run(binary, "migrate", "--check", SHOP)
    lines = out2.splitlines()
    R.check("--check on the input exits 1", rc == 1, err2)
    R.check("--check prints one line per object that would change", len(lines) == 3, out2)
    R.check("--check lines name file, object and why",
            len(lines) == 3 and
            lines[0].startswith(SHOP + ": Deployment shop/storefront: pod: moved alpha seccomp "
                                "annotation \"runtime/default\"") and
            "remove /spec/template/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod"
            in lines[0] and
            lines[1].startswith(SHOP + ": CronJob shop/nightly-report: add "
                                "/spec/jobTemplate/spec/template/spec/securityContext") and
            lines[2].startswith(SHOP + ": StatefulSet shop/cache: container \"redis\""), out2)
    R.check("--check leaves the input untouched", read(SHOP) == before)

    migrated = os.path.join(tmp, "shop-migrated.yaml")
    write(migrated, out)
    rc, out3, err3 = run(binary, "migrate", "--check", migrated)
    R.check("--check on the output exits 0 and prints nothing", rc == 0 and out3 == "",
            "rc %d: %s %s" % (rc, out3, err3))
    rc, out4, _ = run(binary, "migrate", migrated)
    R.check("migrating the output again changes nothing", rc == 0 and out4 == out)

    rc, out5, _ = run(binary, "migrate", "-", stdin=before.encode())
    R.check("migrate - reads standard input", rc == 0 and out5 == out)

    # Several files: concatenated, YAML ones separated by ---.
    rc, out6, _ = run(binary, "migrate", SHOP, migrated)
    R.check("several files are written one after the other",
            rc == 0 and out6 == out + "---\n" + out, out6[-200:])

    # After migration with a policy that allows the envoy profile, audit finds nothing.
    allow = os.path.join(tmp, "allow.yaml")
    write(allow, ALLOW_PROFILES_POLICY)
    rc, out7, err7 = run(binary, "audit", "--config", allow, migrated)
    R.check("audit of the migrated file finds no violation", rc == 0 and
            out7.strip() == "6 objects, 0 violations in 0 objects, "
                            "0 objects that migrate would change", out7 + err7)
    rc, out8, _ = run(binary, "audit", "--config", allow, SHOP)
    R.check("audit of the input counts the objects migrate would change",
            rc == 0 and "3 objects that migrate would change" in out8, out8)
    return out


def test_migrate_in_place(binary, tmp, expected):
    d = os.path.join(tmp, "inplace")
    os.mkdir(d)
    target = os.path.join(d, "shop.yaml")
    shutil.copyfile(SHOP, target)
    os.chmod(target, 0o640)
    link = os.path.join(d, "link.yaml")
    os.symlink("shop.yaml", link)
    rc, out, err = run(binary, "migrate", "-i", link)
    R.check("-i exits 0 and prints nothing on stdout", rc == 0 and out == "", err)
    R.check("-i writes the migrated text", read(target) == expected)
    R.check("-i keeps the file's mode", stat.S_IMODE(os.stat(target).st_mode) == 0o640,
            oct(os.stat(target).st_mode))
    R.check("-i through a symlink keeps the link", os.path.islink(link))
    R.check("-i leaves no temporary file", sorted(os.listdir(d)) == ["link.yaml", "shop.yaml"],
            str(os.listdir(d)))
    mtime = os.stat(target).st_mtime_ns
    rc, _, _ = run(binary, "migrate", "-i", target)
    R.check("-i on a migrated file rewrites nothing",
            rc == 0 and os.stat(target).st_mtime_ns == mtime)

    # An annotation mapping shared through an alias cannot be edited safely: the file stays.
    shared = os.path.join(d, "shared.yaml")
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: one\n"
            "    annotations: &ann\n"
            "      seccomp.security.alpha.kubernetes.io/pod: runtime/default\n"
            "  spec:\n    containers: [{name: a, image: b}]\n"
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: two\n"
            "    annotations: *ann\n"
            "  spec:\n    containers: [{name: a, image: b}]\n")
    write(shared, text)
    rc, out, err = run(binary, "migrate", "-i", shared, target)
    R.check("-i refuses a file it cannot edit safely (exit 2, FILE:LINE:COL)",
            rc == 2 and re.search(re.escape(shared) + r":8:5: Pod default/one: ", err) is not None,
            err)
    R.check("-i leaves that file and the others untouched",
            read(shared) == text and os.stat(target).st_mtime_ns == mtime and
            sorted(os.listdir(d)) == ["link.yaml", "shared.yaml", "shop.yaml"])

    rc, _, err = run(binary, "migrate", "--check", shared)
    R.check("--check fails (exit 2) where -i would", rc == 2 and ":8:5: " in err, err)

    rc, _, err = run(binary, "migrate", "-i", "-")
    R.check("-i with standard input is a usage error", rc == 2, err)
    rc, _, err = run(binary, "migrate", "--check", "-i", target)
    R.check("--check with -i is a usage error", rc == 2, err)


def test_migrate_json(binary, tmp):
    policy_path = os.path.join(tmp, "templates.yaml")
    before = read(CLUSTER)
    rc, out, err = run(binary, "migrate", CLUSTER)
    R.check("migrate cluster.json exits 0", rc == 0, err)
    got = hunks(before, out)
    R.check("JSON keeps kubectl's layout: exactly the expected hunks", got == CLUSTER_HUNKS,
            "got:\n" + show_hunks(got))
    try:
        doc_out = json.loads(out)
    except ValueError as e:
        R.check("the JSON output parses", False, str(e))
        return
    want = expected_objects(binary, policy_path, [json.loads(before)])[0]
    R.check("the JSON output equals the engine's patched objects", doc_out == want)
    R.check("JSON key order is kept",
            list(doc_out["items"][1]["metadata"].keys()) == ["annotations", "name", "namespace"])

    # Several files, YAML and JSON in any order, or JSON only: one YAML stream, "---" before
    # every file but a first YAML one, that python3-yaml, migrate and audit all read back.
    shop_docs = list(yaml.safe_load_all(read(SHOP)))
    for files, first in (([SHOP, CLUSTER], "# Shop"), ([CLUSTER, SHOP], "---\n{"),
                         ([CLUSTER, CLUSTER], "---\n{")):
        name = " + ".join(os.path.basename(f) for f in files)
        rc, mixed, err = run(binary, "migrate", *files)
        try:
            docs = list(yaml.safe_load_all(mixed))
        except yaml.YAMLError as e:
            docs = None
            err = str(e)
        want_count = sum(len(shop_docs) if f == SHOP else 1 for f in files)
        R.check("migrate %s: one YAML stream of %d documents, starting %r" %
                (name, want_count, first),
                rc == 0 and docs is not None and len(docs) == want_count and
                mixed.startswith(first) and
                all(d == doc_out for d, f in zip(docs[-1:], files[-1:]) if f == CLUSTER),
                mixed[:200] if docs is not None else err)
        stream = os.path.join(tmp, "stream.yaml")
        write(stream, mixed)
        rc, out2, err2 = run(binary, "migrate", "--check", stream)
        R.check("migrate --check reads that stream back: nothing left to change",
                rc == 0 and out2 == "", out2 + err2)

    # Files that start with a byte-order mark, or with a %YAML directive after comments: still
    # one stream (the mark dropped, "..." before the directive), and a JSON file with a mark is
    # edited as JSON.
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\n"
           "spec:\n  containers: [{name: c, image: x}]\n")
    odd = {"directive.yaml": "# kept in git\n\n%YAML 1.1\n---\n" + pod % "d",
           "bom.yaml": "\ufeff" + pod % "b",
           "bom.json": "\ufeff" + json.dumps({"apiVersion": "v1", "kind": "Pod",
                                               "metadata": {"name": "j"},
                                               "spec": {"containers": [{"name": "c",
                                                                        "image": "x"}]}},
                                              indent=4) + "\n"}
    paths = []
    for name, text in odd.items():
        paths.append(os.path.join(tmp, name))
        write(paths[-1], text)
    for order in (paths, paths[::-1]):
        rc, out, err = run(binary, "migrate", SHOP, *order)
        try:
            docs = [d for d in yaml.safe_load_all(out) if d is not None]
        except yaml.YAMLError as e:
            docs, err = None, str(e)
        R.check("migrate shop.yaml + %s: one stream, %d objects, one mark at most" %
                (" + ".join(os.path.basename(p) for p in order), len(shop_docs) + 3),
                rc == 0 and docs is not None and len(docs) == len(shop_docs) + 3 and
                out.count("\ufeff") == 0, err or out[:300])
    target = os.path.join(tmp, "bom-inplace.json")
    write(target, odd["bom.json"])
    rc, _, err = run(binary, "migrate", "-i", target)
    after = read(target)
    try:
        edited = json.loads(after.lstrip("\ufeff"))
    except ValueError as e:
        edited, err = None, str(e) + ": " + after
    R.check("migrate -i on JSON after a byte-order mark: JSON still, mark kept, profile set",
            rc == 0 and after.startswith("\ufeff{") and edited is not None and
            edited["spec"]["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", err)


def test_migrate_errors(binary, tmp):
    bad = os.path.join(tmp, "bad.yaml")
    write(bad, "apiVersion: v1\nkind: Pod\nmetadata: [a,\nspec: {}\n")
    rc, out, err = run(binary, "migrate", bad)
    R.check("a YAML syntax error exits 2 with FILE:LINE:COL",
            rc == 2 and out == "" and err.startswith(bad + ":5:1: "), err)
    badj = os.path.join(tmp, "bad.json")
    write(badj, '{"kind": "Pod",\n "spec": }\n')
    rc, out, err = run(binary, "migrate", badj)
    R.check("a JSON syntax error exits 2 with FILE:LINE:COL",
            rc == 2 and err.startswith(badj + ":2:10: "), err)
    dup = os.path.join(tmp, "dup.yaml")
    write(dup, "kind: Pod\nmetadata:\n  name: a\n  name: b\n")
    rc, out, err = run(binary, "migrate", dup)
    R.check("a duplicate key exits 2 with its position",
            rc == 2 and err.startswith(dup + ":4:3: duplicate key \"name\""), err)
    rc, out, err = run(binary, "migrate", SHOP, bad)
    R.check("one bad file among several: exit 2 and nothing on stdout", rc == 2 and out == "")
    rc, _, err = run(binary, "migrate", os.path.join(tmp, "missing.yaml"))
    R.check("a missing file exits 2", rc == 2 and "No such file" in err, err)
    rc, _, err = run(binary, "migrate")
    R.check("no FILE is a usage error", rc == 2, err)
    rc, out, _ = run(binary, "migrate", "--help")
    R.check("migrate --help", rc == 0 and out.startswith("usage: seccomp-webhook migrate"))
    plain = os.path.join(tmp, "plain.yaml")
    text = "# no Kubernetes here\nfoo: [1, 2]\n---\nbar: |\n  x\n"
    write(plain, text)
    rc, out, _ = run(binary, "migrate", plain)
    R.check("documents without a kind pass through byte for byte", rc == 0 and out == text)


# ------------------------------------------------------------------------------------------------
# audit
# ------------------------------------------------------------------------------------------------

def test_audit(binary, tmp):
    rc, out, err = run(binary, "audit", CLUSTER)
    lines = out.splitlines()
    R.check("audit exits 1 on violations", rc == 1, err)
    R.check("the table has the four columns",
            bool(lines) and re.match(r"^OBJECT +CONTAINER +FIELD PATH +VIOLATION$", lines[0])
            is not None, out)
    rows = []
    if lines:
        cols = [lines[0].index(c) for c in ("OBJECT", "CONTAINER", "FIELD PATH", "VIOLATION")]
        for ln in lines[1:-1]:
            rows.append(tuple(ln[cols[i]:cols[i + 1]].strip() for i in range(3)) +
                        (ln[cols[3]:],))
    R.check("the table lists each violation by object, container and field path",
            [r[:3] for r in rows] == [v[:3] for v in CLUSTER_VIOLATIONS], out)
    R.check("the table says what is wrong and what is allowed",
            all("; allowed: " in r[3] for r in rows), out)
    R.check("exempt namespaces are not listed", "kube-system" not in out)
    R.check("the summary line counts objects, violations and fixable objects",
            bool(lines) and lines[-1] == CLUSTER_SUMMARY, out)

    rc, out, err = run(binary, "audit", "-o", "json", CLUSTER)
    R.check("audit -o json exits 1", rc == 1, err)
    try:
        arr = json.loads(out)
    except ValueError as e:
        R.check("audit -o json prints JSON", False, str(e))
        arr = []
    got = [(a["object"], a["container"], a["path"], a["rule"]) for a in arr]
    R.check("audit -o json lists the same violations with their rules",
            got == CLUSTER_VIOLATIONS, json.dumps(got))
    R.check("audit -o json entries carry value and violation text",
            all(set(a) >= {"object", "container", "path", "rule", "value", "violation", "kind",
                           "namespace", "name", "file"} for a in arr) and
            arr and arr[1]["value"] == "Unconfined" and arr[2]["value"] == "true", out)
    R.check("audit -o json puts the summary on stderr", err.strip() == CLUSTER_SUMMARY, err)

    rc, out, err = run(binary, "audit", "-", stdin=read(CLUSTER).encode())
    R.check("audit - reads standard input", rc == 1 and out.splitlines()[-1] == CLUSTER_SUMMARY)

    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: loose\nspec:\n  containers:\n"
           "  - name: a\n    image: b\n    securityContext:\n      seccompProfile:\n"
           "        type: Unconfined\n")
    p = os.path.join(tmp, "loose.yaml")
    write(p, pod)
    rc, out, _ = run(binary, "audit", p)
    R.check("an object without a namespace is judged in default",
            rc == 1 and "Pod default/loose" in out, out)
    rc, out, _ = run(binary, "audit", "--namespace", "kube-system", p)
    R.check("--namespace applies, and so do exemptions",
            rc == 0 and out.strip() == "1 object, 0 violations in 0 objects, "
                                       "0 objects that migrate would change", out)
    rc, out, err = run(binary, "audit", "-o", "json", "--namespace", "kube-system", p)
    R.check("audit -o json with no violation prints []", rc == 0 and json.loads(out) == [], out)

    bad = os.path.join(tmp, "bad-audit.yaml")
    write(bad, "kind: Pod\nmetadata: {name: x\n")
    rc, _, err = run(binary, "audit", bad)
    R.check("audit exits 2 on an input error with FILE:LINE:COL",
            rc == 2 and re.match(re.escape(bad) + r":\d+:\d+: ", err) is not None, err)
    rc, _, err = run(binary, "audit", "-o", "yaml", CLUSTER)
    R.check("audit -o must be table or json", rc == 2, err)
    rc, out, _ = run(binary, "audit", "--help")
    R.check("audit --help", rc == 0 and out.startswith("usage: seccomp-webhook audit"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    tmp = tempfile.mkdtemp(prefix="sw-migrate-")
    try:
        write(os.path.join(tmp, "templates.yaml"), TEMPLATES_POLICY)
        expected = test_migrate_yaml(binary, tmp)
        test_migrate_in_place(binary, tmp, expected)
        test_migrate_json(binary, tmp)
        test_migrate_errors(binary, tmp)
        test_audit(binary, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (R.passed, R.failed))
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
