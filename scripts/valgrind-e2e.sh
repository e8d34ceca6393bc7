#!/usr/bin/env bash
# The end-to-end admission suite (tests/e2e/test_admission.py) and the hostile-client suite
# (tests/e2e/test_hostile.py: libmicrohttpd's error paths) against the server running under
# valgrind memcheck: zero errors and no definite leak, or the exit status is 1.
#
#   scripts/valgrind-e2e.sh [BUILD_DIR]       (default: build, the normal build)
#
# The suite starts every server through $SW_SERVER_WRAPPER (tests/e2e/harness.py), always with
# --no-self-sandbox (valgrind's own system calls would trip the filter). Each server process
# writes its report to a log of its own; every log must end with a leak summary (the process
# exited on SIGTERM rather than being killed), "ERROR SUMMARY: 0 errors" and no definitely lost
# block. The suite's own checks apply too: it expects exit status 0 after SIGTERM, and
# --error-exitcode makes any error or definite leak an exit status of 1.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
binary=$build/seccomp-webhook
[ -x "$binary" ] || { echo "valgrind-e2e.sh: no $binary (run scripts/build.sh $build)" >&2; exit 2; }

logs=$(mktemp -d "${TMPDIR:-/tmp}/sw-valgrind.XXXXXX")
export SW_SERVER_WRAPPER="valgrind --tool=memcheck --error-exitcode=1 --leak-check=full
  --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes
  --num-callers=30 --log-file=$logs/memcheck.%p.log"

status=0
/usr/bin/python3 tests/e2e/test_admission.py --binary "$binary" || status=1
/usr/bin/python3 tests/e2e/test_hostile.py --binary "$binary" || status=1

n=0
for log in "$logs"/memcheck.*.log; do
  [ -f "$log" ] || continue
  n=$((n + 1))
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
  lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
  if ! grep -q 'HEAP SUMMARY' "$log"; then
    echo "FAIL $log: no heap summary (the server did not exit normally)"
    head -n 300 "$log"
    status=1
  elif [ "${errors:-x}" != 0 ] || { [ -n "$lost" ] && [ "$lost" != 0 ]; }; then
    echo "FAIL $log: ${errors:-?} errors, ${lost:-0} bytes definitely lost"
    head -n 300 "$log"
    status=1
  else
    summary=$(sed -n 's/^==[0-9]*== *\(in use at exit\|possibly lost\|still reachable\): /\1 /p' "$log" |
      tr '\n' ';' | sed 's/;$//; s/;/; /g')
    echo "PASS $log: 0 errors, 0 bytes definitely lost (${summary:-no heap in use at exit})"
  fi
done
if [ $n -eq 0 ]; then
  echo "FAIL: no memcheck log in $logs (did the suite start a server?)"
  status=1
fi
echo "valgrind memcheck: $n server processes checked, $([ $status -eq 0 ] && echo clean || echo FAILED)"
if [ $status -eq 0 ]; then
  rm -rf "$logs"
else
  echo "memcheck logs kept in $logs"
fi
exit $status
