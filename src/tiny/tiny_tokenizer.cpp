#include "tiny/tiny_tokenizer.h"

#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/byte_level.h"

namespace nextn {
namespace {

using Json = nlohmann::ordered_json;

// One byte in the byte-level alphabet (as a vocabulary entry spells it).
std::string byte_to_unicode(uint8_t byte) {
  std::string out;
  const char raw = static_cast<char>(byte);
  byte_level::encode(std::string_view(&raw, 1), out);
  return out;
}

// Text the merges are learned from: everyday English, so common words become single tokens.
constexpr const char* kTrainingText =
    "The quick brown fox jumps over the lazy dog. The dog sleeps in the sun and the fox runs "
    "into the woods. Speculative decoding lets a small draft model guess the next tokens, and "
    "the target model checks all of them in one pass. When the guess is right, the model "
    "writes several tokens for the price of one. This is the main idea of the multi-token "
    "prediction layer: it predicts the token after the next one. Hello, how are you today? I "
    "am fine, thank you. What is the weather like where you are? It is a sunny day here.";

struct FamilyStyle {
  std::vector<std::string> specials;  // id order
  std::string chat_template;
  bool add_bos = false;
  Json pre_tokenizer;
};

// The split patterns are the families' own (DeepSeek-V3's tokenizer.json; GLM-4.5's
// llama-3-style pattern), so tiny checkpoints pre-tokenize like the real ones.
FamilyStyle family_style(Family family) {
  auto byte_level = Json{{"type", "ByteLevel"},
                         {"add_prefix_space", false},
                         {"trim_offsets", true},
                         {"use_regex", false}};
  auto split = [](const char* pattern) {
    return Json{{"type", "Split"},
                {"pattern", {{"Regex", pattern}}},
                {"behavior", "Isolated"},
                {"invert", false}};
  };
  if (family == Family::kDeepseekV3) {
    return {
        .specials = {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",
                     "<｜Assistant｜>"},
        .chat_template =
            "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}"
            "{{ m['content'] }}{% elif m['role'] == 'user' %}{{ '<｜User｜>' + m['content'] }}"
            "{% elif m['role'] == 'assistant' %}"
            "{{ '<｜Assistant｜>' + m['content'] + '<｜end▁of▁sentence｜>' }}{% endif %}"
            "{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}",
        .add_bos = true,
        .pre_tokenizer =
            {{"type", "Sequence"},
             {"pretokenizers",
              {split("\\p{N}{1,3}"), split("[一-龥぀-ゟ゠-ヿ]+"),
               split("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}"
                     "\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|"
                     "\\s+"),
               byte_level}}},
    };
  }
  return {
      .specials = {"[gMASK]", "<|endoftext|>", "<|user|>", "<|assistant|>", "<sop>", "<|system|>"},
      .chat_template =
          "[gMASK]<sop>{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}"
          "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
      .add_bos = false,
      .pre_tokenizer =
          {{"type", "Sequence"},
           {"pretokenizers",
            {split("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?"
                   "[^\\s\\p{L}\\p{N}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
             byte_level}}},
  };
}

// Words of the training text in the byte-level alphabet, each with its leading space, as
// symbol sequences.
std::vector<std::vector<std::string>> training_words() {
  std::vector<std::vector<std::string>> words;
  std::string text = kTrainingText;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start + 1);
    if (end == std::string::npos) end = text.size();
    std::vector<std::string> word;
    for (size_t i = start; i < end; ++i)
      word.push_back(byte_to_unicode(static_cast<uint8_t>(text[i])));
    words.push_back(std::move(word));
    start = end;
  }
  return words;
}

// Greedy BPE training: merge the most frequent adjacent pair (ties: the smaller pair) until
// `count` merges are learned or no pair occurs twice.
std::vector<std::pair<std::string, std::string>> learn_merges(int64_t count) {
  auto words = training_words();
  std::vector<std::pair<std::string, std::string>> merges;
  while (static_cast<int64_t>(merges.size()) < count) {
    std::map<std::pair<std::string, std::string>, int> pairs;
    for (const auto& word : words) {
      for (size_t i = 0; i + 1 < word.size(); ++i) ++pairs[{word[i], word[i + 1]}];
    }
    const std::pair<std::string, std::string>* best = nullptr;
    int best_count = 1;
    for (const auto& [pair, n] : pairs) {
      if (n > best_count) {
        best = &pair;
        best_count = n;
      }
    }
    if (best == nullptr) break;
    const auto merge = *best;
    merges.push_back(merge);
    for (auto& word : words) {
      std::vector<std::string> merged;
      for (size_t i = 0; i < word.size(); ++i) {
        if (i + 1 < word.size() && word[i] == merge.first && word[i + 1] == merge.second) {
          merged.push_back(merge.first + merge.second);
          ++i;
        } else {
          merged.push_back(word[i]);
        }
      }
      word = std::move(merged);
    }
  }
  return merges;
}

void write_json(const std::filesystem::path& path, const Json& json) {
  std::ofstream out(path, std::ios::binary);
  out << json.dump(2) << "\n";
  if (!out) fail("cannot write {}", path.string());
}

}  // namespace

int64_t tiny_tokenizer_special_count(Family family) {
  return static_cast<int64_t>(family_style(family).specials.size());
}

int64_t tiny_tokenizer_min_vocab(Family family) {
  return tiny_tokenizer_special_count(family) + 256;
}

void write_tiny_tokenizer(const std::filesystem::path& dir, Family family, int64_t vocab) {
  const FamilyStyle style = family_style(family);
  if (vocab < tiny_tokenizer_min_vocab(family)) {
    fail(
        "make-tiny --tokenizer: --vocab {} is too small for a byte-level tokenizer ({} special "
        "tokens + 256 bytes = {})",
        vocab, style.specials.size(), tiny_tokenizer_min_vocab(family));
  }
  const auto specials = static_cast<int64_t>(style.specials.size());
  Json added = Json::array();
  for (int64_t id = 0; id < specials; ++id) {
    added.push_back({{"id", id},
                     {"content", style.specials[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  Json model_vocab = Json::object();
  for (int64_t id = 0; id < specials; ++id) model_vocab[style.specials[id]] = id;
  for (int b = 0; b < 256; ++b)
    model_vocab[byte_to_unicode(static_cast<uint8_t>(b))] = specials + b;
  Json merges = Json::array();
  int64_t next = specials + 256;
  for (const auto& [left, right] : learn_merges(vocab - next)) {
    model_vocab[left + right] = next++;
    merges.push_back(left + " " + right);
  }
  // Fewer merges than room (a large --vocab): the remaining ids are unused by the tokenizer,
  // as in releases whose embedding is padded past the vocabulary.
  const Json tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", style.pre_tokenizer},
      {"post_processor", nullptr},
      {"decoder",
       {{"type", "ByteLevel"},
        {"add_prefix_space", true},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"vocab", model_vocab},
        {"merges", merges}}},
  };
  const Json config = {
      {"add_bos_token", style.add_bos},
      {"add_eos_token", false},
      {"bos_token", style.specials[0]},
      {"eos_token", style.specials[1]},
      {"model_max_length", 4096},
      {"tokenizer_class", "PreTrainedTokenizerFast"},
      {"chat_template", style.chat_template},
  };
  std::filesystem::create_directories(dir);
  write_json(dir / "tokenizer.json", tokenizer);
  write_json(dir / "tokenizer_config.json", config);
}

}  // namespace nextn
