// The speculative loop's contracts besides greedy identity: reproducible seeds, caches after
// rejected drafts equal to a run that never drafted, the cost of a step counted, stopping.
#include <cmath>

#include <gtest/gtest.h>

#include "spec/spec_fixture.h"

namespace nextn {
namespace {

using testing::prompt_of_length;
using testing::SpecFixture;

TEST(SpeculativeDecoder, SameSeedSameTokens) {
  SpecFixture f({.family = Family::kGlm4Moe, .vocab = 8});
  const auto prompt = prompt_of_length(5, 8);
  const SamplingParams sampling{.temperature = 0.9f, .top_p = 0.95f, .seed = 1234};
  for (DraftSampling mode : {DraftSampling::kArgmax, DraftSampling::kSample}) {
    auto a = f.decoder(3, {.draft_sampling = mode});
    auto b = f.decoder(3, {.draft_sampling = mode});
    const auto first = a.generate(prompt, sampling, {.max_tokens = 40});
    EXPECT_EQ(b.generate(prompt, sampling, {.max_tokens = 40}), first);
    // The same decoder run again with the same seed also repeats itself.
    EXPECT_EQ(a.generate(prompt, sampling, {.max_tokens = 40}), first);
    SamplingParams other = sampling;
    other.seed = 99;
    EXPECT_NE(a.generate(prompt, other, {.max_tokens = 40}), first);
  }
}

// After any number of rejected drafts, the target cache equals that of a run that never
// drafted: the next logits agree exactly.
TEST(SpeculativeDecoder, CachesAfterRejectionsEqualAPlainRun) {
  // A drafter that is always wrong, and one that is right about three times in four.
  for (const TinyOptions& options :
       {TinyOptions{.family = Family::kDeepseekV3, .vocab = 16},
        TinyOptions{.family = Family::kGlm4Moe, .vocab = 16, .predictable = true}}) {
    SpecFixture f(options);
    const std::vector<int32_t> prompt = {0, 1};
    auto plain = f.decoder(0);
    auto spec = f.decoder(5);
    const auto tokens = plain.generate(prompt, {}, {.max_tokens = 30});
    ASSERT_EQ(spec.generate(prompt, {}, {.max_tokens = 30}), tokens);
    ASSERT_GT(spec.stats().draft_tokens, spec.stats().accepted_tokens);  // some were rejected
    if (options.predictable) {
      ASSERT_GT(spec.stats().accepted_tokens, 0);
    }
    ASSERT_EQ(spec.target_cache().size(), plain.target_cache().size());
    TargetModel target(f.model->config, *f.model->bound, f.pool);
    auto next_logits = [&](const KvCache& cache) {
      KvCache copy = cache.clone();
      std::vector<float> logits(16);
      const int32_t next = tokens.back();
      target.forward(std::span(&next, 1), copy, logits.data(), nullptr);
      return logits;
    };
    EXPECT_EQ(next_logits(spec.target_cache()), next_logits(plain.target_cache()));
  }
}

// One decode step = one target pass over K + 1 tokens plus at most K MTP passes (D = 1):
// counted, not timed.
TEST(SpeculativeDecoder, AStepCostsOneTargetPassAndKMtpPasses) {
  SpecFixture f({.family = Family::kGlm4Moe, .vocab = 16, .predictable = true});
  const auto prompt = prompt_of_length(9, 16);
  for (int64_t k : {1, 3, 5}) {
    auto spec = f.decoder(k);
    spec.generate(prompt, {}, {.max_tokens = 50});
    const SpecStats& s = spec.stats();
    const int64_t steps = s.target_forwards - 1;  // the first pass is the prefill
    EXPECT_GT(steps, 0);
    EXPECT_EQ(s.target_rows, 9 + s.draft_tokens + steps);
    // Per drafting step: 1 teacher-forced pass (which drafts d_1) + K − 1 chained drafts.
    EXPECT_LE(s.mtp_forwards, k * steps);
    EXPECT_EQ(s.mtp_forwards, s.draft_tokens);
    EXPECT_EQ(s.generated_tokens, 50);
    EXPECT_EQ(s.generated_tokens, s.accepted_tokens + steps + 1);
  }
}

TEST(SpeculativeDecoder, MetricsHaveVllmMeanings) {
  SpecFixture f({.family = Family::kGlm4Moe, .vocab = 16, .predictable = true});
  auto spec = f.decoder(3);
  spec.generate(prompt_of_length(4, 16), {}, {.max_tokens = 60});
  ASSERT_GT(spec.stats().accepted_tokens, 0);
  const SpecStats& s = spec.stats();
  EXPECT_DOUBLE_EQ(s.acceptance_rate(), static_cast<double>(s.accepted_tokens) /
                                            static_cast<double>(s.draft_tokens));
  EXPECT_DOUBLE_EQ(s.mean_acceptance_length(),
                   1.0 + static_cast<double>(s.accepted_tokens) / static_cast<double>(s.drafts));
  const auto rates = s.per_position_acceptance();
  ASSERT_EQ(rates.size(), 3u);
  EXPECT_GE(rates[0], rates[1]);  // non-increasing
  EXPECT_GE(rates[1], rates[2]);
  int64_t sum = 0;
  for (int64_t count : s.accepted_at) sum += count;
  EXPECT_EQ(sum, s.accepted_tokens);
}

TEST(SpeculativeDecoder, StopsAtEosWithoutEmittingIt) {
  SpecFixture f({.family = Family::kDeepseekV3, .vocab = 4});
  const auto prompt = prompt_of_length(3, 4);
  auto plain = f.decoder(0);
  const auto all = plain.generate(prompt, {}, {.max_tokens = 30});
  const int32_t eos = all[5];
  const auto first_eos = std::find(all.begin(), all.end(), eos) - all.begin();
  for (int64_t k : {0, 2, 4}) {
    auto spec = f.decoder(k);
    const auto tokens = spec.generate(prompt, {}, {.max_tokens = 30, .eos_ids = {eos}});
    EXPECT_EQ(tokens, std::vector<int32_t>(all.begin(), all.begin() + first_eos)) << k;
  }
}

TEST(SpeculativeDecoder, BadRequestsAreClearErrors) {
  SpecFixture f({.family = Family::kDeepseekV3});
  auto spec = f.decoder(2, {}, 16);
  EXPECT_THROW(spec.generate({}, {}, {.max_tokens = 4}), Error);
  EXPECT_THROW(spec.generate(prompt_of_length(10, 256), {}, {.max_tokens = 10}), Error);
  const std::vector<int32_t> bad = {1, 300};
  EXPECT_THROW(spec.generate(bad, {}, {.max_tokens = 4}), Error);
  EXPECT_THROW(spec.generate(prompt_of_length(2, 256), {.temperature = -1}, {.max_tokens = 4}),
               Error);
  // The decoder stays usable after a rejected request.
  EXPECT_EQ(spec.generate(prompt_of_length(2, 256), {}, {.max_tokens = 4}).size(), 4u);
}

TEST(SpeculativeDecoder, NoMtpLayerMeansNoSpeculation) {
  SpecFixture f({.family = Family::kGlm4Moe, .mtp_layers = 0});
  EXPECT_THROW(f.decoder(2), Error);
  auto plain = f.decoder(0);
  EXPECT_EQ(plain.generate(prompt_of_length(3, 256), {}, {.max_tokens = 5}).size(), 5u);
}

}  // namespace
}  // namespace nextn
