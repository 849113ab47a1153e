// parse_model_config: the defaulting and alias rules of SPEC §1, the helpers on ModelConfig,
// load_model_config and model_config_to_json.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/model_config.h"
#include "config_test_util.h"
#include "core/error.h"
#include "test_util.h"

namespace nextn {
namespace {

using nlohmann::json;
using testing::deepseek_json;
using testing::glm_json;
using testing::parse_json;

TEST(ModelConfigParse, SmallDeepseekConfig) {
  const ModelConfig c = parse_json(deepseek_json());
  EXPECT_EQ(c.family, Family::kDeepseekV3);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.total_layers(), 5);
  ASSERT_NE(c.mla(), nullptr);
  EXPECT_EQ(c.mla()->q_lora_rank, 48);
  EXPECT_EQ(c.qk_head_dim(), 24);
  EXPECT_EQ(c.moe.n_group, 4);
  EXPECT_EQ(c.moe.topk_group, 2);
}

TEST(ModelConfigParse, SmallGlmConfig) {
  const ModelConfig c = parse_json(glm_json());
  EXPECT_EQ(c.family, Family::kGlm4Moe);
  ASSERT_NE(c.gqa(), nullptr);
  EXPECT_EQ(c.gqa()->num_key_value_heads, 2);
  EXPECT_EQ(c.gqa()->head_dim, 16);
  EXPECT_EQ(c.qk_head_dim(), 16);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1, 2, 3}));
}

TEST(ModelConfigParse, FamilyName) {
  EXPECT_EQ(family_name(Family::kDeepseekV3), "deepseek_v3");
  EXPECT_EQ(family_name(Family::kGlm4Moe), "glm4_moe");
}

// --- rope: rope_scaling / rope_parameters, type / rope_type -------------------------------

json yarn_block() {
  return {{"type", "yarn"},       {"factor", 40},   {"original_max_position_embeddings", 4096},
          {"beta_fast", 32},      {"beta_slow", 1}, {"mscale", 1.0},
          {"mscale_all_dim", 1.0}};
}

TEST(ModelConfigRope, NullAbsentAndDefaultMeanNoScaling) {
  json config = deepseek_json();
  EXPECT_EQ(parse_json(config).rope_scaling.type, RopeScaling::Type::kNone);
  config.erase("rope_scaling");
  EXPECT_EQ(parse_json(config).rope_scaling.type, RopeScaling::Type::kNone);
  config["rope_scaling"] = {{"type", "default"}};
  EXPECT_EQ(parse_json(config).rope_scaling.type, RopeScaling::Type::kNone);
  config["rope_scaling"] = {{"rope_type", "default"}};
  EXPECT_EQ(parse_json(config).rope_scaling, RopeScaling{});
}

TEST(ModelConfigRope, YarnFromRopeScalingWithType) {
  json config = deepseek_json();
  config["rope_scaling"] = yarn_block();
  const RopeScaling rope = parse_json(config).rope_scaling;
  EXPECT_EQ(rope.type, RopeScaling::Type::kYarn);
  EXPECT_DOUBLE_EQ(rope.factor, 40.0);
  EXPECT_EQ(rope.original_max_position_embeddings, 4096);
  EXPECT_DOUBLE_EQ(rope.mscale_all_dim, 1.0);
}

TEST(ModelConfigRope, RopeTypeSpellingAccepted) {
  json config = deepseek_json();
  json block = yarn_block();
  block.erase("type");
  block["rope_type"] = "yarn";
  config["rope_scaling"] = block;
  EXPECT_EQ(parse_json(config).rope_scaling.type, RopeScaling::Type::kYarn);
}

TEST(ModelConfigRope, BothTypeSpellingsAgreeing) {
  json config = deepseek_json();
  config["rope_scaling"] = yarn_block();
  config["rope_scaling"]["rope_type"] = "yarn";
  EXPECT_EQ(parse_json(config).rope_scaling.type, RopeScaling::Type::kYarn);
}

TEST(ModelConfigRope, RopeParametersWithThetaInside) {
  json config = deepseek_json();
  config.erase("rope_scaling");
  config.erase("rope_theta");
  json block = yarn_block();
  block.erase("type");
  block["rope_type"] = "yarn";
  block["rope_theta"] = 50000;
  config["rope_parameters"] = block;
  const ModelConfig c = parse_json(config);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kYarn);
  EXPECT_DOUBLE_EQ(c.rope_theta, 50000.0);
}

