// The real HuggingFace config.json files of the releases in scope (SPEC §1) parse to the sizes
// SPEC §1 lists. Sources of each file: tests/data/real_configs/README.md.
#include <string>

#include <gtest/gtest.h>

#include "config/model_config.h"
#include "test_util.h"

namespace nextn {
namespace {

using testing::read_file;
using testing::test_data_dir;

ModelConfig load_real(const std::string& name) {
  const auto path = test_data_dir() / "real_configs" / (name + ".json");
  const std::string text = read_file(path);
  EXPECT_FALSE(text.empty()) << path;
  return parse_model_config(text, path.string());
}

// The DeepSeek-V3 architecture shared by V3, R1 and V3.1.
void expect_deepseek_v3_sizes(const ModelConfig& c) {
  EXPECT_EQ(c.family, Family::kDeepseekV3);
  EXPECT_EQ(c.architecture, "DeepseekV3ForCausalLM");
  EXPECT_EQ(c.model_type, "deepseek_v3");
  EXPECT_EQ(c.hidden_size, 7168);
  EXPECT_EQ(c.vocab_size, 129280);
  EXPECT_EQ(c.num_hidden_layers, 61);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_EQ(c.total_layers(), 62);
  EXPECT_TRUE(c.is_mtp_layer(61));
  EXPECT_EQ(c.num_attention_heads, 128);
  EXPECT_EQ(c.intermediate_size, 18432);
  EXPECT_EQ(c.max_position_embeddings, 163840);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.torch_dtype, "bfloat16");

  ASSERT_NE(c.mla(), nullptr);
  EXPECT_EQ(c.gqa(), nullptr);
  EXPECT_EQ(c.mla()->q_lora_rank, 1536);
  EXPECT_EQ(c.mla()->kv_lora_rank, 512);
  EXPECT_EQ(c.mla()->qk_nope_head_dim, 128);
  EXPECT_EQ(c.mla()->qk_rope_head_dim, 64);
  EXPECT_EQ(c.mla()->v_head_dim, 128);
  EXPECT_EQ(c.qk_head_dim(), 192);

  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kYarn);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 40.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 4096);
  EXPECT_DOUBLE_EQ(c.rope_scaling.beta_fast, 32.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.beta_slow, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.mscale, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.mscale_all_dim, 1.0);

  EXPECT_EQ(c.moe.n_routed_experts, 256);
  EXPECT_EQ(c.moe.n_shared_experts, 1);
  EXPECT_EQ(c.moe.num_experts_per_tok, 8);
  EXPECT_EQ(c.moe.moe_intermediate_size, 2048);
  EXPECT_EQ(c.moe.n_group, 8);
  EXPECT_EQ(c.moe.topk_group, 4);
  EXPECT_TRUE(c.moe.norm_topk_prob);
  EXPECT_DOUBLE_EQ(c.moe.routed_scaling_factor, 2.5);
  EXPECT_EQ(c.moe.first_k_dense_replace, 3);
  EXPECT_EQ(c.moe.moe_layer_freq, 1);
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_FALSE(c.is_moe_layer(2));
  EXPECT_TRUE(c.is_moe_layer(3));
  EXPECT_TRUE(c.is_moe_layer(60));
  EXPECT_TRUE(c.is_moe_layer(61));  // the MTP layer

  EXPECT_EQ(c.quantization.method, QuantizationConfig::Method::kFp8Block);
  EXPECT_EQ(c.quantization.strategy, QuantizationConfig::Strategy::kBlock);
  EXPECT_EQ(c.quantization.block_rows, 128);
  EXPECT_EQ(c.quantization.block_cols, 128);
  EXPECT_TRUE(c.quantization.ignore.empty());

  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{1});
}

TEST(RealConfig, DeepseekV3) {
  expect_deepseek_v3_sizes(load_real("deepseek-v3"));
}
TEST(RealConfig, DeepseekR1) {
  expect_deepseek_v3_sizes(load_real("deepseek-r1"));
}
TEST(RealConfig, DeepseekV31) {
  expect_deepseek_v3_sizes(load_real("deepseek-v3.1"));
}

