// Every tensor of a model declared once, as data (DESIGN principle 2).
//
// build_tensor_table walks the config and lists each parameter the engine needs: its canonical
// name, the HuggingFace name it is stored under, the target tensor that may stand in for it
// (SPEC §3 rule 3), its shape and the dtype the config says it has on disk. Loading, the
// coverage check, memory estimates, `nextn inspect`, make-tiny and the tests all walk this one
// table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/model_config.h"
#include "tensor/dtype.h"

namespace nextn {

enum class TensorRole {
  kEmbedding,   // [V, H]
  kHead,        // [V, H]
  kNorm,        // RMSNorm weight
  kLinear,      // projection weight [out, in]; FP8 in quantized checkpoints
  kLinearScale, // the FP8 scale beside a kLinear (weight_scale_inv / weight_scale), F32
  kBias,        // attention q/k/v bias (GLM)
  kRouter,      // mlp.gate.weight [E, H]
  kRouterBias,  // mlp.gate.e_score_correction_bias [E], F32
};

// Which load mode needs a tensor (SPEC §3 rule 6).
enum class ModelPart { kTarget, kMtp };

struct TensorSpec {
  std::string name;     // canonical engine name (weight_names.h)
  std::string hf_name;  // the checkpoint name
  // The target tensor that replaces this one when the checkpoint has no copy (rule 3: the MTP
  // embedding and head fall back to model.embed_tokens / lm_head).
  std::optional<std::string> shared_with;
  std::vector<int64_t> shape;
  DType dtype = DType::kBF16;  // on disk, as the config implies
  TensorRole role = TensorRole::kLinear;
  ModelPart part = ModelPart::kTarget;
  int64_t layer = -1;  // decoder layer (L + k for MTP layer k); -1 for global tensors
  // Routed expert index, or -1. Used for per-token byte estimates (only top-k are read).
  int64_t expert = -1;

  int64_t numel() const;
  uint64_t nbytes() const { return static_cast<uint64_t>(numel()) * dtype_size(dtype); }
};

std::vector<TensorSpec> build_tensor_table(const ModelConfig& config);

// The FP8 scale tensor's shape for a quantized [out, in] weight, from the config's strategy:
// block ⌈out/br⌉ × ⌈in/bc⌉, channel [out, 1], tensor [] (a scalar).
std::vector<int64_t> fp8_scale_shape(const QuantizationConfig& quantization, int64_t out,
                                     int64_t in);

}  // namespace nextn
