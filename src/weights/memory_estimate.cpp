#include "weights/memory_estimate.h"

#include <set>

namespace nextn {

uint64_t kv_values_per_token_per_layer(const ModelConfig& config) {
  if (const MlaConfig* mla = config.mla()) {
    return static_cast<uint64_t>(mla->kv_lora_rank + mla->qk_rope_head_dim);
  }
  const GqaConfig& gqa = *config.gqa();
  return static_cast<uint64_t>(2 * gqa.num_key_value_heads * gqa.head_dim);
}

MemoryEstimate estimate_memory(const LoadPlan& plan, const ModelConfig& config, LoadMode mode,
                               const Checkpoint* checkpoint) {
  MemoryEstimate estimate;
  estimate.from_headers = checkpoint != nullptr && checkpoint->weights_present();
  auto bytes_of = [&](const PlannedTensor& planned) -> uint64_t {
    if (estimate.from_headers) {
      const SafetensorsEntry& entry = checkpoint->entry(planned.source);
      return entry.end - entry.begin;
    }
    return planned.spec->nbytes();
  };
  // Per step: each routed expert is read with probability top_k / E on average, exactly top_k
  // of them per layer; an embedding is read one row at a time.
  const auto& moe = config.moe;
  auto step_bytes = [&](const PlannedTensor& planned, uint64_t bytes) -> uint64_t {
    const TensorSpec& spec = *planned.spec;
    if (spec.role == TensorRole::kEmbedding) return bytes / static_cast<uint64_t>(spec.shape[0]);
    if (spec.expert >= 0) {
      return bytes * static_cast<uint64_t>(moe.num_experts_per_tok) /
             static_cast<uint64_t>(moe.n_routed_experts);
    }
    return bytes;
  };

  std::set<std::string_view> counted;
  for (const PlannedTensor& planned : plan.tensors) {
    const uint64_t bytes = bytes_of(planned);
    if (counted.insert(planned.source).second) estimate.weight_bytes += bytes;
    if (planned.spec->part == ModelPart::kMtp) {
      estimate.mtp_step_bytes += step_bytes(planned, bytes);
    } else {
      estimate.target_step_bytes += step_bytes(planned, bytes);
    }
  }

  uint64_t attention_layers = 0;
  if (mode != LoadMode::kMtpOnly) attention_layers += static_cast<uint64_t>(config.num_hidden_layers);
  if (mode != LoadMode::kTargetOnly) {
    attention_layers += static_cast<uint64_t>(config.num_nextn_predict_layers);
  }
  estimate.kv_bytes_per_token =
      attention_layers * kv_values_per_token_per_layer(config) * kKvBytesPerValue;
  return estimate;
}

}  // namespace nextn
