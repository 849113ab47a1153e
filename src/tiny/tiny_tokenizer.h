// A small byte-level BPE tokenizer in HuggingFace format for tiny checkpoints, so that text
// prompts, chat templates and `nextn chat` run end to end on them. Its special tokens and
// chat template are in the style of the family's real releases; its merges are learned from a
// short built-in English text.
#pragma once

#include <cstdint>
#include <filesystem>

#include "config/model_config.h"

namespace nextn {

// Ids below the byte tokens: the family's special tokens. Id 0 is BOS and id 1 EOS, as in
// tiny configs (bos_token_id 0, eos_token_id 1).
int64_t tiny_tokenizer_special_count(Family family);
// The smallest vocab a tiny tokenizer fits in: the specials and the 256 byte tokens.
int64_t tiny_tokenizer_min_vocab(Family family);

// Writes tokenizer.json (exactly `vocab` ids: specials, 256 bytes, then merges) and
// tokenizer_config.json (bos/eos tokens, add_bos_token, chat_template) into `dir`.
void write_tiny_tokenizer(const std::filesystem::path& dir, Family family, int64_t vocab);

}  // namespace nextn
