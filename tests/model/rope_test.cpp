// RoPE and YaRN (SPEC §4).
#include "model/rope.h"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

#include "tiny/tiny_checkpoint.h"

namespace nextn {
namespace {

ModelConfig deepseek_v3_attention() {
  ModelConfig config = tiny_config({.family = Family::kDeepseekV3, .yarn = true});
  config.attention = MlaConfig{.q_lora_rank = 1536, .kv_lora_rank = 512, .qk_nope_head_dim = 128,
                               .qk_rope_head_dim = 64, .v_head_dim = 128};
  config.rope_theta = 10000.0;
  config.rope_scaling = {.type = RopeScaling::Type::kYarn, .factor = 40.0,
                         .original_max_position_embeddings = 4096, .beta_fast = 32.0,
                         .beta_slow = 1.0, .mscale = 1.0, .mscale_all_dim = 1.0};
  return config;
}

TEST(Rope, DeepseekV3SoftmaxScale) {
  // (128 + 64)^-½ · (0.1 · ln 40 + 1)² ≈ 0.1352338 (SPEC §4).
  EXPECT_NEAR(attention_softmax_scale(deepseek_v3_attention()), 0.1352338, 1e-6);
}

TEST(Rope, YarnRampBlendsInterpolatedAndExtrapolatedFrequencies) {
  const ModelConfig config = deepseek_v3_attention();
  const Rope rope(config);
  const auto& inv_freq = rope.inv_freq();
  ASSERT_EQ(inv_freq.size(), 32u);
  // corr(r) = 64 · ln(4096 / (2π r)) / (2 ln 10000): low = ⌊corr(32)⌋ = 10, high = ⌈corr(1)⌉ = 23.
  auto corr = [](double r) { return 64 * std::log(4096 / (2 * std::numbers::pi * r)) / (2 * std::log(10000.0)); };
  EXPECT_EQ(std::floor(corr(32)), 10);
  EXPECT_EQ(std::ceil(corr(1)), 23);
  for (int i = 0; i < 32; ++i) {
    const double base = std::pow(10000.0, -2.0 * i / 64);
    const double ramp = std::clamp((i - 10.0) / 13.0, 0.0, 1.0);
    EXPECT_NEAR(inv_freq[i], base / 40 * ramp + base * (1 - ramp), 1e-15) << i;
  }
  EXPECT_DOUBLE_EQ(inv_freq[0], 1.0);  // below the ramp: extrapolated
  EXPECT_NEAR(inv_freq[31], std::pow(10000.0, -62.0 / 64) / 40, 1e-18);  // above: interpolated
  EXPECT_DOUBLE_EQ(rope.cos_sin_scale(), 1.0);  // mscale == mscale_all_dim
}

TEST(Rope, InterleavedRotatesAdjacentPairs) {
  ModelConfig config = tiny_config({.family = Family::kDeepseekV3});  // rope dim 8, θ 10000
  const Rope rope(config);
  float x[8] = {1, 0, 0, 1, 1, 1, 2, 0};
  float cos[4];
  float sin[4];
  rope.angles(3, cos, sin);
  rope.rotate(x, cos, sin);
  const double a0 = 3.0;  // frequency 0 is 1
  EXPECT_NEAR(x[0], std::cos(a0), 1e-6);
  EXPECT_NEAR(x[1], std::sin(a0), 1e-6);
  const double a1 = 3.0 * std::pow(10000.0, -2.0 / 8);
  EXPECT_NEAR(x[2], -std::sin(a1), 1e-6);
  EXPECT_NEAR(x[3], std::cos(a1), 1e-6);
}

TEST(Rope, NeoxRotatesHalvesOfThePartialDims) {
  ModelConfig config = tiny_config({.family = Family::kGlm4Moe});  // head 16, rotary 8
  const Rope rope(config);
  ASSERT_EQ(rope.rotary_dim(), 8);
  float x[16];
  for (int i = 0; i < 16; ++i) x[i] = static_cast<float>(i + 1);
  float cos[4];
  float sin[4];
  rope.angles(2, cos, sin);
  float rotated[16];
  std::copy(x, x + 16, rotated);
  rope.rotate(rotated, cos, sin);
  for (int i = 0; i < 4; ++i) {
    const double angle = 2.0 * std::pow(1e6, -2.0 * i / 8);
    EXPECT_NEAR(rotated[i], x[i] * std::cos(angle) - x[i + 4] * std::sin(angle), 1e-5);
    EXPECT_NEAR(rotated[i + 4], x[i] * std::sin(angle) + x[i + 4] * std::cos(angle), 1e-5);
  }
  for (int i = 8; i < 16; ++i) EXPECT_EQ(rotated[i], x[i]);  // the rest pass through
}

TEST(Rope, PositionZeroIsTheIdentity) {
  for (Family family : {Family::kDeepseekV3, Family::kGlm4Moe}) {
    const Rope rope(tiny_config({.family = family}));
    float x[16];
    for (int i = 0; i < 16; ++i) x[i] = static_cast<float>(i) - 3.5f;
    float y[16];
    std::copy(x, x + 16, y);
    float cos[8];
    float sin[8];
    rope.angles(0, cos, sin);
    rope.rotate(y, cos, sin);
    for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(y[i], x[i]);
  }
}

}  // namespace
}  // namespace nextn
