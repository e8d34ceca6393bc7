#!/usr/bin/env bash
# container-build.sh — the build stage of the Containerfile, as one script, so that CI runs the
# same steps without a container engine (ctest: deploy.container-build).
#
#   scripts/container-build.sh OUTDIR                install the build packages (apt-get, as
#                                                    root), build, run the unit tests, and put
#                                                    the stripped binary in OUTDIR/seccomp-webhook
#   scripts/container-build.sh --no-install [--build-dir DIR] OUTDIR
#                                                    the same, but only check that the packages
#                                                    are installed (CI: scripts/deps.sh did it)
#   scripts/container-build.sh --print-packages      the build package list, one a line
set -euo pipefail

# Debian bookworm packages the build needs. python3: tests/CMakeLists.txt requires it at
# configure time (the end-to-end tests), though the image build runs only the unit tests.
BUILD_PACKAGES=(
  build-essential cmake pkg-config
  libmicrohttpd-dev libgnutls28-dev libssl-dev libcjson-dev libyaml-dev libseccomp-dev
  libcmocka-dev python3
)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

install=1
build_dir=
out=
while [ $# -gt 0 ]; do
  case $1 in
    --no-install) install=0; shift ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    --print-packages) printf '%s\n' "${BUILD_PACKAGES[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "container-build.sh: unknown option $1" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "container-build.sh: one OUTDIR only" >&2; exit 2; }; out=$1; shift ;;
  esac
done
[ -n "$out" ] || { usage >&2; exit 2; }

src=$(cd "$(dirname "$0")/.." && pwd)
step() { echo "container-build: $*" >&2; }

# 1. Build packages.
if [ $install -eq 1 ]; then
  step "installing ${BUILD_PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${BUILD_PACKAGES[@]}"
else
  missing=()
  for p in "${BUILD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -ne 0 ]; then
    echo "container-build.sh: build packages not installed: ${missing[*]}" >&2
    exit 1
  fi
  step "build packages present: ${BUILD_PACKAGES[*]}"
fi

# 2. Configure and build in a fresh directory (never the developer's build/).
cleanup=
if [ -z "$build_dir" ]; then
  build_dir=$(mktemp -d)
  cleanup=$build_dir
fi
trap '[ -z "$cleanup" ] || rm -rf "$cleanup"' EXIT
step "building in $build_dir"
cmake -S "$src" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSW_SANITIZE=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

# 3. Unit tests (the end-to-end tests need curl and python3-jsonpatch, which the image
#    build does not install; CI runs them on the developer build).
step "unit tests"
(cd "$build_dir" && ctest -R '^unit\.' --output-on-failure)

# 4. The binary, stripped, for the runtime stage.
mkdir -p "$out"
install -m 0755 "$build_dir/seccomp-webhook" "$out/seccomp-webhook"
strip --strip-unneeded "$out/seccomp-webhook"
"$out/seccomp-webhook" version >&2
step "wrote $out/seccomp-webhook"
