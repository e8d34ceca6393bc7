#!/usr/bin/python3
"""
End-to-end test of Localhost profile checks (SPEC §6.3; issue 5): the real binary, over real
TLS, driven with curl.

    /usr/bin/python3 tests/e2e/test_profiles.py --binary build/seccomp-webhook

It copies tests/fixtures/profiles/ into a temporary directory, writes a policy whose
profiles.directory points there, starts `BINARY serve` with it and checks, through /validate
(and /mutate, which must leave such pods alone):
  - a pod referencing the default-ALLOW profile is denied, the message naming the file and the
    pointer of what is wrong; one referencing the strict profile is admitted; a missing file,
    the minimal read/write/exit/futex profile and an invalid one are denied with their reason;
  - an edited profile is picked up without a restart: the strict file rewritten in place as a
    default-ALLOW one makes the same pod denied, an atomic replacement back makes it admitted,
    and a same-size edit in place (SCMP_ACT_ERRNO -> SCMP_ACT_ALLOW, within one timestamp
    tick of the last read) is seen too;
then the command line: `lint-profile` over the fixtures (output format and exit status 0, 1,
2) and `check-config` on the policy (exit 1: reachable profiles fail); `check-config` on trees
of symbolic link loops (quick) and on a ConfigMap-style mount (`..data` skipped, other names
starting with `..` checked); file names with control characters and bad UTF-8 escaped in the
output of both; `version` with an argument (exit 2).

One line per case (PASS/FAIL name), then `N passed, M failed`; exit status non-zero on any
failure, with the server's stderr printed.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree when ctest runs this
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Allowed, Client, Denied, HarnessError, Server, Unchanged, admission_review, localhost,
    make_certs, post_review)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "profiles")
NAMESPACE = "shop"

POLICY = """\
# Written by tests/e2e/test_profiles.py: Localhost profiles are allowed by name, and checked
# for what they contain in {directory}.
apiVersion: seccomp-webhook/v1
kind: SeccompPolicy
defaults:
  mode: enforce
  defaultProfile: {{type: RuntimeDefault}}
  allowedLocalhostProfiles: ["*.json", "team/*.json"]
profiles:
  directory: {directory}
"""


class ProfileServer(Server):
    """harness.Server, serving the policy this test writes."""

    def __init__(self, binary, certs, workdir, policy_path):
        super().__init__(binary, certs, workdir, tag="profiles-server")
        self.policy_path = policy_path

    def start(self):
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
               "--tls-cert", self.certs["cert"], "--tls-key", self.certs["key"],
               "--config", self.policy_path, "--no-self-sandbox",
               "--shutdown-delay", str(self.shutdown_delay)]
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL)


def pod(path, name="web"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"securityContext": {"seccompProfile": localhost(path)},
                     "containers": [{"name": "app", "image": "nginx:1.27"}]}}


def judge(client, path, expectation):
    """/mutate leaves the pod alone (its profile is set); /validate answers as expected."""
    fails = []
    obj = pod(path)
    review = admission_review(obj, NAMESPACE)
    f = []
    resp = post_review(client, "mutate", review, f)
    if resp is not None:
        Unchanged().check(resp, review["request"]["object"], f)
    fails += ["mutate: " + x for x in f]
    f = []
    resp = post_review(client, "validate", review, f)
    if resp is not None:
        expectation.check(resp, review["request"]["object"], f)
    fails += ["validate: " + x for x in f]
    return fails


def copy(src_name, dst_path):
    """Replace dst_path atomically with a fixture (a new inode, as a ConfigMap update)."""
    tmp = dst_path + ".tmp"
    shutil.copyfile(os.path.join(FIXTURES, src_name), tmp)
    os.rename(tmp, dst_path)


def rewrite_in_place(src_name, dst_path):
    """Overwrite dst_path in place with a fixture's bytes (same inode, as an editor might)."""
    with open(os.path.join(FIXTURES, src_name), "rb") as f:
        data = f.read()
    with open(dst_path, "r+b") as f:
        f.truncate(0)
        f.write(data)


# ------------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------------

