#!/usr/bin/env bash
# Rebuilds the embedded models of models/ from scratch (see models/README.md): tokenizer,
# DeepSeek-V3-shaped training and export (BF16 + FP8 block), GLM-4.5-shaped training and export.
# CPU only; about an hour and a half on one idle core. WORK holds the run directories.
#   tools/train/build_models.sh [WORK]
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${1:-/tmp/nextn-train}"
py=/usr/bin/python3
mkdir -p "$work"
$py tools/train/bpe.py --out "$work/tok" --vocab 4096
nice -n 10 $py tools/train/train.py --family deepseek --tokenizer "$work/tok/tokenizer.json" \
  --out "$work/run-ds" --steps 800 --batch 16 --seq 128 --lr 3e-3 --warmup 50 \
  --threads 1 --seed 0 --eval-every 200
$py tools/train/export.py --ckpt "$work/run-ds/ckpt.pt" --tokenizer "$work/tok/tokenizer.json" \
  --out models/deepseek-v3-tiny-py
$py tools/train/export.py --ckpt "$work/run-ds/ckpt.pt" --tokenizer "$work/tok/tokenizer.json" \
  --out models/deepseek-v3-tiny-py-fp8 --fp8
nice -n 10 $py tools/train/train.py --family glm --tokenizer "$work/tok/tokenizer.json" \
  --out "$work/run-glm" --steps 450 --batch 16 --seq 128 --lr 3e-3 --warmup 50 --threads 1 \
  --seed 0 --eval-every 150
$py tools/train/export.py --ckpt "$work/run-glm/ckpt.pt" --tokenizer "$work/tok/tokenizer.json" \
  --out models/glm-4.5-tiny-py
