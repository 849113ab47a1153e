#!/usr/bin/env bash
# The main job: speculative generation with an MTP layer, showing its acceptance statistics.
# Until the trained default model lands (models/), it runs on a generated tiny DeepSeek-V3-shaped
# FP8 checkpoint built so that its MTP layer drafts well (make-tiny --predictable).
set -euo pipefail
cd "$(dirname "$0")/.."
NEXTN_TESTS=OFF scripts/build.sh build >/dev/null
out="${TMPDIR:-/tmp}/nextn-demo-tiny"
rm -rf "$out"
build/nextn make-tiny --family deepseek-v3 --fp8 --fp8-block 32 --shards 3 --vocab 64 \
  --predictable --out "$out"
build/nextn inspect "$out"
echo
echo "== nextn generate --spec-tokens 3 (greedy)"
build/nextn generate --model "$out" --prompt-tokens 1,2,3 -n 48 --temperature 0 \
  --spec-tokens 3 --ignore-eos
