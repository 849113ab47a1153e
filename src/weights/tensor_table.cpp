#include "weights/tensor_table.h"

#include <algorithm>
#include <regex>
#include <set>

#include "core/error.h"
#include "weights/weight_names.h"

namespace nextn {

int64_t TensorSpec::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<int64_t> fp8_scale_shape(const QuantizationConfig& quantization, int64_t out,
                                     int64_t in) {
  using Strategy = QuantizationConfig::Strategy;
  switch (quantization.strategy) {
    case Strategy::kBlock:
      return {(out + quantization.block_rows - 1) / quantization.block_rows,
              (in + quantization.block_cols - 1) / quantization.block_cols};
    case Strategy::kChannel: return {out, 1};
    case Strategy::kTensor: return {};
  }
  return {};
}

namespace {

// Collects the specs of one model. Layer-level helpers take the HF prefix
// ("model.layers.{i}.") and derive canonical names through weight_names.h, so the rename rules
// live in one place.
class TableBuilder {
 public:
  explicit TableBuilder(const ModelConfig& config) : config_(config) {
    if (config.torch_dtype == "float32") activation_dtype_ = DType::kF32;
    if (config.torch_dtype == "float16") activation_dtype_ = DType::kF16;
    for (const std::string& ignored : config.quantization.ignore) {
      if (ignored.starts_with("re:")) {
        ignored_patterns_.emplace_back(ignored.substr(3));
      } else {
        ignored_modules_.insert(ignored);
      }
    }
  }

  std::vector<TensorSpec> build() {
    const int64_t hidden = config_.hidden_size;
    const int64_t vocab = config_.vocab_size;
    add("model.embed_tokens.weight", {vocab, hidden}, TensorRole::kEmbedding, -1);
    for (int64_t layer = 0; layer < config_.total_layers(); ++layer) add_decoder_layer(layer);
    add("model.norm.weight", {hidden}, TensorRole::kNorm, -1);
    add_linear_or_plain("lm_head.weight", {vocab, hidden}, TensorRole::kHead, -1);
    return std::move(specs_);
  }

 private:
  std::string layer_prefix(int64_t layer) const { return fmt::format("model.layers.{}.", layer); }

  void add_decoder_layer(int64_t layer) {
    const std::string prefix = layer_prefix(layer);
    const int64_t hidden = config_.hidden_size;
    add(prefix + "input_layernorm.weight", {hidden}, TensorRole::kNorm, layer);
    add(prefix + "post_attention_layernorm.weight", {hidden}, TensorRole::kNorm, layer);
    if (config_.mla() != nullptr) {
      add_mla(prefix, layer);
    } else {
      add_gqa(prefix, layer);
    }
    if (config_.is_moe_layer(layer)) {
      add_moe(prefix, layer);
    } else {
      add_mlp(prefix + "mlp.", config_.intermediate_size, layer, -1);
    }
    if (config_.is_mtp_layer(layer)) add_mtp_extras(prefix, layer);
  }

  void add_mla(const std::string& prefix, int64_t layer) {
    const MlaConfig& mla = *config_.mla();
    const int64_t hidden = config_.hidden_size;
    const int64_t heads = config_.num_attention_heads;
    const int64_t qk_head = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
    const std::string attn = prefix + "self_attn.";
    if (mla.q_lora_rank) {
      add_linear(attn + "q_a_proj.weight", *mla.q_lora_rank, hidden, layer);
      add(attn + "q_a_layernorm.weight", {*mla.q_lora_rank}, TensorRole::kNorm, layer);
      add_linear(attn + "q_b_proj.weight", heads * qk_head, *mla.q_lora_rank, layer);
    } else {
      add_linear(attn + "q_proj.weight", heads * qk_head, hidden, layer);
    }
    add_linear(attn + "kv_a_proj_with_mqa.weight", mla.kv_lora_rank + mla.qk_rope_head_dim,
               hidden, layer);
    add(attn + "kv_a_layernorm.weight", {mla.kv_lora_rank}, TensorRole::kNorm, layer);
    add_linear(attn + "kv_b_proj.weight", heads * (mla.qk_nope_head_dim + mla.v_head_dim),
               mla.kv_lora_rank, layer);
    add_linear(attn + "o_proj.weight", hidden, heads * mla.v_head_dim, layer);
  }