def case_default_allow_denied(client, ctx):
    return judge(client, "default-allow.json", Denied(
        'Localhost profile "default-allow.json" fails the profile checks',
        "/defaultAction: SCMP_ACT_ALLOW lets every syscall no rule names run",
        "profiles.requireDefaultDeny"))


def case_strict_admitted(client, ctx):
    return judge(client, "strict.json", Allowed())


def case_runtime_default_shaped_admitted(client, ctx):
    # Its forbidden syscalls are all capability-gated: warnings of lint, not violations.
    return judge(client, "runtime-default.json", Allowed())


def case_minimal_denied(client, ctx):
    return judge(client, "team/minimal.json", Denied(
        'Localhost profile "team/minimal.json" fails the profile checks: /syscalls: no '
        "container can start under this profile", "neither execve nor execveat"))


def case_missing_denied(client, ctx):
    return judge(client, "gone.json", Denied(
        'Localhost profile "gone.json" does not exist in profiles.directory'))


def case_invalid_denied(client, ctx):
    return judge(client, "unknown-action.json", Denied(
        'Localhost profile "unknown-action.json" is not a valid seccomp profile: '
        "/syscalls/1/action: unknown action"))


def case_edit_in_place_seen(client, ctx):
    fails = judge(client, "app.json", Allowed())
    if fails:
        return ["before the edit: " + x for x in fails]
    rewrite_in_place("default-allow.json", ctx["app"])
    return ["after the edit: " + x for x in judge(client, "app.json", Denied(
        'Localhost profile "app.json" fails the profile checks', "SCMP_ACT_ALLOW"))]


def case_atomic_replacement_seen(client, ctx):
    copy("strict.json", ctx["app"])
    return judge(client, "app.json", Allowed())


def case_same_size_edit_seen(client, ctx):
    fails = judge(client, "app.json", Allowed())  # read just now: the cache holds ALLOWED
    with open(ctx["app"], "r+b") as f:
        data = f.read()
        at = data.find(b'"SCMP_ACT_ERRNO"')
        if at < 0:
            return ["strict.json has no \"SCMP_ACT_ERRNO\" to edit"]
        f.seek(at)
        f.write(b'"SCMP_ACT_ALLOW"')
    # strict.json keeps its defaultErrnoRet, which SCMP_ACT_ALLOW does not take: invalid now.
    fails += ["after the same-size edit: " + x for x in judge(client, "app.json", Denied(
        'Localhost profile "app.json" is not a valid seccomp profile: /defaultErrnoRet: '
        "SCMP_ACT_ALLOW takes no errno"))]
    copy("strict.json", ctx["app"])
    return fails


