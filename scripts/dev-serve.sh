#!/usr/bin/env bash
# Install what is needed, build, and run `seccomp-webhook serve` on its built-in defaults with
# a generated development certificate on 127.0.0.1:8443; print a curl that sends a sample
# AdmissionReview. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
log=$(mktemp)
build/seccomp-webhook serve --listen 127.0.0.1:8443 "$@" 2> >(tee "$log" >&2) &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; rm -f "$log"' INT TERM
ca=""
for _ in $(seq 100); do
  ca=$(sed -n 's/.*"dev_ca_file":"\([^"]*\)".*/\1/p' "$log" | head -n 1)
  if [ -n "$ca" ] && grep -q '"event":"listen"' "$log"; then break; fi
  kill -0 $pid 2>/dev/null || { wait $pid; exit $?; }
  sleep 0.1
done
cat >&2 <<MSG

Ready. In another terminal, send a sample AdmissionReview:

  curl --cacert $ca -H 'Content-Type: application/json' \\
       --data-binary @$PWD/examples/admissionreview-pod.json https://127.0.0.1:8443/mutate

MSG
wait $pid
