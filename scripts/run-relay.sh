#!/usr/bin/env bash
# run-relay.sh — the README's first command: set up, build and run the main job.
# The relay (sotto-relay) is not built yet; until it is, this builds the core,
# runs its self-checks and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
echo "sotto: the relay is not implemented yet (issue 3); the core built and its tests follow."
ctest --test-dir "${SOTTO_BUILD_DIR:-build}" -j2 --output-on-failure
