"""
harness.py — the machinery of the end-to-end suite; test_admission.py holds the cases.

Everything is done the way a cluster does it: a CA and a serving certificate made with the
`openssl` command, every HTTP request made by the real `curl` over verified TLS (--cacert, never
-k), AdmissionReview bodies encoded as the API server (Go encoding/json) encodes them, and every
returned patch applied with python3-jsonpatch, as the API server applies it (SPEC §4, §7.3, §9).

Sections: constants · processes and certificates · curl · AdmissionReview bodies · expected
changes · expectations · checks shared by every answer · running a case.
"""

import base64
import binascii
import copy
import difflib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid

import jsonpatch
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST_DIR = os.path.join(HERE, "manifests")
POLICY_FILE = os.path.join(HERE, "policy.yaml")
# SW_E2E_SELF_SANDBOX=1: Server runs `serve` with its own seccomp filter, as in production,
# instead of with --no-self-sandbox (tests/e2e/test_sandbox.py --admission-suite).
SELF_SANDBOX = os.environ.get("SW_E2E_SELF_SANDBOX") == "1"

# ------------------------------------------------------------------------------------------------
# Constants (SPEC §4, §5, §7; KUBERNETES-SECCOMP.md §1.1)
# ------------------------------------------------------------------------------------------------

V1 = "admission.k8s.io/v1"
V1BETA1 = "admission.k8s.io/v1beta1"

DEPLOYER = "system:serviceaccount:ns:deployer"
BREAKGLASS = "system:serviceaccount:ops:breakglass"  # exempt by policy.yaml

POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

RUNTIME_DEFAULT = {"type": "RuntimeDefault"}
UNCONFINED = {"type": "Unconfined"}


def localhost(path):
    return {"type": "Localhost", "localhostProfile": path}


def container_annotation(name):
    return CONTAINER_ANNOTATION + name


POD_GVK = {"group": "", "version": "v1", "kind": "Pod"}
POD_GVR = {"group": "", "version": "v1", "resource": "pods"}
OPTIONS = {
    "CREATE": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    "UPDATE": {"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions"},
    "DELETE": {"apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions",
               "propagationPolicy": "Background"},
    "CONNECT": None,
}

MAX_WARNING_CHARS = 120                                    # SPEC §7.4
AUDIT_KEY_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")   # NOTES §1.7
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
PATCH_OPS = {"add", "remove", "replace", "move", "copy", "test"}


class HarnessError(Exception):
    """A problem of the test machinery itself (openssl failed, a manifest is missing, ...)."""


# ------------------------------------------------------------------------------------------------
# Processes and certificates
# ------------------------------------------------------------------------------------------------

def run(cmd, cwd=None, stdin_bytes=None, timeout=60, check=True):
    """Run a command, capture its output; raise HarnessError when check and it fails."""
    p = subprocess.run(cmd, cwd=cwd, input=stdin_bytes, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if check and p.returncode != 0:
        raise HarnessError("%s failed (exit %d): %s" % (
            " ".join(cmd), p.returncode, p.stderr.decode("utf-8", "replace").strip()))
    return p


def make_certs(directory):
    """A throw-away CA and a serving certificate for 127.0.0.1 and localhost, signed by it.

    Returns {"ca": ca.pem, "cert": server.pem, "key": server.key} (absolute paths)."""
    d = directory
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
         "-subj", "/O=seccomp-webhook e2e/CN=seccomp-webhook e2e CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-keyout", "ca.key", "-out", "ca.pem"], cwd=d)
    run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-subj", "/O=seccomp-webhook e2e/CN=localhost",
         "-keyout", "server.key", "-out", "server.csr"], cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-sha256", "-extfile", "server.ext",
         "-out", "server.pem"], cwd=d)
    return {"ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"),
            "key": os.path.join(d, "server.key")}


