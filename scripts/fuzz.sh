#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang,
# ASan and UBSan into ./build-fuzz, run each for SECONDS, then replay each
# target's whole committed corpus. Any crash, leak, sanitizer report, timeout
# or property violation fails the script (exit 1) after all targets ran.
#
#   scripts/fuzz.sh                       every target, 30 s each (what CI runs)
#   scripts/fuzz.sh 3600 fuzz_envelope    one target for an hour
#   scripts/fuzz.sh 0                     build and replay the corpus only
#
# New inputs the fuzzer finds go to build-fuzz/fuzz-work/<target>/ (not into
# the committed corpus); a crashing input is saved as
# build-fuzz/fuzz-artifacts/<target>/crash-<sha1> and its path printed.
# Environment: SOTTO_FUZZ_BUILD_DIR (default build-fuzz), SOTTO_JOBS (ninja -j,
# default 2), SOTTO_FUZZ_TIMEOUT (seconds one input may take, default 60),
# SOTTO_FUZZ_ARGS (extra libFuzzer flags). Runs scripts/setup.sh first (a
# no-op when everything is installed); needs nothing beyond what it installs
# (clang, libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
if [ $# -gt 0 ]; then shift; fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
build_dir=${SOTTO_FUZZ_BUILD_DIR:-build-fuzz}
timeout=${SOTTO_FUZZ_TIMEOUT:-60}
read -r -a extra_args <<<"${SOTTO_FUZZ_ARGS:-}"

start=$(date +%s)
./scripts/setup.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSOTTO_FUZZ=ON \
  -DSOTTO_TESTS=OFF -DSOTTO_WERROR=ON >/dev/null
ninja -C "$build_dir" -j"${SOTTO_JOBS:-2}" sotto_fuzzers
built=$(date +%s)
echo "fuzz: build took $((built - start)) s"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in tests/fuzz/fuzz_*.cpp; do
    name=$(basename "$src" .cpp)
    [ -x "$build_dir/tests/fuzz/$name" ] && targets+=("$name")
  done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for t in "${targets[@]}"; do
  bin="$build_dir/tests/fuzz/$t"
  corpus="tests/fuzz/corpus/$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz: no such target: $t" >&2
    failed+=("$t(missing)")
    continue
  fi
  work="$build_dir/fuzz-work/$t"
  artifacts="$build_dir/fuzz-artifacts/$t"
  mkdir -p "$work" "$artifacts" "$corpus"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  log="$build_dir/fuzz-work/$t.log"

  if [ "$seconds" -gt 0 ]; then
    echo "fuzz: $t for $seconds s"
    # The first corpus directory receives new inputs; the committed one is read only.
    if "$bin" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" "${extra_args[@]}" \
        "$work" "$corpus" >"$log" 2>&1; then
      grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ *DONE)' "$log" |
        tr '\n' ' ' | sed 's/^/fuzz:   /'
      echo
    else
      echo "fuzz: $t FAILED; log: $log" >&2
      tail -n 40 "$log" >&2
      ls "$artifacts" | sed "s|^|fuzz:   artifact: $artifacts/|" >&2
      failed+=("$t")
      continue
    fi
  fi

  # Replay every committed input once (past crashes included).
  if ! "$bin" -runs=0 -timeout="$timeout" "$corpus" >"$log.replay" 2>&1; then
    echo "fuzz: $t corpus replay FAILED; log: $log.replay" >&2
    tail -n 40 "$log.replay" >&2
    failed+=("$t(replay)")
  else
    echo "fuzz: $t replayed $(find "$corpus" -type f | wc -l) corpus inputs"
  fi
done

echo "fuzz: ${#targets[@]} targets, $(($(date +%s) - start)) s in total"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  echo "fuzz: reproduce with $build_dir/tests/fuzz/<target> <artifact>; see docs/security-review.md" >&2
  exit 1
fi
echo "fuzz: all targets passed"
