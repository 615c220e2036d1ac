#!/usr/bin/env bash
# make_corpus.sh — (re)generates the seed corpus of every fuzz target under
# tests/fuzz/corpus/<target>/gen-* with make_corpus.cpp, from encodings the
# core makes with fixed SeededRng seeds and from tests/vectors/*.json.
# Deterministic: run it again and `git status` shows no change unless the
# protocol changed. Files not named gen-* (crash regressions, named regress-*) are kept.
#
# Builds the generator in the normal build directory (SOTTO_BUILD_DIR, default
# build) with the normal compiler; no fuzz build is needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${SOTTO_BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja >/dev/null
fi
ninja -C "$build_dir" -j"${SOTTO_JOBS:-2}" make_fuzz_corpus
find tests/fuzz/corpus -type f -name 'gen-*' -delete 2>/dev/null || true
"$build_dir/tests/fuzz/make_fuzz_corpus" tests/fuzz/corpus
