"""
tlslib.py — what test_tls.py, test_rotation.py and test_sandbox.py share: certificates made with
the `openssl` command, a directory written the way the kubelet writes a mounted Secret or
ConfigMap, the server process and its JSON log, HTTPS requests over verified TLS (Python's ssl,
never unverified), probes with `openssl s_client`, and the PASS/FAIL tally.

Only the standard library and Debian's python3 are used.
"""

import glob
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
import time
import uuid

from serverlog import ServerLog


class SetupError(Exception):
    """A problem of the test machinery itself (openssl failed, the server did not start...)."""


def run(cmd, cwd=None, stdin_bytes=b"", timeout=60, check=True):
    """Run a command; returns the CompletedProcess. Raises SetupError when check and it fails."""
    p = subprocess.run(cmd, cwd=cwd, input=stdin_bytes, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if check and p.returncode != 0:
        raise SetupError("%s failed (exit %d): %s" % (
            " ".join(cmd), p.returncode, p.stderr.decode("utf-8", "replace").strip()))
    return p


# ------------------------------------------------------------------------------------------------
# Certificates
# ------------------------------------------------------------------------------------------------

SERVER_EXT = ("basicConstraints=critical,CA:FALSE\n"
              "keyUsage=critical,digitalSignature,keyEncipherment\n"
              "extendedKeyUsage=serverAuth\n"
              "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
CLIENT_EXT = ("basicConstraints=critical,CA:FALSE\n"
              "keyUsage=critical,digitalSignature\n"
              "extendedKeyUsage=clientAuth\n")


def _newkey(kind):
    return (["-newkey", "rsa:2048"] if kind == "rsa"
            else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])


class CA:
    """A throw-away certificate authority in directory `d`, files NAME.pem and NAME.key."""

    def __init__(self, d, name, cn=None, key="ec"):
        self.d, self.name = d, name
        self.pem = os.path.join(d, name + ".pem")
        self.key = os.path.join(d, name + ".key")
        run(["openssl", "req", "-x509"] + _newkey(key) + [
            "-nodes", "-sha256", "-days", "2", "-subj", "/O=seccomp-webhook e2e/CN=%s" % (cn or name),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", self.key, "-out", self.pem], cwd=d)
        self._serial = 0

    def issue(self, name, cn, ext, key="ec", not_before=None, not_after=None):
        """A certificate NAME.pem with key NAME.key, signed by this CA, valid two days from now or,
        with not_before/not_after ("YYYYMMDDHHMMSSZ"), for exactly that time (`openssl ca`,
        which can date a certificate in the past: an expired one). Returns (cert, key) paths."""
        d = self.d
        cert = os.path.join(d, name + ".pem")
        keyf = os.path.join(d, name + ".key")
        csr = os.path.join(d, name + ".csr")
        extf = os.path.join(d, name + ".ext")
        with open(extf, "w") as f:
            f.write(ext)
        run(["openssl", "req", "-new"] + _newkey(key) + [
            "-nodes", "-subj", "/O=seccomp-webhook e2e/CN=%s" % cn,
            "-keyout", keyf, "-out", csr], cwd=d)
        if not_before is None:
            run(["openssl", "x509", "-req", "-in", csr, "-CA", self.pem, "-CAkey", self.key,
                 "-CAcreateserial", "-days", "2", "-sha256", "-extfile", extf, "-out", cert],
                cwd=d)
            return cert, keyf
        db = os.path.join(d, self.name + ".db")
        os.makedirs(db, exist_ok=True)
        index = os.path.join(db, "index.txt")
        if not os.path.exists(index):
            open(index, "w").close()
            with open(os.path.join(db, "serial"), "w") as f:
                f.write("1000\n")
        cnf = os.path.join(db, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = c\n[c]\ndir = %s\ndatabase = %s\nserial = %s\n"
                    "new_certs_dir = %s\ndefault_md = sha256\npolicy = p\n"
                    "unique_subject = no\n[p]\ncommonName = supplied\norganizationName = optional\n"
                    % (db, index, os.path.join(db, "serial"), db))
        run(["openssl", "ca", "-batch", "-config", cnf, "-cert", self.pem, "-keyfile", self.key,
             "-in", csr, "-startdate", not_before, "-enddate", not_after, "-extfile", extf,
             "-notext", "-out", cert], cwd=d)
        return cert, keyf


def fingerprint_of(pem_path):
    """The SHA-256 fingerprint of a PEM certificate file, as openssl prints it (AB:CD:...)."""
    out = run(["openssl", "x509", "-in", pem_path, "-noout", "-fingerprint", "-sha256"]).stdout
    return out.decode().strip().split("=", 1)[1]


def fingerprint_of_der(der):
    """SHA-256 of a DER certificate in openssl's notation (what `-fingerprint -sha256` hashes)."""
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def served_fingerprint(port):
    """The fingerprint of the certificate a new connection to 127.0.0.1:PORT is served:
    `openssl s_client -connect ... </dev/null | openssl x509 -fingerprint -sha256`. None when
    no certificate came."""
    p = run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
             "localhost"], timeout=20, check=False)
    x = run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], stdin_bytes=p.stdout,
            check=False)
    if x.returncode != 0:
        return None
    return x.stdout.decode().strip().split("=", 1)[1]


