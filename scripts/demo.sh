#!/usr/bin/env bash
# The main job: speculative generation with an MTP layer on the embedded default model (a small
# DeepSeek-V3-shaped checkpoint trained on Python sources, models/README.md), showing the text
# and the acceptance statistics; then the same prompt without speculation, for the speed-up.
set -euo pipefail
cd "$(dirname "$0")/.."
NEXTN_TESTS=OFF scripts/build.sh build >/dev/null
model=models/deepseek-v3-tiny-py
[[ -d "$model" ]] || model=models/glm-4.5-tiny-py
prompt=$'class Stack:\n    """A simple stack."""\n\n    def __init__(self):\n        '
build/nextn inspect "$model"
echo
# One thread: the model is tiny (16 MB), so a second thread adds more synchronisation than work.
echo "== nextn generate --spec-tokens 3 (greedy), a prompt from the model's domain"
build/nextn generate --model "$model" -p "$prompt" -n 96 --temperature 0 --spec-tokens 3 \
  --threads 1
echo
echo "== the same without speculation (--spec-tokens 0): the same text, one target pass a token"
build/nextn generate --model "$model" -p "$prompt" -n 96 --temperature 0 --spec-tokens 0 \
  --threads 1 >/dev/null
