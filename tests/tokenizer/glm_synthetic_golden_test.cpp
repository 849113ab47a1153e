// The GLM-4.5-style split pattern, added tokens and NFC normalizer against the reference, on a
// synthetic tokenizer (GLM's own tokenizer.json is not available offline). Goldens written by
// tools/goldens/make_tokenizer_goldens.mjs.
#include <gtest/gtest.h>

#include "tokenizer/utf8.h"
#include "tokenizer_test_support.h"

namespace nextn::testing {
namespace {

TEST(GlmSyntheticGolden, EveryVariantMatchesEveryId) {
  const nlohmann::json goldens = read_json(tokenizer_data_dir() / "glm_synthetic_goldens.json");
  ASSERT_EQ(goldens["variants"].size(), 2u);
  for (const auto& variant : goldens["variants"]) {
    const std::string name = variant["name"];
    const Tokenizer tok = Tokenizer::load(tokenizer_data_dir() / name);
    ASSERT_GE(variant["cases"].size(), 300u);
    size_t mismatches = 0;
    for (const auto& c : variant["cases"]) {
      const std::string text = c["text"];
      const std::vector<int32_t> expected = c["ids"];
      const std::vector<int32_t> ids = tok.encode(text);
      if (ids != expected) {
        if (++mismatches <= 10)
          ADD_FAILURE() << name << ": encode " << c["text"].dump() << " differs";
      }
      EXPECT_EQ(tok.decode(expected), c["decoded"].get<std::string>()) << name << " " << c["text"];
      if (c.contains("decoded_skip_special")) {
        EXPECT_EQ(tok.decode(expected, true), c["decoded_skip_special"].get<std::string>())
            << name << " " << c["text"];
      }
      // Without a normalizer decoding gives the text back, except for the white space that the
      // lstrip / rstrip tokens swallow.
      const bool strips = text.find("strip|>") != std::string::npos;
      if (name == "glm_synthetic" && !strips) {
        EXPECT_EQ(tok.decode(ids), text) << c["text"];
      }
    }
    EXPECT_EQ(mismatches, 0u) << name;
  }
}

TEST(GlmSyntheticGolden, DigitsGroupInThrees) {
  // A BPE id never spans two pre-tokens, so no id of a digit run holds more than three digits.
  const Tokenizer tok = Tokenizer::load(tokenizer_data_dir() / "glm_synthetic");
  std::string joined;
  for (const std::string& p : raw_pieces(tok, tok.encode("1234567890123"))) {
    EXPECT_LE(p.size(), 3u) << p;
    joined += p;
  }
  EXPECT_EQ(joined, "1234567890123");
}

TEST(GlmSyntheticGolden, ConfigAndNamedChatTemplates) {
  const Tokenizer tok = Tokenizer::load(tokenizer_data_dir() / "glm_synthetic");
  EXPECT_EQ(tok.config().eos_token, "<|endoftext|>");
  EXPECT_EQ(tok.eos_id(), tok.token_to_id("<|endoftext|>"));
  EXPECT_EQ(tok.bos_id(), std::nullopt);
  EXPECT_FALSE(tok.config().add_bos_token);
  ASSERT_TRUE(tok.config().chat_template.has_value());
  EXPECT_TRUE(tok.config().chat_template->starts_with("[gMASK]<sop>"));
  // No BOS configured: add_special_tokens adds nothing.
  EXPECT_EQ(tok.encode("hello", true), tok.encode("hello", false));
  EXPECT_TRUE(tok.is_special(*tok.token_to_id("[gMASK]")));
  EXPECT_FALSE(tok.is_special(*tok.token_to_id("<think>")));
}

}  // namespace
}  // namespace nextn::testing
