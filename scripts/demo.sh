#!/usr/bin/env bash
# The main job: speculative generation with an MTP layer on the embedded default model (a small
# DeepSeek-V3-shaped checkpoint trained on Python sources, models/README.md), showing the text
# and the acceptance statistics; then the same prompt without speculation, for the speed-up.
set -euo pipefail
cd "$(dirname "$0")/.."
NEXTN_TESTS=OFF scripts/build.sh build >/dev/null
model=models/deepseek-v3-tiny-py
[[ -d "$model" ]] || model=models/glm-4.5-tiny-py
prompt=$'import os\nimport sys\n\n\ndef main(argv):\n    """Parse the command line and run."""\n'
build/nextn inspect "$model"
echo
echo "== nextn generate --spec-tokens auto (greedy), prompt from the model's domain"
build/nextn generate --model "$model" -p "$prompt" -n 160 --temperature 0 --spec-tokens auto
echo
echo "== the same without speculation (--spec-tokens 0): identical text, one token per pass"
build/nextn generate --model "$model" -p "$prompt" -n 160 --temperature 0 --spec-tokens 0 \
  >/dev/null
