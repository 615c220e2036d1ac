#!/usr/bin/env bash
# setup.sh — installs the Debian 12 packages Sotto builds and tests with.
# Idempotent: packages already installed are skipped, and apt is not touched
# when nothing is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libsodium-dev
  libasio-dev
  protobuf-compiler libprotobuf-dev
  catch2
  libsqlite3-dev sqlite3
  libcli11-dev
  libspdlog-dev libfmt-dev
  libtomlplusplus-dev
  libjemalloc-dev
  nlohmann-json3-dev
  tmux
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