// GLM-4.5, 4.6 and 4.7 share one architecture; 4.6 and 4.7 extend the context to 200K.
void expect_glm_355b_sizes(const ModelConfig& c, int64_t max_positions) {
  EXPECT_EQ(c.family, Family::kGlm4Moe);
  EXPECT_EQ(c.architecture, "Glm4MoeForCausalLM");
  EXPECT_EQ(c.model_type, "glm4_moe");
  EXPECT_EQ(c.hidden_size, 5120);
  EXPECT_EQ(c.vocab_size, 151552);
  EXPECT_EQ(c.num_hidden_layers, 92);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_TRUE(c.is_mtp_layer(92));
  EXPECT_EQ(c.num_attention_heads, 96);
  EXPECT_EQ(c.intermediate_size, 12288);
  EXPECT_EQ(c.max_position_embeddings, max_positions);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1000000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kNone);
  EXPECT_EQ(c.torch_dtype, "bfloat16");

  ASSERT_NE(c.gqa(), nullptr);
  EXPECT_EQ(c.mla(), nullptr);
  EXPECT_EQ(c.gqa()->num_key_value_heads, 8);
  EXPECT_EQ(c.gqa()->head_dim, 128);  // not 5120 / 96
  EXPECT_EQ(c.qk_head_dim(), 128);
  EXPECT_DOUBLE_EQ(c.gqa()->partial_rotary_factor, 0.5);
  EXPECT_TRUE(c.gqa()->use_qk_norm);
  EXPECT_TRUE(c.gqa()->attention_bias);

  EXPECT_EQ(c.moe.n_routed_experts, 160);
  EXPECT_EQ(c.moe.n_shared_experts, 1);
  EXPECT_EQ(c.moe.num_experts_per_tok, 8);
  EXPECT_EQ(c.moe.moe_intermediate_size, 1536);
  EXPECT_EQ(c.moe.n_group, 1);
  EXPECT_EQ(c.moe.topk_group, 1);
  EXPECT_DOUBLE_EQ(c.moe.routed_scaling_factor, 2.5);
  EXPECT_EQ(c.moe.first_k_dense_replace, 3);
  EXPECT_FALSE(c.is_moe_layer(2));
  EXPECT_TRUE(c.is_moe_layer(3));
  EXPECT_TRUE(c.is_moe_layer(92));

  EXPECT_EQ(c.quantization.method, QuantizationConfig::Method::kNone);
  EXPECT_FALSE(c.bos_token_id.has_value());
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{151329, 151336, 151338}));
}

TEST(RealConfig, Glm45) {
  expect_glm_355b_sizes(load_real("glm-4.5"), 131072);
}
TEST(RealConfig, Glm46) {
  expect_glm_355b_sizes(load_real("glm-4.6"), 202752);
}
TEST(RealConfig, Glm47) {
  expect_glm_355b_sizes(load_real("glm-4.7"), 202752);
}

TEST(RealConfig, Glm45Air) {
  const ModelConfig c = load_real("glm-4.5-air");
  EXPECT_EQ(c.family, Family::kGlm4Moe);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.vocab_size, 151552);
  EXPECT_EQ(c.num_hidden_layers, 46);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_TRUE(c.is_mtp_layer(46));
  EXPECT_EQ(c.num_attention_heads, 96);
  EXPECT_EQ(c.intermediate_size, 10944);
  ASSERT_NE(c.gqa(), nullptr);
  EXPECT_EQ(c.gqa()->num_key_value_heads, 8);
  EXPECT_EQ(c.gqa()->head_dim, 128);
  EXPECT_FALSE(c.gqa()->use_qk_norm);
  EXPECT_TRUE(c.gqa()->attention_bias);
  EXPECT_EQ(c.moe.n_routed_experts, 128);
  EXPECT_EQ(c.moe.num_experts_per_tok, 8);
  EXPECT_EQ(c.moe.moe_intermediate_size, 1408);
  EXPECT_DOUBLE_EQ(c.moe.routed_scaling_factor, 1.0);
  EXPECT_EQ(c.moe.first_k_dense_replace, 1);
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_TRUE(c.is_moe_layer(1));
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
}

class RealConfigRoundTrip : public ::testing::TestWithParam<std::string> {};

// model_config_to_json of a parsed release parses back to the same config.
TEST_P(RealConfigRoundTrip, ParseOfToJsonIsIdentity) {
  const ModelConfig original = load_real(GetParam());
  const ModelConfig again = parse_model_config(model_config_to_json(original), "round trip");
  EXPECT_EQ(again, original);
}

INSTANTIATE_TEST_SUITE_P(AllReleases, RealConfigRoundTrip,
                         ::testing::Values("deepseek-v3", "deepseek-r1", "deepseek-v3.1", "glm-4.5",
                                           "glm-4.5-air", "glm-4.6", "glm-4.7"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& ch : name) {
                             if (ch == '-' || ch == '.') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace nextn
