#!/usr/bin/env bash
# build.sh — configure and build Sotto into ./build (Release with debug info).
# Extra arguments go to CMake's configure step, e.g. -DSOTTO_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SOTTO_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
ninja -C "$build_dir" -j"${SOTTO_JOBS:-2}"