  void add_gqa(const std::string& prefix, int64_t layer) {
    const GqaConfig& gqa = *config_.gqa();
    const int64_t hidden = config_.hidden_size;
    const int64_t q_width = config_.num_attention_heads * gqa.head_dim;
    const int64_t kv_width = gqa.num_key_value_heads * gqa.head_dim;
    const std::string attn = prefix + "self_attn.";
    add_linear(attn + "q_proj.weight", q_width, hidden, layer);
    add_linear(attn + "k_proj.weight", kv_width, hidden, layer);
    add_linear(attn + "v_proj.weight", kv_width, hidden, layer);
    if (gqa.attention_bias) {
      add(attn + "q_proj.bias", {q_width}, TensorRole::kBias, layer);
      add(attn + "k_proj.bias", {kv_width}, TensorRole::kBias, layer);
      add(attn + "v_proj.bias", {kv_width}, TensorRole::kBias, layer);
    }
    add_linear(attn + "o_proj.weight", hidden, q_width, layer);
    if (gqa.use_qk_norm) {
      add(attn + "q_norm.weight", {gqa.head_dim}, TensorRole::kNorm, layer);
      add(attn + "k_norm.weight", {gqa.head_dim}, TensorRole::kNorm, layer);
    }
  }

  void add_mlp(const std::string& prefix, int64_t width, int64_t layer, int64_t expert) {
    const int64_t hidden = config_.hidden_size;
    add_linear(prefix + "gate_proj.weight", width, hidden, layer, expert);
    add_linear(prefix + "up_proj.weight", width, hidden, layer, expert);
    add_linear(prefix + "down_proj.weight", hidden, width, layer, expert);
  }

  void add_moe(const std::string& prefix, int64_t layer) {
    const MoeConfig& moe = config_.moe;
    // The router stays unquantized in every release (SPEC §2); the bias is F32.
    add_linear_or_plain(prefix + "mlp.gate.weight", {moe.n_routed_experts, config_.hidden_size},
                        TensorRole::kRouter, layer);
    add(prefix + "mlp.gate.e_score_correction_bias", {moe.n_routed_experts},
        TensorRole::kRouterBias, layer, -1, DType::kF32);
    for (int64_t expert = 0; expert < moe.n_routed_experts; ++expert) {
      add_mlp(fmt::format("{}mlp.experts.{}.", prefix, expert), moe.moe_intermediate_size, layer,
              expert);
    }
    if (moe.n_shared_experts > 0) {
      add_mlp(prefix + "mlp.shared_experts.",
              moe.moe_intermediate_size * moe.n_shared_experts, layer, -1);
    }
  }

  // enorm, hnorm, eh_proj, shared_head (rule 2), and the own embedding / head copies that fall
  // back to the target's (rule 3). Only MTP layer 0's embed_tokens is a parameter.
  void add_mtp_extras(const std::string& prefix, int64_t layer) {
    const int64_t hidden = config_.hidden_size;
    const int64_t vocab = config_.vocab_size;
    const bool first_mtp_layer = layer == config_.num_hidden_layers;
    if (first_mtp_layer) {
      add(prefix + "embed_tokens.weight", {vocab, hidden}, TensorRole::kEmbedding, layer);
      specs_.back().shared_with = "model.embed_tokens.weight";
    }
    add(prefix + "enorm.weight", {hidden}, TensorRole::kNorm, layer);
    add(prefix + "hnorm.weight", {hidden}, TensorRole::kNorm, layer);
    // eh_proj stays BF16 in the FP8 releases (SPEC §2).
    add_linear_or_plain(prefix + "eh_proj.weight", {hidden, 2 * hidden}, TensorRole::kLinear,
                        layer);
    add(prefix + "shared_head.norm.weight", {hidden}, TensorRole::kNorm, layer);
    // The head copy stays unquantized, like the embedding copy and the target head it stands
    // in for (lm_head is on every FP8 release's ignore list).
    add(prefix + "shared_head.head.weight", {vocab, hidden}, TensorRole::kHead, layer);
    specs_.back().shared_with = "lm_head.weight";
  }

