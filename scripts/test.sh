#!/usr/bin/env bash
# test.sh — set up, build and run every test (the README's second command, and CI's).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh "$@"
build_dir=${SOTTO_BUILD_DIR:-build}
cd "$build_dir"
ctest --output-on-failure -j"${SOTTO_JOBS:-2}"