TEST(ModelConfigRope, RopeParametersDefaultTypeKeepsTheta) {
  json config = glm_json();
  config.erase("rope_scaling");
  config.erase("rope_theta");
  config["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000}};
  const ModelConfig c = parse_json(config);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kNone);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1000000.0);
}

TEST(ModelConfigRope, ThetaDefaultsTo10000) {
  json config = deepseek_json();
  config.erase("rope_theta");
  EXPECT_DOUBLE_EQ(parse_json(config).rope_theta, 10000.0);
}

TEST(ModelConfigRope, YarnDefaults) {
  json config = deepseek_json();
  config["rope_scaling"] = {
      {"type", "yarn"}, {"factor", 4}, {"original_max_position_embeddings", 1024}};
  const RopeScaling rope = parse_json(config).rope_scaling;
  EXPECT_DOUBLE_EQ(rope.beta_fast, 32.0);
  EXPECT_DOUBLE_EQ(rope.beta_slow, 1.0);
  EXPECT_DOUBLE_EQ(rope.mscale, 1.0);
  EXPECT_DOUBLE_EQ(rope.mscale_all_dim, 0.0);
}

// --- dtype ----------------------------------------------------------------------------

TEST(ModelConfigDtype, TorchDtypeOrDtype) {
  json config = deepseek_json();
  config["torch_dtype"] = "float16";
  EXPECT_EQ(parse_json(config).torch_dtype, "float16");
  config.erase("torch_dtype");
  config["dtype"] = "float32";
  EXPECT_EQ(parse_json(config).torch_dtype, "float32");
  config.erase("dtype");
  EXPECT_EQ(parse_json(config).torch_dtype, "bfloat16");
}

// --- MLA --------------------------------------------------------------------------------

TEST(ModelConfigMla, HeadDimKeyIsIgnored) {
  json config = deepseek_json();
  config["head_dim"] = 8;  // transformers re-saves qk_rope_head_dim here
  config["qk_head_dim"] = 24;
  const ModelConfig c = parse_json(config);
  EXPECT_EQ(c.qk_head_dim(), 16 + 8);
}

TEST(ModelConfigMla, NullQLoraRankMeansPlainQProj) {
  json config = deepseek_json();
  config["q_lora_rank"] = nullptr;
  EXPECT_FALSE(parse_json(config).mla()->q_lora_rank.has_value());
}

TEST(ModelConfigMla, KeyValueHeadsIgnored) {
  json config = deepseek_json();
  config["num_key_value_heads"] = 3;  // MLA has one latent; the key means nothing here
  EXPECT_NO_THROW(parse_json(config));
}

// --- GQA defaults ------------------------------------------------------------------------

TEST(ModelConfigGqa, DefaultsWhenAbsent) {
  json config = glm_json();
  config.erase("partial_rotary_factor");
  config.erase("use_qk_norm");
  config.erase("attention_bias");
  const GqaConfig gqa = *parse_json(config).gqa();
  EXPECT_DOUBLE_EQ(gqa.partial_rotary_factor, 0.5);
  EXPECT_FALSE(gqa.use_qk_norm);
  EXPECT_FALSE(gqa.attention_bias);
}

TEST(ModelConfigGqa, PartialRotaryFactorInsideRopeParameters) {
  json config = glm_json();
  config.erase("partial_rotary_factor");
  config.erase("rope_scaling");
  config["rope_parameters"] = {
      {"rope_type", "default"}, {"partial_rotary_factor", 0.25}, {"rope_theta", 10000}};
  EXPECT_DOUBLE_EQ(parse_json(config).gqa()->partial_rotary_factor, 0.25);
}

TEST(ModelConfigGqa, FullRotaryFactorAccepted) {
  json config = glm_json();
  config["partial_rotary_factor"] = 1.0;
  EXPECT_DOUBLE_EQ(parse_json(config).gqa()->partial_rotary_factor, 1.0);
}

TEST(ModelConfigGqa, HeadDimFallsBackToHiddenOverHeadsOnlyWhenAbsent) {
  json config = glm_json();
  config.erase("head_dim");
  EXPECT_EQ(parse_json(config).gqa()->head_dim, 64 / 8);
}

TEST(ModelConfigGqa, HeadDimNotHiddenOverHeads) {
  json config = glm_json();
  config["head_dim"] = 32;  // like GLM-4.5: 128, not 5120 / 96
  EXPECT_EQ(parse_json(config).gqa()->head_dim, 32);
}

// --- MoE defaults ------------------------------------------------------------------------

