// Tokenizer: the encode pipeline (added tokens → normalizer → pre-tokenizer → BPE) and decode.
#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace nextn {

const AddedToken* Tokenizer::Impl::added(int32_t id) const {
  const auto it = added_by_id.find(id);
  return it == added_by_id.end() ? nullptr : &added_tokens[it->second];
}

void Tokenizer::Impl::set_config(TokenizerConfig c) {
  const auto resolve = [&](const std::optional<std::string>& token,
                           std::string_view key) -> std::optional<int32_t> {
    if (!token) return std::nullopt;
    const auto it = added_by_content.find(*token);
    if (it != added_by_content.end()) return added_tokens[it->second].id;
    if (const auto id = model.token_to_id(*token)) return id;
    nextn::fail("{}: the tokenizer config's {} \"{}\" is neither a vocab entry nor an added token",
                source_name, key, *token);
  };
  bos_id = resolve(c.bos_token, "bos_token");
  eos_id = resolve(c.eos_token, "eos_token");
  resolve(c.pad_token, "pad_token");
  if (c.add_bos_token && !bos_id) {
    nextn::fail("{}: the tokenizer config sets add_bos_token but no bos_token", source_name);
  }
  if (c.add_eos_token && !eos_id) {
    nextn::fail("{}: the tokenizer config sets add_eos_token but no eos_token", source_name);
  }
  config = std::move(c);
}

void Tokenizer::Impl::encode_valid(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<TextSegment> sections;
  raw_matcher.split(text, sections);
  std::vector<TextSegment> subsections;
  std::vector<std::string> pieces;
  for (const TextSegment& section : sections) {
    if (section.token_id >= 0) {
      out.push_back(section.token_id);
      continue;
    }
    const std::string normalized =
        normalizer.present() ? normalizer.apply(section.text) : std::string(section.text);
    subsections.clear();
    normalized_matcher.split(normalized, subsections);
    for (const TextSegment& sub : subsections) {
      if (sub.token_id >= 0) {
        out.push_back(sub.token_id);
        continue;
      }
      pieces.clear();
      pre_tokenizer.apply(sub.text, pieces);
      for (const std::string& piece : pieces) model.encode(piece, out);
    }
  }
}

bool Tokenizer::Impl::append_token_bytes(int32_t id, bool skip_special_tokens,
                                         std::string& out) const {
  const std::string* token = nullptr;
  if (const AddedToken* a = added(id)) {
    if (skip_special_tokens && a->special) return false;
    token = &a->content;
  } else {
    token = model.id_to_token(id);
  }
  if (token == nullptr) return false;  // no token has this id: skipped, as HF's Rust does
  if (decoder == DecoderKind::kByteLevel) {
    byte_level::decode(*token, out);
  } else {
    out.append(*token);
  }
  return true;
}

Tokenizer Tokenizer::from_json_text(std::string_view tokenizer_json, const std::string& source_name,
                                    TokenizerConfig config) {
  std::shared_ptr<Impl> impl = Impl::parse(tokenizer_json, source_name);
  impl->set_config(std::move(config));
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const Impl& impl = *impl_;
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (add_special_tokens && impl.config.add_bos_token) ids.push_back(*impl.bos_id);
  if (utf8::is_valid(text)) {
    impl.encode_valid(text, ids);
  } else {
    impl.encode_valid(utf8::to_valid(text), ids);
  }
  if (add_special_tokens && impl.config.add_eos_token) ids.push_back(*impl.eos_id);
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const Impl& impl = *impl_;
  std::string bytes;
  bool first = true;
  for (const int32_t id : ids) {
    const size_t before = bytes.size();
    if (impl.decoder == DecoderKind::kNone && !first) bytes.push_back(' ');
    if (impl.append_token_bytes(id, skip_special_tokens, bytes)) {
      first = false;
    } else {
      bytes.resize(before);
    }
  }
  return utf8::is_valid(bytes) ? bytes : utf8::to_valid(bytes);
}

std::string Tokenizer::piece(int32_t id) const {
  if (const AddedToken* a = impl_->added(id)) return a->content;
  if (const std::string* t = impl_->model.id_to_token(id)) return *t;
  nextn::fail("{}: token id {} has no token (vocab size {})", impl_->source_name, id,
              impl_->vocab_size);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  const auto it = impl_->added_by_content.find(std::string(token));
  if (it != impl_->added_by_content.end()) return impl_->added_tokens[it->second].id;
  return impl_->model.token_to_id(token);
}

bool Tokenizer::is_special(int32_t id) const {
  const AddedToken* a = impl_->added(id);
  return a != nullptr && a->special;
}

int64_t Tokenizer::vocab_size() const {
  return impl_->vocab_size;
}
const TokenizerConfig& Tokenizer::config() const {
  return impl_->config;
}
std::optional<int32_t> Tokenizer::bos_id() const {
  return impl_->bos_id;
}
std::optional<int32_t> Tokenizer::eos_id() const {
  return impl_->eos_id;
}

}  // namespace nextn