def case_lint_profile(client, ctx):
    fails = []
    binary = ctx["binary"]
    want = [(["strict.json"], 0, ["strict.json: ok"]),
            (["misspelled-syscall.json"], 0,
             ["misspelled-syscall.json: /syscalls/0/names/3: warning: not a syscall this "
              "libseccomp knows", "misspelled-syscall.json: ok (1 warning)"]),
            (["strict.json", "minimal.json"], 1,
             ["minimal.json: /syscalls: no container can start",
              "minimal.json: fails the policy checks"]),
            (["default-allow.json", "invalid-json.json"], 2,
             ["invalid-json.json:5:3: not valid JSON", "invalid-json.json: invalid",
              "default-allow.json: /defaultAction: SCMP_ACT_ALLOW"])]
    for files, status, lines in want:
        p = subprocess.run([binary, "lint-profile"] + files, cwd=FIXTURES,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != status:
            fails.append("lint-profile %s: exit %d, expected %d: %s" % (
                " ".join(files), p.returncode, status, out + p.stderr.decode()))
        for line in lines:
            if line not in out:
                fails.append("lint-profile %s: no %r in %r" % (" ".join(files), line, out))
    p = subprocess.run([binary, "lint-profile", "--config", ctx["policy"], "allows-ptrace.json"],
                       cwd=FIXTURES, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        fails.append("lint-profile --config: exit %d for allows-ptrace.json (ptrace is not "
                     "forbidden by default)" % p.returncode)
    return fails


def case_check_config(client, ctx):
    p = subprocess.run([ctx["binary"], "check-config", ctx["policy"]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    fails = []
    if p.returncode != 1:
        fails.append("check-config: exit %d, expected 1 (reachable profiles fail): %s" % (
            p.returncode, out + p.stderr.decode()))
    for frag in ("default-allow.json: /defaultAction:", "team/minimal.json: /syscalls:",
                 "/..evil.json: /syscalls:", "reachable profiles checked"):
        if frag not in out:
            fails.append("check-config: no %r in %r" % (frag, out))
    return fails


def case_dot_dot_file_denied(client, ctx):
    # A name starting with ".." is a valid reference (only a ".." segment is refused).
    return judge(client, "..evil.json", Denied(
        'Localhost profile "..evil.json" fails the profile checks: /syscalls: no container '
        "can start under this profile"))


def check_config(ctx, directory, globs, name="policy.yaml"):
    """Run check-config on a policy with profiles.directory `directory` and `globs` allowed in
    defaults; returns (exit status, stdout, stderr, seconds). `name` may be bytes."""
    policy = os.path.join(os.fsencode(ctx["workdir"]), os.fsencode(name))
    with open(policy, "w") as f:
        f.write("apiVersion: seccomp-webhook/v1\nkind: SeccompPolicy\ndefaults:\n"
                "  allowedLocalhostProfiles: %s\nprofiles:\n  directory: %s\n" % (
                    json.dumps(globs), json.dumps(directory)))
    start = time.monotonic()
    try:
        p = subprocess.run([ctx["binary"], "check-config", policy], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
    finally:
        os.unlink(policy)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


def case_check_config_symlink_loops(client, ctx):
    """Directory symbolic links that loop (a -> ., b -> ., c -> .) used to be followed 16
    levels down: 3^16 directories. Loops are not followed, and a tree whose links reach the
    same directories along exponentially many paths stops at the walk's bounds."""
    fails = []
    loops = os.path.join(ctx["workdir"], "loops")
    os.mkdir(loops)
    for link in ("a", "b", "c"):
        os.symlink(".", os.path.join(loops, link))
    os.mkdir(os.path.join(loops, "team"))
    os.symlink("..", os.path.join(loops, "team", "up"))
    rc, out, err, secs = check_config(ctx, loops, ["*.json", "*/*.json"])
    if rc != 0 or secs > 5 or b"0 reachable profiles checked" not in out:
        fails.append("loops without profiles: exit %d after %.1f s, expected 0 within 5 s: %r"
                     % (rc, secs, out + err))
    shutil.copyfile(os.path.join(FIXTURES, "strict.json"), os.path.join(loops, "ok.json"))
    shutil.copyfile(os.path.join(FIXTURES, "strict.json"), os.path.join(loops, "team", "t.json"))
    rc, out, err, secs = check_config(ctx, loops, ["*.json", "*/*.json"])
    if rc != 0 or secs > 5 or b"2 reachable profiles checked, 0 would be refused" not in out:
        fails.append("loops with ok.json and team/t.json: exit %d after %.1f s, expected 0 "
                     "within 5 s and both checked: %r" % (rc, secs, out + err))

    # d0..d19, each with two links to the next: 2^20 paths down to d19/x.json, no loop.
    dag = os.path.join(ctx["workdir"], "dag")
    os.mkdir(dag)
    for i in range(20):
        os.mkdir(os.path.join(dag, "d%d" % i))
        if i:
            for link in ("a", "b"):
                os.symlink("../d%d" % i, os.path.join(dag, "d%d" % (i - 1), link))
    shutil.copyfile(os.path.join(FIXTURES, "strict.json"), os.path.join(dag, "d19", "x.json"))
    rc, out, err, secs = check_config(ctx, dag, ["**/*.json"])
    if rc != 1 or secs > 5 or b"stopped after reading" not in out:
        fails.append("links along exponentially many paths: exit %d after %.1f s, expected 1 "
                     "within 5 s, saying where it stopped: %r" % (rc, secs, out + err))
    return fails


def case_check_config_configmap_layout(client, ctx):
    """A ConfigMap mount: files in ..<timestamp>/, ..data -> it, each key a link through
    ..data. The kubelet's own entries are not walked (their files are reached through the
    links), but other names starting with ".." are: ..evil.json and ..team/m.json are
    references admission accepts."""
    fails = []
    cm = os.path.join(ctx["workdir"], "configmap")
    version = os.path.join(cm, "..2026_11_30_10_00_00.4242")
    os.makedirs(os.path.join(version, "team"))
    shutil.copyfile(os.path.join(FIXTURES, "strict.json"), os.path.join(version, "app.json"))
    shutil.copyfile(os.path.join(FIXTURES, "strict.json"), os.path.join(version, "team", "t.json"))
    os.symlink("..2026_11_30_10_00_00.4242", os.path.join(cm, "..data"))
    os.symlink("..data/app.json", os.path.join(cm, "app.json"))
    os.symlink("..data/team", os.path.join(cm, "team"))
    rc, out, err, _ = check_config(ctx, cm, ["*.json", "*/*.json"])
    if rc != 0 or b"..data" in out or \
            b"2 reachable profiles checked, 0 would be refused" not in out:
        fails.append("ConfigMap layout: exit %d, expected 0 with app.json and team/t.json "
                     "checked once: %r" % (rc, out + err))
    shutil.copyfile(os.path.join(FIXTURES, "minimal.json"), os.path.join(cm, "..evil.json"))
    os.mkdir(os.path.join(cm, "..team"))
    shutil.copyfile(os.path.join(FIXTURES, "minimal.json"), os.path.join(cm, "..team", "m.json"))
    rc, out, err, _ = check_config(ctx, cm, ["*.json", "*/*.json"])
    for frag in (b"/..evil.json: /syscalls:", b"/..team/m.json: /syscalls:",
                 b"4 reachable profiles checked, 2 would be refused"):
        if frag not in out:
            fails.append("no %r in %r" % (frag, out + err))
    if rc != 1:
        fails.append("..evil.json and ..team/m.json: exit %d, expected 1" % rc)
    return fails


RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f\xfe\xff]")


def case_file_names_escaped(client, ctx):
    """SPEC §7.4: a file name holding ESC, BEL or bytes of no UTF-8 character is shown with
    those escaped, in every line naming it. (Such a name is no valid Localhost reference, so
    check-config meets one as its policy file or profiles.directory.)"""
    fails = []
    odd = os.path.join(os.fsencode(ctx["workdir"]), b"odd\x1b[2J\x07")
    os.mkdir(odd)
    bad = b"m\x1b[31mx\x07\xff\xfe.json"
    shutil.copyfile(os.path.join(FIXTURES, "minimal.json"), os.path.join(odd, bad))
    shutil.copyfile(os.path.join(FIXTURES, "minimal.json"), os.path.join(odd, b"m.json"))
    p = subprocess.run([ctx["binary"], "lint-profile", bad], cwd=odd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    want = rb"m\x1b[31mx\x07\xff\xfe.json"
    if p.returncode != 1 or RAW_CONTROL.search(p.stdout + p.stderr) or \
            want + b": fails the policy checks\n" not in p.stdout or \
            want + b": /syscalls: no container can start" not in p.stdout:
        fails.append("lint-profile: exit %d: %r" % (p.returncode, p.stdout + p.stderr))
    rc, out, err, _ = check_config(ctx, odd.decode(), ["*.json"], name=b"p\x1b]0;x\x07.yaml")
    for frag in (rb"/p\x1b]0;x\x07.yaml: ok", rb"/odd\x1b[2J\x07/m.json: /syscalls:",
                 rb"/odd\x1b[2J\x07: 1 reachable profile checked, 1 would be refused"):
        if frag not in out:
            fails.append("check-config: no %r in %r" % (frag, out + err))
    if rc != 1 or RAW_CONTROL.search(out + err):
        fails.append("check-config: exit %d: %r" % (rc, out + err))
    return fails


def case_version_takes_no_arguments(client, ctx):
    p = subprocess.run([ctx["binary"], "version", "extra"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 2 or p.stdout or not p.stderr:
        return ["version extra: exit %d, expected 2 with a reason on stderr: %r" % (
            p.returncode, p.stdout + p.stderr)]
    return []


CASES = [
    ("a pod referencing the default-ALLOW profile is denied, naming the file",
     case_default_allow_denied),
    ("a pod referencing the strict profile is admitted", case_strict_admitted),
    ("a pod referencing the runtime-default-shaped profile is admitted",
     case_runtime_default_shaped_admitted),
    ("the read/write/exit/futex profile is denied: no container could start",
     case_minimal_denied),
    ("a missing profile file is denied", case_missing_denied),
    ("an invalid profile is denied with the pointer of the problem", case_invalid_denied),
    ("a profile edited in place into default-ALLOW is denied without a restart",
     case_edit_in_place_seen),
    ("a profile replaced atomically by the strict one is admitted again",
     case_atomic_replacement_seen),
    ("a same-size edit in place within one timestamp tick is seen", case_same_size_edit_seen),
    ("lint-profile: output format and exit status", case_lint_profile),
    ("a pod referencing ..evil.json is denied: names starting with .. are references",
     case_dot_dot_file_denied),
    ("check-config lints the reachable profiles and exits 1", case_check_config),
    ("check-config: symbolic link loops and exponentially many paths end within 5 s",
     case_check_config_symlink_loops),
    ("check-config: a ConfigMap's ..data is skipped, other names starting with .. are checked",
     case_check_config_configmap_layout),
    ("lint-profile, check-config: control characters and bad UTF-8 in file names are escaped",
     case_file_names_escaped),
    ("version with an argument is a usage error (exit 2)", case_version_takes_no_arguments),
]


# ------------------------------------------------------------------------------------------------
# Runner
# ------------------------------------------------------------------------------------------------

def run_suite(binary, keep=False):
    passed = failed = 0

    def record(name, fails):
        nonlocal passed, failed
        if fails:
            failed += 1
            print("FAIL %s" % name)
            for f in fails:
                print("    - " + str(f).replace("\n", "\n      "))
        else:
            passed += 1
            print("PASS %s" % name)
        sys.stdout.flush()

    workdir = tempfile.mkdtemp(prefix="sw-e2e-profiles-")
    server = None
    try:
        profiles = os.path.join(workdir, "profiles")
        shutil.copytree(FIXTURES, profiles)
        os.mkdir(os.path.join(profiles, "team"))
        shutil.copyfile(os.path.join(FIXTURES, "minimal.json"),
                        os.path.join(profiles, "team", "minimal.json"))
        shutil.copyfile(os.path.join(FIXTURES, "minimal.json"),
                        os.path.join(profiles, "..evil.json"))
        app = os.path.join(profiles, "app.json")
        shutil.copyfile(os.path.join(FIXTURES, "strict.json"), app)
        policy = os.path.join(workdir, "policy.yaml")
        with open(policy, "w") as f:
            f.write(POLICY.format(directory=profiles))
        ctx = {"binary": binary, "policy": policy, "app": app, "workdir": workdir}

        certs = make_certs(workdir)
        server = ProfileServer(binary, certs, workdir, policy)
        server.start()
        client = Client(server.port, certs["ca"], workdir)
        err = server.wait_healthy(client)
        record("server answers GET /healthz 200 within 10 s", [err] if err else [])
        for name, fn in CASES:
            if err and not name.startswith(("lint-profile", "check-config", "version")):
                continue
            try:
                fails = fn(client, ctx)
            except Exception as e:  # a harness problem fails this case, not the suite
                fails = ["harness error: %s: %s" % (type(e).__name__, e)]
            record(name, fails)
        rc, secs = server.terminate(10)
        record("SIGTERM -> exits 0 within 10 s (took %.1f s)" % secs,
               [] if rc == 0 else ["exit status %r after SIGTERM" % rc])
    except (HarnessError, OSError) as e:
        record("test setup", [str(e)])
    finally:
        if server is not None:
            server.kill()
            server.close_logs()
            if failed:
                print("\n----- %s -----\n%s\n----- end -----" % (
                    server.stderr_path, server.stderr_text()[-20000:]))
        if keep:
            print("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True, help="path to the seccomp-webhook executable")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    args = ap.parse_args()
    return 0 if run_suite(os.path.abspath(args.binary), args.keep) else 1


if __name__ == "__main__":
    sys.exit(main())
