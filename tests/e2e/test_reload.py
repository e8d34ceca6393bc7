#!/usr/bin/python3
"""
test_reload.py — live policy reload, end to end (SPEC §5, issue 4).

The real binary serves over verified TLS (a CA and serving certificate made with `openssl`)
with --config pointing into a directory laid out exactly as the kubelet lays out a mounted
ConfigMap:

    cfg/..2026_11_29_18_01_00.000000001/policy.yaml
    cfg/..data -> ..2026_11_29_18_01_00.000000001
    cfg/policy.yaml -> ..data/policy.yaml

and each new version is written the kubelet's way: a new timestamped directory, a `..data_tmp`
symlink to it renamed over `..data`, the old directory removed.

While reviews of one Pod with an Unconfined container flow without a pause — over ONE keep-alive
connection and over a new connection per request, in parallel threads — the policy goes

    enforce (denied) → warn (allowed with a warning) → a broken file (warn kept) → enforce again
    → the same enforce content once more (nothing to do)

and the test checks that each new decision is seen within 5 seconds, that the broken file is
logged as policy_rejected with line:column and changes nothing (/readyz stays 200 and names the
warn policy), and — counting every response of the stream — that not one request failed and
every answer is a well-formed AdmissionReview matching the old or the new policy, never a mix,
never older than one already seen.

Only the standard library and Debian's python3 are used. The last line is `N passed, M failed`;
the exit status is 1 on any failure.
"""

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from serverlog import ServerLog

SEEN_WITHIN = 5.0  # seconds: a new policy must decide requests by then (issue 4)
CHECK_INTERVAL = 1  # --config-check-interval for this run

HEADER = "apiVersion: seccomp-webhook/v1\nkind: SeccompPolicy\n"
ENFORCE = HEADER + "defaults:\n  mode: enforce\n"
WARN = HEADER + "defaults:\n  mode: warn\n"
# Line 5, column 3: an unknown key (a typo of allowUnconfined).
BROKEN = HEADER + "defaults:\n  mode: warn\n  allowUnconfinedd: true\n"
BROKEN_AT = re.compile(r"policy\.yaml:5:3: unknown key \"allowUnconfinedd\"")
# Back to enforce, with different bytes from the first file (so a distinct hash).
FINAL = "# back to enforce\n" + ENFORCE


def sha256(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


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


# ------------------------------------------------------------------------------------------------
# Certificates, the ConfigMap directory, the server
# ------------------------------------------------------------------------------------------------

def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr.decode(errors="replace")))


def make_certs(d):
    """A throw-away CA and a serving certificate for 127.0.0.1 and localhost signed by it."""
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
         "-subj", "/O=seccomp-webhook e2e/CN=seccomp-webhook reload CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-keyout", "ca.key", "-out", "ca.pem"], d)
    run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-subj", "/O=seccomp-webhook e2e/CN=localhost",
         "-keyout", "server.key", "-out", "server.csr"], d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-sha256", "-extfile", "server.ext",
         "-out", "server.pem"], d)
    return {k: os.path.join(d, v) for k, v in
            (("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"))}


class ConfigMapDir:
    """A directory written the way the kubelet's AtomicWriter writes a ConfigMap volume."""

    def __init__(self, root):
        self.root = root
        self.version = 0
        self.current = None
        os.mkdir(root)

    @property
    def path(self):
        return os.path.join(self.root, "policy.yaml")

    def write(self, text):
        """Publish a new version; returns the monotonic time of the `..data` rename."""
        self.version += 1
        stamp = "..2026_11_29_18_%02d_00.%09d" % (self.version, self.version)
        os.mkdir(os.path.join(self.root, stamp))
        with open(os.path.join(self.root, stamp, "policy.yaml"), "w") as f:
            f.write(text)
        tmp = os.path.join(self.root, "..data_tmp")
        os.symlink(stamp, tmp)
        os.rename(tmp, os.path.join(self.root, "..data"))
        when = time.monotonic()
        if not os.path.lexists(self.path):
            os.symlink("..data/policy.yaml", self.path)
        if self.current is not None:
            shutil.rmtree(os.path.join(self.root, self.current))
        self.current = stamp
        return when


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, certs, config, workdir):
        self.port = free_port()
        self.log_path = os.path.join(workdir, "server.stderr")
        self.cmd = [binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
                    "--tls-cert", certs["cert"], "--tls-key", certs["key"],
                    "--config", config, "--config-check-interval", str(CHECK_INTERVAL),
                    "--no-self-sandbox", "--shutdown-delay", "0"]
        self.proc = None

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._log)

    def stop(self):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return None
        self._log.close()
        return self.proc.returncode

    def log_lines(self):
        """The log so far, without the per-review lines (serverlog.ServerLog)."""
        if not hasattr(self, "_reader"):
            self._reader = ServerLog(self.log_path)
        return self._reader.lines()

    def events(self, name):
        return [l for l in self.log_lines() if isinstance(l, dict) and l.get("event") == name]


