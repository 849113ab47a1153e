// The noaux_tc router's edge cases (SPEC §4).
#include "model/router.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace nextn {
namespace {

float logit(float p) { return std::log(p / (1.0f - p)); }  // sigmoid⁻¹

struct Routed {
  std::vector<int32_t> experts;
  std::vector<float> weights;
};

Routed route(const std::vector<float>& probabilities, const std::vector<float>& bias,
             const MoeConfig& moe) {
  std::vector<float> logits;
  for (float p : probabilities) logits.push_back(logit(p));
  Routed r{std::vector<int32_t>(moe.num_experts_per_tok), std::vector<float>(moe.num_experts_per_tok)};
  route_token(logits.data(), bias.data(), moe, r.experts.data(), r.weights.data());
  return r;
}

MoeConfig config(int64_t experts, int64_t k, int64_t groups, int64_t top_groups, bool norm,
                 double scaling) {
  return {.n_routed_experts = experts,
          .num_experts_per_tok = k,
          .n_group = groups,
          .topk_group = top_groups,
          .norm_topk_prob = norm,
          .routed_scaling_factor = scaling};
}

TEST(Router, ChoosesByBiasedScoreButWeighsByUnbiasedScore) {
  const MoeConfig moe = config(4, 2, 1, 1, false, 1.0);
  // Expert 3 has the lowest s but a large bias: chosen, with its own small s as the weight.
  const Routed r = route({0.9f, 0.8f, 0.7f, 0.1f}, {0.0f, 0.0f, 0.0f, 1.0f}, moe);
  EXPECT_EQ(r.experts, (std::vector<int32_t>{3, 0}));
  EXPECT_NEAR(r.weights[0], 0.1f, 1e-6f);
  EXPECT_NEAR(r.weights[1], 0.9f, 1e-6f);
}

TEST(Router, NormalizesAndScales) {
  const MoeConfig moe = config(4, 2, 1, 1, true, 2.5);
  const Routed r = route({0.9f, 0.6f, 0.3f, 0.2f}, {0, 0, 0, 0}, moe);
  EXPECT_EQ(r.experts, (std::vector<int32_t>{0, 1}));
  EXPECT_NEAR(r.weights[0], 2.5f * 0.9f / 1.5f, 1e-6f);
  EXPECT_NEAR(r.weights[1], 2.5f * 0.6f / 1.5f, 1e-6f);
}

TEST(Router, NormTopkProbOffKeepsRawScoresTimesScaling) {
  const MoeConfig moe = config(4, 2, 1, 1, false, 2.0);
  const Routed r = route({0.9f, 0.6f, 0.3f, 0.2f}, {0, 0, 0, 0}, moe);
  EXPECT_NEAR(r.weights[0], 1.8f, 1e-6f);
  EXPECT_NEAR(r.weights[1], 1.2f, 1e-6f);
}

TEST(Router, TiesGoToTheLowerIndex) {
  const MoeConfig moe = config(6, 3, 1, 1, true, 1.0);
  const Routed r = route({0.5f, 0.7f, 0.5f, 0.7f, 0.5f, 0.2f}, {0, 0, 0, 0, 0, 0}, moe);
  EXPECT_EQ(r.experts, (std::vector<int32_t>{1, 3, 0}));
}

TEST(Router, GroupsScoreTheSumOfTheirTwoBest) {
  // 4 groups of 2, keep 2 groups. Group scores: g0 = .9+.1 = 1.0, g1 = .6+.6 = 1.2,
  // g2 = .55+.55 = 1.1, g3 = .3+.3 = .6. The single best expert (0, in g0) is dropped.
  const MoeConfig moe = config(8, 2, 4, 2, false, 1.0);
  const Routed r = route({0.9f, 0.1f, 0.6f, 0.6f, 0.55f, 0.55f, 0.3f, 0.3f},
                         std::vector<float>(8, 0.0f), moe);
  EXPECT_EQ(r.experts, (std::vector<int32_t>{2, 3}));
}

TEST(Router, GroupsWithEqualScoresPreferTheLowerGroup) {
  const MoeConfig moe = config(8, 2, 4, 1, false, 1.0);
  const Routed r = route({0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.2f, 0.2f},
                         std::vector<float>(8, 0.0f), moe);
  // g0 = g1 = g2 = 1.0: g0 is kept.
  EXPECT_EQ(r.experts, (std::vector<int32_t>{0, 1}));
}

TEST(Router, NegativeBiasedScoresStillRankCorrectly) {
  // Biases push every c below zero; groups must still rank by c, not treat negatives as empty.
  const MoeConfig moe = config(4, 1, 2, 1, true, 1.0);
  const Routed r = route({0.2f, 0.3f, 0.9f, 0.8f}, {-5.0f, -5.0f, -5.5f, -5.5f}, moe);
  // c = −4.8, −4.7 | −4.6, −4.7: g0 = −9.5 < g1 = −9.3, so g1 is kept and expert 2 wins.
  EXPECT_EQ(r.experts, (std::vector<int32_t>{2}));
  EXPECT_NEAR(r.weights[0], 1.0f, 1e-6f);  // normalized single expert
}

TEST(Router, OneGroupIsPlainTopK) {
  const MoeConfig moe = config(5, 2, 1, 1, true, 1.0);
  const Routed r = route({0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, std::vector<float>(5, 0.0f), moe);
  EXPECT_EQ(r.experts, (std::vector<int32_t>{4, 3}));
}

}  // namespace
}  // namespace nextn
