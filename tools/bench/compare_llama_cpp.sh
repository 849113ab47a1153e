#!/usr/bin/env bash
# Side by side on one machine, in one run: `nextn bench` and llama.cpp's `llama-bench` on the
# same bench checkpoint, 1 and 2 threads. llama.cpp is built outside this repository
# (../shared/peers/llama.cpp.md); its GGUF files come from its own convert_hf_to_gguf.py.
# Usage: tools/bench/compare_llama_cpp.sh LLAMA_BENCH MODELS_DIR [NEXTN_BINARY]
#   MODELS_DIR holds ds-bf16/ and ds-fp8/ (make_bench_models.sh), ds-bf16.gguf and ds-q8_0.gguf.
set -euo pipefail
llama_bench="${1:?usage: compare_llama_cpp.sh LLAMA_BENCH MODELS_DIR [NEXTN_BINARY]}"
models="${2:?models dir}"
nextn="${3:-build/nextn}"
for threads in 1 2; do
  for pair in "ds-bf16 ds-bf16.gguf" "ds-fp8 ds-q8_0.gguf"; do
    set -- $pair
    echo "== threads $threads: nextn $1"
    "$nextn" bench --model "$models/$1" --threads "$threads" --decode 32 --repeats 3 --max-verify 4
    echo "== threads $threads: llama.cpp $2"
    "$llama_bench" -m "$models/$2" -t "$threads" -p 128 -n 32 -r 3 2>&1 | grep -E "^\| (model|deepseek)"
  done
done
