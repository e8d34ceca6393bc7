#!/usr/bin/env bash
# Install the Debian (bookworm) packages seccomp-webhook needs to build and run; with --test,
# also what its tests need.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libmicrohttpd-dev libgnutls28-dev libssl-dev libcjson-dev libyaml-dev libseccomp-dev
  libcmocka-dev
  openssl curl python3 python3-yaml python3-jsonpatch
)
if [ "${1:-}" = "--test" ]; then
  # libFuzzer (clang's runtime), memcheck, and promtool (Debian ships it in prometheus).
  packages+=(clang libclang-rt-14-dev valgrind prometheus)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
