#!/usr/bin/env bash
# run-relay.sh — the README's first command: set up, build and run a relay
# with its embedded store, in the foreground (Ctrl-C stops it cleanly).
#
# The first run creates the data directory with `sotto-relay init`; later runs
# reuse it (its relay.toml, key and queued messages). Settings, by environment:
#   SOTTO_RELAY_DATA    data directory            (default ./relay-data)
#   SOTTO_RELAY_LISTEN  HOST:PORT for a new relay (default 127.0.0.1:7400)
#   SOTTO_BUILD_DIR     build directory           (default build)
#   SOTTO_SKIP_SETUP=1  do not check/install the Debian packages
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SOTTO_RELAY_DATA:-./relay-data}
listen=${SOTTO_RELAY_LISTEN:-127.0.0.1:7400}
build_dir=${SOTTO_BUILD_DIR:-build}

if [ "${SOTTO_SKIP_SETUP:-0}" != 1 ]; then ./scripts/setup.sh; fi
./scripts/build.sh
relay="$build_dir/server/sotto-relay"

if [ ! -f "$data/relay.toml" ]; then
  echo "run-relay: creating a relay in $data (listening on $listen)"
  "$relay" init --data "$data" --listen "$listen" >/dev/null
fi
echo "run-relay: relay address (give it to clients):"
"$relay" address --data "$data"
echo "run-relay: serving from $data; Ctrl-C to stop"
exec "$relay" run --data "$data"
