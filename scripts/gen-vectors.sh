#!/usr/bin/env bash
# gen-vectors.sh — regenerate tests/vectors/*.json from their generators
# (tools/gen_<name>_vectors.cpp). Only needed when the protocol changes on purpose;
# CTest's "vectors:*" tests fail until the committed files match again.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
for gen in build/tools/gen_*_vectors; do
  name=$(basename "$gen"); name=${name#gen_}; name=${name%_vectors}
  "$gen" > "tests/vectors/$name.json"
  echo "wrote tests/vectors/$name.json"
done
