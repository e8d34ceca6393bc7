#!/usr/bin/env bash
# Instructions per review of the engine alone, under callgrind: a figure that does not drift
# with machine load. Runs bench_engine with N and 2N iterations and divides the difference.
# Usage: bench/instructions.sh BUILD_DIR BODY.json...
set -euo pipefail
build=$1
shift
n=20
total() {
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$build/bench_engine" --iterations "$1" \
    "$2" >/dev/null 2>&1
  callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
  rm -f "$out"
}
printf '%-36s %22s\n' body "instructions/review"
for body in "$@"; do
  a=$(total $n "$body")
  b=$(total $((2 * n)) "$body")
  # Each iteration reviews the body twice (mutate, then validate).
  printf '%-36s %22d\n' "$(basename "$body")" $(((b - a) / (2 * n)))
done
