// Sampled speculative decoding draws from the target's distribution (SPEC §6), checked with a
// chi-square goodness-of-fit test of the next three tokens against their exact probabilities.
//
// Model: a predictable GLM-shaped tiny checkpoint with 8 tokens, whose MTP layer drafts well
// (so drafts are accepted and rejected in every mix). Exact law: P(t1 t2 t3) = p(t1 | prompt)
// p(t2 | prompt t1) p(t3 | prompt t1 t2), each p the target's sampling distribution after
// temperature, top-k and top-p, from 1 + 8 + 64 target passes. N = 12,000 generations of three
// tokens per configuration, seeds 0..N−1.
//
// Threshold: bins with expected count below 5 are merged; the statistic is compared with the
// chi-square quantile at p = 1e-6 for its degrees of freedom (Wilson–Hilferty), so a correct
// sampler fails a configuration once in a million runs. The same test with a broken
// acceptance rule (always accept) must exceed the threshold.
#include <cmath>
#include <cstdio>
#include <map>

#include <gtest/gtest.h>

#include "sampling/sampling.h"
#include "spec/spec_fixture.h"

namespace nextn {
namespace {

using testing::SpecFixture;

constexpr int64_t kVocab = 8;
#if defined(__SANITIZE_ADDRESS__)
// The sanitizers check memory, not statistics: fewer draws keep that build's run short (the
// thresholds below follow N, so the test stays exact at p = 1e-6; it only loses power).
constexpr int64_t kDraws = 1500;
#else
constexpr int64_t kDraws = 12000;
#endif
const std::vector<int32_t> kPrompt = {3, 5};

// The exact probability of each 3-token continuation, indexed t1·64 + t2·8 + t3.
std::vector<double> exact_law(SpecFixture& f, const SamplingParams& sampling) {
  ThreadPool pool(1);
  TargetModel target(f.model->config, *f.model->bound, pool);
  auto next = [&](const std::vector<int32_t>& prefix) {
    KvCache kv = target.make_cache(8);
    std::vector<float> logits(kVocab);
    target.forward(prefix, kv, logits.data(), nullptr, true);
    std::vector<float> p(kVocab);
    sampling_probabilities(logits, sampling, p);
    return p;
  };
  std::vector<double> law(kVocab * kVocab * kVocab);
  const auto p1 = next(kPrompt);
  for (int32_t a = 0; a < kVocab; ++a) {
    if (p1[a] == 0) continue;
    const auto p2 = next({kPrompt[0], kPrompt[1], a});
    for (int32_t b = 0; b < kVocab; ++b) {
      if (p2[b] == 0) continue;
      const auto p3 = next({kPrompt[0], kPrompt[1], a, b});
      for (int32_t c = 0; c < kVocab; ++c) {
        law[(a * kVocab + b) * kVocab + c] = double{p1[a]} * p2[b] * p3[c];
      }
    }
  }
  return law;
}

double chi_square_quantile(double dof, double z) {  // Wilson–Hilferty
  const double h = 2.0 / (9.0 * dof);
  return dof * std::pow(1.0 - h + z * std::sqrt(h), 3.0);
}
constexpr double kZ = 4.753;  // standard normal quantile at 1 − 1e-6

struct FitResult {
  double statistic = 0;
  double threshold = 0;
  double acceptance_rate = 0;
};

FitResult fit(SpecFixture& f, const SamplingParams& base, SpeculativeOptions options) {
  const std::vector<double> law = exact_law(f, base);
  std::vector<int64_t> counts(law.size(), 0);
  ThreadPool pool(1);
  SpeculativeDecoder decoder(f.model->config, *f.model->bound, pool, 16, options);
  int64_t drafted = 0;
  int64_t accepted = 0;
  for (int64_t seed = 0; seed < kDraws; ++seed) {
    SamplingParams sampling = base;
    sampling.seed = static_cast<uint64_t>(seed);
    const auto tokens = decoder.generate(kPrompt, sampling, {.max_tokens = 3});
    EXPECT_EQ(tokens.size(), 3u);
    ++counts[(tokens[0] * kVocab + tokens[1]) * kVocab + tokens[2]];
    drafted += decoder.stats().draft_tokens;
    accepted += decoder.stats().accepted_tokens;
  }
  FitResult result;
  double merged_expected = 0;
  int64_t merged_observed = 0;
  int64_t bins = 0;
  for (size_t i = 0; i < law.size(); ++i) {
    const double expected = law[i] * static_cast<double>(kDraws);
    if (expected < 5.0) {
      merged_expected += expected;
      merged_observed += counts[i];
      if (law[i] == 0) {
        EXPECT_EQ(counts[i], 0) << "drew an impossible sequence " << i;
      }
      continue;
    }
    const double observed = static_cast<double>(counts[i]);
    result.statistic += (observed - expected) * (observed - expected) / expected;
    ++bins;
  }
  if (merged_expected >= 5.0) {
    const double observed = static_cast<double>(merged_observed);
    result.statistic += (observed - merged_expected) * (observed - merged_expected) / merged_expected;
    ++bins;
  }
  result.threshold = chi_square_quantile(static_cast<double>(bins - 1), kZ);
  result.acceptance_rate =
      drafted == 0 ? 0.0 : static_cast<double>(accepted) / static_cast<double>(drafted);
  return result;
}

struct Case {
  const char* name;
  SamplingParams sampling;
  int64_t spec_tokens;
  DraftSampling draft_sampling;
};

TEST(LosslessSampling, SpeculativeDrawsFollowTheTargetDistribution) {
  SpecFixture f({.family = Family::kGlm4Moe, .vocab = kVocab, .predictable = true});
  const std::vector<Case> cases = {
      {"T=1.0 argmax drafts", {.temperature = 1.0f}, 2, DraftSampling::kArgmax},
      {"T=0.7 argmax drafts", {.temperature = 0.7f}, 3, DraftSampling::kArgmax},
      {"T=1.0 sampled drafts", {.temperature = 1.0f}, 2, DraftSampling::kSample},
      {"T=0.7 sampled drafts", {.temperature = 0.7f}, 3, DraftSampling::kSample},
      {"T=0.7 top-k 5 top-p 0.9, argmax", {.temperature = 0.7f, .top_k = 5, .top_p = 0.9f}, 2,
       DraftSampling::kArgmax},
      {"T=1.0 top-k 6 top-p 0.95, sampled",
       {.temperature = 1.0f, .top_k = 6, .top_p = 0.95f}, 3, DraftSampling::kSample},
      {"no speculation", {.temperature = 1.0f}, 0, DraftSampling::kArgmax},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const FitResult r = fit(f, c.sampling, {.spec_tokens = c.spec_tokens,
                                            .draft_sampling = c.draft_sampling});
    std::printf("%-36s chi-square %7.1f (threshold %6.1f), acceptance %.2f\n", c.name,
                r.statistic, r.threshold, r.acceptance_rate);
    EXPECT_LT(r.statistic, r.threshold) << c.name;
    if (c.spec_tokens > 0) {
      // Both outcomes of the acceptance test really happen.
      EXPECT_GT(r.acceptance_rate, 0.2) << c.name;
      EXPECT_LT(r.acceptance_rate, 0.98) << c.name;
    }
  }
}

Verdict accept_everything(std::span<const float> target_probs, std::span<const float>, int64_t vocab,
                          std::span<const int32_t> drafts, Rng& rng, std::span<float>) {
  const auto bonus = target_probs.subspan(drafts.size() * vocab, vocab);
  return {.accepted = static_cast<int64_t>(drafts.size()), .next = sample(bonus, rng)};
}

Verdict forget_the_residual(std::span<const float> target_probs, std::span<const float> draft_probs,
                            int64_t vocab, std::span<const int32_t> drafts, Rng& rng,
                            std::span<float> residual) {
  // Correct acceptance test, but on rejection it draws from p instead of max(0, p − q).
  Verdict v = verify_sampled(target_probs, draft_probs, vocab, drafts, rng, residual);
  if (v.accepted < static_cast<int64_t>(drafts.size())) {
    v.next = sample(target_probs.subspan(v.accepted * vocab, vocab), rng);
  }
  return v;
}

TEST(LosslessSampling, BrokenAcceptanceRulesAreCaught) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "a property of the statistical test, shown by the Release build";
#endif
  SpecFixture f({.family = Family::kGlm4Moe, .vocab = kVocab, .predictable = true});
  for (SampledVerifier broken : {&accept_everything, &forget_the_residual}) {
    const FitResult r = fit(f, {.temperature = 1.0f},
                            {.spec_tokens = 2, .verify_sampled = broken});
    std::printf("broken rule: chi-square %.1f (threshold %.1f)\n", r.statistic, r.threshold);
    EXPECT_GT(r.statistic, r.threshold);
  }
}

}  // namespace
}  // namespace nextn
