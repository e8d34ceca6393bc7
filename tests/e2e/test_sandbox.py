#!/usr/bin/python3
"""
test_sandbox.py — the server's own seccomp filter, end to end (SPEC §8; issue 6).

    tests/e2e/test_sandbox.py --binary build/seccomp-webhook
    tests/e2e/test_sandbox.py --binary build/seccomp-webhook --admission-suite

Without --admission-suite: `serve` runs WITH its filter (no --no-self-sandbox) and with
--sandbox-selftest, its certificate from a directory laid out as a mounted TLS Secret and its
policy from one laid out as a mounted ConfigMap (both updated the kubelet's way), with
Localhost profile checks on (profiles.directory). The test checks that
  - the filter is installed ("sandbox_installed") and every thread of the process
    (/proc/PID/task/*/status) shows `Seccomp: 2` and `NoNewPrivs: 1`;
  - the forbidden call of the self-test (personality) is logged as "sandbox_violation" naming
    the syscall, was refused (EPERM), and the server goes on serving;
  - reviews are answered: a bare pod denied and mutated, RuntimeDefault allowed, a Localhost
    profile read and judged from profiles.directory (strict: allowed; default-allow: denied);
  - a policy reload (enforce → warn) and a certificate reload (A → B, seen by `openssl
    s_client`) both happen; a mismatched pair and a broken policy are refused and logged;
  - SIGTERM → exit 0, and in the whole log there is no other sandbox_violation than the
    self-test's;
  - with the development certificate (no --tls-cert) the PEM file it wrote is removed at exit
    under the filter (unlink is allowed only then), with no violation either.

With --admission-suite: runs tests/e2e/test_admission.py with SW_E2E_SELF_SANDBOX=1, so that
every server of the admission suite runs with its filter, then checks that each of those servers
installed it and logged no sandbox_violation.

The last line is `N passed, M failed`; the exit status is 1 on any failure.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tlslib import (  # noqa: E402
    CA, SERVER_EXT, AtomicDir, Conn, Results, Server, SetupError, client_context, dump_log,
    fingerprint_of, get, pod_review, post_review, proc_task_status, read_bytes,
    served_fingerprint)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "profiles")
SEEN_WITHIN = 5.0

POLICY = """\
apiVersion: seccomp-webhook/v1
kind: SeccompPolicy
defaults:
  mode: {mode}
  allowedLocalhostProfiles: ["profiles/*.json"]
profiles:
  directory: {directory}
  requireDefaultDeny: true