TEST(ModelConfigMoe, Defaults) {
  json config = deepseek_json();
  for (const char* key : {"n_group", "topk_group", "moe_layer_freq", "first_k_dense_replace",
                          "num_nextn_predict_layers", "topk_method", "scoring_func",
                          "n_shared_experts", "routed_scaling_factor", "norm_topk_prob"}) {
    config.erase(key);
  }
  const ModelConfig c = parse_json(config);
  EXPECT_EQ(c.moe.n_group, 1);
  EXPECT_EQ(c.moe.topk_group, 1);
  EXPECT_EQ(c.moe.moe_layer_freq, 1);
  EXPECT_EQ(c.moe.first_k_dense_replace, 0);
  EXPECT_EQ(c.num_nextn_predict_layers, 0);
  EXPECT_EQ(c.total_layers(), 4);
  EXPECT_EQ(c.moe.n_shared_experts, 1);
  EXPECT_DOUBLE_EQ(c.moe.routed_scaling_factor, 1.0);
  EXPECT_TRUE(c.moe.norm_topk_prob);
}

TEST(ModelConfigMoe, NormTopkProbFalse) {
  json config = glm_json();
  config["norm_topk_prob"] = false;
  EXPECT_FALSE(parse_json(config).moe.norm_topk_prob);
}

TEST(ModelConfigMoe, DeepseekMoeLayerFreq) {
  json config = deepseek_json();
  config["num_hidden_layers"] = 8;
  config["first_k_dense_replace"] = 2;
  config["moe_layer_freq"] = 2;
  const ModelConfig c = parse_json(config);
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_FALSE(c.is_moe_layer(1));
  EXPECT_TRUE(c.is_moe_layer(2));
  EXPECT_FALSE(c.is_moe_layer(3));
  EXPECT_TRUE(c.is_moe_layer(4));
  EXPECT_FALSE(c.is_moe_layer(7));
  EXPECT_TRUE(c.is_moe_layer(8));  // MTP layers are always MoE
}

TEST(ModelConfigMoe, GlmIgnoresMoeLayerFreq) {
  json config = glm_json();
  config["moe_layer_freq"] = 2;
  const ModelConfig c = parse_json(config);
  EXPECT_EQ(c.moe.moe_layer_freq, 1);
  EXPECT_TRUE(c.is_moe_layer(1));
  EXPECT_TRUE(c.is_moe_layer(2));
  EXPECT_TRUE(c.is_moe_layer(3));
}

TEST(ModelConfigMoe, AllDenseBeforeMtp) {
  json config = glm_json();
  config["first_k_dense_replace"] = 4;  // == num_hidden_layers: every target layer dense
  const ModelConfig c = parse_json(config);
  EXPECT_FALSE(c.is_moe_layer(3));
  EXPECT_TRUE(c.is_moe_layer(4));
}

// --- quantization -----------------------------------------------------------------------

json compressed_tensors(const std::string& strategy) {
  json weights = {{"num_bits", 8},
                  {"type", "float"},
                  {"strategy", strategy},
                  {"dynamic", false},
                  {"symmetric", true}};
  if (strategy == "block") weights["block_structure"] = {128, 64};
  return {{"quant_method", "compressed-tensors"},
          {"format", "float-quantized"},
          {"config_groups", {{"group_0", {{"targets", {"Linear"}}, {"weights", weights}}}}},
          {"ignore", {"lm_head", "model.layers.0.mlp.gate"}}};
}

TEST(ModelConfigQuant, AbsentIsNone) {
  const ModelConfig c = parse_json(deepseek_json());
  EXPECT_EQ(c.quantization, QuantizationConfig{});
  json config = deepseek_json();
  config["quantization_config"] = nullptr;
  EXPECT_EQ(parse_json(config).quantization.method, QuantizationConfig::Method::kNone);
}

TEST(ModelConfigQuant, DeepseekFp8Block) {
  json config = deepseek_json();
  config["quantization_config"] = {{"quant_method", "fp8"},
                                   {"fmt", "e4m3"},
                                   {"activation_scheme", "dynamic"},
                                   {"weight_block_size", {64, 32}}};
  const QuantizationConfig q = parse_json(config).quantization;
  EXPECT_EQ(q.method, QuantizationConfig::Method::kFp8Block);
  EXPECT_EQ(q.strategy, QuantizationConfig::Strategy::kBlock);
  EXPECT_EQ(q.block_rows, 64);
  EXPECT_EQ(q.block_cols, 32);
}

