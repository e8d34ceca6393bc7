#!/usr/bin/env bash
# Install the Debian (bookworm) packages seccomp-webhook needs to build, run and test.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libmicrohttpd-dev libgnutls28-dev libssl-dev libcjson-dev libyaml-dev libseccomp-dev
  libcmocka-dev
  openssl curl python3 python3-yaml python3-jsonpatch
)
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
