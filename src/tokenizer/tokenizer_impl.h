// The loaded tables behind nextn::Tokenizer. Internal to src/tokenizer.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace nextn {

// How ids become text (tokenizer.json "decoder").
enum class DecoderKind {
  kNone,       // null: token strings joined with spaces, as HF does without a decoder
  kByteLevel,  // ByteLevel (alone or as the only member of a Sequence)
};

struct Tokenizer::Impl {
  std::string source_name;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  BpeModel model;
  DecoderKind decoder = DecoderKind::kNone;

  std::vector<AddedToken> added_tokens;
  std::unordered_map<std::string, size_t> added_by_content;  // index into added_tokens
  std::unordered_map<int32_t, size_t> added_by_id;
  AddedTokenMatcher raw_matcher;         // normalized == false
  AddedTokenMatcher normalized_matcher;  // normalized == true, by normalized content
  int64_t vocab_size = 0;

  TokenizerConfig config;
  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;

  // Parses tokenizer.json (tokenizer_json.cpp).
  static std::shared_ptr<Impl> parse(std::string_view json_text, const std::string& source_name);
  // Resolves the config's token names to ids; errors name the file.
  void set_config(TokenizerConfig c);

  // Appends the ids of valid UTF-8 text without BOS/EOS.
  void encode_valid(std::string_view text, std::vector<int32_t>& out) const;
  // Appends the bytes `id` decodes to (before UTF-8 repair); false when skipped or unknown.
  bool append_token_bytes(int32_t id, bool skip_special_tokens, std::string& out) const;
  const AddedToken* added(int32_t id) const;
};

}  // namespace nextn
