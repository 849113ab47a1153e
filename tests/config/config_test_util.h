// Shared by the config tests: small valid configs of both families and error capture.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/model_config.h"
#include "core/error.h"

namespace nextn::testing {

// A small DeepSeek-V3-shaped config: every field the parser reads, tiny sizes.
inline nlohmann::json deepseek_json() {
  return {{"architectures", {"DeepseekV3ForCausalLM"}},
          {"model_type", "deepseek_v3"},
          {"hidden_size", 64},
          {"vocab_size", 256},
          {"num_hidden_layers", 4},
          {"num_nextn_predict_layers", 1},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 4},
          {"intermediate_size", 128},
          {"max_position_embeddings", 4096},
          {"rms_norm_eps", 1e-6},
          {"rope_theta", 10000},
          {"rope_scaling", nullptr},
          {"q_lora_rank", 48},
          {"kv_lora_rank", 32},
          {"qk_nope_head_dim", 16},
          {"qk_rope_head_dim", 8},
          {"v_head_dim", 16},
          {"n_routed_experts", 16},
          {"n_shared_experts", 1},
          {"num_experts_per_tok", 4},
          {"moe_intermediate_size", 32},
          {"n_group", 4},
          {"topk_group", 2},
          {"norm_topk_prob", true},
          {"routed_scaling_factor", 2.5},
          {"first_k_dense_replace", 1},
          {"moe_layer_freq", 1},
          {"topk_method", "noaux_tc"},
          {"scoring_func", "sigmoid"},
          {"tie_word_embeddings", false},
          {"torch_dtype", "bfloat16"},
          {"bos_token_id", 0},
          {"eos_token_id", 1}};
}

// A small GLM-4.5-shaped config.
inline nlohmann::json glm_json() {
  return {{"architectures", {"Glm4MoeForCausalLM"}},
          {"model_type", "glm4_moe"},
          {"hidden_size", 64},
          {"vocab_size", 256},
          {"num_hidden_layers", 4},
          {"num_nextn_predict_layers", 1},
          {"num_attention_heads", 8},
          {"num_key_value_heads", 2},
          {"head_dim", 16},
          {"partial_rotary_factor", 0.5},
          {"use_qk_norm", true},
          {"attention_bias", true},
          {"intermediate_size", 128},
          {"max_position_embeddings", 4096},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 1000000},
          {"rope_scaling", nullptr},
          {"n_routed_experts", 8},
          {"n_shared_experts", 1},
          {"num_experts_per_tok", 2},
          {"moe_intermediate_size", 32},
          {"n_group", 1},
          {"topk_group", 1},
          {"norm_topk_prob", true},
          {"routed_scaling_factor", 2.5},
          {"first_k_dense_replace", 1},
          {"tie_word_embeddings", false},
          {"torch_dtype", "bfloat16"},
          {"eos_token_id", {1, 2, 3}}};
}

inline ModelConfig parse_json(const nlohmann::json& config) {
  return parse_model_config(config.dump(), "config.json");
}

// The message of the Error that parsing `config` throws ("" and a test failure when none).
inline std::string parse_error(const nlohmann::json& config) {
  try {
    parse_json(config);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an Error for " << config.dump();
  return "";
}

// Every error names the file label and the field(s).
inline void expect_error_names(const nlohmann::json& config,
                               std::initializer_list<std::string_view> parts) {
  const std::string message = parse_error(config);
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  for (std::string_view part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

}  // namespace nextn::testing
