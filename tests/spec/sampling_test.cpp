// sampling_probabilities: the top-k / top-p / min-p cuts of SPEC §6, on hand-worked cases and
// against a full sort of the vocabulary (the engine sorts only the head the cut needs).
#include "sampling/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace nextn {
namespace {

std::vector<float> probabilities_of(const std::vector<float>& logits, const SamplingParams& p) {
  std::vector<float> out(logits.size());
  sampling_probabilities(logits, p, out);
  return out;
}

std::vector<float> logits_of(const std::vector<double>& probabilities) {
  std::vector<float> logits;
  for (double p : probabilities) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

TEST(Sampling, TopKKeepsTheKMostLikelyAndTiesGoToTheLowerId) {
  const auto p = probabilities_of({0.0f, 3.0f, 1.0f, 3.0f, 2.0f}, {.temperature = 1, .top_k = 2});
  EXPECT_EQ(p, (std::vector<float>{0, 0.5f, 0, 0.5f, 0}));
  const auto tie = probabilities_of({5.0f, 1.0f, 1.0f, 1.0f}, {.temperature = 1, .top_k = 2});
  EXPECT_GT(tie[0], 0.0f);
  EXPECT_GT(tie[1], 0.0f);
  EXPECT_EQ(tie[2], 0.0f);
  EXPECT_EQ(tie[3], 0.0f);
  EXPECT_FLOAT_EQ(tie[0] + tie[1], 1.0f);
}

TEST(Sampling, TopPKeepsTheSmallestHeadWhoseMassReachesIt) {
  const std::vector<float> logits = logits_of({0.15, 0.5, 0.05, 0.3});
  const auto two = probabilities_of(logits, {.temperature = 1, .top_p = 0.75f});
  EXPECT_EQ(two[0], 0.0f);
  EXPECT_NEAR(two[1], 0.625, 1e-6);
  EXPECT_EQ(two[2], 0.0f);
  EXPECT_NEAR(two[3], 0.375, 1e-6);
  const auto three = probabilities_of(logits, {.temperature = 1, .top_p = 0.85f});
  EXPECT_NEAR(three[0], 0.15 / 0.95, 1e-6);
  EXPECT_EQ(three[2], 0.0f);
  // After top-k 2 the head {1, 3} is renormalized: 0.5 / 0.8 = 0.625 alone reaches 0.6.
  const auto cut = probabilities_of(logits, {.temperature = 1, .top_k = 2, .top_p = 0.6f});
  EXPECT_EQ(cut, (std::vector<float>{0, 1, 0, 0}));
}

TEST(Sampling, MinPDropsTokensBelowItsShareOfTheLargest) {
  const auto p =
      probabilities_of(logits_of({0.5, 0.3, 0.15, 0.05}), {.temperature = 1, .min_p = 0.2f});
  EXPECT_NEAR(p[0], 0.5 / 0.95, 1e-6);
  EXPECT_NEAR(p[2], 0.15 / 0.95, 1e-6);
  EXPECT_EQ(p[3], 0.0f);
}

// The cuts written out with the whole vocabulary sorted.
std::vector<float> with_a_full_sort(const std::vector<float>& logits, const SamplingParams& s) {
  const size_t V = logits.size();
  std::vector<float> p(V);
  float max = -INFINITY;
  for (float l : logits) max = std::fmax(max, l);
  float sum = 0.0f;
  for (size_t i = 0; i < V; ++i) {
    p[i] = std::exp((logits[i] - max) * (1.0f / s.temperature));
    sum += p[i];
  }
  for (float& x : p) x /= sum;
  std::vector<int32_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  size_t keep = s.top_k > 0 ? std::min(V, static_cast<size_t>(s.top_k)) : V;
  if (s.top_p < 1.0f) {
    float kept = 0.0f;
    if (keep < V) {
      for (size_t i = 0; i < keep; ++i) kept += p[order[i]];
    } else {
      for (float x : p) kept += x;
    }
    float mass = 0.0f;
    for (size_t i = 0; i < keep; ++i) {
      mass += p[order[i]] / kept;
      if (mass >= s.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  for (size_t i = keep; i < V; ++i) p[order[i]] = 0.0f;
  if (s.min_p > 0.0f) {
    const float threshold = s.min_p * *std::max_element(p.begin(), p.end());
    for (float& x : p) x = x < threshold ? 0.0f : x;
  }
  sum = 0.0f;
  for (float x : p) sum += x;
  for (float& x : p) x /= sum;
  return p;
}

TEST(Sampling, EqualsAFullSortOnALargeVocabularyWithTies) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(50000);
  // Quarter steps: thousands of exact ties, so the lower-id rule decides many places.
  for (float& l : logits) l = std::round(normal(rng) * 4.0f) / 4.0f;
  int cases = 0;
  for (float temperature : {0.6f, 1.5f}) {
    for (int64_t top_k : {int64_t{0}, int64_t{1}, int64_t{40}, int64_t{49999}}) {
      // 0.999999 needs almost the whole vocabulary: the head is extended many times.
      for (float top_p : {1.0f, 0.95f, 0.5f, 0.999999f}) {
        for (float min_p : {0.0f, 0.05f}) {
          const SamplingParams s{
              .temperature = temperature, .top_k = top_k, .top_p = top_p, .min_p = min_p};
          EXPECT_EQ(probabilities_of(logits, s), with_a_full_sort(logits, s))
              << "T " << temperature << " top-k " << top_k << " top-p " << top_p << " min-p "
              << min_p;
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 64);
}

}  // namespace
}  // namespace nextn
