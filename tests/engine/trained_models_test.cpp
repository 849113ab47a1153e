// End to end on the trained models shipped in models/ (models/README.md): text in, text out
// through the checkpoint's own tokenizer, greedy speculative output identical to plain greedy
// decoding, and MTP drafts accepted at a rate only a trained drafter reaches.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/thread_pool.h"
#include "engine/text_generation.h"
#include "engine/text_model.h"

namespace nextn {
namespace {

std::vector<std::filesystem::path> trained_models() {
  std::vector<std::filesystem::path> dirs;
  const std::filesystem::path root = NEXTN_MODELS_DIR;
  if (!std::filesystem::exists(root)) return dirs;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (std::filesystem::exists(entry.path() / "config.json")) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// Prompts from the models' domain (Python sources), not from their training files.
const std::vector<std::string> kPrompts = {
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "import os\nimport sys\n\n\ndef main(argv):\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n",
};

TEST(TrainedModels, ShipWithTheRepository) {
  EXPECT_GE(trained_models().size(), 1u);
}

TEST(TrainedModels, GreedySpeculationIsLosslessAndTheDrafterGuessesWell) {
  for (const auto& dir : trained_models()) {
    SCOPED_TRACE(dir.string());
    const auto text = TextModel::open(dir);
    ASSERT_TRUE(text->has_tokenizer());
    ThreadPool pool(2);
    SpecStats k1;
    for (const std::string& prompt : kPrompts) {
      const std::vector<int32_t> ids = text->encode_prompt(prompt);
      auto run = [&](int64_t k, SpecStats* stats) {
        SpeculativeDecoder decoder(text->config(), *text->model().bound, pool, 256,
                                   {.spec_tokens = k});
        const TextResult result =
            generate_text(decoder, text->tokenizer(),
                          {.prompt = ids, .sampling = {}, .limits = {.max_tokens = 48}});
        if (stats != nullptr) stats->add(decoder.stats());
        return result;
      };
      const TextResult plain = run(0, nullptr);
      ASSERT_FALSE(plain.tokens.empty());
      const TextResult one = run(1, &k1);
      EXPECT_EQ(one.tokens, plain.tokens);
      EXPECT_EQ(one.text, plain.text);
      EXPECT_EQ(run(3, nullptr).tokens, plain.tokens);
    }
    // A random MTP layer is accepted ~1/V of the time; the trained ones far more often.
    EXPECT_GE(k1.acceptance_rate(), 0.4) << "K = 1 acceptance " << k1.acceptance_rate();
  }
}

}  // namespace
}  // namespace nextn