"""


def wait_until(fn, limit=SEEN_WITHIN):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.1)
    return False


def decision(conn, profile, endpoint="validate"):
    """'allowed', 'denied' or 'patched' for a pod whose container has `profile`, or 'bad: ...'."""
    review = pod_review(profile=profile)
    status, doc, raw = post_review(conn, endpoint, review)
    if status != 200 or not isinstance(doc, dict):
        return "bad: HTTP %d %r" % (status, raw[:200])
    resp = doc.get("response") or {}
    if resp.get("uid") != review["request"]["uid"]:
        return "bad: uid"
    if resp.get("allowed") is False:
        return "denied"
    if "patch" in resp:
        return "patched"
    return "allowed" + (" with a warning" if resp.get("warnings") else "")


# ------------------------------------------------------------------------------------------------
# The serving scenario
# ------------------------------------------------------------------------------------------------

def scenario(res, binary, work):
    ca = CA(work, "ca")
    a_cert, a_key = ca.issue("a", "webhook-a", SERVER_EXT)
    b_cert, b_key = ca.issue("b", "webhook-b", SERVER_EXT)
    fp_b = fingerprint_of(b_cert)
    profiles = os.path.join(work, "node", "profiles")
    os.makedirs(profiles)
    for name in ("strict.json", "default-allow.json"):
        shutil.copy(os.path.join(FIXTURES, name), profiles)
    secret = AtomicDir(os.path.join(work, "tls"))
    secret.publish({"tls.crt": read_bytes(a_cert), "tls.key": read_bytes(a_key)})
    cfg = AtomicDir(os.path.join(work, "cfg"))
    directory = os.path.join(work, "node")
    cfg.publish({"policy.yaml": POLICY.format(mode="enforce", directory=directory).encode()})

    server = Server(binary, ["--tls-cert", secret.path("tls.crt"),
                             "--tls-key", secret.path("tls.key"),
                             "--config", cfg.path("policy.yaml"),
                             "--config-check-interval", "1", "--cert-check-interval", "1",
                             "--sandbox-selftest"], work, sandbox=True)
    try:
        server.start()
        ctx = client_context(ca.pem)
        server.wait_healthy(ctx)
        pid = server.proc.pid

        # -- the filter ------------------------------------------------------------------------
        inst = server.wait_event("sandbox_installed")
        res.check("sandbox_installed is logged with the number of allowed syscalls",
                  bool(inst) and inst[0].get("allowed_syscalls", 0) > 20, inst)
        tasks = proc_task_status(pid)
        bad = {t: (f.get("Seccomp"), f.get("NoNewPrivs")) for t, f in tasks.items()
               if f.get("Seccomp") != "2" or f.get("NoNewPrivs") != "1"}
        res.check("all %d threads of the server show Seccomp: 2 and NoNewPrivs: 1" % len(tasks),
                  len(tasks) >= 3 and not bad, bad or tasks)

        # -- the self-test -----------------------------------------------------------------
        viol = server.wait_event("sandbox_violation")
        res.check("the self-test's forbidden call is logged naming the syscall (personality)",
                  len(viol) == 1 and viol[0].get("syscall") == "personality"
                  and isinstance(viol[0].get("nr"), int) and viol[0].get("level") == "error"
                  and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", viol[0].get("ts", ""))
                  and viol[0].get("tid") == pid, viol)
        st = server.wait_event("sandbox_selftest")
        res.check("the call was refused with EPERM (sandbox_selftest refused: true)",
                  bool(st) and st[0].get("refused") is True, st)
        res.check("the server is still running", server.proc.poll() is None)

        # -- serving ---------------------------------------------------------------------------
        conn = Conn(server.port, ctx)
        status, body = get(conn, "/healthz")
        res.check("GET /healthz 200 after the violation", status == 200, status)
        cases = [("a bare pod, /validate", None, "validate", "denied"),
                 ("a bare pod, /mutate", None, "mutate", "patched"),
                 ("RuntimeDefault", {"type": "RuntimeDefault"}, "validate", "allowed"),
                 ("Unconfined", {"type": "Unconfined"}, "validate", "denied"),
                 ("Localhost profiles/strict.json (read and judged)",
                  {"type": "Localhost", "localhostProfile": "profiles/strict.json"},
                  "validate", "allowed"),
                 ("Localhost profiles/default-allow.json (read and judged)",
                  {"type": "Localhost", "localhostProfile": "profiles/default-allow.json"},
                  "validate", "denied")]
        for label, profile, endpoint, want in cases:
            got = decision(conn, profile, endpoint)
            res.check("%s: %s" % (label, want), got == want, got)

        # -- policy reload ---------------------------------------------------------------------
        cfg.publish({"policy.yaml": POLICY.format(mode="warn", directory=directory).encode()})
        res.check("policy reload under the filter: Unconfined allowed with a warning within %.0f s"
                  % SEEN_WITHIN,
                  wait_until(lambda: decision(conn, {"type": "Unconfined"}) ==
                             "allowed with a warning"))
        before = len(server.events("policy_rejected"))
        cfg.publish({"policy.yaml": b"apiVersion: seccomp-webhook/v1\nkind: Nope\n"})
        res.check("a broken policy is rejected and logged (policy_rejected)",
                  len(server.wait_event("policy_rejected", before + 1)) > before)

        # -- certificate reload ----------------------------------------------------------------
        secret.publish({"tls.crt": read_bytes(b_cert), "tls.key": read_bytes(b_key)})
        res.check("certificate reload under the filter: new connections served B within %.0f s"
                  % SEEN_WITHIN, wait_until(lambda: served_fingerprint(server.port) == fp_b))
        secret.publish({"tls.crt": read_bytes(a_cert), "tls.key": read_bytes(b_key)})
        rej = server.wait_event("certificate_rejected")
        res.check("a mismatched pair is rejected (certificate_rejected), B kept",
                  bool(rej) and rej[0].get("kept_fingerprint_sha256") == fp_b
                  and served_fingerprint(server.port) == fp_b, rej)
        res.check("the first connection still works (keep-alive, %d connect)" % conn.connects,
                  decision(conn, {"type": "RuntimeDefault"}) == "allowed" and conn.connects == 1)
        conn.close()

        rc = server.stop()
        res.check("SIGTERM → exit 0", rc == 0, "exit %r" % rc)
        viol = server.events("sandbox_violation")
        res.check("no sandbox_violation but the self-test's in the whole run (shutdown included)",
                  len(viol) == 1, viol)
    finally:
        server.kill()
        if res.failed:
            dump_log(server)


def dev_certificate(res, binary, work):
    """No --tls-cert: the development PEM file is written at start and removed at exit."""
    tmp = os.path.join(work, "tmpdir")
    os.mkdir(tmp)
    env = dict(os.environ, TMPDIR=tmp)
    server = Server(binary, [], work, sandbox=True, tag="dev-server")
    server._log = open(server.log_path, "wb")
    server.proc = subprocess.Popen(server.cmd, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=server._log, env=env)
    try:
        start = server.wait_event("start")
        dev = start[0].get("dev_ca_file") if start else None
        res.check("development certificate: its PEM file is written", bool(dev) and
                  os.path.exists(dev), start)
        if dev:
            server.wait_healthy(client_context(dev))
        res.check("development certificate: the filter is installed",
                  bool(server.wait_event("sandbox_installed")))
        rc = server.stop()
        res.check("development certificate: SIGTERM → exit 0 and the file removed",
                  rc == 0 and dev is not None and not os.path.exists(dev), "exit %r" % rc)
        res.check("development certificate: no sandbox_violation",
                  not server.events("sandbox_violation"), server.events("sandbox_violation"))
    finally:
        server.kill()
        if res.failed:
            dump_log(server)


# ------------------------------------------------------------------------------------------------
# The admission suite under the filter
# ------------------------------------------------------------------------------------------------

def admission_suite(res, binary):
    env = dict(os.environ, SW_E2E_SELF_SANDBOX="1")
    p = subprocess.run([sys.executable, os.path.join(HERE, "test_admission.py"),
                        "--binary", binary, "--keep"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env, timeout=280)
    out = p.stdout.decode("utf-8", "replace")
    # Indented: the suite's own closing line is not this run's.
    print("".join("    " + l for l in out.splitlines(True)), flush=True)
    m = re.search(r"^work directory kept: (\S+)$", out, re.M)
    workdir = m.group(1) if m else None
    tally = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
    if tally:  # the suite's own checks count in this run's tally
        res.passed += int(tally.group(1))
        res.failed += int(tally.group(2))
    res.check("test_admission.py with every server sandboxed: exit 0", p.returncode == 0,
              "exit %d" % p.returncode)
    try:
        logs = sorted(glob.glob(os.path.join(workdir, "*.stderr"))) if workdir else []
        logs = [l for l in logs if os.path.getsize(l) > 0]
        res.check("the suite's server logs are there (%d)" % len(logs), len(logs) >= 2)
        for path in logs:
            installed, viol = False, []
            with open(path, "rb") as f:
                for raw in f:
                    if b'"event":"review"' in raw:
                        continue
                    try:
                        line = json.loads(raw)
                    except ValueError:
                        continue
                    if line.get("event") == "sandbox_installed":
                        installed = True
                    elif line.get("event") == "sandbox_violation":
                        viol.append(line)
            name = os.path.basename(path)
            res.check("%s: the filter was installed" % name, installed)
            res.check("%s: no sandbox_violation" % name, not viol, viol[:5])
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--admission-suite", action="store_true",
                    help="run test_admission.py with every server sandboxed instead")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    res = Results()
    if args.admission_suite:
        admission_suite(res, binary)
        return res.summary()
    work = tempfile.mkdtemp(prefix="sw-sandbox-")
    try:
        scenario(res, binary, work)
        dev_certificate(res, binary, work)
    except SetupError as e:
        res.check("test setup", False, e)
    finally:
        if args.keep:
            print("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
