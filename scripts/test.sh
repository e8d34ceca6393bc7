#!/usr/bin/env bash
# Install what is needed, build, and run every test through ctest: once on the normal build,
# once on an AddressSanitizer + UndefinedBehaviorSanitizer build. Then the end-to-end admission
# suite and the out-of-memory test under valgrind memcheck (normal build), and each libFuzzer
# target for 30 s. The Release and Debug build types, and a build with clang, are only compiled:
# the warnings (which -Werror makes errors) differ with the optimisation level and the compiler,
# and a packager may pick any of them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
scripts/build.sh build
(cd build && ctest --output-on-failure)
scripts/build.sh build-release -DCMAKE_BUILD_TYPE=Release
scripts/build.sh build-debug -DCMAKE_BUILD_TYPE=Debug
CC=clang scripts/build.sh build-clang
scripts/build.sh build-asan -DSW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure)
scripts/valgrind-e2e.sh build
scripts/valgrind-oom.sh build
scripts/fuzz.sh -t 30
