#!/usr/bin/env bash
# The out-of-memory test (tests/unit/test_oom.c) under valgrind memcheck: the code that runs
# when an allocation fails must not read or write memory it does not own, which the test's own
# checks (same answer or an error, nothing left allocated) cannot see. Zero errors, or the exit
# status is 1.
#
#   scripts/valgrind-oom.sh [BUILD_DIR] [STRIDE]     (defaults: build, 5)
#
# test_oom replaces malloc itself, so valgrind is told to leave it alone and to watch glibc's
# allocator underneath (--soname-synonyms=somalloc=nouserintercepts). Under valgrind the test
# runs some thirty times slower, so it fails every STRIDE-th allocation (SW_OOM_STRIDE) rather
# than each one; the normal build's ctest run fails each one. Valgrind warns that it does not
# know seccomp(2), which libseccomp calls to probe the kernel: harmless here.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
stride=${2:-5}
test=$build/tests/test_oom
[ -x "$test" ] || { echo "valgrind-oom.sh: no $test (run scripts/build.sh $build)" >&2; exit 2; }
SW_OOM_STRIDE=$stride SW_FIXTURES=$PWD/tests/fixtures valgrind --tool=memcheck \
  --soname-synonyms=somalloc=nouserintercepts --error-exitcode=1 --leak-check=no \
  --num-callers=30 "$test"
