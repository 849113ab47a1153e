// Parsing of tokenizer.json into Tokenizer::Impl: which components exist and how they are
// checked. Each component parses its own object (normalizer.cpp, pre_tokenizer.cpp, bpe.cpp).
#include <algorithm>
#include <limits>

#include "core/error.h"
#include "tokenizer/json_field.h"
#include "tokenizer/tokenizer_impl.h"

namespace nextn {
namespace {

using tokenizer_json::Field;

constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max() - 1;

DecoderKind parse_decoder(const std::optional<Field>& field) {
  if (!field) return DecoderKind::kNone;
  field->expect_object();
  const Field type = field->at("type", "a decoder type");
  const std::string name = type.as_string();
  if (name == "ByteLevel") return DecoderKind::kByteLevel;
  if (name == "Sequence") {
    // A Sequence holding one ByteLevel is the same decoder; longer chains are not supported.
    const Field list = field->at("decoders", "a list of decoders");
    list.expect_array();
    if (list.json().size() == 1) return parse_decoder(list.element(0));
    list.fail("only a Sequence of exactly one ByteLevel decoder is supported");
  }
  type.fail(fmt::format("unsupported decoder type '{}' (nextn supports ByteLevel)", name));
}

AddedToken parse_added_token(const Field& f) {
  f.expect_object();
  AddedToken t;
  t.id = static_cast<int32_t>(f.at("id", "a token id").as_int(0, kMaxId));
  t.content = f.at("content", "the token's text").as_string();
  if (t.content.empty()) f.at("content", "").fail("an added token's content must not be empty");
  t.special = f.bool_or("special", false);
  t.single_word = f.bool_or("single_word", false);
  t.lstrip = f.bool_or("lstrip", false);
  t.rstrip = f.bool_or("rstrip", false);
  t.normalized = f.bool_or("normalized", !t.special);  // HF's default
  return t;
}

}  // namespace

std::shared_ptr<Tokenizer::Impl> Tokenizer::Impl::parse(std::string_view json_text,
                                                        const std::string& source_name) {
  const nlohmann::json root = tokenizer_json::parse_object(json_text, source_name);
  const Field top(root, source_name, "");
  auto impl = std::make_shared<Impl>();
  impl->source_name = source_name;

  // nlohmann's parser already rejects invalid UTF-8 and lone surrogates inside strings.
  static const nlohmann::json kNull;
  const auto optional_member = [&](std::string_view key) {
    const std::optional<Field> f = top.find(key);
    return f ? *f : Field(kNull, impl->source_name, std::string(key));
  };
  impl->normalizer = Normalizer::from_json(optional_member("normalizer"));
  impl->pre_tokenizer = PreTokenizer::from_json(optional_member("pre_tokenizer"));
  impl->model = BpeModel::from_json(top.at("model", "a BPE model object"));
  impl->decoder = parse_decoder(top.find("decoder"));

  impl->vocab_size = impl->model.size();
  if (const auto list = top.find("added_tokens")) {
    list->expect_array();
    for (size_t i = 0; i < list->json().size(); ++i) {
      const Field f = list->element(i);
      AddedToken t = parse_added_token(f);
      if (impl->added_by_id.contains(t.id)) {
        f.at("id", "").fail(fmt::format("id {} is used by two added tokens", t.id));
      }
      // An added token may take over a vocab id (DeepSeek's BOS is both); the added one wins.
      impl->added_by_id.emplace(t.id, impl->added_tokens.size());
      impl->added_by_content.emplace(t.content, impl->added_tokens.size());
      impl->vocab_size = std::max<int64_t>(impl->vocab_size, int64_t{t.id} + 1);
      impl->added_tokens.push_back(std::move(t));
    }
  }
  for (const AddedToken& t : impl->added_tokens) {
    if (!t.normalized) {
      impl->raw_matcher.add(t.content, t);
    } else {
      // HF matches normalized tokens by their normalized content, after normalization.
      impl->normalized_matcher.add(
          impl->normalizer.present() ? impl->normalizer.apply(t.content) : t.content, t);
    }
  }
  return impl;
}

}  // namespace nextn
