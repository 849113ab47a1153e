// Text generation end to end on tiny checkpoints with their tokenizer: greedy text is the same
// with and without speculation, the streamed pieces add up to the decoded tokens, stop strings
// cut the text, the interrupt flag ends generation, and the chat template renders the turns.
#include "engine/text_generation.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/thread_pool.h"
#include "engine/text_model.h"
#include "test_util.h"
#include "tiny/tiny_checkpoint.h"
#include "tiny/tiny_tokenizer.h"

namespace nextn {
namespace {

class TextGeneration : public ::testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    write_tiny_checkpoint(
        dir_.path(),
        {.family = GetParam(), .vocab = 300, .predictable = true, .tokenizer = true, .seed = 3});
    text_ = TextModel::open(dir_.path());
  }
  TextResult generate(int64_t spec_tokens, const std::string& prompt,
                      std::vector<std::string> stops = {}, std::string* streamed = nullptr,
                      const std::atomic<bool>* interrupt = nullptr) {
    ThreadPool pool(1);
    SpeculativeDecoder decoder(text_->config(), *text_->model().bound, pool, 256,
                               {.spec_tokens = spec_tokens});
    const std::vector<int32_t> ids = text_->encode_prompt(prompt);
    TextRequest request{.prompt = ids,
                        .sampling = {.temperature = 0.0f},
                        .limits = {.max_tokens = 40},
                        .stop_strings = std::move(stops),
                        .interrupt = interrupt};
    return generate_text(decoder, text_->tokenizer(), request, [&](std::string_view piece) {
      if (streamed != nullptr) streamed->append(piece);
    });
  }
  testing::ScratchDir dir_;
  std::unique_ptr<TextModel> text_;
};

TEST_P(TextGeneration, GreedyTextIsIdenticalWithAndWithoutSpeculation) {
  const TextResult plain = generate(0, "The quick brown fox");
  ASSERT_FALSE(plain.tokens.empty());
  for (int64_t k : {1, 3, 5}) {
    const TextResult spec = generate(k, "The quick brown fox");
    EXPECT_EQ(spec.tokens, plain.tokens) << "K = " << k;
    EXPECT_EQ(spec.text, plain.text) << "K = " << k;
  }
}

TEST_P(TextGeneration, StreamedPiecesAddUpToTheDecodedTokens) {
  std::string streamed;
  const TextResult result = generate(3, "Hello, how are you", {}, &streamed);
  EXPECT_EQ(streamed, result.text);
  EXPECT_EQ(result.text, text_->tokenizer().decode(result.tokens));
}

TEST_P(TextGeneration, StopStringCutsTheTextAndEndsGeneration) {
  const TextResult full = generate(3, "The dog");
  ASSERT_GE(full.text.size(), 4u);
  // A stop string taken from the middle of the free-running text.
  const std::string stop = full.text.substr(full.text.size() / 2, 2);
  std::string streamed;
  const TextResult cut = generate(3, "The dog", {stop}, &streamed);
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(streamed, cut.text);
  EXPECT_EQ(cut.finish, FinishReason::kStop);
  EXPECT_LE(cut.tokens.size(), full.tokens.size());
}

TEST_P(TextGeneration, InterruptFlagEndsGenerationAfterTheFirstStep) {
  std::atomic<bool> interrupt{true};
  const TextResult result = generate(0, "The dog", {}, nullptr, &interrupt);
  EXPECT_EQ(result.finish, FinishReason::kInterrupt);
  EXPECT_EQ(result.tokens.size(), 1u);
}

TEST_P(TextGeneration, ChatTemplateRendersTheTurnsAndEncodesWithoutAnExtraBos) {
  const nlohmann::ordered_json messages = {{{"role", "user"}, {"content", "Hi there"}}};
  const std::string rendered = text_->render_chat(messages, /*add_generation_prompt=*/true);
  EXPECT_NE(rendered.find("Hi there"), std::string::npos);
  const std::vector<int32_t> ids = text_->encode_chat(rendered);
  ASSERT_FALSE(ids.empty());
  if (GetParam() == Family::kDeepseekV3) {
    EXPECT_EQ(rendered.rfind("<｜begin▁of▁sentence｜>", 0), 0u);
    EXPECT_EQ(ids[0], 0);  // BOS once, from the template
    EXPECT_NE(ids[1], 0);
  }
  // The eos token of tokenizer_config.json ends generation.
  const auto stops = text_->stop_token_ids();
  EXPECT_NE(std::find(stops.begin(), stops.end(), 1), stops.end());
}

INSTANTIATE_TEST_SUITE_P(Families, TextGeneration,
                         ::testing::Values(Family::kDeepseekV3, Family::kGlm4Moe),
                         [](const auto& name_info) {
                           return name_info.param == Family::kDeepseekV3 ? "DeepseekV3" : "Glm4Moe";
                         });

TEST(TextModel, MissingTokenizerIsAClearErrorForTextButNotForIds) {
  testing::ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {});
  const auto text = TextModel::open(dir.path());
  EXPECT_FALSE(text->has_tokenizer());
  try {
    text->encode_prompt("hello");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
  }
}

TEST(TextModel, TokenizerLargerThanTheModelVocabIsRejected) {
  testing::ScratchDir small;
  write_tiny_checkpoint(small.path(), {.vocab = 270});
  write_tiny_tokenizer(small.path(), Family::kDeepseekV3, 300);
  EXPECT_THROW(TextModel::open(small.path()), Error);
}

TEST(TextModel, TinyTokenizerNeedsRoomForTheBytes) {
  testing::ScratchDir dir;
  EXPECT_THROW(write_tiny_checkpoint(dir.path(), {.vocab = 64, .tokenizer = true}), Error);
}

}  // namespace
}  // namespace nextn
