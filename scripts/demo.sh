#!/usr/bin/env bash
# The main job, until generation lands: build nextn, write a tiny DeepSeek-V3-shaped FP8
# checkpoint with an MTP layer, and inspect it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build >/dev/null
out="${TMPDIR:-/tmp}/nextn-demo-tiny"
rm -rf "$out"
build/nextn make-tiny --family deepseek-v3 --fp8 --fp8-block 32 --shards 3 --out "$out"
build/nextn inspect "$out"
