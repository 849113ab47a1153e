#!/usr/bin/env bash
# Configures and builds nextn. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
shift || true
jobs="${NEXTN_JOBS:-$(nproc)}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DNEXTN_TESTS="${NEXTN_TESTS:-ON}" "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
