// Exactness against the reference on the real DeepSeek-V3 tokenizer (goldens written by
// tools/goldens/make_tokenizer_goldens.mjs with @huggingface/tokenizers).
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "tokenizer/utf8.h"
#include "tokenizer_test_support.h"

namespace nextn::testing {
namespace {

class DeepseekV3Golden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    goldens_ = new nlohmann::json(read_json(tokenizer_data_dir() / "deepseek_v3_goldens.json"));
    if (std::filesystem::is_regular_file(deepseek_v3_dir() / "tokenizer.json")) {
      tokenizer_ = new Tokenizer(Tokenizer::load(deepseek_v3_dir()));
    }
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete goldens_;
  }
  void SetUp() override {
    if (!require_deepseek_v3()) GTEST_SKIP() << "(reported as a failure above)";
  }
  static std::string input_of(const nlohmann::json& c) {
    return c.contains("hex") ? from_hex(c["hex"]) : c["text"].get<std::string>();
  }
  static std::string label_of(const nlohmann::json& c) {
    return c.contains("hex") ? "hex " + c["hex"].get<std::string>() : c["text"].dump();
  }

  static inline nlohmann::json* goldens_ = nullptr;
  static inline Tokenizer* tokenizer_ = nullptr;
};

TEST_F(DeepseekV3Golden, CorpusIsLargeAndVaried) {
  const auto& cases = (*goldens_)["cases"];
  EXPECT_GE(cases.size(), 2000u);
  size_t invalid = 0;
  for (const auto& c : cases) invalid += c.contains("hex") && !utf8::is_valid(input_of(c));
  EXPECT_GE(invalid, 50u);
}

