// Helpers shared by the tokenizer tests: golden files, the real DeepSeek-V3 tokenizer, and small
// hand-made tokenizer.json documents.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"

namespace nextn::testing {

inline std::filesystem::path tokenizer_data_dir() {
  return test_data_dir() / "tokenizer";
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  return nlohmann::json::parse(read_file(path));
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// The real DeepSeek-V3 tokenizer files live outside the repository. Their absence is a failure,
// not a skip: the exactness tests are the point of the tokenizer layer.
inline std::filesystem::path deepseek_v3_dir() {
  return std::filesystem::path(NEXTN_TOKENIZER_CACHE_DIR) / "deepseek-v3";
}

inline bool require_deepseek_v3() {
  if (std::filesystem::is_regular_file(deepseek_v3_dir() / "tokenizer.json")) return true;
  ADD_FAILURE() << deepseek_v3_dir().string()
                << "/tokenizer.json is missing: run scripts/fetch_tokenizers.sh";
  return false;
}

// The byte-level spelling of a plain string ("a b" -> "aĠb"), for building vocabularies.
inline std::string bl(const std::string& raw) {
  std::string out;
  byte_level::encode(raw, out);
  return out;
}

// A small byte-level BPE tokenizer.json: all 256 byte tokens (ids 0..255 in byte order), then
// one token per merge in order, then `added` (objects without "id": ids are assigned after the
// vocab). `merges` are raw-text pairs, spelled in the byte-level alphabet here.
inline nlohmann::json tiny_tokenizer_json(
    const std::vector<std::pair<std::string, std::string>>& merges,
    nlohmann::json pre_tokenizer = nullptr, nlohmann::json normalizer = nullptr,
    nlohmann::json added = nlohmann::json::array()) {
  nlohmann::json vocab = nlohmann::json::object();
  int id = 0;
  for (int b = 0; b < 256; ++b) vocab[bl(std::string(1, static_cast<char>(b)))] = id++;
  nlohmann::json merge_list = nlohmann::json::array();
  for (const auto& [a, b] : merges) {
    merge_list.push_back(bl(a) + " " + bl(b));
    if (!vocab.contains(bl(a + b))) vocab[bl(a + b)] = id++;
  }
  for (auto& t : added) {
    t["id"] = id++;
    if (!t.contains("special")) t["special"] = true;
  }
  if (pre_tokenizer.is_null()) {
    pre_tokenizer = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  }
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", normalizer},
          {"pre_tokenizer", pre_tokenizer},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model",
           {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}, {"unk_token", nullptr}}}};
}

inline Tokenizer tiny_tokenizer(const nlohmann::json& json) {
  return Tokenizer::from_json_text(json.dump(), "tiny/tokenizer.json");
}

// The pieces of `ids` as raw text (byte-level decoded), for readable expectations.
inline std::vector<std::string> raw_pieces(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (const int32_t id : ids) {
    const int32_t one[] = {id};
    out.push_back(tok.decode(one));
  }
  return out;
}

}  // namespace nextn::testing