TEST(ModelConfigQuant, Fp8WithScaleFmtAccepted) {  // DeepSeek-V3.1 adds scale_fmt ue8m0
  json config = deepseek_json();
  config["quantization_config"] = {
      {"quant_method", "fp8"}, {"scale_fmt", "ue8m0"}, {"weight_block_size", {128, 128}}};
  EXPECT_EQ(parse_json(config).quantization.method, QuantizationConfig::Method::kFp8Block);
}

TEST(ModelConfigQuant, CompressedTensorsChannel) {
  json config = glm_json();
  config["quantization_config"] = compressed_tensors("channel");
  const QuantizationConfig q = parse_json(config).quantization;
  EXPECT_EQ(q.method, QuantizationConfig::Method::kCompressedTensorsFp8);
  EXPECT_EQ(q.strategy, QuantizationConfig::Strategy::kChannel);
  EXPECT_EQ(q.ignore, (std::vector<std::string>{"lm_head", "model.layers.0.mlp.gate"}));
}

TEST(ModelConfigQuant, CompressedTensorsTensor) {
  json config = glm_json();
  config["quantization_config"] = compressed_tensors("tensor");
  EXPECT_EQ(parse_json(config).quantization.strategy, QuantizationConfig::Strategy::kTensor);
}

TEST(ModelConfigQuant, CompressedTensorsBlock) {
  json config = glm_json();
  config["quantization_config"] = compressed_tensors("block");
  const QuantizationConfig q = parse_json(config).quantization;
  EXPECT_EQ(q.strategy, QuantizationConfig::Strategy::kBlock);
  EXPECT_EQ(q.block_rows, 128);
  EXPECT_EQ(q.block_cols, 64);
}

TEST(ModelConfigQuant, CompressedTensorsNoIgnoreList) {
  json config = glm_json();
  config["quantization_config"] = compressed_tensors("channel");
  config["quantization_config"].erase("ignore");
  EXPECT_TRUE(parse_json(config).quantization.ignore.empty());
}

// --- token ids ----------------------------------------------------------------------------

TEST(ModelConfigTokens, EosNumberOrList) {
  json config = deepseek_json();
  EXPECT_EQ(parse_json(config).eos_token_ids, std::vector<int64_t>{1});
  config["eos_token_id"] = {1, 2};
  EXPECT_EQ(parse_json(config).eos_token_ids, (std::vector<int64_t>{1, 2}));
  config.erase("eos_token_id");
  EXPECT_TRUE(parse_json(config).eos_token_ids.empty());
}

TEST(ModelConfigTokens, BosNumberNullOrAbsent) {
  json config = deepseek_json();
  EXPECT_EQ(parse_json(config).bos_token_id, 0);
  config["bos_token_id"] = nullptr;
  EXPECT_FALSE(parse_json(config).bos_token_id.has_value());
  config.erase("bos_token_id");
  EXPECT_FALSE(parse_json(config).bos_token_id.has_value());
}

TEST(ModelConfigParse, IntegralFloatAcceptedForIntegers) {
  json config = deepseek_json();
  config["max_position_embeddings"] = 4096.0;
  EXPECT_EQ(parse_json(config).max_position_embeddings, 4096);
}

TEST(ModelConfigParse, UnknownKeysIgnored) {
  json config = glm_json();
  config["pad_token_id"] = 0;
  config["auto_map"] = {{"AutoConfig", "x"}};
  config["transformers_version"] = "4.54.0";
  EXPECT_NO_THROW(parse_json(config));
}

TEST(ModelConfigParse, ModelTypeDefaultsToFamily) {
  json config = glm_json();
  config.erase("model_type");
  EXPECT_EQ(parse_json(config).model_type, "glm4_moe");
}

// --- load_model_config ---------------------------------------------------------------------

TEST(ModelConfigLoad, ReadsConfigJsonFromDirectory) {
  testing::ScratchDir dir;
  testing::write_file(dir / "config.json", glm_json().dump());
  EXPECT_EQ(load_model_config(dir.path()), parse_json(glm_json()));
}

TEST(ModelConfigLoad, MissingFileNamesPath) {
  testing::ScratchDir dir;
  try {
    load_model_config(dir.path());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
}

TEST(ModelConfigLoad, ErrorsCarryThePath) {
  testing::ScratchDir dir;
  json config = glm_json();
  config["hidden_size"] = "abc";
  testing::write_file(dir / "config.json", config.dump());
  try {
    load_model_config(dir.path());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find((dir / "config.json").string()), std::string::npos) << message;
    EXPECT_NE(message.find("hidden_size"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace nextn
