#!/usr/bin/python3
"""
make_corpus.py — (re)write the seed corpora of tests/fuzz/corpus/<target>/ from the fixtures.

    /usr/bin/python3 tests/fuzz/make_corpus.py

admission  every manifest of tests/e2e/manifests and tests/e2e/workloads wrapped as the API
           server wraps it (harness.admission_review, Go's JSON encoding), in namespaces the
           fuzz target's policies treat differently; plus v1beta1, UPDATE, DELETE,
           ephemeralcontainers, dry-run, exempt user, and a few hostile bodies (duplicate key,
           \\u0000, invalid UTF-8, wrong types) so that the fuzzer starts next to the edges
policy     tests/e2e/policy*.yaml, tests/fixtures/policy/*
json       small documents that exercise the strict reader's rules, the fixture profiles, and
           the smallest AdmissionReviews
profile    tests/fixtures/profiles/*
manifest   tests/e2e/manifests, tests/e2e/workloads, tests/fixtures/manifests

File names are stable and uids deterministic, so a rerun changes nothing unless the fixtures
changed. The corpora are committed; this script is how they were made.
"""

import copy
import glob
import json
import os
import shutil
import sys
import uuid

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import yaml  # noqa: E402

import harness as h  # noqa: E402

KINDS = {  # kind → (group, version, resource)
    "Pod": ("", "v1", "pods"),
    "PodTemplate": ("", "v1", "podtemplates"),
    "ReplicationController": ("", "v1", "replicationcontrollers"),
    "Deployment": ("apps", "v1", "deployments"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
}
# Namespaces the fuzz target's richer policy treats differently (fuzz_admission.c).
NAMESPACES = ["default", "team-a", "warn-x", "audit", "local", "none", "open", "kube-system"]


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def review(obj, ns, seed, **kw):
    """An AdmissionReview with a uid derived from `seed` (stable across runs)."""
    kind = (obj or {}).get("kind", "Pod")
    group, version, resource = KINDS.get(kind, ("", "v1", "pods"))
    r = h.admission_review(obj, ns, kind={"group": group, "version": version, "kind": kind},
                           resource={"group": group, "version": version,
                                     "resource": resource}, **kw)
    r["request"]["uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, seed))
    return r


def manifests():
    for d in ("manifests", "workloads"):
        for path in sorted(glob.glob(os.path.join(ROOT, "tests", "e2e", d, "*.yaml"))):
            with open(path, encoding="utf-8") as f:
                for i, doc in enumerate(yaml.safe_load_all(f)):
                    if isinstance(doc, dict):
                        yield "%s-%d" % (os.path.basename(path)[:-5], i), doc


def admission_corpus():
    for n, (name, obj) in enumerate(manifests()):
        ns = NAMESPACES[n % len(NAMESPACES)]
        write("admission", name + ".json", h.go_json(review(obj, ns, name)))
    pod = h.load_manifest("three-violations.yaml")
    bare = h.load_manifest("web-frontend-bare.yaml")
    debug = h.load_manifest("debug-target.yaml")
    variants = {
        "v1beta1": review(pod, "default", "v1beta1", api_version=h.V1BETA1),
        "update": review(pod, "team-a", "update", operation="UPDATE", old_object=bare),
        "delete": review(None, "default", "delete", operation="DELETE", old_object=pod),
        "dry-run": review(bare, "local", "dry-run", dry_run=True),
        "exempt-user": review(pod, "default", "exempt-user", username=h.BREAKGLASS),
        "ephemeral": review(debug, "default", "ephemeral", operation="UPDATE",
                            old_object=debug, sub_resource="ephemeralcontainers"),
    }
    for name, r in variants.items():
        write("admission", "variant-" + name + ".json", h.go_json(r))
    base = h.go_json(review(bare, "default", "hostile"))
    write("admission", "hostile-duplicate-key.json",
          base.replace(b'"spec":{', b'"spec":{"securityContext":{},', 1)
          .replace(b'"spec":{', b'"spec":{"securityContext":null,', 1))
    write("admission", "hostile-nul-escape.json",
          base.replace(b'"name":"', b'"name":"a\\u0000', 1))
    write("admission", "hostile-invalid-utf8.json", base.replace(b'"name":"', b'"name":"\xff', 1))
    wrong = review(bare, "default", "wrong-type")
    wrong["request"]["object"]["spec"]["containers"] = {"name": "x"}
    write("admission", "hostile-containers-object.json", h.go_json(wrong))
    write("admission", "hostile-not-json.txt", b"POST /validate HTTP/1.1\r\n\r\n")


def copy_files(target, pattern):
    for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
        shutil.copyfile(path, os.path.join(HERE, "corpus", target, os.path.basename(path)))


def json_corpus():
    docs = {
        "scalars": b'[0,-0,1.5e3,-2E-2,true,false,null,"",1e999]',
        "escapes": b'{"a\\"b":"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u2028"}',
        "nested": b'{"a":[{"b":{"c":[[[]]]}}],"d":{}}',
        "utf8": '{"ключ":"値","emoji":"\U0001F600"}'.encode("utf-8"),
        "dup-escaped": b'{"a":1,"\\u0061":2}',
        "lone-surrogate": b'["\\ud800"]',
        "nul": b'["a\\u0000b"]',
        "bom": b'\xef\xbb\xbf{}',
        "overlong": b'["\xc0\xaf"]',
        "big-number": b'[123456789012345678901234567890123456789012345678901234567890123456789]',
        "whitespace": b' \t\r\n{ "a" : [ 1 , 2 ] } \n',
    }
    for name, data in docs.items():
        write("json", name + ".json", data)
    write("json", "deep.json", b"[" * 1000 + b"]" * 1000)
    copy_files("json", "tests/fixtures/profiles/*.json")
    for name in ("variant-delete.json", "hostile-containers-object.json"):
        shutil.copyfile(os.path.join(HERE, "corpus", "admission", name),
                        os.path.join(HERE, "corpus", "json", "review-" + name))


def manifest_corpus():
    copy_files("manifest", "tests/e2e/manifests/*.yaml")
    copy_files("manifest", "tests/e2e/workloads/*.yaml")
    copy_files("manifest", "tests/fixtures/manifests/*")
    pods = [doc for _, doc in manifests()][:3]
    write("manifest", "list.json", json.dumps({"apiVersion": "v1", "kind": "List",
                                               "items": copy.deepcopy(pods)}, indent=2))
    write("manifest", "anchors.yaml",
          "apiVersion: v1\nkind: Pod\nmetadata: &md\n  name: a\n  annotations:\n"
          "    seccomp.security.alpha.kubernetes.io/pod: runtime/default\n"
          "spec:\n  containers:\n  - name: c\n    image: x\n---\n"
          "apiVersion: v1\nkind: Pod\nmetadata: *md\nspec:\n  containers:\n"
          "  - {name: d, image: y, securityContext: {privileged: true}}\n")


RICH_POLICY = """\
apiVersion: seccomp-webhook/v1
kind: SeccompPolicy
defaults:
  mode: enforce
  defaultProfile: {type: RuntimeDefault}
  migrateAnnotations: true
  allowUnconfined: false
  allowedLocalhostProfiles: ["shared/*.json", "strict.json"]
  mutateTemplates: true
namespaces:
  - match: ["warn-*", "legacy"]
    mode: warn
  - match: ["audit"]
    mode: audit
  - match: ["team-?"]
    allowedLocalhostProfiles: ["{namespace}/*.json", "*.json"]
  - match: ["local"]
    defaultProfile: {type: Localhost, localhostProfile: strict.json}
    allowedLocalhostProfiles: ["*.json"]
  - match: ["none"]
    defaultProfile: null
    migrateAnnotations: false
    mutateTemplates: false
  - match: ["open"]
    allowUnconfined: true
exemptions:
  namespaces: ["kube-system"]
  usernames: ["system:serviceaccount:ops:breakglass"]
  runtimeClasses: ["kata"]
profiles:
  directory: /var/lib/kubelet/seccomp
  architectures: [SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64]
  requireDefaultDeny: true
  forbiddenSyscalls: [kexec_load, init_module]
"""


def main():
    for target in ("admission", "policy", "json", "profile", "manifest"):
        d = os.path.join(HERE, "corpus", target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    admission_corpus()
    copy_files("policy", "tests/e2e/policy*.yaml")
    copy_files("policy", "tests/fixtures/policy/*")
    write("policy", "rich.yaml", RICH_POLICY)  # the richer policy of fuzz_admission.c
    json_corpus()
    copy_files("profile", "tests/fixtures/profiles/*.json")
    manifest_corpus()
    for target in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        print("%-10s %3d files" % (target, len(os.listdir(os.path.join(HERE, "corpus", target)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