def server_command(cmd):
    """`cmd` run under the wrapper named by $SW_SERVER_WRAPPER, if set: its words (split as a
    shell splits them) go in front, e.g. `valgrind --error-exitcode=1 ...` (scripts/
    valgrind-e2e.sh). Without it, `cmd` as is."""
    wrapper = os.environ.get("SW_SERVER_WRAPPER", "").strip()
    return shlex.split(wrapper) + cmd if wrapper else cmd


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`BINARY serve` on 127.0.0.1:PORT with the suite's certificate and policy."""

    def __init__(self, binary, certs, workdir, shutdown_delay=0, tag="server"):
        self.binary = binary
        self.certs = certs
        self.port = free_port()
        self.stderr_path = os.path.join(workdir, tag + ".stderr")
        self.stdout_path = os.path.join(workdir, tag + ".stdout")
        self.shutdown_delay = shutdown_delay
        self.proc = None

    def start(self):
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
               "--tls-cert", self.certs["cert"], "--tls-key", self.certs["key"],
               "--config", POLICY_FILE, "--no-self-sandbox",
               "--shutdown-delay", str(self.shutdown_delay)]
        if SELF_SANDBOX:
            cmd.remove("--no-self-sandbox")
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(server_command(cmd), stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL)

    def wait_healthy(self, client, timeout=10.0):
        """Poll GET /healthz until 200. Returns None, or a reason it never came up."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "the server exited with status %d before /healthz answered" % (
                    self.proc.returncode)
            r = client.request("GET", "/healthz", timeout=2)
            if r.status == 200:
                return None
            last = "HTTP %s, curl exit %d %s" % (r.status, r.curl_rc, r.curl_err.strip())
            time.sleep(0.1)
        return "GET /healthz did not return 200 within %.0f s (last: %s)" % (timeout, last)

    def terminate(self, timeout=10.0):
        """SIGTERM, then wait. Returns (exit status or None when it did not exit, seconds)."""
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, time.monotonic() - t0
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def close_logs(self):
        for f in (getattr(self, "_err", None), getattr(self, "_out", None)):
            if f:
                f.close()

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


# ------------------------------------------------------------------------------------------------
# curl
# ------------------------------------------------------------------------------------------------

class Reply:
    """One HTTP exchange as curl saw it."""

    def __init__(self, status, headers, body, curl_rc, curl_err):
        self.status = status      # int, 0 when curl got no HTTP answer
        self.headers = headers    # lower-case name -> value (last response only)
        self.body = body          # bytes
        self.curl_rc = curl_rc
        self.curl_err = curl_err

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def json(self):
        """The body as JSON, read strictly (UTF-8, no duplicate keys, no NaN)."""
        return strict_json_loads(self.body)

    def describe(self):
        return "HTTP %d, curl exit %d%s, body %s" % (
            self.status, self.curl_rc,
            (" (" + self.curl_err.strip() + ")") if self.curl_err.strip() else "",
            shorten(self.body.decode("utf-8", "replace"), 300))


class Client:
    """HTTP requests to the server under test, each one a run of the `curl` command."""

    def __init__(self, port, ca, workdir):
        self.base = "https://127.0.0.1:%d" % port
        self.ca = ca
        self.workdir = workdir
        self.n = 0

    def _tmp(self, suffix):
        self.n += 1
        return os.path.join(self.workdir, "req%04d.%s" % (self.n, suffix))

    def request(self, method, path, body=None, content_type="application/json",
                chunked=False, expect_continue=False, timeout=10):
        """One request. body: bytes or None. content_type None sends no Content-Type at all.
        Without expect_continue no `Expect:` header is sent, as the API server (Go) sends none."""
        out, hdr = self._tmp("body"), self._tmp("headers")
        cmd = ["curl", "-q", "--silent", "--show-error", "--http1.1", "--noproxy", "*",
               "--cacert", self.ca, "--max-time", str(timeout),
               "--output", out, "--dump-header", hdr, "--write-out", "%{http_code}",
               "--request", method]
        if body is not None:
            data = self._tmp("data")
            with open(data, "wb") as f:
                f.write(body)
            cmd += ["--data-binary", "@" + data]
            cmd += ["--header", "Content-Type:" + (" " + content_type if content_type else "")]
            cmd += ["--header", "Expect: 100-continue" if expect_continue else "Expect:"]
            if chunked:
                cmd += ["--header", "Transfer-Encoding: chunked"]
        cmd.append(self.base + path)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout + 10)
        code = p.stdout.decode("ascii", "replace").strip()
        status = int(code) if code.isdigit() else 0
        try:
            with open(out, "rb") as f:
                rbody = f.read()
        except OSError:
            rbody = b""
        try:
            with open(hdr, "rb") as f:
                headers = parse_headers(f.read())
        except OSError:
            headers = {}
        for path_ in (out, hdr):
            if os.path.exists(path_):
                os.unlink(path_)
        if body is not None:
            os.unlink(data)
        return Reply(status, headers, rbody, p.returncode,
                     p.stderr.decode("utf-8", "replace"))


def parse_headers(raw):
    """curl --dump-header output → the last response's headers (skips 100 Continue blocks)."""
    blocks = [b for b in raw.replace(b"\r\n", b"\n").split(b"\n\n") if b.strip()]
    if not blocks:
        return {}
    headers = {}
    for line in blocks[-1].decode("latin-1").split("\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            headers[k] = (headers[k] + ", " if k in headers else "") + v.strip()
    return headers


# ------------------------------------------------------------------------------------------------
# AdmissionReview bodies
# ------------------------------------------------------------------------------------------------

def _pairs_no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate key %r" % k)
        d[k] = v
    return d


def _no_constants(name):
    raise ValueError("not JSON: %s" % name)


def strict_json_loads(raw):
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return json.loads(raw, object_pairs_hook=_pairs_no_duplicates, parse_constant=_no_constants)


def load_manifest(name):
    with open(os.path.join(MANIFEST_DIR, name), encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if len(docs) != 1:
        raise HarnessError("%s: expected one YAML document, found %d" % (name, len(docs)))
    return docs[0]


def go_json(obj):
    """JSON as Go's encoding/json writes it (what the API server sends): compact, UTF-8 as is,
    and <, >, &, U+2028, U+2029 escaped. Those characters only ever occur inside strings."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text.encode("utf-8")


def admission_review(obj, namespace, operation="CREATE", username=DEPLOYER, api_version=V1,
                     old_object=None, dry_run=False, kind=POD_GVK, resource=POD_GVR,
                     sub_resource=None, name=None):
    """An AdmissionReview request as the API server sends it (NOTES §1.2). A Pod object gets
    metadata.namespace, as the API server fills it in before admission."""
    if isinstance(obj, dict) and obj.get("kind") == "Pod":
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {})["namespace"] = namespace
    if isinstance(old_object, dict) and old_object.get("kind") == "Pod":
        old_object = copy.deepcopy(old_object)
        old_object.setdefault("metadata", {})["namespace"] = namespace
    if name is None:
        for o in (obj, old_object):
            if isinstance(o, dict) and (o.get("metadata") or {}).get("name"):
                name = o["metadata"]["name"]
                break
    req = {"uid": str(uuid.uuid4()), "kind": kind, "resource": resource}
    if sub_resource:
        req["subResource"] = sub_resource
    req["requestKind"] = kind
    req["requestResource"] = resource
    if sub_resource:
        req["requestSubResource"] = sub_resource
    if name:
        req["name"] = name
    req.update({
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": username, "groups": ["system:authenticated"]},
        "object": obj,
        "oldObject": old_object,
        "dryRun": dry_run,
        "options": OPTIONS[operation],
    })
    return {"apiVersion": api_version, "kind": "AdmissionReview", "request": req}


def with_object(review, obj):
    """The same request with another object and a fresh uid (what the API server sends next)."""
    r = copy.deepcopy(review)
    r["request"]["object"] = copy.deepcopy(obj)
    r["request"]["uid"] = str(uuid.uuid4())
    return r


def object_label(obj):
    """What a denial message names the object by (SPEC §7.4): name, else generateName."""
    md = (obj or {}).get("metadata") or {}
    return md.get("name") or md.get("generateName") or ""


def decode_patch(response):
    """response.patch → list of operations (or None when absent). Raises ValueError when it is
    not standard padded base64 of a JSON array of operations."""
    if "patch" not in response:
        return None
    s = response["patch"]
    if not isinstance(s, str) or not s:
        raise ValueError("patch is not a non-empty string: %r" % (s,))
    if len(s) % 4 != 0 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", s):
        raise ValueError("patch is not standard padded base64: %s" % shorten(s, 80))
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("patch does not decode as base64: %s" % e)
    ops = strict_json_loads(raw)
    if not isinstance(ops, list) or not ops:
        raise ValueError("patch is not a non-empty JSON array: %s" % shorten(raw.decode(), 200))
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in PATCH_OPS \
                or not isinstance(op.get("path"), str):
            raise ValueError("not an RFC 6902 operation: %r" % (op,))
    return ops


def apply_patch(obj, ops):
    """Apply as the API server does; raises when the patch does not apply."""
    return jsonpatch.apply_patch(copy.deepcopy(obj), ops)


def pointer(*tokens):
    """RFC 6901 JSON Pointer of the tokens: "~" → "~0", "/" → "~1"."""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


# ------------------------------------------------------------------------------------------------
# Expected changes: what the object must look like once the patch is applied
# ------------------------------------------------------------------------------------------------

class Set:
    """The field at `path` (a tuple of keys and list indexes) holds `value`; missing or null
    objects on the way are created."""

    def __init__(self, path, value):
        self.path, self.value = tuple(path), value

    def apply(self, obj):
        cur = obj
        for i, tok in enumerate(self.path[:-1]):
            nxt = self.path[i + 1]
            if isinstance(cur, list):
                cur = cur[tok]
                continue
            if cur.get(tok) is None:
                cur[tok] = [] if isinstance(nxt, int) else {}
            cur = cur[tok]
        cur[self.path[-1]] = copy.deepcopy(self.value)

    def __repr__(self):
        return "Set(%s = %s)" % (".".join(map(str, self.path)), json.dumps(self.value))


class Remove:
    """The member at `path` is gone."""

    def __init__(self, path):
        self.path = tuple(path)

    def apply(self, obj):
        cur = obj
        for tok in self.path[:-1]:
            cur = cur[tok]
        if self.path[-1] not in cur:
            raise HarnessError("expectation removes %r, which the object does not have" % (
                self.path,))
        del cur[self.path[-1]]

    def __repr__(self):
        return "Remove(%s)" % ".".join(map(str, self.path))


def pod_profile(profile):
    return Set(("spec", "securityContext", "seccompProfile"), profile)


def container_profile(container_list, index, profile):
    return Set(("spec", container_list, index, "securityContext", "seccompProfile"), profile)


def annotation_removed(key):
    return Remove(("metadata", "annotations", key))


def normalize(obj):
    """Equal up to what the API server treats alike: an emptied annotations map and no map."""
    o = copy.deepcopy(obj)
    md = o.get("metadata") if isinstance(o, dict) else None
    if isinstance(md, dict) and md.get("annotations") == {}:
        del md["annotations"]
    return o


def json_diff(expected, actual, limit=40):
    a = json.dumps(expected, indent=1, sort_keys=True, ensure_ascii=False).splitlines()
    b = json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False).splitlines()
    lines = list(difflib.unified_diff(a, b, "expected", "patched", lineterm="", n=2))
    if len(lines) > limit:
        lines = lines[:limit] + ["... (%d more diff lines)" % (len(lines) - limit)]
    return "\n".join(lines)


def shorten(s, n):
    s = s if isinstance(s, str) else repr(s)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


# ------------------------------------------------------------------------------------------------
# Expectations for one answer
# ------------------------------------------------------------------------------------------------

class Count:
    """How many warnings an answer may carry."""

    def __init__(self, lo=0, hi=None):
        self.lo, self.hi = lo, hi

    def ok(self, n):
        return n >= self.lo and (self.hi is None or n <= self.hi)

    def __repr__(self):
        if self.hi == self.lo:
            return "exactly %d" % self.lo
        return "at least %d" % self.lo if self.hi is None else "%d..%d" % (self.lo, self.hi)


ANY = Count(0, None)
NONE = Count(0, 0)
SOME = Count(1, None)


def at_least(n):
    return Count(n, None)


WARN_FORMAT = re.compile(r'^(container "[^"]*"|pod): \S')


def _check_warnings(resp, count, fragments, warn_format, fails):
    warnings = resp.get("warnings") or []
    if not count.ok(len(warnings)):
        fails.append("expected %r warnings, got %d: %s" % (count, len(warnings),
                                                           shorten(json.dumps(warnings), 600)))
    for frag in fragments:
        if not any(frag in w for w in warnings):
            fails.append("no warning contains %r; warnings: %s" % (
                frag, shorten(json.dumps(warnings, ensure_ascii=False), 600)))
    if warn_format:
        for w in warnings:
            if not WARN_FORMAT.match(w):
                fails.append('warning not of the form `container "<name>": ...` or `pod: ...`: '
                             '%r' % w)


class Mutated:
    """/mutate allows with a patch; applied to the object it yields the object plus `changes`
    (nothing else changes). `ops`: (op, JSON Pointer) pairs the patch must contain."""

    def __init__(self, *changes, ops=(), warnings=ANY, warn_fragments=()):
        self.changes, self.ops = changes, ops
        self.warnings, self.warn_fragments = warnings, warn_fragments

    def check(self, resp, obj, fails):
        """Returns the patched object (or None when the patch is missing or does not apply)."""
        if resp.get("allowed") is not True:
            fails.append("expected allowed: true, got %s" % shorten(json.dumps(resp), 400))
        _check_warnings(resp, self.warnings, self.warn_fragments, False, fails)
        try:
            ops = decode_patch(resp)
        except ValueError as e:
            fails.append(str(e))
            return None
        if ops is None:
            fails.append("expected a patch, got none (%s)" % shorten(json.dumps(resp), 300))
            return None
        try:
            patched = apply_patch(obj, ops)
        except Exception as e:  # jsonpatch raises several exception types
            fails.append("patch does not apply (%s: %s): %s" % (
                type(e).__name__, e, shorten(json.dumps(ops, ensure_ascii=False), 600)))
            return None
        expected = copy.deepcopy(obj)
        for ch in self.changes:
            ch.apply(expected)
        if normalize(patched) != normalize(expected):
            fails.append("patched object differs from the expected one (%s)\npatch: %s\n%s" % (
                ", ".join(map(repr, self.changes)),
                shorten(json.dumps(ops, ensure_ascii=False), 600),
                json_diff(normalize(expected), normalize(patched))))
        for op, path in self.ops:
            if not any(o.get("op") == op and o.get("path") == path for o in ops):
                fails.append("patch has no %r at %r: %s" % (
                    op, path, shorten(json.dumps(ops, ensure_ascii=False), 600)))
        return patched


class Unchanged:
    """/mutate allows without patch and patchType."""

    def __init__(self, warnings=ANY, warn_fragments=()):
        self.warnings, self.warn_fragments = warnings, warn_fragments

    def check(self, resp, obj, fails):
        if resp.get("allowed") is not True:
            fails.append("expected allowed: true, got %s" % shorten(json.dumps(resp), 400))
        if "patch" in resp or "patchType" in resp:
            try:
                ops = decode_patch(resp)
            except ValueError as e:
                ops = str(e)
            fails.append("expected no patch, got %s" % shorten(
                json.dumps(ops, ensure_ascii=False), 600))
        _check_warnings(resp, self.warnings, self.warn_fragments, False, fails)
        return None


class Allowed:
    """/validate allows. warn_format: every warning reads `container "<name>": ...` or
    `pod: ...`. audit: response.auditAnnotations has a non-empty `seccomp-violations`."""

    def __init__(self, warnings=ANY, warn_fragments=(), warn_format=False, audit=False):
        self.warnings, self.warn_fragments = warnings, warn_fragments
        self.warn_format, self.audit = warn_format, audit

    def check(self, resp, obj, fails):
        if resp.get("allowed") is not True:
            fails.append("expected allowed: true, got %s" % shorten(
                json.dumps(resp, ensure_ascii=False), 600))
        _check_warnings(resp, self.warnings, self.warn_fragments, self.warn_format, fails)
        if self.audit:
            v = (resp.get("auditAnnotations") or {}).get("seccomp-violations")
            if not isinstance(v, str) or not v:
                fails.append("expected auditAnnotations[seccomp-violations], got %s" % shorten(
                    json.dumps(resp.get("auditAnnotations")), 300))


class Denied:
    """/validate denies: status.code `code` (403 Forbidden for a policy decision, 400 for an
    object the engine cannot read) and a message holding every fragment. A 403 message also
    names the object (name or generateName, SPEC §7.4)."""

    def __init__(self, *fragments, code=403):
        self.fragments, self.code = fragments, code

    def check(self, resp, obj, fails):
        if resp.get("allowed") is not False:
            fails.append("expected allowed: false, got %s" % shorten(
                json.dumps(resp, ensure_ascii=False), 600))
            return
        status = resp.get("status")
        if not isinstance(status, dict):
            fails.append("denial without a status object")
            return
        if status.get("code") != self.code:
            fails.append("expected status.code %d, got %r" % (self.code, status.get("code")))
        if self.code == 403 and status.get("reason") != "Forbidden":
            fails.append("expected status.reason Forbidden, got %r" % status.get("reason"))
        msg = status.get("message")
        if not isinstance(msg, str) or not msg.strip():
            fails.append("denial without a status.message")
            return
        frags = list(self.fragments)
        if self.code == 403 and object_label(obj):
            frags.append(object_label(obj))
        for frag in frags:
            if frag not in msg:
                fails.append("status.message lacks %r: %s" % (frag, shorten(msg, 1500)))
        if CONTROL_RE.search(msg.replace("\n", "")):
            fails.append("status.message holds a raw control character: %r" % shorten(msg, 400))


# ------------------------------------------------------------------------------------------------
# Checks shared by every AdmissionReview answer (SPEC §4; NOTES §1.3, §1.4, §1.7)
# ------------------------------------------------------------------------------------------------

def check_envelope(reply, review, endpoint, fails):
    """Checks what every AdmissionReview answer must satisfy; returns `response` or None."""
    if reply.status != 200:
        fails.append("%s: expected HTTP 200, got %s" % (endpoint, reply.describe()))
        return None
    ctype = reply.header("content-type")
    if not ctype.lower().startswith("application/json"):
        fails.append("%s: Content-Type %r, expected application/json" % (endpoint, ctype))
    try:
        body = reply.json()
    except (ValueError, UnicodeDecodeError) as e:
        fails.append("%s: answer is not strict JSON (%s): %s" % (endpoint, e, reply.describe()))
        return None
    return check_review_document(body, review, endpoint, fails)


def check_review_document(body, review, endpoint, fails):
    """The parts of the envelope check that do not depend on HTTP (also used for `review`)."""
    want_api = review["apiVersion"]
    uid = review["request"]["uid"]
    if not isinstance(body, dict):
        fails.append("%s: answer is not a JSON object: %s" % (endpoint, shorten(str(body), 200)))
        return None
    if body.get("apiVersion") != want_api:
        fails.append("%s: apiVersion %r, expected %r" % (endpoint, body.get("apiVersion"),
                                                          want_api))
    if body.get("kind") != "AdmissionReview":
        fails.append("%s: kind %r, expected AdmissionReview" % (endpoint, body.get("kind")))
    resp = body.get("response")
    if not isinstance(resp, dict):
        fails.append("%s: no response object: %s" % (endpoint, shorten(json.dumps(body), 300)))
        return None
    if resp.get("uid") != uid:
        fails.append("%s: response.uid %r, expected %r" % (endpoint, resp.get("uid"), uid))
    if not isinstance(resp.get("allowed"), bool):
        fails.append("%s: response.allowed is not a boolean: %r" % (endpoint,
                                                                   resp.get("allowed")))
    if endpoint == "validate":
        if "patch" in resp or "patchType" in resp:
            fails.append("validate: a validating answer carries patch/patchType")
    elif ("patch" in resp) != ("patchType" in resp):
        fails.append("mutate: patch and patchType must come together: %s" % shorten(
            json.dumps(resp), 300))
    elif "patchType" in resp and resp["patchType"] != "JSONPatch":
        fails.append("mutate: patchType %r, expected JSONPatch" % resp["patchType"])
    warnings = resp.get("warnings")
    if warnings is not None:
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            fails.append("%s: warnings is not a list of strings: %r" % (endpoint, warnings))
            resp["warnings"] = []
        else:
            for w in warnings:
                if len(w) > MAX_WARNING_CHARS:
                    fails.append("%s: warning longer than %d characters (%d): %r" % (
                        endpoint, MAX_WARNING_CHARS, len(w), w))
                if CONTROL_RE.search(w):
                    fails.append("%s: warning holds a raw control character: %r" % (endpoint, w))
    audit = resp.get("auditAnnotations")
    if audit is not None:
        if not isinstance(audit, dict):
            fails.append("%s: auditAnnotations is not an object" % endpoint)
        else:
            for k, v in audit.items():
                if "/" in k or len(k) > 63 or not AUDIT_KEY_RE.match(k):
                    fails.append("%s: auditAnnotations key %r is not a qualified name without "
                                 "'/' of at most 63 characters" % (endpoint, k))
                if not isinstance(v, str):
                    fails.append("%s: auditAnnotations[%r] is not a string" % (endpoint, k))
    if resp.get("allowed") is False and not isinstance(resp.get("status"), dict):
        fails.append("%s: denial without status" % endpoint)
    return resp


# ------------------------------------------------------------------------------------------------
# Running one admission case: mutate → apply → re-mutate → validate
# ------------------------------------------------------------------------------------------------

MUTATE_PATH = "/mutate?timeout=10s"
VALIDATE_PATH = "/validate?timeout=10s"


def post_review(client, endpoint, review, fails):
    path = MUTATE_PATH if endpoint == "mutate" else VALIDATE_PATH
    reply = client.request("POST", path, go_json(review))
    return check_envelope(reply, review, endpoint, fails)


def run_admission_case(client, case):
    """Runs one case of test_admission.py's table; returns the list of failures (empty: pass).

    1. /mutate on the request (when case.mutate): check the answer; apply its patch.
    2. When there was a patch: /mutate again on the patched object → no patch (idempotence).
    3. /validate on the patched object (when case.validate), as the API server does next.
    4. /validate on the object as written (when case.validate_unpatched): the webhook bypassed.
    """
    fails = []
    obj = case.build_object()
    review = case.build_review(obj)
    sent = review["request"]["object"]
    current = sent
    if case.mutate is not None:
        f = []
        resp = post_review(client, "mutate", review, f)
        if resp is not None:
            patched = case.mutate.check(resp, sent, f)
            if patched is not None:
                current = patched
                again = with_object(review, patched)
                f2 = []
                resp2 = post_review(client, "mutate", again, f2)
                if resp2 is not None:
                    Unchanged().check(resp2, patched, f2)
                fails += ["re-mutate of the patched object: " + x for x in f2]
        fails += ["mutate: " + x for x in f]
    if case.validate is not None:
        f = []
        resp = post_review(client, "validate", with_object(review, current), f)
        if resp is not None:
            case.validate.check(resp, current, f)
        label = "validate (patched object)" if current is not sent else "validate"
        fails += [label + ": " + x for x in f]
    if case.validate_unpatched is not None:
        f = []
        resp = post_review(client, "validate", with_object(review, sent), f)
        if resp is not None:
            case.validate_unpatched.check(resp, sent, f)
        fails += ["validate (object as written): " + x for x in f]
    return fails


# ------------------------------------------------------------------------------------------------
# Runner
# ------------------------------------------------------------------------------------------------

class Results:
    """PASS/FAIL lines, counted; a suite stops starting cases once `budget` seconds are spent."""

    def __init__(self, budget):
        self.passed = self.failed = 0
        self.budget = budget
        self.t0 = time.monotonic()

    def record(self, name, fails):
        if fails:
            self.failed += 1
            print("FAIL %s" % name)
            for f in fails:
                for i, line in enumerate(str(f).splitlines() or [""]):
                    print(("    - " if i == 0 else "      ") + line)
        else:
            self.passed += 1
            print("PASS %s" % name)
        sys.stdout.flush()

    def out_of_time(self):
        return time.monotonic() - self.t0 > self.budget


def guarded(fn, *args):
    """Run one check; an exception in the harness fails that case, not the whole suite."""
    try:
        return fn(*args)
    except Exception as e:  # report and go on with the next case
        return ["harness error: %s: %s" % (type(e).__name__, e)]
