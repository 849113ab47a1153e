// config.json -> a typed, validated model configuration (SPEC §1).
//
// Two families: DeepseekV3ForCausalLM (MLA attention) and Glm4MoeForCausalLM (GQA with partial
// NeoX RoPE). Sizes always come from here; nothing in nextn hard-codes a model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nextn {

enum class Family { kDeepseekV3, kGlm4Moe };
std::string_view family_name(Family family);  // "deepseek_v3" / "glm4_moe"

struct RopeScaling {
  enum class Type { kNone, kYarn };
  Type type = Type::kNone;
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
  bool operator==(const RopeScaling&) const = default;
};

struct MlaConfig {  // DeepSeek multi-head latent attention
  std::optional<int64_t> q_lora_rank;  // null: a plain q_proj
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  bool operator==(const MlaConfig&) const = default;
};

struct GqaConfig {  // GLM grouped-query attention
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;                 // not hidden / heads
  double partial_rotary_factor = 0.5;   // RoPE on the first head_dim × factor channels
  bool use_qk_norm = false;
  bool attention_bias = false;
  bool operator==(const GqaConfig&) const = default;
};

struct MoeConfig {
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  bool norm_topk_prob = true;
  double routed_scaling_factor = 1.0;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;  // DeepSeek only; GLM layers are MoE from first_k_dense_replace on
  bool operator==(const MoeConfig&) const = default;
};

struct QuantizationConfig {
  enum class Method { kNone, kFp8Block, kCompressedTensorsFp8 };
  enum class Strategy { kBlock, kChannel, kTensor };
  Method method = Method::kNone;
  Strategy strategy = Strategy::kBlock;  // kFp8Block is always kBlock
  int64_t block_rows = 128;  // weight_block_size [rows, cols] (output, input)
  int64_t block_cols = 128;
  // compressed-tensors "ignore": module names (e.g. "lm_head", "model.layers.0.mlp.gate")
  // whose weights stay unquantized.
  std::vector<std::string> ignore;
  bool operator==(const QuantizationConfig&) const = default;
};

struct ModelConfig {
  Family family = Family::kDeepseekV3;
  std::string architecture;  // architectures[0]
  std::string model_type;
  int64_t hidden_size = 0;        // H
  int64_t vocab_size = 0;         // V
  int64_t num_hidden_layers = 0;  // L
  int64_t num_nextn_predict_layers = 0;  // D (0: no MTP layer)
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;  // dense MLP width
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  std::string torch_dtype = "bfloat16";
  std::variant<MlaConfig, GqaConfig> attention;
  MoeConfig moe;
  QuantizationConfig quantization;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  bool operator==(const ModelConfig&) const = default;

  int64_t total_layers() const { return num_hidden_layers + num_nextn_predict_layers; }
  bool is_mtp_layer(int64_t layer) const {
    return layer >= num_hidden_layers && layer < total_layers();
  }
  // SPEC §4: MoE iff layer >= first_k_dense_replace (and layer % moe_layer_freq == 0 for
  // DeepSeek); MTP layers are always MoE.
  bool is_moe_layer(int64_t layer) const;
  const MlaConfig* mla() const { return std::get_if<MlaConfig>(&attention); }
  const GqaConfig* gqa() const { return std::get_if<GqaConfig>(&attention); }
  // Size of one attention head's query/key vector: MLA qk_nope + qk_rope, GQA head_dim.
  int64_t qk_head_dim() const;
};

// Parses config.json text. Accepts `rope_scaling` or `rope_parameters`, `type` or `rope_type`,
// `torch_dtype` or `dtype`. An unknown architecture, a missing required field, a wrong type or a
// contradictory size is an Error naming `file_label` and the field.
ModelConfig parse_model_config(std::string_view json_text, std::string_view file_label);
// Reads dir/config.json.
ModelConfig load_model_config(const std::filesystem::path& dir);
// The config as HuggingFace writes it (real field names), for make-tiny. parse(to_json(c)) == c.
std::string model_config_to_json(const ModelConfig& config);

}  // namespace nextn
