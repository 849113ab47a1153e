#!/usr/bin/env bash
# Writes the bench-sized DeepSeek-V3-shaped checkpoints of docs/PERFORMANCE.md (random weights,
# not committed): H 2048, 8 layers (first dense), MLA 16 heads, 64 routed experts top-6 in 8
# groups top-4 + 1 shared, vocab 32768, one MTP layer; BF16 (3.9 GB) and block FP8 (2.2 GB);
# and GLM-4.5-shaped ones (below): BF16 (4.0 GB) and compressed-tensors FP8 with one scale per
# output row, as the GLM FP8 releases (2.3 GB).
# Usage: tools/bench/make_bench_models.sh OUT_DIR [NEXTN_BINARY]
set -euo pipefail
out="${1:?usage: make_bench_models.sh OUT_DIR [NEXTN_BINARY]}"
nextn="${2:-build/nextn}"
shape=(--hidden 2048 --layers 8 --first-dense 1 --heads 16 --q-lora-rank 768 --kv-lora-rank 512
       --qk-nope-dim 128 --qk-rope-dim 64 --v-head-dim 128 --experts 64 --top-k 6 --groups 8
       --top-groups 4 --intermediate 4096 --moe-intermediate 512 --vocab 32768 --mtp-layers 1
       --shards 4)
"$nextn" make-tiny --out "$out/ds-bf16" "${shape[@]}"
"$nextn" make-tiny --out "$out/ds-fp8" "${shape[@]}" --fp8
# GLM-4.5-shaped, same width and depth: GQA 32 heads over 4 KV heads of 128, qk-norm, 64 routed
# experts top-8 + 1 shared, BF16 (4.0 GB).
"$nextn" make-tiny --out "$out/glm-bf16" --family glm4-moe --hidden 2048 --layers 8 --first-dense 1 \
  --heads 32 --kv-heads 4 --head-dim 128 --experts 64 --top-k 8 --intermediate 4096 \
  --moe-intermediate 512 --vocab 32768 --mtp-layers 1 --shards 4
"$nextn" make-tiny --out "$out/glm-fp8" --family glm4-moe --hidden 2048 --layers 8 --first-dense 1 \
  --heads 32 --kv-heads 4 --head-dim 128 --experts 64 --top-k 8 --intermediate 4096 \
  --moe-intermediate 512 --vocab 32768 --mtp-layers 1 --shards 4 --fp8 --fp8-strategy channel
