// Greedy speculative output is token-for-token identical to greedy decoding without
// speculation (SPEC §6), for every K, prompt length and family, with a useless drafter (random
// MTP weights over a 256-token vocabulary) and one that often guesses right (4 tokens).
#include <gtest/gtest.h>

#include "spec/spec_fixture.h"

namespace nextn {
namespace {

using testing::prompt_of_length;
using testing::SpecFixture;

void expect_identical_to_plain(SpecFixture& f, bool expect_acceptance) {
  const int32_t vocab = static_cast<int32_t>(f.model->config.vocab_size);
  const GenerationLimits limits{.max_tokens = 24};  // no eos: full length every time
  const SamplingParams greedy{};
  int64_t accepted = 0;
  int64_t multi_accept_steps = 0;
  for (int64_t length : {1, 2, 7, 64}) {
    const auto prompt = prompt_of_length(length, vocab);
    auto plain = f.decoder(0);
    const std::vector<int32_t> expected = plain.generate(prompt, greedy, limits);
    ASSERT_EQ(expected.size(), 24u);
    for (int64_t k : {1, 2, 3, 5, 8}) {
      SCOPED_TRACE(::testing::Message() << "prompt length " << length << ", K " << k);
      auto spec = f.decoder(k);
      EXPECT_EQ(spec.generate(prompt, greedy, limits), expected);
      accepted += spec.stats().accepted_tokens;
      if (k > 1 && !spec.stats().accepted_at.empty()) multi_accept_steps += spec.stats().accepted_at[1];
    }
  }
  if (expect_acceptance) {
    // The accept path (several drafts accepted in one step) really ran.
    EXPECT_GT(accepted, 50);
    EXPECT_GT(multi_accept_steps, 5);
  }
}

TEST(GreedyIdentity, DeepseekUselessDrafter) {
  SpecFixture f({.family = Family::kDeepseekV3});
  expect_identical_to_plain(f, false);
}

TEST(GreedyIdentity, GlmUselessDrafter) {
  SpecFixture f({.family = Family::kGlm4Moe});
  expect_identical_to_plain(f, false);
}

TEST(GreedyIdentity, DeepseekGuessingDrafter) {
  SpecFixture f({.family = Family::kDeepseekV3, .vocab = 16, .fp8 = true, .fp8_block = 32,
                 .predictable = true});
  expect_identical_to_plain(f, true);
}

TEST(GreedyIdentity, GlmGuessingDrafter) {
  SpecFixture f({.family = Family::kGlm4Moe, .vocab = 16, .mtp_copies = false, .predictable = true});
  expect_identical_to_plain(f, true);
}

TEST(GreedyIdentity, TwoMtpLayersAndTheOptions) {
  SpecFixture f({.family = Family::kDeepseekV3, .vocab = 16, .mtp_layers = 2, .predictable = true});
  expect_identical_to_plain(f, true);
  for (MtpOptions mtp : {MtpOptions{.pos0_mask = false}, MtpOptions{.recycle = MtpRecycle::kPreNorm}}) {
    const auto prompt = prompt_of_length(7, 16);
    auto plain = f.decoder(0);
    auto spec = f.decoder(3, {.mtp = mtp});
    EXPECT_EQ(spec.generate(prompt, {}, {.max_tokens = 20}), plain.generate(prompt, {}, {.max_tokens = 20}));
  }
}

}  // namespace
}  // namespace nextn
