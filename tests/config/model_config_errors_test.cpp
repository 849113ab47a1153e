// Every rejected config is an Error that names the file and the field (SPEC §1). One test per
// rule.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/model_config.h"
#include "config_test_util.h"

namespace nextn {
namespace {

using nlohmann::json;
using testing::deepseek_json;
using testing::expect_error_names;
using testing::glm_json;
using testing::parse_error;

// --- the document and the architecture ----------------------------------------------------

TEST(ModelConfigError, NotJson) {
  try {
    parse_model_config("{\"hidden_size\": ", "config.json");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json: not valid JSON"), std::string::npos)
        << e.what();
  }
}

TEST(ModelConfigError, TopLevelNotObject) {
  expect_error_names(json::array({1, 2}), {"JSON object"});
}

TEST(ModelConfigError, UnsupportedArchitectureListsSupported) {
  json config = deepseek_json();
  config["architectures"] = {"LlamaForCausalLM"};
  expect_error_names(config, {"'architectures'", "\"LlamaForCausalLM\"", "DeepseekV3ForCausalLM",
                              "Glm4MoeForCausalLM"});
}

TEST(ModelConfigError, ArchitecturesMissing) {
  json config = deepseek_json();
  config.erase("architectures");
  expect_error_names(config, {"'architectures' is missing"});
}

TEST(ModelConfigError, ArchitecturesEmpty) {
  json config = glm_json();
  config["architectures"] = json::array();
  expect_error_names(config, {"'architectures'", "non-empty list"});
}

// --- sizes -----------------------------------------------------------------------------

TEST(ModelConfigError, WrongTypeMessageIsExact) {
  json config = deepseek_json();
  config["hidden_size"] = "abc";
  EXPECT_EQ(parse_error(config),
            "config.json: field 'hidden_size': expected a positive integer, got \"abc\"");
}

TEST(ModelConfigError, MissingRequiredField) {
  json config = deepseek_json();
  config.erase("vocab_size");
  expect_error_names(config, {"'vocab_size' is missing"});
}

TEST(ModelConfigError, NullRequiredField) {
  json config = glm_json();
  config["num_hidden_layers"] = nullptr;
  expect_error_names(config, {"'num_hidden_layers'", "got null"});
}

TEST(ModelConfigError, ZeroSize) {
  json config = glm_json();
  config["intermediate_size"] = 0;
  expect_error_names(config, {"'intermediate_size'", "positive integer", "got 0"});
}

TEST(ModelConfigError, NegativeSize) {
  json config = deepseek_json();
  config["num_attention_heads"] = -4;
  expect_error_names(config, {"'num_attention_heads'", "got -4"});
}

TEST(ModelConfigError, BoolForInteger) {
  json config = deepseek_json();
  config["max_position_embeddings"] = true;
  expect_error_names(config, {"'max_position_embeddings'", "got true"});
}

TEST(ModelConfigError, FractionalInteger) {
  json config = deepseek_json();
  config["hidden_size"] = 64.5;
  expect_error_names(config, {"'hidden_size'", "got 64.5"});
}

TEST(ModelConfigError, NegativeNextnLayers) {
  json config = deepseek_json();
  config["num_nextn_predict_layers"] = -1;
  expect_error_names(config, {"'num_nextn_predict_layers'", "non-negative"});
}

TEST(ModelConfigError, NonPositiveEps) {
  json config = glm_json();
  config["rms_norm_eps"] = 0;
  expect_error_names(config, {"'rms_norm_eps'"});
}

TEST(ModelConfigError, NonPositiveRopeTheta) {
  json config = glm_json();
  config["rope_theta"] = -1;
  expect_error_names(config, {"'rope_theta'"});
}

TEST(ModelConfigError, TiedEmbeddings) {
  json config = glm_json();
  config["tie_word_embeddings"] = true;
  expect_error_names(config, {"'tie_word_embeddings'", "untied"});
}

TEST(ModelConfigError, DtypeNotString) {
  json config = glm_json();
  config["torch_dtype"] = 16;
  expect_error_names(config, {"'torch_dtype'", "a string"});
}

// --- rope ------------------------------------------------------------------------------

TEST(ModelConfigError, UnsupportedRopeType) {
  json config = deepseek_json();
  config["rope_scaling"] = {{"type", "linear"}, {"factor", 2}};
  expect_error_names(config, {"'rope_scaling.type'", "\"linear\""});
}

TEST(ModelConfigError, UnsupportedRopeTypeInRopeParameters) {
  json config = glm_json();
  config.erase("rope_scaling");
  config["rope_parameters"] = {{"rope_type", "dynamic"}, {"factor", 2}};
  expect_error_names(config, {"'rope_parameters.rope_type'", "\"dynamic\""});
}

TEST(ModelConfigError, ContradictoryRopeTypes) {
  json config = deepseek_json();
  config["rope_scaling"] = {{"type", "yarn"},
                            {"rope_type", "default"},
                            {"factor", 40},
                            {"original_max_position_embeddings", 4096}};
  expect_error_names(config, {"'rope_scaling.type'", "rope_type"});
}

TEST(ModelConfigError, RopeScalingNotObject) {
  json config = deepseek_json();
  config["rope_scaling"] = "yarn";
  expect_error_names(config, {"'rope_scaling'", "an object or null"});
}

TEST(ModelConfigError, YarnWithoutFactor) {
  json config = deepseek_json();
  config["rope_scaling"] = {{"type", "yarn"}, {"original_max_position_embeddings", 4096}};
  expect_error_names(config, {"'rope_scaling.factor' is missing"});
}

TEST(ModelConfigError, YarnFactorBelowOne) {
  json config = deepseek_json();
  config["rope_scaling"] = {
      {"type", "yarn"}, {"factor", 0.5}, {"original_max_position_embeddings", 4096}};
  expect_error_names(config, {"'rope_scaling.factor'", ">= 1"});
}

TEST(ModelConfigError, YarnWithoutOriginalLength) {
  json config = deepseek_json();
  config["rope_scaling"] = {{"type", "yarn"}, {"factor", 40}};
  expect_error_names(config, {"'rope_scaling.original_max_position_embeddings' is missing"});
}

TEST(ModelConfigError, YarnBetasInverted) {
  json config = deepseek_json();
  config["rope_scaling"] = {{"type", "yarn"},
                            {"factor", 40},
                            {"original_max_position_embeddings", 4096},
                            {"beta_fast", 1},
                            {"beta_slow", 32}};
  expect_error_names(config, {"'rope_scaling.beta_fast'", "beta_slow"});
}

// --- MLA -------------------------------------------------------------------------------

TEST(ModelConfigError, QLoraRankMissing) {
  json config = deepseek_json();
  config.erase("q_lora_rank");
  expect_error_names(config, {"'q_lora_rank' is missing"});
}

TEST(ModelConfigError, KvLoraRankMissing) {
  json config = deepseek_json();
  config.erase("kv_lora_rank");
  expect_error_names(config, {"'kv_lora_rank' is missing"});
}

TEST(ModelConfigError, OddRopeHeadDim) {
  json config = deepseek_json();
  config["qk_rope_head_dim"] = 7;
  expect_error_names(config, {"'qk_rope_head_dim'", "even"});
}

// --- GQA -------------------------------------------------------------------------------

TEST(ModelConfigError, KeyValueHeadsMissing) {
  json config = glm_json();
  config.erase("num_key_value_heads");
  expect_error_names(config, {"'num_key_value_heads' is missing"});
}

TEST(ModelConfigError, HeadsNotMultipleOfKeyValueHeads) {
  json config = glm_json();
  config["num_key_value_heads"] = 3;
  expect_error_names(config, {"'num_key_value_heads'", "num_attention_heads 8"});
}

TEST(ModelConfigError, RotaryWidthNotEven) {
  json config = glm_json();
  config["head_dim"] = 10;  // 10 x 0.5 = 5
  expect_error_names(config, {"'partial_rotary_factor'", "head_dim 10"});
}

TEST(ModelConfigError, RotaryWidthNotInteger) {
  json config = glm_json();
  config["partial_rotary_factor"] = 0.3;  // 16 x 0.3 = 4.8
  expect_error_names(config, {"'partial_rotary_factor'", "even integer"});
}

TEST(ModelConfigError, RotaryFactorOutOfRange) {
  json config = glm_json();
  config["partial_rotary_factor"] = 1.5;
  expect_error_names(config, {"'partial_rotary_factor'", "(0, 1]"});
}

TEST(ModelConfigError, HeadDimAbsentAndHiddenNotDivisible) {
  json config = glm_json();
  config.erase("head_dim");
  config["num_attention_heads"] = 6;
  config["num_key_value_heads"] = 2;
  expect_error_names(config, {"'head_dim' is missing", "hidden_size 64"});
}

TEST(ModelConfigError, QkNormNotBool) {
  json config = glm_json();
  config["use_qk_norm"] = "yes";
  expect_error_names(config, {"'use_qk_norm'", "true or false"});
}

// --- MoE -------------------------------------------------------------------------------

TEST(ModelConfigError, RoutedExpertsMissing) {
  json config = glm_json();
  config.erase("n_routed_experts");
  expect_error_names(config, {"'n_routed_experts' is missing"});
}

TEST(ModelConfigError, TopKExceedsExperts) {
  json config = glm_json();
  config["num_experts_per_tok"] = 9;
  expect_error_names(config, {"'num_experts_per_tok'", "n_routed_experts 8"});
}

TEST(ModelConfigError, GroupsDoNotDivideExperts) {
  json config = deepseek_json();
  config["n_group"] = 3;
  expect_error_names(config, {"'n_group'", "n_routed_experts 16"});
}

TEST(ModelConfigError, TopkGroupExceedsGroups) {
  json config = deepseek_json();
  config["topk_group"] = 5;
  expect_error_names(config, {"'topk_group'", "n_group 4"});
}

TEST(ModelConfigError, TopKExceedsExpertsInKeptGroups) {
  json config = deepseek_json();  // 16 experts in 4 groups of 4
  config["topk_group"] = 1;       // keeps 4 experts
  config["num_experts_per_tok"] = 5;
  expect_error_names(config, {"'num_experts_per_tok'", "topk_group 1", "n_group 4"});
}

TEST(ModelConfigError, FirstDenseBeyondLayers) {
  json config = glm_json();
  config["first_k_dense_replace"] = 5;
  expect_error_names(config, {"'first_k_dense_replace'", "num_hidden_layers 4"});
}

TEST(ModelConfigError, NegativeSharedExperts) {
  json config = deepseek_json();
  config["n_shared_experts"] = -1;
  expect_error_names(config, {"'n_shared_experts'"});
}

TEST(ModelConfigError, ZeroMoeLayerFreq) {
  json config = deepseek_json();
  config["moe_layer_freq"] = 0;
  expect_error_names(config, {"'moe_layer_freq'"});
}

TEST(ModelConfigError, NonPositiveRoutedScaling) {
  json config = deepseek_json();
  config["routed_scaling_factor"] = 0;
  expect_error_names(config, {"'routed_scaling_factor'"});
}

TEST(ModelConfigError, UnsupportedTopkMethod) {
  json config = deepseek_json();
  config["topk_method"] = "greedy";
  expect_error_names(config, {"'topk_method'", "\"greedy\"", "noaux_tc"});
}

TEST(ModelConfigError, UnsupportedScoringFunc) {
  json config = deepseek_json();
  config["scoring_func"] = "softmax";
  expect_error_names(config, {"'scoring_func'", "\"softmax\"", "sigmoid"});
}

// --- quantization -------------------------------------------------------------------------

json ct_config(json weights) {
  return {{"quant_method", "compressed-tensors"},
          {"config_groups", {{"group_0", {{"weights", std::move(weights)}}}}}};
}

TEST(ModelConfigError, UnsupportedQuantMethod) {
  json config = deepseek_json();
  config["quantization_config"] = {{"quant_method", "gptq"}, {"bits", 4}};
  expect_error_names(config, {"'quantization_config.quant_method'", "\"gptq\""});
}

TEST(ModelConfigError, QuantMethodMissing) {
  json config = deepseek_json();
  config["quantization_config"] = {{"fmt", "e4m3"}};
  expect_error_names(config, {"'quantization_config.quant_method' is missing"});
}

TEST(ModelConfigError, QuantizationConfigNotObject) {
  json config = deepseek_json();
  config["quantization_config"] = "fp8";
  expect_error_names(config, {"'quantization_config'", "an object"});
}

TEST(ModelConfigError, Fp8WrongFormat) {
  json config = deepseek_json();
  config["quantization_config"] = {
      {"quant_method", "fp8"}, {"fmt", "e5m2"}, {"weight_block_size", {128, 128}}};
  expect_error_names(config, {"'quantization_config.fmt'", "\"e5m2\""});
}

TEST(ModelConfigError, Fp8StaticActivations) {
  json config = deepseek_json();
  config["quantization_config"] = {
      {"quant_method", "fp8"}, {"activation_scheme", "static"}, {"weight_block_size", {128, 128}}};
  expect_error_names(config, {"'quantization_config.activation_scheme'", "\"static\""});
}

TEST(ModelConfigError, Fp8BlockSizeMissing) {
  json config = deepseek_json();
  config["quantization_config"] = {{"quant_method", "fp8"}};
  expect_error_names(config, {"'quantization_config.weight_block_size' is missing"});
}

TEST(ModelConfigError, Fp8BlockSizeWrongShape) {
  json config = deepseek_json();
  config["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {128}}};
  expect_error_names(config, {"'quantization_config.weight_block_size'", "a list of 2"});
}

TEST(ModelConfigError, CompressedTensorsWithoutGroups) {
  json config = glm_json();
  config["quantization_config"] = {{"quant_method", "compressed-tensors"}};
  expect_error_names(config, {"'quantization_config.config_groups' is missing"});
}

TEST(ModelConfigError, CompressedTensorsNotEightBits) {
  json config = glm_json();
  config["quantization_config"] =
      ct_config({{"num_bits", 4}, {"type", "float"}, {"strategy", "channel"}});
  expect_error_names(config, {"'quantization_config.config_groups.group_0.weights.num_bits'"});
}

TEST(ModelConfigError, CompressedTensorsIntWeights) {
  json config = glm_json();
  config["quantization_config"] =
      ct_config({{"num_bits", 8}, {"type", "int"}, {"strategy", "channel"}});
  expect_error_names(config,
                     {"'quantization_config.config_groups.group_0.weights.type'", "\"int\""});
}

TEST(ModelConfigError, CompressedTensorsUnknownStrategy) {
  json config = glm_json();
  config["quantization_config"] =
      ct_config({{"num_bits", 8}, {"type", "float"}, {"strategy", "group"}});
  expect_error_names(config,
                     {"'quantization_config.config_groups.group_0.weights.strategy'", "\"group\""});
}

TEST(ModelConfigError, CompressedTensorsBlockWithoutStructure) {
  json config = glm_json();
  config["quantization_config"] =
      ct_config({{"num_bits", 8}, {"type", "float"}, {"strategy", "block"}});
  expect_error_names(
      config, {"'quantization_config.config_groups.group_0.weights.block_structure' is missing"});
}

TEST(ModelConfigError, CompressedTensorsGroupsDisagree) {
  json config = glm_json();
  json quant = ct_config({{"num_bits", 8}, {"type", "float"}, {"strategy", "channel"}});
  quant["config_groups"]["group_1"] = {
      {"weights", {{"num_bits", 8}, {"type", "float"}, {"strategy", "tensor"}}}};
  config["quantization_config"] = quant;
  expect_error_names(config, {"'quantization_config.config_groups.group_1.weights.strategy'"});
}

TEST(ModelConfigError, CompressedTensorsIgnoreNotStrings) {
  json config = glm_json();
  json quant = ct_config({{"num_bits", 8}, {"type", "float"}, {"strategy", "channel"}});
  quant["ignore"] = {1, 2};
  config["quantization_config"] = quant;
  expect_error_names(config, {"'quantization_config.ignore'", "list of strings"});
}

// --- token ids --------------------------------------------------------------------------

TEST(ModelConfigError, EosNotANumber) {
  json config = deepseek_json();
  config["eos_token_id"] = "</s>";
  expect_error_names(config, {"'eos_token_id'", "token id"});
}

TEST(ModelConfigError, EosListWithString) {
  json config = glm_json();
  config["eos_token_id"] = {1, "x"};
  expect_error_names(config, {"'eos_token_id'"});
}

TEST(ModelConfigError, EosOutsideVocab) {
  json config = glm_json();
  config["eos_token_id"] = {1, 256};
  expect_error_names(config, {"'eos_token_id'", "vocab_size 256"});
}

TEST(ModelConfigError, BosOutsideVocab) {
  json config = deepseek_json();
  config["bos_token_id"] = 1000;
  expect_error_names(config, {"'bos_token_id'", "vocab_size 256"});
}

TEST(ModelConfigError, BosNotANumber) {
  json config = deepseek_json();
  config["bos_token_id"] = {0};
  expect_error_names(config, {"'bos_token_id'"});
}

}  // namespace
}  // namespace nextn
