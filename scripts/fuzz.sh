#!/usr/bin/env bash
# Fuzz with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer; fail on any finding.
#
#   scripts/fuzz.sh [-t SECONDS] [TARGET...]     (default: 30 s for each target)
#
# Builds the targets of tests/fuzz/ into build-fuzz/ with clang (-DSW_FUZZ=ON -DSW_SANITIZE=ON),
# then runs each for SECONDS on its seed corpus (tests/fuzz/corpus/<target>/), its regression
# inputs (tests/fuzz/regressions/<target>/) and its dictionary (tests/fuzz/dict/). What a run
# learns is kept in build-fuzz/corpus/<target>/ for the next run on this machine (never
# committed); the log of each run is build-fuzz/logs/<target>.log. A finding (crash, sanitizer
# report, broken invariant, leak, timeout, out of memory) is written to build-fuzz/findings/
# <target>/, its report printed, and the exit status is 1: keep the input as a regression test
# by copying it to tests/fuzz/regressions/<target>/ under a name that says what it is.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
if [ "${1:-}" = "-t" ]; then
  seconds=$2
  shift 2
fi
dir=build-fuzz

# Largest input each target is given: bodies of real size, without spending the time budget
# on megabytes of mutations.
declare -A max_len=([admission]=16384 [manifest]=16384 [policy]=8192 [profile]=8192 [json]=4096)

mkdir -p "$dir"
CC=clang cmake -S . -B "$dir" -DSW_FUZZ=ON -DSW_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >/dev/null
if ! cmake --build "$dir" --target fuzz -j "$(nproc)" >"$dir/build.log" 2>&1; then
  cat "$dir/build.log"
  exit 2
fi
# clang warns about things gcc does not (SW_FUZZ builds without -Werror): show them.
grep -E -A3 'warning:' "$dir/build.log" || true

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for bin in "$dir"/tests/fuzz/fuzz_*; do
    case $bin in *_replay) continue ;; esac
    [ -x "$bin" ] && targets+=("${bin##*/fuzz_}")
  done
fi

status=0
printf '%-10s %8s %10s %9s %8s %8s  %s\n' target seconds executions "exec/s" "+units" "rss MB" result
for t in "${targets[@]}"; do
  bin=$dir/tests/fuzz/fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: no fuzz target '$t' (built: ${targets[*]})" >&2
    exit 2
  fi
  work=$dir/corpus/$t
  findings=$dir/findings/$t
  log=$dir/logs/$t.log
  mkdir -p "$work" "$findings" "$dir/logs"
  dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  start=$(date +%s)
  rc=0
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="${max_len[$t]:-8192}" -use_value_profile=1 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${dict[@]}" \
    "$work" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" >"$log" 2>&1 || rc=$?
  took=$(($(date +%s) - start))
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  result=ok
  if [ $rc -ne 0 ]; then
    result="FINDING (exit $rc)"
    status=1
  fi
  printf '%-10s %8s %10s %9s %8s %8s  %s\n' "$t" "$took" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "$(stat new_units_added)" "$(stat peak_rss_mb)" "$result"
  if [ $rc -ne 0 ]; then
    echo "----- $log (last 60 lines) -----"
    tail -n 60 "$log"
    echo "----- end of $log -----"
    for f in "$findings"/*; do
      [ -f "$f" ] || continue
      echo "finding: $f — replay: $dir/tests/fuzz/fuzz_$t $f"
      echo "  keep it: cp $f tests/fuzz/regressions/$t/<what-it-is>"
    done
  fi
done
exit $status