# ------------------------------------------------------------------------------------------------
# HTTPS client (http.client over verified TLS)
# ------------------------------------------------------------------------------------------------

class Conn(http.client.HTTPSConnection):
    """An HTTPS connection that counts how many times it (re)connected."""

    def __init__(self, port, ctx):
        super().__init__("127.0.0.1", port, context=ctx, timeout=10)
        self.connects = 0

    def connect(self):
        self.connects += 1
        super().connect()


def review_body(uid):
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "unconfined-app", "namespace": "default"},
           "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                                    "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]}}
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
              "request": {"uid": uid,
                          "kind": {"group": "", "version": "v1", "kind": "Pod"},
                          "resource": {"group": "", "version": "v1", "resource": "pods"},
                          "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
                          "requestResource": {"group": "", "version": "v1", "resource": "pods"},
                          "name": "unconfined-app", "namespace": "default", "operation": "CREATE",
                          "userInfo": {"username": "system:serviceaccount:ns:deployer"},
                          "object": pod, "oldObject": None, "dryRun": False,
                          "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}
    return json.dumps(review, separators=(",", ":")).encode()


def classify(status, ctype, body, uid):
    """'enforce' (denied, 403, no warning), 'warn' (allowed with the one warning), or a string
    starting with 'bad:' saying what is wrong with the answer."""
    if status != 200:
        return "bad: HTTP %d %r" % (status, body[:200])
    if not (ctype or "").startswith("application/json"):
        return "bad: Content-Type %r" % ctype
    try:
        doc = json.loads(body)
    except ValueError as e:
        return "bad: not JSON (%s)" % e
    if doc.get("apiVersion") != "admission.k8s.io/v1" or doc.get("kind") != "AdmissionReview":
        return "bad: not an AdmissionReview v1: %r" % body[:200]
    resp = doc.get("response")
    if not isinstance(resp, dict) or resp.get("uid") != uid:
        return "bad: response.uid does not echo the request"
    if "patch" in resp or "patchType" in resp:
        return "bad: a validating answer with a patch"
    warnings = resp.get("warnings") or []
    st = resp.get("status") or {}
    if (resp.get("allowed") is False and st.get("code") == 403 and st.get("reason") == "Forbidden"
            and "Unconfined" in st.get("message", "") and not warnings):
        return "enforce"
    if (resp.get("allowed") is True and not st and len(warnings) == 1
            and "Unconfined" in warnings[0]):
        return "warn"
    return "bad: neither the enforce nor the warn answer (a mix?): %r" % body[:300]


def validate(conn):
    """One POST /validate. Returns (t_sent, t_received, class)."""
    uid = str(uuid.uuid4())
    body = review_body(uid)
    t0 = time.monotonic()
    try:
        conn.request("POST", "/validate?timeout=10s", body=body,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        cls = classify(r.status, r.getheader("Content-Type"), data, uid)
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        cls = "bad: %s: %s" % (type(e).__name__, e)
    return t0, time.monotonic(), cls


def get(conn, path):
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        return 0, str(e).encode()


# ------------------------------------------------------------------------------------------------
# The stream
# ------------------------------------------------------------------------------------------------

class Stream:
    """Reviews without a pause: one thread on one keep-alive connection, `fresh` threads each
    opening a new connection per request. Every answer is recorded."""

    MAX_REQUESTS = 500000  # a bound, whatever happens

    def __init__(self, port, ctx, fresh=2):
        self.port = port
        self.ctx = ctx
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.records = []  # (t_sent, t_received, class, "keepalive" | "fresh")
        self.keepalive_connects = 0
        self.threads = [threading.Thread(target=self._keepalive, daemon=True)]
        self.threads += [threading.Thread(target=self._fresh, daemon=True) for _ in range(fresh)]

    def _more(self):
        return not self.stop_event.is_set() and len(self.records) < self.MAX_REQUESTS

    def _record(self, rec, how):
        with self.lock:
            self.records.append(rec + (how,))

    def _keepalive(self):
        conn = Conn(self.port, self.ctx)
        while self._more():
            self._record(validate(conn), "keepalive")
        self.keepalive_connects = conn.connects
        conn.close()

    def _fresh(self):
        while self._more():
            conn = Conn(self.port, self.ctx)
            self._record(validate(conn), "fresh")
            conn.close()

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(30)

    def count(self):
        with self.lock:
            return len(self.records)


def wait_decision(conn, want, since, limit=SEEN_WITHIN + 5):
    """Poll POST /validate on `conn` every 20 ms until it answers `want`. Returns the seconds
    from `since` to the arrival of the first such answer, or None when none came in `limit`."""
    while time.monotonic() - since < limit:
        t0, t1, cls = validate(conn)
        if cls == want:
            return t1 - since
        time.sleep(0.02)
    return None


def wait_log(server, event, count, limit=SEEN_WITHIN + 5):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        lines = server.events(event)
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    return server.events(event)


# ------------------------------------------------------------------------------------------------
# The test
# ------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    res = Results()
    work = tempfile.mkdtemp(prefix="sw-reload-")
    server = None
    stream = None
    try:
        certs = make_certs(work)
        cm = ConfigMapDir(os.path.join(work, "cfg"))
        cm.write(ENFORCE)
        ctx = ssl.create_default_context(cafile=certs["ca"])  # verified: never insecure
        server = Server(args.binary, certs, cm.path, work)
        server.start()

        probe = Conn(server.port, ctx)
        end = time.monotonic() + 10
        while time.monotonic() < end and get(probe, "/healthz")[0] != 200:
            if server.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not res.check("server answers /healthz", get(probe, "/healthz")[0] == 200,
                         "exit %s" % server.proc.poll()):
            return res

        start = server.events("policy_loaded")
        res.check("start: one policy_loaded line, source start, with the file's hash",
                  len(start) == 1 and start[0].get("source") == "start"
                  and start[0].get("hash") == sha256(ENFORCE)
                  and start[0].get("namespace_rules") == 0, repr(start))
        status, body = get(probe, "/readyz")
        res.check("/readyz 200 names the loaded policy",
                  status == 200 and json.loads(body or b"{}") ==
                  {"status": "ok", "policy": sha256(ENFORCE)}, "%d %r" % (status, body))
        t0, t1, cls = validate(probe)
        res.check("enforce: the Unconfined pod is denied", cls == "enforce", cls)

        stream = Stream(server.port, ctx)
        stream.start()
        time.sleep(1.0)

        # 1. enforce → warn
        t_warn = cm.write(WARN)
        seen = wait_decision(probe, "warn", t_warn)
        res.check("warn: allowed with a warning within %.0f s of the ..data swap" % SEEN_WITHIN,
                  seen is not None and seen <= SEEN_WITHIN, "seen after %r s" % seen)
        o_warn = time.monotonic()
        loaded = wait_log(server, "policy_loaded", 2)
        res.check("warn: policy_loaded logged with source reload, hash and rule count",
                  len(loaded) == 2 and loaded[1].get("source") == "reload"
                  and loaded[1].get("hash") == sha256(WARN)
                  and loaded[1].get("namespace_rules") == 0
                  and loaded[1].get("level") == "info", repr(loaded[1:]))
        status, body = get(probe, "/readyz")
        res.check("warn: /readyz 200 names the new policy",
                  status == 200 and json.loads(body or b"{}").get("policy") == sha256(WARN),
                  "%d %r" % (status, body))
        time.sleep(1.0)

        # 2. warn → a broken file: nothing changes
        t_broken = cm.write(BROKEN)
        rejected = wait_log(server, "policy_rejected", 1)
        seen_rejected = time.monotonic() - t_broken
        errors = rejected[0].get("errors") if rejected else None
        res.check("broken: one policy_rejected line (level error) naming FILE:5:3",
                  len(rejected) == 1 and rejected[0].get("level") == "error"
                  and isinstance(errors, list) and len(errors) >= 1
                  and any(BROKEN_AT.search(e) for e in errors)
                  and rejected[0].get("kept_hash") == sha256(WARN), repr(rejected))
        # Longer than two periodic checks: the bad file must stay ignored, quietly.
        time.sleep(2.5 * CHECK_INTERVAL)
        status, body = get(probe, "/readyz")
        res.check("broken: /readyz still 200 and still names the warn policy",
                  status == 200 and json.loads(body or b"{}").get("policy") == sha256(WARN),
                  "%d %r" % (status, body))
        t0, t1, cls = validate(probe)
        res.check("broken: the warn decision is kept", cls == "warn", cls)
        res.check("broken: rejected once, not at every check",
                  len(server.events("policy_rejected")) == 1,
                  repr(server.events("policy_rejected")))
        res.check("broken: no policy_loaded for it", len(server.events("policy_loaded")) == 2)

        # 3. → enforce again
        t_final = cm.write(FINAL)
        seen_final = wait_decision(probe, "enforce", t_final)
        res.check("enforce again: denied within %.0f s of the ..data swap" % SEEN_WITHIN,
                  seen_final is not None and seen_final <= SEEN_WITHIN,
                  "seen after %r s" % seen_final)
        o_final = time.monotonic()
        loaded = wait_log(server, "policy_loaded", 3)
        res.check("enforce again: policy_loaded with the new hash",
                  len(loaded) == 3 and loaded[2].get("hash") == sha256(FINAL)
                  and loaded[2].get("source") == "reload", repr(loaded[2:]))
        time.sleep(1.0)

        # 4. the same content once more: no swap, no info line
        cm.write(FINAL)
        time.sleep(2.5 * CHECK_INTERVAL)
        res.check("identical content: no policy_loaded line",
                  len(server.events("policy_loaded")) == 3,
                  repr(server.events("policy_loaded")[3:]))
        status, body = get(probe, "/readyz")
        res.check("end: /readyz 200 names the final policy",
                  status == 200 and json.loads(body or b"{}").get("policy") == sha256(FINAL),
                  "%d %r" % (status, body))

        stream.stop()
        probe.close()

        # Every response of the stream.
        recs = stream.records
        bad = [r for r in recs if r[2].startswith("bad")]
        keep = [r for r in recs if r[3] == "keepalive"]
        fresh = [r for r in recs if r[3] == "fresh"]
        by_class = {c: sum(1 for r in recs if r[2] == c) for c in ("enforce", "warn")}
        print("stream: %d responses (%d on one keep-alive connection, %d on new connections): "
              "%d enforce, %d warn, %d bad" % (len(recs), len(keep), len(fresh),
                                               by_class["enforce"], by_class["warn"], len(bad)))
        print("swap seen: warn after %.3f s, enforce again after %.3f s; broken file rejected "
              "(logged) after %.3f s" % (seen or -1, seen_final or -1, seen_rejected))
        res.check("stream: every request answered with a well-formed AdmissionReview",
                  not bad and len(recs) > 0, "%d bad, first: %r" % (len(bad), bad[:3]))
        res.check("stream: the keep-alive connection carried the whole stream on one connection",
                  stream.keepalive_connects == 1 and len(keep) > 100,
                  "%d connects, %d requests" % (stream.keepalive_connects, len(keep)))
        res.check("stream: requests on new connections too", len(fresh) > 20, "%d" % len(fresh))

        # Old or new, never older than what was seen: by the time of each request.
        wrong = []
        for t_sent, t_recv, cls, how in recs:
            if cls.startswith("bad"):
                continue
            if t_recv < t_warn and cls != "enforce":
                wrong.append(("before the warn swap", cls, how))
            elif o_warn < t_sent and t_recv < t_final and cls != "warn":
                wrong.append(("warn in force (broken file included)", cls, how))
            elif o_final < t_sent and cls != "enforce":
                wrong.append(("final enforce in force", cls, how))
        res.check("stream: each decision is the policy in force when the request ran",
                  not wrong, "%d wrong, first: %r" % (len(wrong), wrong[:3]))
        res.check("stream: both policies were served during the stream",
                  by_class["enforce"] > 0 and by_class["warn"] > 0, repr(by_class))

        rc = server.stop()
        res.check("SIGTERM: exit 0", rc == 0, "exit %r" % rc)
        crashes = [l for l in server.log_lines()
                   if isinstance(l, str) and ("Sanitizer" in l or "runtime error" in l)]
        res.check("no sanitizer report in the server's log", not crashes, repr(crashes[:3]))
    except Exception as e:  # the machinery itself failed: a failure, with the reason
        res.check("test machinery", False, "%s: %s" % (type(e).__name__, e))
    finally:
        if stream is not None:
            stream.stop()
        if server is not None and server.proc is not None and server.proc.poll() is None:
            server.stop()
        if res.failed and server is not None:
            print("----- server log (last 30 lines) -----")
            for line in server.log_lines()[-30:]:
                print(line if isinstance(line, str) else json.dumps(line))
        if args.keep:
            print("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res


if __name__ == "__main__":
    r = main()
    print("%d passed, %d failed" % (r.passed, r.failed))
    sys.exit(1 if r.failed else 0)
