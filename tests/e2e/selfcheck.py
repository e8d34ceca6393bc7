"""
selfcheck.py — checks of the e2e harness itself (`test_admission.py --self-check`), so that a
failure of the suite against the real binary is the binary's and not the harness's.

Covers: certificate generation with openssl (chain, SANs, key match), Go-style JSON encoding,
JSON Pointer escaping, patch decoding (standard padded base64 only) and application, the
expectation classes on hand-made answers (each must pass the right answer and fail a wrong
one), curl header parsing, the manifests (one Pod each, JSON-serialisable, all used) and the
case table (every manifest named exists, every case builds its request).
"""

import base64
import copy
import glob
import json
import os
import tempfile
import shutil

import jsonpatch

import harness as h


def _b64(ops):
    return base64.b64encode(json.dumps(ops).encode()).decode()


def check_certs(fails):
    d = tempfile.mkdtemp(prefix="sw-selfcheck-")
    try:
        c = h.make_certs(d)
        p = h.run(["openssl", "verify", "-CAfile", c["ca"], c["cert"]], check=False)
        if p.returncode != 0 or b"OK" not in p.stdout:
            fails.append("openssl verify of the serving certificate failed: %r" % p.stdout)
        san = h.run(["openssl", "x509", "-in", c["cert"], "-noout", "-ext", "subjectAltName"]
                    ).stdout.decode()
        if "IP Address:127.0.0.1" not in san or "DNS:localhost" not in san:
            fails.append("SANs wrong: %r" % san)
        pub_cert = h.run(["openssl", "x509", "-in", c["cert"], "-noout", "-pubkey"]).stdout
        pub_key = h.run(["openssl", "pkey", "-in", c["key"], "-pubout"]).stdout
        if pub_cert != pub_key:
            fails.append("server key does not match the certificate")
        ca = h.run(["openssl", "x509", "-in", c["ca"], "-noout", "-ext", "basicConstraints"]
                   ).stdout.decode()
        if "CA:TRUE" not in ca:
            fails.append("CA certificate lacks CA:TRUE: %r" % ca)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_encoding(fails):
    obj = {"cmd": "a && b > c < d", "ünï": "cödé \u2028", "n": [1, None, True]}
    raw = h.go_json(obj)
    if b"&" in raw or b"<" in raw or b">" in raw or "\u2028".encode() in raw:
        fails.append("go_json left HTML characters unescaped: %r" % raw)
    if "ünï".encode() not in raw:
        fails.append("go_json escaped non-ASCII (Go writes UTF-8 as is): %r" % raw)
    if h.strict_json_loads(raw) != obj:
        fails.append("go_json does not round-trip")
    for bad in (b'{"a":1,"a":2}', b"NaN", b'{"a":1} x', b"\xff"):
        try:
            h.strict_json_loads(bad)
            fails.append("strict_json_loads accepted %r" % bad)
        except (ValueError, UnicodeDecodeError):
            pass


def check_pointer_and_patch(fails):
    key = "container.seccomp.security.alpha.kubernetes.io/wëb~canary"
    ptr = h.pointer("metadata", "annotations", key)
    if ptr != "/metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1wëb~0canary":
        fails.append("pointer escaping wrong: %r" % ptr)
    doc = {"metadata": {"annotations": {key: "x", "keep": "y"}}}
    out = h.apply_patch(doc, [{"op": "remove", "path": ptr}])
    if out != {"metadata": {"annotations": {"keep": "y"}}} or key not in doc["metadata"][
            "annotations"]:
        fails.append("apply_patch with an escaped pointer misbehaved: %r" % out)
    # The API server refuses an add under a missing parent and a replace of a missing member;
    # so must the harness (LESSONS #14).
    for bad in ([{"op": "add", "path": "/spec/securityContext/seccompProfile", "value": {}}],
                [{"op": "replace", "path": "/spec/securityContext", "value": {}}]):
        try:
            h.apply_patch({"spec": {}}, bad)
            fails.append("apply_patch accepted %r" % bad)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
            pass
    ops = [{"op": "add", "path": "/a", "value": "ü?>"}]
    good = _b64(ops)
    if h.decode_patch({"patch": good}) != ops:
        fails.append("decode_patch failed on standard base64")
    urlsafe = base64.urlsafe_b64encode(json.dumps(
        [{"op": "add", "path": "/a", "value": "\u00ff\u00ff\u00fe>>>?"}]).encode()).decode()
    for bad, why in ((urlsafe, "base64url"), (good.rstrip("="), "unpadded"),
                     (_b64([]), "empty array"), (_b64({"op": "add"}), "not an array"),
                     (_b64([{"op": "frob", "path": "/a"}]), "unknown op")):
        if bad == good:
            continue
        try:
            h.decode_patch({"patch": bad})
            fails.append("decode_patch accepted a %s patch" % why)
        except ValueError:
            pass