TEST_F(DeepseekV3Golden, EncodeMatchesEveryId) {
  size_t mismatches = 0;
  for (const auto& c : (*goldens_)["cases"]) {
    const std::vector<int32_t> expected = c["ids"];
    const std::vector<int32_t> got = tokenizer_->encode(input_of(c));
    if (got != expected) {
      ++mismatches;
      if (mismatches <= 10) ADD_FAILURE() << "encode " << label_of(c) << " differs";
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << (*goldens_)["cases"].size();
}

TEST_F(DeepseekV3Golden, DecodeMatchesReference) {
  for (const auto& c : (*goldens_)["cases"]) {
    const std::vector<int32_t> ids = c["ids"];
    EXPECT_EQ(tokenizer_->decode(ids), c["decoded"].get<std::string>()) << label_of(c);
    if (c.contains("decoded_skip_special")) {
      EXPECT_EQ(tokenizer_->decode(ids, true), c["decoded_skip_special"].get<std::string>())
          << label_of(c);
    }
  }
}

TEST_F(DeepseekV3Golden, DecodeOfEncodeIsIdentityForValidUtf8) {
  size_t checked = 0;
  for (const auto& c : (*goldens_)["cases"]) {
    const std::string text = input_of(c);
    if (!utf8::is_valid(text)) continue;
    EXPECT_EQ(tokenizer_->decode(tokenizer_->encode(text)), text) << label_of(c);
    ++checked;
  }
  EXPECT_GE(checked, 2000u);
}

TEST_F(DeepseekV3Golden, InvalidUtf8EncodesAsItsLossyDecoding) {
  for (const auto& c : (*goldens_)["cases"]) {
    if (!c.contains("hex")) continue;
    const std::string bytes = input_of(c);
    EXPECT_EQ(tokenizer_->encode(bytes), tokenizer_->encode(utf8::to_valid(bytes))) << label_of(c);
    EXPECT_EQ(tokenizer_->decode(tokenizer_->encode(bytes)), utf8::to_valid(bytes)) << label_of(c);
  }
}

TEST_F(DeepseekV3Golden, RandomIdSequencesDecodeLikeReference) {
  for (const auto& c : (*goldens_)["decode_cases"]) {
    const std::vector<int32_t> ids = c["ids"];
    EXPECT_EQ(tokenizer_->decode(ids), c["decoded"].get<std::string>()) << c["ids"].dump();
    EXPECT_EQ(tokenizer_->decode(ids, true), c["decoded_skip_special"].get<std::string>())
        << c["ids"].dump();
  }
}

TEST_F(DeepseekV3Golden, StreamingEqualsWholeDecode) {
  const auto check = [&](const std::vector<int32_t>& ids, bool skip, const std::string& label) {
    StreamingDecoder stream(*tokenizer_, skip);
    std::string joined;
    for (const int32_t id : ids) {
      const std::string piece = stream.push(id);
      EXPECT_TRUE(utf8::is_valid(piece)) << label;
      joined += piece;
    }
    joined += stream.flush();
    EXPECT_EQ(joined, tokenizer_->decode(ids, skip)) << label;
  };
  for (const auto& c : (*goldens_)["cases"]) check(c["ids"], false, label_of(c));
  for (const auto& c : (*goldens_)["decode_cases"]) {
    check(c["ids"], false, c["ids"].dump());
    check(c["ids"], true, c["ids"].dump());
  }
}

TEST_F(DeepseekV3Golden, StreamingRandomIdsEqualsWholeDecode) {
  std::mt19937 rng(77);
  const auto vocab = static_cast<uint32_t>(tokenizer_->vocab_size());
  for (int k = 0; k < 500; ++k) {
    std::vector<int32_t> ids(1 + rng() % 64);
    // Byte tokens (ids below ~300 are single bytes and short pieces) split characters often.
    for (int32_t& id : ids) id = static_cast<int32_t>(rng() % 2 ? rng() % 300 : rng() % vocab);
    for (const bool skip : {false, true}) {
      StreamingDecoder stream(*tokenizer_, skip);
      std::string joined;
      for (const int32_t id : ids) joined += stream.push(id);
      joined += stream.flush();
      ASSERT_EQ(joined, tokenizer_->decode(ids, skip)) << ::testing::PrintToString(ids);
    }
  }
}

TEST_F(DeepseekV3Golden, ConcurrentEncodesAgree) {
  // Four threads share one Tokenizer (and its cache); each must see the single-thread ids.
  const auto& cases = (*goldens_)["cases"];
  std::vector<std::thread> threads;
  std::vector<size_t> mismatches(4, 0);
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < cases.size(); i += 1 + t) {
        const std::vector<int32_t> expected = cases[i]["ids"];
        if (tokenizer_->encode(input_of(cases[i])) != expected) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<size_t>(4, 0));
}

TEST_F(DeepseekV3Golden, AddSpecialTokensPrependsBos) {
  ASSERT_EQ(tokenizer_->bos_id(), 0);
  ASSERT_EQ(tokenizer_->eos_id(), 1);
  EXPECT_TRUE(tokenizer_->config().add_bos_token);
  EXPECT_FALSE(tokenizer_->config().add_eos_token);
  for (const auto& c : (*goldens_)["with_special_tokens"]) {
    const std::vector<int32_t> expected = c["ids"];
    EXPECT_EQ(tokenizer_->encode(c["text"].get<std::string>(), true), expected) << c["text"];
  }
}

TEST_F(DeepseekV3Golden, VocabularyFacts) {
  EXPECT_EQ(tokenizer_->vocab_size(), 128815);
  EXPECT_EQ(tokenizer_->token_to_id("<｜User｜>"), 128803);
  EXPECT_EQ(tokenizer_->token_to_id("<｜begin▁of▁sentence｜>"), 0);
  EXPECT_EQ(tokenizer_->token_to_id("Hello"), 19923);
  EXPECT_EQ(tokenizer_->token_to_id("no such token"), std::nullopt);
  EXPECT_EQ(tokenizer_->piece(2058), "Ġworld");
  EXPECT_EQ(tokenizer_->piece(128803), "<｜User｜>");
  EXPECT_TRUE(tokenizer_->is_special(0));
  EXPECT_FALSE(tokenizer_->is_special(128814));  // <｜tool▁sep｜> is an added, non-special token
  EXPECT_FALSE(tokenizer_->is_special(19923));
  EXPECT_THROW(tokenizer_->piece(128815), Error);
  ASSERT_TRUE(tokenizer_->config().chat_template.has_value());
  EXPECT_NE(tokenizer_->config().chat_template->find("<｜User｜>"), std::string::npos);
}

}  // namespace
}  // namespace nextn::testing
