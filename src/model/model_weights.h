// The model's parameters bound to the kernels' types: projections as WeightMatrix views into
// the mapped checkpoint, small vectors (norms, biases) as fp32 copies, FP8 scales as aligned
// fp32 copies. One struct per block kind; attention and MLP are variants (DESIGN: no union of
// every architecture's tensors).
#pragma once

#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "config/model_config.h"
#include "kernels/weight_matrix.h"
#include "weights/weight_set.h"

namespace nextn {

using Vector = std::vector<float>;

struct MlaWeights {
  std::optional<WeightMatrix> q_a_proj;  // with q_lora_rank
  Vector q_a_layernorm;
  std::optional<WeightMatrix> q_b_proj;
  std::optional<WeightMatrix> q_proj;    // without q_lora_rank
  WeightMatrix kv_a_proj_with_mqa;       // [kv_lora + qk_rope, H]
  Vector kv_a_layernorm;                 // [kv_lora]
  WeightMatrix kv_b_proj;                // [heads × (qk_nope + v), kv_lora]
  WeightMatrix o_proj;                   // [H, heads × v]
};

struct GqaWeights {
  WeightMatrix q_proj, k_proj, v_proj, o_proj;
  Vector q_bias, k_bias, v_bias;  // empty without attention_bias
  Vector q_norm, k_norm;          // empty without use_qk_norm
};

struct MlpWeights {
  WeightMatrix gate_proj, up_proj, down_proj;
};

struct MoeWeights {
  WeightMatrix router;        // mlp.gate.weight [E, H]
  Vector correction_bias;     // e_score_correction_bias [E]
  std::vector<MlpWeights> experts;
  std::optional<MlpWeights> shared_experts;
};

struct DecoderLayerWeights {
  Vector input_layernorm;
  Vector post_attention_layernorm;
  std::variant<MlaWeights, GqaWeights> attention;
  std::variant<MlpWeights, MoeWeights> mlp;
};

struct MtpLayerWeights {
  Vector enorm, hnorm, shared_head_norm;
  WeightMatrix eh_proj;  // [H, 2H]: columns 0..H-1 multiply the embedding
  WeightMatrix head;     // own shared_head.head, or lm_head
  DecoderLayerWeights block;
};

struct ModelWeights {
  WeightMatrix embed_tokens;  // [V, H]; a token's row is decoded on lookup
  std::vector<DecoderLayerWeights> layers;
  Vector norm;
  WeightMatrix lm_head;
  std::optional<WeightMatrix> mtp_embed_tokens;  // own copy or the target's
  std::vector<MtpLayerWeights> mtp_layers;
  // Aligned fp32 copies of every FP8 scale tensor (mapped ones may be misaligned); the
  // WeightMatrix views above point into these.
  std::vector<std::unique_ptr<Vector>> owned_scales;
  // The widest projection row (columns): the size of the kernels' per-thread row scratch.
  int64_t max_cols = 0;
};

// Binds a loaded WeightSet: the target part when the load has it, the MTP part when it has
// that. Throws Error naming the parameter if the set lacks one.
std::unique_ptr<ModelWeights> bind_model_weights(const WeightSet& weights,
                                                 const ModelConfig& config);

}  // namespace nextn
