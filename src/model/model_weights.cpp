#include "model/model_weights.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace nextn {
namespace {

Vector to_vector(const TensorView& view) {
  Vector values(static_cast<size_t>(view.numel()));
  const size_t size = dtype_size(view.dtype);
  for (size_t i = 0; i < values.size(); ++i) {
    const std::byte* p = view.data.data() + i * size;
    switch (view.dtype) {
      case DType::kF32: std::memcpy(&values[i], p, 4); break;
      case DType::kBF16:
      case DType::kF16: {
        uint16_t bits;
        std::memcpy(&bits, p, 2);
        values[i] = view.dtype == DType::kBF16 ? bf16_to_f32(bits) : f16_to_f32(bits);
        break;
      }
      case DType::kF8E4M3:
        fail("{}: tensor '{}': an FP8 tensor where a vector was expected", view.file, view.name);
    }
  }
  return values;
}

class Binder {
 public:
  Binder(const WeightSet& weights, const ModelConfig& config, ModelWeights& model)
      : weights_(weights), config_(config), model_(model) {}

  Vector vector(const std::string& name) { return to_vector(weights_.get(name)); }

  WeightMatrix matrix(const std::string& name) {
    const TensorView& view = weights_.get(name);
    WeightMatrix w;
    w.dtype = view.dtype;
    w.rows = view.shape.at(0);
    w.cols = view.shape.at(1);
    w.data = view.data.data();
    model_.max_cols = std::max(model_.max_cols, w.cols);
    if (view.dtype != DType::kF8E4M3) return w;
    // The scale's name: DeepSeek "<w>_scale_inv", compressed-tensors "<w>_scale".
    const TensorView* scale = weights_.find(name + "_scale_inv");
    if (scale == nullptr) scale = weights_.find(name + "_scale");
    if (scale == nullptr) fail("FP8 weight '{}' has no scale tensor", view.name);
    model_.owned_scales.push_back(std::make_unique<Vector>(to_vector(*scale)));
    w.scales = model_.owned_scales.back()->data();
    const QuantizationConfig& q = config_.quantization;
    switch (q.strategy) {
      case QuantizationConfig::Strategy::kBlock:
        w.scale_block_rows = q.block_rows;
        w.scale_block_cols = q.block_cols;
        break;
      case QuantizationConfig::Strategy::kChannel:
        w.scale_block_rows = 1;
        w.scale_block_cols = w.cols;
        break;
      case QuantizationConfig::Strategy::kTensor:
        w.scale_block_rows = w.rows;
        w.scale_block_cols = w.cols;
        break;
    }
    w.scale_grid_cols = (w.cols + w.scale_block_cols - 1) / w.scale_block_cols;
    return w;
  }

  MlpWeights mlp(const std::string& prefix) {
    return {matrix(prefix + "gate_proj.weight"), matrix(prefix + "up_proj.weight"),
            matrix(prefix + "down_proj.weight")};
  }

  DecoderLayerWeights decoder_layer(const std::string& prefix, int64_t layer) {
    DecoderLayerWeights d;
    d.input_layernorm = vector(prefix + "input_layernorm.weight");
    d.post_attention_layernorm = vector(prefix + "post_attention_layernorm.weight");
    const std::string attn = prefix + "self_attn.";
    if (const MlaConfig* mla = config_.mla()) {
      MlaWeights a;
      if (mla->q_lora_rank) {
        a.q_a_proj = matrix(attn + "q_a_proj.weight");
        a.q_a_layernorm = vector(attn + "q_a_layernorm.weight");
        a.q_b_proj = matrix(attn + "q_b_proj.weight");
      } else {
        a.q_proj = matrix(attn + "q_proj.weight");
      }
      a.kv_a_proj_with_mqa = matrix(attn + "kv_a_proj_with_mqa.weight");
      a.kv_a_layernorm = vector(attn + "kv_a_layernorm.weight");
      a.kv_b_proj = matrix(attn + "kv_b_proj.weight");
      a.o_proj = matrix(attn + "o_proj.weight");
      d.attention = std::move(a);
    } else {
      const GqaConfig& gqa = *config_.gqa();
      GqaWeights a{.q_proj = matrix(attn + "q_proj.weight"),
                   .k_proj = matrix(attn + "k_proj.weight"),
                   .v_proj = matrix(attn + "v_proj.weight"),
                   .o_proj = matrix(attn + "o_proj.weight")};
      if (gqa.attention_bias) {
        a.q_bias = vector(attn + "q_proj.bias");
        a.k_bias = vector(attn + "k_proj.bias");
        a.v_bias = vector(attn + "v_proj.bias");
      }
      if (gqa.use_qk_norm) {
        a.q_norm = vector(attn + "q_norm.weight");
        a.k_norm = vector(attn + "k_norm.weight");
      }
      d.attention = std::move(a);
    }
    if (config_.is_moe_layer(layer)) {
      MoeWeights moe;
      moe.router = matrix(prefix + "mlp.gate.weight");
      moe.correction_bias = vector(prefix + "mlp.gate.e_score_correction_bias");
      for (int64_t e = 0; e < config_.moe.n_routed_experts; ++e) {
        moe.experts.push_back(mlp(fmt::format("{}mlp.experts.{}.", prefix, e)));
      }
      if (config_.moe.n_shared_experts > 0) moe.shared_experts = mlp(prefix + "mlp.shared_experts.");
      d.mlp = std::move(moe);
    } else {
      d.mlp = mlp(prefix + "mlp.");
    }
    return d;
  }

  void bind() {
    const bool has_target = weights_.find("norm.weight") != nullptr;
    const bool has_mtp = config_.num_nextn_predict_layers > 0 &&
                         weights_.find("mtp.0.enorm.weight") != nullptr;
    if (has_target) {
      model_.embed_tokens = matrix("embed_tokens.weight");
      for (int64_t layer = 0; layer < config_.num_hidden_layers; ++layer) {
        model_.layers.push_back(decoder_layer(fmt::format("layers.{}.", layer), layer));
      }
      model_.norm = vector("norm.weight");
      model_.lm_head = matrix("lm_head.weight");
    }
    if (has_mtp) {
      model_.mtp_embed_tokens = matrix("mtp.embed_tokens.weight");
      for (int64_t k = 0; k < config_.num_nextn_predict_layers; ++k) {
        const std::string prefix = fmt::format("mtp.{}.", k);
        MtpLayerWeights m;
        m.enorm = vector(prefix + "enorm.weight");
        m.hnorm = vector(prefix + "hnorm.weight");
        m.shared_head_norm = vector(prefix + "shared_head.norm.weight");
        m.eh_proj = matrix(prefix + "eh_proj.weight");
        m.head = matrix(prefix + "shared_head.head.weight");
        m.block = decoder_layer(prefix + "block.", config_.num_hidden_layers + k);
        model_.mtp_layers.push_back(std::move(m));
      }
    }
  }

 private:
  const WeightSet& weights_;
  const ModelConfig& config_;
  ModelWeights& model_;
};

}  // namespace

std::unique_ptr<ModelWeights> bind_model_weights(const WeightSet& weights,
                                                 const ModelConfig& config) {
  auto model = std::make_unique<ModelWeights>();
  Binder(weights, config, *model).bind();
  return model;
}

}  // namespace nextn
