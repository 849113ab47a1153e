#!/usr/bin/env bash
# Builds and runs every test: the Release build, the same suite under AddressSanitizer and
# UndefinedBehaviorSanitizer, and the fuzz targets for a bounded time (NEXTN_FUZZ_SECONDS, 20).
# Usage: scripts/test.sh [--quick]   (--quick: Release suite only)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${NEXTN_JOBS:-$(nproc)}"

echo "== Release build and tests"
scripts/build.sh build
ctest --test-dir build -j "$jobs" --output-on-failure

echo "== nextn serve with the OpenAI client (tests/server_js)"
if [[ ! -d tests/server_js/node_modules ]]; then
  echo "tests/server_js/node_modules is missing: run scripts/setup.sh (it runs npm ci there)" >&2
  exit 1
fi
NEXTN_BINARY="$PWD/build/nextn" node --test tests/server_js/

if [[ "${1:-}" == "--quick" ]]; then exit 0; fi

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
# The whole CI run has to stay within 20 minutes on two cores:
# - -O1 -g1: line tables for the sanitizers' stack traces at about 60% of the compile time of
#   -O2 -g;
# - a unity build (each target's sources compiled in batches, as one file each): 501 → about 240 s
#   here, the build of this tree being most of the run. The Release build above stays one file
#   at a time, so it still checks that every file includes what it uses.
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEXTN_SANITIZE=ON -DNEXTN_BENCH=OFF \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DCMAKE_UNITY_BUILD=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -j "$jobs" --output-on-failure

echo "== Fuzz targets (${NEXTN_FUZZ_SECONDS:-20} s each)"
scripts/fuzz.sh "${NEXTN_FUZZ_SECONDS:-20}"