  // A projection that is FP8 (with its scale) when the config quantizes it.
  void add_linear(const std::string& hf_name, int64_t out, int64_t in, int64_t layer,
                  int64_t expert = -1) {
    if (!is_quantized(hf_name)) {
      add(hf_name, {out, in}, TensorRole::kLinear, layer, expert);
      return;
    }
    add(hf_name, {out, in}, TensorRole::kLinear, layer, expert, DType::kF8E4M3);
    add(scale_name(hf_name), fp8_scale_shape(config_.quantization, out, in),
        TensorRole::kLinearScale, layer, expert, DType::kF32);
  }

  // A matrix that a quantized DeepSeek checkpoint keeps in BF16, but that compressed-tensors
  // may quantize unless it is on the ignore list.
  void add_linear_or_plain(const std::string& hf_name, std::vector<int64_t> shape,
                           TensorRole role, int64_t layer) {
    using Method = QuantizationConfig::Method;
    if (config_.quantization.method == Method::kCompressedTensorsFp8 &&
        role != TensorRole::kRouter && is_quantized(hf_name)) {
      add_linear(hf_name, shape[0], shape[1], layer);
      (specs_.end() - 2)->role = role;  // the weight keeps its role; its scale stays a scale
      return;
    }
    add(hf_name, std::move(shape), role, layer);
  }

  bool is_quantized(const std::string& hf_name) const {
    using Method = QuantizationConfig::Method;
    const QuantizationConfig& quantization = config_.quantization;
    if (quantization.method == Method::kNone) return false;
    if (quantization.method == Method::kFp8Block) return true;
    // compressed-tensors: every Linear outside the ignore list, whose entries are module names
    // ("lm_head", "model.layers.0.mlp.gate") or "re:<regex>" patterns matched against the
    // whole module name.
    const std::string module = hf_name.substr(0, hf_name.rfind('.'));
    if (ignored_modules_.contains(module)) return false;
    return std::none_of(ignored_patterns_.begin(), ignored_patterns_.end(),
                        [&](const std::regex& pattern) { return std::regex_match(module, pattern); });
  }

  std::string scale_name(const std::string& hf_name) const {
    using Method = QuantizationConfig::Method;
    if (config_.quantization.method == Method::kFp8Block) return hf_name + "_scale_inv";
    return hf_name + "_scale";  // compressed-tensors: "<module>.weight_scale"
  }

  void add(const std::string& hf_name, std::vector<int64_t> shape, TensorRole role,
           int64_t layer, int64_t expert = -1, std::optional<DType> dtype = std::nullopt) {
    TensorSpec spec;
    spec.name = canonical_name(hf_name, config_);
    spec.hf_name = hf_name;
    spec.shape = std::move(shape);
    spec.dtype = dtype.value_or(activation_dtype_);
    spec.role = role;
    spec.layer = layer;
    spec.expert = expert;
    spec.part = (layer >= 0 && config_.is_mtp_layer(layer)) ? ModelPart::kMtp : ModelPart::kTarget;
    specs_.push_back(std::move(spec));
  }

  const ModelConfig& config_;
  DType activation_dtype_ = DType::kBF16;
  std::set<std::string> ignored_modules_;
  std::vector<std::regex> ignored_patterns_;
  std::vector<TensorSpec> specs_;
};

}  // namespace

std::vector<TensorSpec> build_tensor_table(const ModelConfig& config) {
  return TableBuilder(config).build();
}

}  // namespace nextn
