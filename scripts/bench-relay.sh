#!/usr/bin/env bash
# bench-relay.sh — the relay load benchmark of issue 6 (docs/performance.md,
# "Relay load benchmark"): sotto-relay beside mosquitto (QoS 1, persistence)
# and redis (appendonly, appendfsync always) under the same load, and 10,000
# idle connections. Writes the summary table to build/bench/relay.md.
#
#   scripts/bench-relay.sh            the full run (several minutes)
#   scripts/bench-relay.sh --quick    one short round, 2,000 idle connections
#
# Installs the brokers and their client libraries from Debian first (only
# here: the normal build does not need them). The benchmark itself works
# without them and then measures the relay alone.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SOTTO_BUILD_DIR:-build}

packages=(mosquitto libmosquitto-dev redis-server libhiredis-dev)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-relay: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi
# The Debian packages start their services where an init system runs; the
# benchmark starts its own instances on free ports and needs no others.

cmake -S . -B "$build_dir" -G Ninja >/dev/null
ninja -C "$build_dir" -j"${SOTTO_JOBS:-2}" relay_load sotto-relay

# 10,000 connections need more than the usual 1,024 file descriptors
# (relay_load also raises its soft limit to the hard one; children inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mode=()
if [ "${1:-}" = "--quick" ]; then mode=(--quick); fi
mkdir -p "$build_dir/bench"
"$build_dir/tests/bench/relay_load" "${mode[@]}" --markdown "$build_dir/bench/relay.md" |
  tee "$build_dir/bench/relay.log"
echo "bench-relay: table in $build_dir/bench/relay.md, full output in $build_dir/bench/relay.log"