def check_expectations(fails):
    """Each expectation passes a right answer and fails a wrong one."""
    pod = h.load_manifest("web-frontend-bare.yaml")
    right = {"uid": "u", "allowed": True, "patchType": "JSONPatch", "patch": _b64(
        [{"op": "add", "path": "/spec/securityContext",
          "value": {"seccompProfile": {"type": "RuntimeDefault"}}}])}
    wrong_value = {"uid": "u", "allowed": True, "patchType": "JSONPatch", "patch": _b64(
        [{"op": "add", "path": "/spec/securityContext",
          "value": {"seccompProfile": {"type": "Unconfined"}}}])}
    bad_parent = {"uid": "u", "allowed": True, "patchType": "JSONPatch", "patch": _b64(
        [{"op": "add", "path": "/spec/securityContext/seccompProfile",
          "value": {"type": "RuntimeDefault"}}])}
    extra = {"uid": "u", "allowed": True, "patchType": "JSONPatch", "patch": _b64(
        [{"op": "add", "path": "/spec/securityContext",
          "value": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsUser": 0}}])}
    exp = h.Mutated(h.pod_profile(h.RUNTIME_DEFAULT), ops=[("add", "/spec/securityContext")])
    f = []
    patched = exp.check(right, pod, f)
    if f or patched["spec"]["securityContext"] != {"seccompProfile": {"type": "RuntimeDefault"}}:
        fails.append("Mutated rejected the right answer: %s" % f)
    for resp, why in ((wrong_value, "wrong value"), (bad_parent, "add under a missing parent"),
                      (extra, "an extra change"), ({"uid": "u", "allowed": True}, "no patch")):
        f = []
        exp.check(resp, pod, f)
        if not f:
            fails.append("Mutated accepted %s" % why)
    f = []
    h.Unchanged().check({"uid": "u", "allowed": True}, pod, f)
    if f:
        fails.append("Unchanged rejected the right answer: %s" % f)
    f = []
    h.Unchanged().check(right, pod, f)
    if not f:
        fails.append("Unchanged accepted a patch")
    denied = {"uid": "u", "allowed": False, "status": {
        "code": 403, "reason": "Forbidden",
        "message": 'Pod default/web-frontend-6f7d9c8b5-: spec.containers[0].securityContext'
                   '.seccompProfile (container "nginx"): no profile'}}
    f = []
    h.Denied('container "nginx"').check(denied, pod, f)
    if f:
        fails.append("Denied rejected the right answer: %s" % f)
    for frag in ('container "envoy"',):
        f = []
        h.Denied(frag).check(denied, pod, f)
        if not f:
            fails.append("Denied accepted a message without %r" % frag)
    no_name = copy.deepcopy(denied)
    no_name["status"]["message"] = 'container "nginx": no profile'
    f = []
    h.Denied('container "nginx"').check(no_name, pod, f)
    if not f:
        fails.append("Denied accepted a message that does not name the pod")
    f = []
    h.Allowed(warnings=h.at_least(2), warn_format=True).check(
        {"allowed": True, "warnings": ['container "a": unconfined (Unconfined)', "pod: x (y)"]},
        pod, f)
    if f:
        fails.append("Allowed rejected the right answer: %s" % f)
    f = []
    h.Allowed(warn_format=True).check({"allowed": True, "warnings": ["something odd"]}, pod, f)
    if not f:
        fails.append("Allowed accepted a warning of the wrong form")
    # envelope checks
    review = h.admission_review(pod, "default")
    doc = {"apiVersion": h.V1, "kind": "AdmissionReview",
           "response": dict(right, uid=review["request"]["uid"])}
    f = []
    h.check_review_document(doc, review, "mutate", f)
    if f:
        fails.append("envelope rejected the right answer: %s" % f)
    for mutate_doc, why in (
            (dict(doc, apiVersion=h.V1BETA1), "another apiVersion"),
            ({**doc, "response": dict(doc["response"], uid="other")}, "another uid"),
            ({**doc, "response": {k: v for k, v in doc["response"].items() if k != "patchType"}},
             "patch without patchType"),
            ({**doc, "response": dict(doc["response"], warnings=["x" * 121])}, "long warning"),
            ({**doc, "response": dict(doc["response"], auditAnnotations={"a/b": "c"})},
             "audit key with '/'")):
        f = []
        h.check_review_document(mutate_doc, review, "mutate", f)
        if not f:
            fails.append("envelope accepted %s" % why)
    f = []
    h.check_review_document(doc, review, "validate", f)
    if not f:
        fails.append("envelope accepted a patch in a validating answer")


def check_headers(fails):
    raw = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Payload Too Large\r\n"
           b"Content-Type: application/json\r\nConnection: close\r\n\r\n")
    hd = h.parse_headers(raw)
    if hd.get("content-type") != "application/json" or hd.get("connection") != "close":
        fails.append("parse_headers: %r" % hd)


def check_table(mod, fails):
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(h.MANIFEST_DIR, "*")))
    used = set()
    names = set()
    for f in files:
        if not f.endswith(".yaml"):
            fails.append("manifests/%s: not a .yaml file" % f)
            continue
        try:
            pod = h.load_manifest(f)
        except Exception as e:
            fails.append("manifests/%s: %s" % (f, e))
            continue
        if pod.get("apiVersion") != "v1" or pod.get("kind") != "Pod":
            fails.append("manifests/%s: not a v1 Pod" % f)
        try:
            json.dumps(pod)
        except TypeError as e:
            fails.append("manifests/%s: not JSON-serialisable (a YAML 1.1 scalar?): %s" % (f, e))
        md = pod.get("metadata") or {}
        for section in ("labels", "annotations"):
            for k, v in (md.get(section) or {}).items():
                if not isinstance(v, str):
                    fails.append("manifests/%s: %s[%s] is %r, not a string" % (f, section, k, v))
        label = h.object_label(pod)
        if not label or label in names:
            fails.append("manifests/%s: missing or duplicate name %r" % (f, label))
        names.add(label)
    seen = set()
    for c in mod.CASES:
        if c.name in seen:
            fails.append("duplicate case name %r" % c.name)
        seen.add(c.name)
        if isinstance(c.manifest, str):
            used.add(c.manifest)
            if c.manifest not in files:
                fails.append("case %r: no manifests/%s" % (c.name, c.manifest))
                continue
        try:
            obj = c.build_object()
            review = c.build_review(obj)
            h.go_json(review)
        except Exception as e:
            fails.append("case %r does not build its request: %s: %s" % (c.name,
                                                                        type(e).__name__, e))
        if c.mutate is None and c.validate is None and c.validate_unpatched is None:
            fails.append("case %r expects nothing" % c.name)
    for p in mod.PROTOCOL:
        if p.name in seen:
            fails.append("duplicate case name %r" % p.name)
        seen.add(p.name)
        try:
            if callable(p.body):
                p.body()
        except Exception as e:
            fails.append("protocol case %r does not build its body: %s" % (p.name, e))
    for f in files:
        if f.endswith(".yaml") and f not in used:
            fails.append("manifests/%s is used by no case" % f)


def run(mod):
    """Run every check; print PASS/FAIL per group. Returns True when all pass."""
    ok = True
    print("== harness self-check ==")
    for name, fn in (("certificates with openssl", check_certs),
                     ("Go-style JSON encoding and strict decoding", check_encoding),
                     ("JSON Pointer escaping, patch decoding and application",
                      check_pointer_and_patch),
                     ("expectation classes and envelope checks", check_expectations),
                     ("curl header parsing", check_headers),
                     ("manifests and case table", lambda f: check_table(mod, f))):
        fails = []
        try:
            fn(fails)
        except Exception as e:
            fails.append("%s: %s" % (type(e).__name__, e))
        print("%s self-check: %s" % ("PASS" if not fails else "FAIL", name))
        for f in fails:
            print("    - " + f)
        ok = ok and not fails
    print("%d manifests, %d admission cases, %d protocol cases, %d review cases" % (
        len(glob.glob(os.path.join(h.MANIFEST_DIR, "*.yaml"))), len(mod.CASES),
        len(mod.PROTOCOL), len(mod.REVIEW_CASES)))
    return ok
