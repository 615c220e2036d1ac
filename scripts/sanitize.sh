#!/usr/bin/env bash
# sanitize.sh — build every target with AddressSanitizer and UndefinedBehaviorSanitizer
# into ./build-asan and run the whole CTest suite there (CI's second step). Any
# sanitizer report fails the test that triggered it: ASan aborts on the first error,
# UBSan is built with -fno-sanitize-recover, and LeakSanitizer runs at every exit.
#
#   scripts/sanitize.sh                 set up, build, run every test
#   scripts/sanitize.sh -R hostile     extra arguments go to ctest
#
# Environment: SOTTO_ASAN_BUILD_DIR (default build-asan), SOTTO_JOBS (default 2).
# The real processes the integration tests start (sotto-relay, sotto) are the
# sanitized binaries of the same build, so they are checked too.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SOTTO_ASAN_BUILD_DIR:-build-asan}
# Warnings are CI's normal build's business (-Werror there): under -fsanitize, g++ 12
# reports a false -Wmismatched-new-delete on Asio's coroutine frames.
start=$(date +%s)
./scripts/setup.sh
cmake -S . -B "$build_dir" -G Ninja -DSOTTO_SANITIZE=ON -DSOTTO_WERROR=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build_dir" -j"${SOTTO_JOBS:-2}"
echo "sanitize: build took $(($(date +%s) - start)) s"

# halt_on_error/abort_on_error: a report is a failure, never a warning in a log.
# detect_stack_use_after_return is off: with C++20 coroutines and Asio it costs a
# fake stack per frame and slows the relay's integration tests past their deadlines.
# verify_asan_link_order=0: the relay benchmark's smoke test preloads its fsync
# counter (tests/bench/fsync_counter.cpp) into the relay, ahead of the ASan runtime.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:check_initialization_order=1:verify_asan_link_order=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build_dir"
ctest --output-on-failure -j"${SOTTO_JOBS:-2}" "$@"
echo "sanitize: build and tests took $(($(date +%s) - start)) s"
