// nextn's text tokenizer: HuggingFace tokenizer.json (byte-level BPE, as the DeepSeek-V3 and
// GLM-4.x checkpoints ship it) plus the parts of tokenizer_config.json that encoding needs.
//
// Encoding follows HF's pipeline: added tokens are cut out first (non-normalized ones in the raw
// text, normalized ones after the normalizer), then each remaining section is normalized,
// pre-tokenized and run through BPE. Decoding maps ids back to bytes (ByteLevel) and repairs
// invalid UTF-8 the way Rust's from_utf8_lossy / WHATWG TextDecoder do (one U+FFFD per maximal
// invalid subpart). What each supported tokenizer.json component does is documented in its
// header: normalizer.h, pre_tokenizer.h, bpe.h, added_tokens.h, regex.h.
//
// Behaviour choices, where the references differ or say nothing:
//   - encode() takes bytes; invalid UTF-8 is first repaired as above (each maximal invalid
//     subpart becomes U+FFFD) and the result encoded, which is what the JS reference does with
//     the same bytes decoded by TextDecoder.
//   - encode(text, true) adds BOS / EOS according to tokenizer_config.json add_bos_token /
//     add_eos_token, as Python transformers' LlamaTokenizerFast does for DeepSeek-V3
//     (add_bos_token: true there). tokenizer.json's post_processor is not used.
//   - decode() skips ids that name no token (a model's padded vocab rows), as HF's Rust does.
//   - tokenizer.json "truncation" and "padding" are ignored: nextn never truncates input.
//
// Thread safety: a Tokenizer is immutable after loading and cheap to copy (copies share one
// loaded table); encode and decode may be called from several threads at once. The internal
// BPE cache is bounded and locked per shard.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nextn {

// The fields of tokenizer_config.json that nextn uses.
struct TokenizerConfig {
  // Token contents ("<｜begin▁of▁sentence｜>"), from a string or an AddedToken object.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<std::string> pad_token;
  bool add_bos_token = false;  // absent → false
  bool add_eos_token = false;
  // The Jinja chat template: the string, or the "default" entry of a list of named templates;
  // Tokenizer::load takes a sibling chat_template.jinja over the config's value.
  std::optional<std::string> chat_template;
};

// Parses tokenizer_config.json text; errors name `source_name` and the field.
TokenizerConfig parse_tokenizer_config(std::string_view json_text, const std::string& source_name);

class Tokenizer {
 public:
  // Parses tokenizer.json text. `source_name` (usually the file's path) starts every error
  // message. `config`'s bos/eos/pad tokens must exist in the tokenizer.
  static Tokenizer from_json_text(std::string_view tokenizer_json, const std::string& source_name,
                                  TokenizerConfig config = {});
  // Loads dir/tokenizer.json (required) and dir/tokenizer_config.json and
  // dir/chat_template.jinja when present.
  static Tokenizer load(const std::filesystem::path& dir);

  // Token ids of `text` (bytes; see above for invalid UTF-8). With add_special_tokens, BOS is
  // prepended when config().add_bos_token and EOS appended when config().add_eos_token.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = false) const;
  // Text of `ids`; with skip_special_tokens, special added tokens are left out.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // The token's string as stored: the vocab spelling in the byte-level alphabet ("Ġthe"), or an
  // added token's content. An id without a token is an Error.
  std::string piece(int32_t id) const;
  // Id of a vocab entry or added token (added tokens first, as in HF).
  std::optional<int32_t> token_to_id(std::string_view token) const;
  bool is_special(int32_t id) const;
  // Max id + 1 over the vocab and the added tokens.
  int64_t vocab_size() const;

  const TokenizerConfig& config() const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;

  struct Impl;  // internal (tokenizer_impl.h)

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  friend class StreamingDecoder;
  std::shared_ptr<const Impl> impl_;
};

// Decodes ids one at a time (generation): push() returns the text that is now complete and never
// half a UTF-8 character; bytes that can no longer become valid come out as U+FFFD at once.
// flush() returns what is left at the end (U+FFFD for an unfinished sequence). The pieces joined
// equal tokenizer.decode(all ids, skip_special_tokens). Not thread-safe (one per stream); it
// shares the Tokenizer's tables, so it may outlive the Tokenizer object it was made from.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false);

  std::string push(int32_t id);
  std::string flush();

 private:
  std::shared_ptr<const Tokenizer::Impl> impl_;
  bool skip_special_tokens_;
  bool first_ = true;    // no separator before the first token (tokenizers without a decoder)
  std::string pending_;  // bytes of an unfinished UTF-8 sequence
};

}  // namespace nextn
