#!/usr/bin/env bash
# Install what is needed, build, and run `seccomp-webhook serve` on its built-in defaults with
# a generated development certificate on 127.0.0.1:8443; print a curl that sends a sample
# AdmissionReview. Extra arguments go to `serve` (e.g. --listen 127.0.0.1:9443, --config FILE).
# Ctrl-C (or SIGTERM) stops it the way a pod stops: /readyz 503, a drain, exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The log goes to the terminal and to $log (for the two lines read below); tee ignores Ctrl-C
# so that it keeps printing the server's last lines while it drains.
build/seccomp-webhook serve --listen 127.0.0.1:8443 "$@" 2> >(trap '' INT; tee "$log" >&2) &
pid=$!
# Ctrl-C reaches the server itself (same process group): just wait for its drain. A SIGTERM
# sent to this script is passed on. Either way the script exits with the server's status.
trap 'wait $pid; exit $?' INT
trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit $?' TERM
ca="" port=""
for _ in $(seq 100); do
  # The port first: the "start" line naming the certificate file comes before "listen".
  port=$(sed -n 's/.*"event":"listen".*"port":\([0-9]*\).*/\1/p' "$log" | head -n 1)
  if [ -n "$port" ]; then
    ca=$(sed -n 's/.*"dev_ca_file":"\([^"]*\)".*/\1/p' "$log" | head -n 1)
    break
  fi
  kill -0 $pid 2>/dev/null || { wait $pid; exit $?; }
  sleep 0.1
done
cacert="--cacert $ca"
[ -n "$ca" ] || cacert="--cacert YOUR-CA.pem"
cat >&2 <<MSG

Ready. In another terminal, send a sample AdmissionReview:

  curl $cacert -H 'Content-Type: application/json' \\
       --data-binary @$PWD/examples/admissionreview-pod.json https://127.0.0.1:${port:-8443}/mutate

MSG
wait $pid
