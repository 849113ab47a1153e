// SPEC §3: one test (or more) per mapping rule.
#include "weights/weight_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "tiny/tiny_checkpoint.h"

namespace nextn {
namespace {

using ::testing::HasSubstr;

ModelConfig deepseek(int64_t layers = 3, int64_t mtp_layers = 1) {
  return tiny_config({.family = Family::kDeepseekV3, .layers = layers, .mtp_layers = mtp_layers});
}
ModelConfig glm(int64_t layers = 3, int64_t mtp_layers = 1) {
  return tiny_config({.family = Family::kGlm4Moe, .layers = layers, .mtp_layers = mtp_layers});
}

// Rule 1: DeepSeek detects the layer by prefix, GLM by substring.
TEST(WeightNamesRule1, DeepseekUsesThePrefix) {
  EXPECT_EQ(layer_index_of("model.layers.61.enorm.weight", Family::kDeepseekV3), 61);
  EXPECT_EQ(layer_index_of("model.layers.0.mlp.gate.weight", Family::kDeepseekV3), 0);
  // Not at the start: not a layer name for DeepSeek.
  EXPECT_EQ(layer_index_of("mtp.model.layers.61.enorm.weight", Family::kDeepseekV3),
            std::nullopt);
  EXPECT_EQ(layer_index_of("model.embed_tokens.weight", Family::kDeepseekV3), std::nullopt);
  EXPECT_EQ(layer_index_of("lm_head.weight", Family::kDeepseekV3), std::nullopt);
}

TEST(WeightNamesRule1, GlmUsesASubstring) {
  EXPECT_EQ(layer_index_of("model.layers.92.enorm.weight", Family::kGlm4Moe), 92);
  EXPECT_EQ(layer_index_of("mtp.model.layers.92.enorm.weight", Family::kGlm4Moe), 92);
  EXPECT_EQ(layer_index_of("layers.5.self_attn.q_proj.weight", Family::kGlm4Moe), 5);
  // "layers.92." must not be found inside another component such as "sublayers.92.".
  EXPECT_EQ(layer_index_of("model.sublayers.92.x", Family::kGlm4Moe), std::nullopt);
  EXPECT_EQ(layer_index_of("model.layers.x.weight", Family::kGlm4Moe), std::nullopt);
}

TEST(WeightNamesRule1, MtpIndexFromTheModelSizes) {
  const ModelConfig config = deepseek(3, 2);
  EXPECT_EQ(mtp_index_of("model.layers.2.mlp.gate.weight", config), std::nullopt);
  EXPECT_EQ(mtp_index_of("model.layers.3.enorm.weight", config), 0);
  EXPECT_EQ(mtp_index_of("model.layers.4.enorm.weight", config), 1);
  EXPECT_EQ(mtp_index_of("lm_head.weight", config), std::nullopt);
}

TEST(WeightNamesRule1, LayerPastTheMtpLayersIsAnError) {
  const ModelConfig config = deepseek(3, 1);
  try {
    mtp_index_of("model.layers.4.enorm.weight", config);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.layers.4.enorm.weight"));
    EXPECT_THAT(e.what(), HasSubstr("num_nextn_predict_layers"));
  }
  EXPECT_THROW(mtp_index_of("model.layers.92.x.weight", glm(3, 1)), Error);
}

// Rule 2: inside an MTP layer, block tensors are renamed under mtp_block; the embedding is
// lifted to the top level; enorm / hnorm / eh_proj / shared_head stay on the layer.
TEST(WeightNamesRule2, MtpRoles) {
  EXPECT_EQ(mtp_role("self_attn.q_a_proj.weight"), MtpRole::kBlock);
  EXPECT_EQ(mtp_role("mlp.experts.3.up_proj.weight"), MtpRole::kBlock);
  EXPECT_EQ(mtp_role("input_layernorm.weight"), MtpRole::kBlock);
  EXPECT_EQ(mtp_role("embed_tokens.weight"), MtpRole::kEmbedTokens);
  EXPECT_EQ(mtp_role("enorm.weight"), MtpRole::kEnorm);
  EXPECT_EQ(mtp_role("hnorm.weight"), MtpRole::kHnorm);
  EXPECT_EQ(mtp_role("eh_proj.weight"), MtpRole::kEhProj);
  EXPECT_EQ(mtp_role("shared_head.norm.weight"), MtpRole::kSharedHead);
  EXPECT_EQ(mtp_role("shared_head.head.weight"), MtpRole::kSharedHead);
}

TEST(WeightNamesRule2, CanonicalNamesRenameTheMtpBlock) {
  const ModelConfig config = deepseek(3, 2);
  EXPECT_EQ(canonical_name("model.layers.3.self_attn.kv_b_proj.weight", config),
            "mtp.0.block.self_attn.kv_b_proj.weight");
  EXPECT_EQ(canonical_name("model.layers.4.mlp.experts.7.down_proj.weight", config),
            "mtp.1.block.mlp.experts.7.down_proj.weight");
  EXPECT_EQ(canonical_name("model.layers.3.embed_tokens.weight", config), "mtp.embed_tokens.weight");
  EXPECT_EQ(canonical_name("model.layers.4.eh_proj.weight", config), "mtp.1.eh_proj.weight");
  EXPECT_EQ(canonical_name("model.layers.3.shared_head.head.weight", config),
            "mtp.0.shared_head.head.weight");
  EXPECT_EQ(canonical_name("model.layers.1.self_attn.o_proj.weight", config),
            "layers.1.self_attn.o_proj.weight");
  EXPECT_EQ(canonical_name("model.embed_tokens.weight", config), "embed_tokens.weight");
  EXPECT_EQ(canonical_name("lm_head.weight", config), "lm_head.weight");
}

// Rule 4: fusions; routed experts never join the dense gate/up fusion.
TEST(WeightNamesRule4, DenseAndSharedGateUpFuse) {
  EXPECT_EQ(fusion_slot("layers.0.mlp.gate_proj.weight"),
            (FusionSlot{"layers.0.mlp.gate_up_proj.weight", 0}));
  EXPECT_EQ(fusion_slot("layers.0.mlp.up_proj.weight"),
            (FusionSlot{"layers.0.mlp.gate_up_proj.weight", 1}));
  EXPECT_EQ(fusion_slot("layers.0.mlp.down_proj.weight"), std::nullopt);
  EXPECT_EQ(fusion_slot("mtp.0.block.mlp.shared_experts.up_proj.weight"),
            (FusionSlot{"mtp.0.block.mlp.shared_experts.gate_up_proj.weight", 1}));
}

TEST(WeightNamesRule4, ExpertsAreNotCaughtByTheDenseFusion) {
  const auto gate = fusion_slot("layers.3.mlp.experts.5.gate_proj.weight");
  ASSERT_TRUE(gate.has_value());
  EXPECT_EQ(gate->fused_name, "layers.3.mlp.experts.gate_proj.weight");
  EXPECT_EQ(gate->slice, 5);
  const auto up = fusion_slot("layers.3.mlp.experts.12.up_proj.weight");
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->fused_name, "layers.3.mlp.experts.up_proj.weight");
  EXPECT_EQ(up->slice, 12);
  EXPECT_EQ(fusion_slot("layers.3.mlp.experts.5.down_proj.weight")->fused_name,
            "layers.3.mlp.experts.down_proj.weight");
}

TEST(WeightNamesRule4, AttentionFusions) {
  EXPECT_EQ(fusion_slot("layers.2.self_attn.k_proj.weight"),
            (FusionSlot{"layers.2.self_attn.qkv_proj.weight", 1}));
  EXPECT_EQ(fusion_slot("layers.2.self_attn.v_proj.bias"),
            (FusionSlot{"layers.2.self_attn.qkv_proj.bias", 2}));
  EXPECT_EQ(fusion_slot("layers.2.self_attn.kv_a_proj_with_mqa.weight"),
            (FusionSlot{"layers.2.self_attn.fused_qkv_a_proj.weight", 1}));
  EXPECT_EQ(fusion_slot("layers.2.self_attn.q_a_proj.weight"),
            (FusionSlot{"layers.2.self_attn.fused_qkv_a_proj.weight", 0}));
  EXPECT_EQ(fusion_slot("layers.2.self_attn.q_b_proj.weight"), std::nullopt);
  EXPECT_EQ(fusion_slot("layers.2.self_attn.o_proj.weight"), std::nullopt);
}

// Rule 5: skips, and the legacy kv_scale rename.
TEST(WeightNamesRule5, Skips) {
  const ModelConfig config = deepseek(3, 2);
  EXPECT_EQ(skip_reason("model.layers.0.self_attn.rotary_emb.inv_freq", config),
            SkipReason::kRotaryInvFreq);
  EXPECT_EQ(skip_reason("model.layers.0.mlp.down_proj.bias", config), SkipReason::kOrphanBias);
  EXPECT_EQ(skip_reason("model.layers.0.mlp.down_proj.weight_scale", config),
            SkipReason::kOrphanWeightScale);
  EXPECT_EQ(skip_reason("model.layers.0.self_attn.kv_scale", config), SkipReason::kLegacyKvScale);
  EXPECT_EQ(skip_reason("model.layers.4.embed_tokens.weight", config),
            SkipReason::kExtraMtpEmbedding);
  // The first MTP layer's embedding is a parameter, not a skip; a random name is unexpected.
  EXPECT_EQ(skip_reason("model.layers.3.embed_tokens.weight", config), std::nullopt);
  EXPECT_EQ(skip_reason("model.layers.0.mlp.mystery.weight", config), std::nullopt);
}

TEST(WeightNamesRule5, LegacyKvScaleRename) {
  EXPECT_EQ(remap_legacy_kv_scale("model.layers.3.self_attn.kv_scale"),
            "model.layers.3.self_attn.attn.k_scale");
  EXPECT_EQ(remap_legacy_kv_scale("model.layers.3.self_attn.k_scale"), std::nullopt);
}

}  // namespace
}  // namespace nextn