def s_client(port, options, ca=None, timeout=20):
    """One `openssl s_client -msg` handshake to 127.0.0.1:PORT with `options` and an empty
    stdin. Returns (exit status, stdout text, stderr text)."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost",
           "-msg"]
    if ca:
        cmd += ["-CAfile", ca, "-verify_return_error"]
    p = run(cmd + list(options), timeout=timeout, check=False)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ------------------------------------------------------------------------------------------------
# The kubelet's atomic writer
# ------------------------------------------------------------------------------------------------

class AtomicDir:
    """A directory written the way the kubelet's AtomicWriter writes a Secret or ConfigMap
    volume: each version in a new hidden timestamped directory, a `..data_tmp` symlink to it
    renamed over `..data`, the visible names symlinks through `..data`, the old version removed."""

    def __init__(self, root):
        self.root = root
        self.version = 0
        self.current = None
        os.mkdir(root)

    def path(self, name):
        return os.path.join(self.root, name)

    def publish(self, files):
        """files: {name: bytes}. Returns the monotonic time of the `..data` rename."""
        self.version += 1
        stamp = "..2026_11_29_18_%02d_00.%09d" % (self.version % 60, self.version)
        os.mkdir(os.path.join(self.root, stamp))
        for name, data in files.items():
            with open(os.path.join(self.root, stamp, name), "wb") as f:
                f.write(data)
        tmp = os.path.join(self.root, "..data_tmp")
        os.symlink(stamp, tmp)
        os.rename(tmp, os.path.join(self.root, "..data"))
        when = time.monotonic()
        for name in files:
            if not os.path.lexists(self.path(name)):
                os.symlink(os.path.join("..data", name), self.path(name))
        if self.current is not None:
            shutil.rmtree(os.path.join(self.root, self.current))
        self.current = stamp
        return when


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


# ------------------------------------------------------------------------------------------------
# The server
# ------------------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`BINARY serve --listen 127.0.0.1:PORT ARGS...`, with --no-self-sandbox unless `sandbox`,
    its stderr (JSON lines) in WORKDIR/TAG.stderr."""

    def __init__(self, binary, args, workdir, sandbox=False, tag="server"):
        self.port = free_port()
        self.log_path = os.path.join(workdir, tag + ".stderr")
        self.cmd = [binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
                    "--shutdown-delay", "0"] + list(args)
        if not sandbox:
            self.cmd.append("--no-self-sandbox")
        self.proc = None
        self._log = None
        self._reader = None

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._log)

    def wait_healthy(self, ctx, timeout=15.0):
        """Poll GET /healthz until 200; raises SetupError when it never comes."""
        end = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SetupError("the server exited with status %d: %s" % (
                    self.proc.returncode, self.log_text()[-2000:]))
            try:
                c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=2)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return
                last = "HTTP %d" % r.status
            except (OSError, http.client.HTTPException) as e:
                last = str(e)
            time.sleep(0.1)
        raise SetupError("GET /healthz never answered 200 (last: %s)" % last)

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit status (None when it had to be killed)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                rc = None
        if self._log:
            self._log.close()
            self._log = None
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self._log:
            self._log.close()
            self._log = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self):
        """The log so far, without the per-review lines (serverlog.ServerLog)."""
        if self._reader is None:
            self._reader = ServerLog(self.log_path)
        return self._reader.lines()

    def events(self, name):
        return [l for l in self.log_lines() if isinstance(l, dict) and l.get("event") == name]

    def wait_event(self, name, count=1, timeout=10.0, pred=None):
        """Wait until `count` lines of event `name` (matching pred) are logged; returns them."""
        end = time.monotonic() + timeout
        while True:
            found = [e for e in self.events(name) if pred is None or pred(e)]
            if len(found) >= count or time.monotonic() > end:
                return found
            time.sleep(0.05)

    def sanitizer_report(self):
        """The first line of a sanitizer report in the log, or None."""
        for l in self.log_lines():
            if isinstance(l, str) and ("Sanitizer" in l or "runtime error" in l):
                return l
        return None


