#!/usr/bin/python3
"""
test_container.py — the Containerfile, checked without a container engine:

  * two stages, both `debian:bookworm-slim`; the build stage runs exactly one script,
    scripts/container-build.sh, whose output directory is what the runtime stage copies;
  * the runtime stage installs with --no-install-recommends, no -dev package, runs as a numeric
    non-root user (65532), and its ENTRYPOINT is the copied binary;
  * its package list covers the binary: every shared library `ldd` shows is mapped to its Debian
    package with `dpkg -S`; each library the binary links directly (ELF NEEDED) must come from a
    package named on the runtime install line, every other one from those packages' dependency
    closure (`dpkg-query` Depends/Pre-Depends), libc6 excepted; and no package on the line is
    unused;
  * the build script's package list is one scripts/deps.sh installs (so CI can check it);
  * with --run-build-script: scripts/container-build.sh --no-install builds into a temporary
    directory (configure, build, unit tests, stripped binary) exactly as the image build does, and
    the binary it produces passes the same library check.

The last line is `N passed, M failed`; exit 1 on any failure.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

CONTAINERFILE = os.path.join(dl.REPO, "Containerfile")
BUILD_SCRIPT = os.path.join(dl.REPO, "scripts", "container-build.sh")
DEPS_SCRIPT = os.path.join(dl.REPO, "scripts", "deps.sh")
BASE_IMAGE = "debian:bookworm-slim"
# Sanitizer runtimes appear only in the -DSW_SANITIZE=ON test build, never in the image.
SANITIZER_PACKAGES = re.compile(r"^lib(asan|ubsan|lsan|tsan)\d+$")


def parse_containerfile(path):
    """[{'from': ..., 'as': ..., 'instructions': [(KEYWORD, text)]}] with continuations joined."""
    with open(path) as f:
        raw = f.read()
    logical, cur = [], ""
    for line in raw.split("\n"):
        stripped = line.strip()
        if not cur and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        logical.append(cur + line)
        cur = ""
    if cur:
        logical.append(cur)
    stages = []
    for line in logical:
        kw, _, rest = line.strip().partition(" ")
        kw = kw.upper()
        if kw == "FROM":
            parts = rest.split()
            stages.append({"from": parts[0],
                           "as": parts[2] if len(parts) >= 3 and parts[1].upper() == "AS"
                           else None, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((kw, rest.strip()))
    return stages


def apt_install_packages(run_text):
    """Packages of every `apt-get install` in a RUN command line, and whether each install used
    --no-install-recommends."""
    pkgs, no_rec = [], True
    for cmd in re.split(r"&&|;|\|\|", run_text):
        words = shlex.split(cmd)
        words = [w for w in words if not re.match(r"^[A-Z_]+=", w)]  # VAR=value prefixes
        if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
            args = words[words.index("install") + 1:]
            if "--no-install-recommends" not in args:
                no_rec = False
            pkgs += [w for w in args if not w.startswith("-")]
    return pkgs, no_rec


def dpkg_owner(path):
    """The Debian package that ships a library file (usrmerge: try /lib and /usr/lib forms)."""
    real = os.path.realpath(path)
    cands = [path, real]
    for p in (path, real):
        if p.startswith("/usr/"):
            cands.append(p[4:])
        else:
            cands.append("/usr" + p)
    for c in cands:
        p = dl.run(["dpkg", "-S", c])
        if p.returncode == 0:
            return p.stdout.split(":", 1)[0].strip()
    return None


def ldd_libraries(binary):
    """{soname: resolved path} from ldd (vdso has no file)."""
    p = dl.run(["ldd", binary], check=True)
    libs = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)\s+\(", line)
        if m:
            libs[m.group(1)] = m.group(2)
            continue
        m = re.match(r"\s*(/\S+)\s+\(", line)  # the dynamic loader
        if m:
            libs[os.path.basename(m.group(1))] = m.group(1)
    return libs


def needed(binary):
    p = dl.run(["readelf", "-d", binary], check=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)


def depends_closure(packages):
    """Every installed package the given ones depend on, recursively (first alternative)."""
    seen, todo = set(), list(packages)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        p = dl.run(["dpkg-query", "-W", "-f", "${Depends}, ${Pre-Depends}", pkg])
        if p.returncode != 0:
            continue
        for dep in p.stdout.split(","):
            dep = dep.split("|")[0].strip()
            name = re.split(r"[\s(:]", dep, maxsplit=1)[0] if dep else ""
            if name:
                todo.append(name)
    return seen


def check_libraries(R, binary, runtime_pkgs, label, sanitized=False):
    libs = ldd_libraries(binary)
    owners = {}
    for soname, path in sorted(libs.items()):
        owners[soname] = dpkg_owner(path)
    unowned = sorted(s for s, o in owners.items() if o is None)
    R.check("%s: every library ldd shows belongs to a Debian package (dpkg -S)" % label,
            not unowned, unowned)
    pkgs = {o for o in owners.values() if o}
    if sanitized:
        skipped = sorted(p for p in pkgs if SANITIZER_PACKAGES.match(p))
        # ...and what only they pull in (libstdc++6 for libasan8).
        skipped = sorted(depends_closure(skipped) & pkgs)
        if skipped:
            print("note: sanitizer build, not checked: %s" % " ".join(skipped))
        pkgs -= set(skipped)
    listed = set(runtime_pkgs)
    direct = {owners.get(n) for n in needed(binary)} - {None, "libc6"}
    if sanitized:
        direct = {p for p in direct if not SANITIZER_PACKAGES.match(p)}
    R.check("%s: every directly linked library's package is on the runtime install line "
            "(libc6 aside): %s" % (label, " ".join(sorted(direct))),
            direct <= listed, sorted(direct - listed))
    closure = depends_closure(listed)
    rest = pkgs - {"libc6"}
    R.check("%s: every package ldd reaches is installed by the runtime line or its dependencies"
            % label, rest <= closure, sorted(rest - closure))
    unused = sorted(listed - pkgs)
    R.check("%s: no package on the runtime line is unused by the binary" % label,
            not unused, unused)
    print("note: %s: ldd -> %s" % (label, ", ".join(
        "%s (%s)" % (s, owners[s]) for s in sorted(owners))))


def run_build_script(R, workdir):
    out = os.path.join(workdir, "out")
    build = os.path.join(workdir, "build")
    p = dl.run(["bash", BUILD_SCRIPT, "--no-install", "--build-dir", build, out],
               stdout=None, stderr=None)
    if not R.check("scripts/container-build.sh --no-install --build-dir TMP TMP/out exits 0",
                   p.returncode == 0, p.returncode):
        return None
    binary = os.path.join(out, "seccomp-webhook")
    R.check("the build script leaves an executable OUTDIR/seccomp-webhook",
            os.access(binary, os.X_OK), binary)
    p = dl.run(["file", binary]) if shutil.which("file") else None
    if p is not None:
        R.check("the image binary is stripped", "not stripped" not in p.stdout, p.stdout)
    p = dl.run([binary, "version"])
    R.check("the image binary runs (`version`)", p.returncode == 0
            and "seccomp-webhook" in p.stdout + p.stderr, p.stdout + p.stderr)
    p = dl.run([binary, "check-config", os.path.join(dl.MANIFESTS, "base", "policy.yaml")])
    R.check("the image binary accepts manifests/base/policy.yaml", p.returncode == 0,
            p.stdout + p.stderr)
    return binary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True, help="build/seccomp-webhook")
    ap.add_argument("--sanitized", action="store_true",
                    help="the binary is a sanitizer build (its runtime libraries are ignored)")
    ap.add_argument("--run-build-script", action="store_true",
                    help="also run scripts/container-build.sh --no-install into a temp dir")
    a = ap.parse_args()
    R = dl.Results()

    stages = parse_containerfile(CONTAINERFILE)
    R.check("Containerfile: two stages", len(stages) == 2, [s["from"] for s in stages])
    if len(stages) != 2:
        dl.exit_with(R)
    build, runtime = stages
    R.check("Containerfile: both stages FROM %s" % BASE_IMAGE,
            all(s["from"].split("@")[0] == BASE_IMAGE for s in stages),
            [s["from"] for s in stages])
    runs = [t for k, t in build["instructions"] if k == "RUN"]
    script_runs = [t for t in runs if "scripts/container-build.sh" in t]
    R.check("build stage: exactly one RUN, and it runs scripts/container-build.sh",
            len(runs) == 1 and len(script_runs) == 1, runs)
    words = shlex.split(script_runs[0]) if script_runs else []
    outdir = next((w for w in words[1:] if not w.startswith("-")), None)
    R.check("build stage: the script installs its own packages (no --no-install)",
            "--no-install" not in words, words)

    copies = [t for k, t in runtime["instructions"] if k == "COPY"]
    copy = copies[0].split() if len(copies) == 1 else []
    R.check("runtime stage: one COPY --from=%s of %s/seccomp-webhook" % (build["as"], outdir),
            len(copy) == 3 and copy[0] == "--from=%s" % build["as"]
            and copy[1] == "%s/seccomp-webhook" % outdir, copies)
    dest = copy[2] if len(copy) == 3 else None
    users = [t for k, t in runtime["instructions"] if k == "USER"]
    uid = users[-1].split(":")[0] if users else ""
    R.check("runtime stage: USER 65532:65532 (numeric, non-root)",
            users and users[-1] == "65532:65532" and uid.isdigit() and int(uid) != 0, users)
    eps = [t for k, t in runtime["instructions"] if k == "ENTRYPOINT"]
    try:
        ep = json.loads(eps[-1]) if eps else None
    except ValueError:
        ep = None
    R.check("runtime stage: ENTRYPOINT [\"%s\"] in exec form" % dest,
            ep == [dest], eps)
    rruns = [t for k, t in runtime["instructions"] if k == "RUN"]
    runtime_pkgs, no_rec = [], True
    for t in rruns:
        pk, nr = apt_install_packages(t)
        runtime_pkgs += pk
        no_rec = no_rec and nr
    R.check("runtime stage: one apt-get install, with --no-install-recommends",
            runtime_pkgs and no_rec, rruns)
    R.check("runtime stage: no development package",
            not [p for p in runtime_pkgs if p.endswith("-dev") or p in
                 ("build-essential", "gcc", "cmake", "pkg-config")], runtime_pkgs)
    R.check("runtime stage: the apt lists are removed",
            any("rm -rf /var/lib/apt/lists" in t for t in rruns), "")

    check_libraries(R, a.binary, runtime_pkgs, os.path.basename(os.path.dirname(a.binary))
                    or "binary", sanitized=a.sanitized)

    bp = dl.run(["bash", BUILD_SCRIPT, "--print-packages"])
    build_pkgs = bp.stdout.split()
    with open(DEPS_SCRIPT) as f:
        deps_text = f.read()
    deps_pkgs = set(re.findall(r"[a-z0-9][a-z0-9+.-]+", deps_text[deps_text.find("packages=("):
                                                                   deps_text.find(")", deps_text.find("packages=("))]))
    R.check("scripts/container-build.sh's packages are ones scripts/deps.sh installs (CI)",
            bp.returncode == 0 and build_pkgs and set(build_pkgs) <= deps_pkgs,
            sorted(set(build_pkgs) - deps_pkgs))

    ignore = os.path.join(dl.REPO, ".containerignore")
    entries = open(ignore).read().split() if os.path.exists(ignore) else []
    R.check(".containerignore keeps build trees, .git and certs/out out of the image build",
            {"build", "build-*", ".git", "certs/out"} <= set(entries), entries)

    if a.run_build_script:
        work = dl.tempdir("sw-container-build-")
        try:
            binary = run_build_script(R, work)
            if binary:
                check_libraries(R, binary, runtime_pkgs, "image binary")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    dl.exit_with(R)


if __name__ == "__main__":
    main()
