// model_config_to_json writes what HuggingFace writes (real field names per family), and
// parse(to_json(c)) == c for every shape of config the engine supports.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/model_config.h"
#include "config_test_util.h"

namespace nextn {
namespace {

using nlohmann::json;
using testing::deepseek_json;
using testing::glm_json;
using testing::parse_json;

ModelConfig round_trip(const ModelConfig& config) {
  return parse_model_config(model_config_to_json(config), "round trip");
}

json ct_quant(const std::string& strategy) {
  json weights = {{"num_bits", 8}, {"type", "float"}, {"strategy", strategy}};
  if (strategy == "block") weights["block_structure"] = {64, 32};
  return {{"quant_method", "compressed-tensors"},
          {"config_groups", {{"group_0", {{"weights", weights}}}}},
          {"ignore", {"lm_head", "model.layers.1.mlp.gate"}}};
}

// Named JSON variants of both families; each must survive parse → to_json → parse.
std::vector<std::pair<std::string, json>> variants() {
  std::vector<std::pair<std::string, json>> out;
  out.emplace_back("deepseek_base", deepseek_json());
  json v = deepseek_json();
  v["rope_scaling"] = {
      {"type", "yarn"},       {"factor", 40},   {"original_max_position_embeddings", 64},
      {"beta_fast", 32},      {"beta_slow", 1}, {"mscale", 0.707},
      {"mscale_all_dim", 1.0}};
  out.emplace_back("deepseek_yarn", v);
  v = deepseek_json();
  v["rope_scaling"] = {
      {"rope_type", "yarn"}, {"factor", 4.5}, {"original_max_position_embeddings", 128}};
  out.emplace_back("deepseek_yarn_defaults", v);
  v = deepseek_json();
  v["q_lora_rank"] = nullptr;
  out.emplace_back("deepseek_no_q_lora", v);
  v = deepseek_json();
  v["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {64, 32}}};
  out.emplace_back("deepseek_fp8", v);
  v = deepseek_json();
  v["quantization_config"] = ct_quant("channel");
  out.emplace_back("deepseek_compressed_tensors", v);
  v = deepseek_json();
  v["moe_layer_freq"] = 2;
  v["first_k_dense_replace"] = 0;
  v["num_nextn_predict_layers"] = 3;
  v["norm_topk_prob"] = false;
  out.emplace_back("deepseek_moe_variants", v);
  v = deepseek_json();
  v["eos_token_id"] = {1, 2, 3};
  v["bos_token_id"] = nullptr;
  v["torch_dtype"] = "float16";
  out.emplace_back("deepseek_tokens", v);
  v = deepseek_json();
  v.erase("eos_token_id");
  v["rms_norm_eps"] = 1.5625e-07;
  v["rope_theta"] = 123456.789;
  out.emplace_back("deepseek_odd_numbers", v);

  out.emplace_back("glm_base", glm_json());
  v = glm_json();
  v["use_qk_norm"] = false;
  v["attention_bias"] = false;
  v["partial_rotary_factor"] = 0.25;
  out.emplace_back("glm_no_norm_no_bias", v);
  for (const char* strategy : {"channel", "tensor", "block"}) {
    v = glm_json();
    v["quantization_config"] = ct_quant(strategy);
    out.emplace_back(std::string("glm_ct_") + strategy, v);
  }
  v = glm_json();
  v["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}};
  out.emplace_back("glm_fp8_block", v);
  v = glm_json();
  v["rope_scaling"] = {
      {"rope_type", "yarn"}, {"factor", 2}, {"original_max_position_embeddings", 2048}};
  out.emplace_back("glm_yarn", v);
  v = glm_json();
  v["eos_token_id"] = 7;
  v["bos_token_id"] = 5;
  v["num_nextn_predict_layers"] = 0;
  out.emplace_back("glm_scalar_eos_bos", v);
  v = glm_json();
  v["n_group"] = 4;
  v["topk_group"] = 2;
  v["num_experts_per_tok"] = 4;
  out.emplace_back("glm_grouped", v);
  return out;
}

TEST(ModelConfigRoundTrip, JsonVariants) {
  for (const auto& [name, config_json] : variants()) {
    SCOPED_TRACE(name);
    const ModelConfig parsed = parse_json(config_json);
    EXPECT_EQ(round_trip(parsed), parsed) << model_config_to_json(parsed);
  }
}

TEST(ModelConfigRoundTrip, IsAFixedPoint) {
  for (const auto& [name, config_json] : variants()) {
    SCOPED_TRACE(name);
    const std::string once = model_config_to_json(parse_json(config_json));
    EXPECT_EQ(model_config_to_json(parse_model_config(once, "again")), once);
  }
}

// Configs built in code, as make-tiny builds them, without a JSON source.
TEST(ModelConfigRoundTrip, BuiltInCode) {
  ModelConfig deepseek;
  deepseek.family = Family::kDeepseekV3;
  deepseek.architecture = "DeepseekV3ForCausalLM";
  deepseek.model_type = "deepseek_v3";
  deepseek.hidden_size = 32;
  deepseek.vocab_size = 64;
  deepseek.num_hidden_layers = 3;
  deepseek.num_nextn_predict_layers = 2;
  deepseek.num_attention_heads = 2;
  deepseek.intermediate_size = 48;
  deepseek.max_position_embeddings = 256;
  deepseek.attention = MlaConfig{.q_lora_rank = std::nullopt,
                                 .kv_lora_rank = 8,
                                 .qk_nope_head_dim = 4,
                                 .qk_rope_head_dim = 2,
                                 .v_head_dim = 4};
  deepseek.moe = MoeConfig{.n_routed_experts = 8,
                           .n_shared_experts = 2,
                           .num_experts_per_tok = 2,
                           .moe_intermediate_size = 16,
                           .n_group = 2,
                           .topk_group = 1,
                           .norm_topk_prob = false,
                           .routed_scaling_factor = 1.5,
                           .first_k_dense_replace = 1,
                           .moe_layer_freq = 1};
  deepseek.rope_scaling = RopeScaling{
      .type = RopeScaling::Type::kYarn, .factor = 40.0, .original_max_position_embeddings = 64};
  deepseek.quantization = QuantizationConfig{
      .method = QuantizationConfig::Method::kFp8Block, .block_rows = 16, .block_cols = 8};
  deepseek.bos_token_id = 0;
  deepseek.eos_token_ids = {1};
  EXPECT_EQ(round_trip(deepseek), deepseek);

  ModelConfig glm = deepseek;
  glm.family = Family::kGlm4Moe;
  glm.architecture = "Glm4MoeForCausalLM";
  glm.model_type = "glm4_moe";
  glm.attention = GqaConfig{.num_key_value_heads = 1,
                            .head_dim = 8,
                            .partial_rotary_factor = 0.5,
                            .use_qk_norm = true,
                            .attention_bias = true};
  glm.rope_scaling = RopeScaling{};
  glm.quantization = QuantizationConfig{.method = QuantizationConfig::Method::kCompressedTensorsFp8,
                                        .strategy = QuantizationConfig::Strategy::kChannel,
                                        .ignore = {"lm_head"}};
  glm.bos_token_id = std::nullopt;
  glm.eos_token_ids = {1, 2};
  EXPECT_EQ(round_trip(glm), glm);
}

TEST(ModelConfigRoundTrip, MismatchedAttentionIsAnError) {
  ModelConfig config = parse_json(glm_json());
  config.family = Family::kDeepseekV3;
  EXPECT_THROW(model_config_to_json(config), Error);
}

// --- what the JSON looks like -------------------------------------------------------------

TEST(ModelConfigToJson, DeepseekUsesRealFieldNames) {
  json config = deepseek_json();
  config["rope_scaling"] = {
      {"type", "yarn"}, {"factor", 40}, {"original_max_position_embeddings", 4096}};
  config["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}};
  const json out = json::parse(model_config_to_json(parse_json(config)));
  EXPECT_EQ(out["architectures"], json({"DeepseekV3ForCausalLM"}));
  EXPECT_EQ(out["model_type"], "deepseek_v3");
  EXPECT_EQ(out["q_lora_rank"], 48);
  EXPECT_EQ(out["kv_lora_rank"], 32);
  EXPECT_EQ(out["qk_nope_head_dim"], 16);
  EXPECT_EQ(out["qk_rope_head_dim"], 8);
  EXPECT_EQ(out["v_head_dim"], 16);
  EXPECT_EQ(out["n_group"], 4);
  EXPECT_EQ(out["topk_group"], 2);
  EXPECT_EQ(out["topk_method"], "noaux_tc");
  EXPECT_EQ(out["scoring_func"], "sigmoid");
  EXPECT_EQ(out["moe_layer_freq"], 1);
  EXPECT_EQ(out["num_key_value_heads"], 4);
  EXPECT_EQ(out["rope_scaling"]["type"], "yarn");
  EXPECT_EQ(out["rope_scaling"]["factor"], 40.0);
  EXPECT_EQ(out["quantization_config"]["quant_method"], "fp8");
  EXPECT_EQ(out["quantization_config"]["fmt"], "e4m3");
  EXPECT_EQ(out["quantization_config"]["activation_scheme"], "dynamic");
  EXPECT_EQ(out["quantization_config"]["weight_block_size"], json({128, 128}));
  EXPECT_EQ(out["tie_word_embeddings"], false);
  EXPECT_FALSE(out.contains("head_dim"));
}

TEST(ModelConfigToJson, DeepseekNullRopeAndQLora) {
  json config = deepseek_json();
  config["q_lora_rank"] = nullptr;
  const json out = json::parse(model_config_to_json(parse_json(config)));
  EXPECT_TRUE(out["rope_scaling"].is_null());
  EXPECT_TRUE(out["q_lora_rank"].is_null());
  EXPECT_FALSE(out.contains("quantization_config"));
}

TEST(ModelConfigToJson, GlmUsesRealFieldNames) {
  json config = glm_json();
  config["quantization_config"] = ct_quant("channel");
  const json out = json::parse(model_config_to_json(parse_json(config)));
  EXPECT_EQ(out["architectures"], json({"Glm4MoeForCausalLM"}));
  EXPECT_EQ(out["model_type"], "glm4_moe");
  EXPECT_EQ(out["head_dim"], 16);
  EXPECT_EQ(out["partial_rotary_factor"], 0.5);
  EXPECT_EQ(out["use_qk_norm"], true);
  EXPECT_EQ(out["attention_bias"], true);
  EXPECT_EQ(out["num_key_value_heads"], 2);
  EXPECT_EQ(out["eos_token_id"], json({1, 2, 3}));
  EXPECT_FALSE(out.contains("q_lora_rank"));
  EXPECT_FALSE(out.contains("moe_layer_freq"));
  const json& q = out["quantization_config"];
  EXPECT_EQ(q["quant_method"], "compressed-tensors");
  EXPECT_EQ(q["format"], "float-quantized");
  EXPECT_EQ(q["config_groups"]["group_0"]["weights"]["strategy"], "channel");
  EXPECT_EQ(q["config_groups"]["group_0"]["weights"]["num_bits"], 8);
  EXPECT_EQ(q["config_groups"]["group_0"]["weights"]["type"], "float");
  EXPECT_TRUE(q["config_groups"]["group_0"]["weights"]["block_structure"].is_null());
  EXPECT_EQ(q["config_groups"]["group_0"]["input_activations"]["dynamic"], true);
  EXPECT_EQ(q["ignore"], json({"lm_head", "model.layers.1.mlp.gate"}));
}

TEST(ModelConfigToJson, GlmBlockStructure) {
  json config = glm_json();
  config["quantization_config"] = ct_quant("block");
  const json out = json::parse(model_config_to_json(parse_json(config)));
  EXPECT_EQ(out["quantization_config"]["config_groups"]["group_0"]["weights"]["block_structure"],
            json({64, 32}));
}

TEST(ModelConfigToJson, SingleEosIsANumber) {
  json config = glm_json();
  config["eos_token_id"] = {9};
  const json out = json::parse(model_config_to_json(parse_json(config)));
  EXPECT_EQ(out["eos_token_id"], 9);
}

}  // namespace
}  // namespace nextn