# ------------------------------------------------------------------------------------------------
# HTTPS
# ------------------------------------------------------------------------------------------------

def client_context(ca, cert=None, key=None, tls=None):
    """A verifying client context: trusts `ca`, presents cert/key when given, and is pinned to
    TLS 1.2 or 1.3 when tls is "1.2" or "1.3"."""
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if tls == "1.2":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif tls == "1.3":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    return ctx


class Conn(http.client.HTTPSConnection):
    """An HTTPS connection to 127.0.0.1 that counts its (re)connections and remembers the
    fingerprint of the certificate each one was served."""

    def __init__(self, port, ctx, timeout=10):
        super().__init__("127.0.0.1", port, context=ctx, timeout=timeout)
        self.connects = 0
        self.peer_der = None

    def connect(self):
        self.connects += 1
        super().connect()
        self.peer_der = self.sock.getpeercert(binary_form=True)


def pod_review(uid=None, name="app", profile=None, namespace="default"):
    """An AdmissionReview v1 CREATE of a one-container Pod; `profile` is its container's
    seccompProfile (None: no securityContext)."""
    container = {"name": "app", "image": "nginx:1.27"}
    if profile is not None:
        container["securityContext"] = {"seccompProfile": profile}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": namespace},
           "spec": {"containers": [container]}}
    gvk = {"group": "", "version": "v1", "kind": "Pod"}
    gvr = {"group": "", "version": "v1", "resource": "pods"}
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
              "request": {"uid": uid or str(uuid.uuid4()), "kind": gvk, "resource": gvr,
                          "requestKind": gvk, "requestResource": gvr, "name": name,
                          "namespace": namespace, "operation": "CREATE",
                          "userInfo": {"username": "system:serviceaccount:ns:deployer"},
                          "object": pod, "oldObject": None, "dryRun": False,
                          "options": {"apiVersion": "meta.k8s.io/v1",
                                      "kind": "CreateOptions"}}}
    return review


def post_review(conn, endpoint, review):
    """POST the review to /ENDPOINT on `conn`. Returns (HTTP status, parsed body or None,
    raw body); status 0 and the error text when the exchange failed."""
    body = json.dumps(review, separators=(",", ":")).encode()
    try:
        conn.request("POST", "/%s?timeout=10s" % endpoint, body=body,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        return 0, None, ("%s: %s" % (type(e).__name__, e)).encode()
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    return r.status, doc, data


def get(conn, path):
    """GET path on conn; returns (status, raw body), status 0 on a failed exchange."""
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        return 0, str(e).encode()


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------

class Results:
    """PASS/FAIL lines and the closing `N passed, M failed`."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS %s" % name, flush=True)
        else:
            self.failed += 1
            print("FAIL %s%s" % (name, (": " + str(detail)) if detail else ""), flush=True)
        return ok

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 else 1


def dump_log(server, last=60):
    """Print the end of a server's log (after a failure)."""
    if server is None:
        return
    lines = server.log_text().splitlines()
    print("----- %s (last %d of %d lines) -----" % (server.log_path, min(last, len(lines)),
                                                     len(lines)))
    print("\n".join(lines[-last:]))
    print("----- end -----")


def violations(server):
    """The sandbox_violation lines of a server's log."""
    return server.events("sandbox_violation")


def proc_task_status(pid):
    """{tid: {field: value}} from /proc/PID/task/*/status."""
    out = {}
    for path in glob.glob("/proc/%d/task/*/status" % pid):
        tid = int(path.split("/")[4])
        fields = {}
        try:
            with open(path) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    fields[k] = v.strip()
        except OSError:
            continue
        out[tid] = fields
    return out


RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
