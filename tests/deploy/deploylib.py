"""
deploylib.py — shared by the deployment tests (test_manifests.py, test_certs.py,
test_container.py): a pass/fail counter, subprocess helpers, `kubectl kustomize`, and running the
real server on a free port. Standard library and python3-yaml only (Debian's /usr/bin/python3).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
MANIFESTS = os.path.join(REPO, "manifests")
CERTS_SCRIPT = os.path.join(REPO, "certs", "make-certs.sh")
EXAMPLE_REVIEW = os.path.join(REPO, "examples", "admissionreview-pod.json")

SKIP = 77  # ctest SKIP_RETURN_CODE


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
            print("FAIL %s%s" % (name, (": " + str(detail)) if detail != "" else ""), flush=True)
        return bool(ok)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0


def run(cmd, check=False, **kw):
    """Run a command, capturing text output. Returns the CompletedProcess."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    p = subprocess.run(cmd, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p


def find_kubectl(explicit=None):
    for cand in ([explicit] if explicit else []) + ["/usr/bin/kubectl", shutil.which("kubectl")]:
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def kustomize(kubectl, directory):
    """Render a kustomization offline; returns (objects, error text)."""
    p = run([kubectl, "kustomize", directory])
    if p.returncode != 0:
        return None, p.stderr.strip()
    return [d for d in yaml.safe_load_all(p.stdout) if d is not None], ""


def index(objects):
    """{(kind, name): object}"""
    return {(o.get("kind"), o.get("metadata", {}).get("name")): o for o in objects}


def one(objects, kind):
    found = [o for o in objects if o.get("kind") == kind]
    return found[0] if len(found) == 1 else None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The real `seccomp-webhook serve` with a given pair on 127.0.0.1:<free port>."""

    def __init__(self, binary, cert, key, workdir, config=None):
        self.port = free_port()
        self.log_path = os.path.join(workdir, "server-%d.stderr" % self.port)
        cmd = [binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
               "--tls-cert", cert, "--tls-key", key,
               "--no-self-sandbox", "--shutdown-delay", "0"]
        if config:
            cmd += ["--config", config]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log)

    def wait_listening(self, limit=10.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def curl(url, host, port, cafile, data=None, extra=()):
    """curl over verified TLS, with the DNS name `host` resolved to 127.0.0.1 (--resolve).
    Returns (curl exit code, HTTP status or None, body)."""
    cmd = ["curl", "--silent", "--show-error", "--max-time", "10",
           "--resolve", "%s:%d:127.0.0.1" % (host, port),
           "--write-out", "\n%{http_code}"]
    if cafile:
        cmd += ["--cacert", cafile]
    if data is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@" + data]
    cmd += list(extra) + [url]
    p = run(cmd)
    if p.returncode != 0:
        return p.returncode, None, p.stderr.strip()
    body, _, code = p.stdout.rpartition("\n")
    return 0, int(code), body


def admission_response(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and doc.get("kind") == "AdmissionReview" else None


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def exit_with(results):
    sys.exit(results.finish())
