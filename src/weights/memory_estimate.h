// What a load costs: bytes to read, bytes one step touches, and the KV cache per token.
// Works from names and the config alone, or from the shard headers when the weights are there.
#pragma once

#include <cstdint>

#include "config/model_config.h"
#include "io/checkpoint.h"
#include "weights/load_plan.h"

namespace nextn {

// The KV cache stores fp32 values (the engine's activation type).
inline constexpr uint64_t kKvBytesPerValue = 4;

struct MemoryEstimate {
  uint64_t weight_bytes = 0;       // distinct tensors of the load: what is read and stays mapped
  uint64_t target_step_bytes = 0;  // weights one target decode step reads (top-k experts only)
  uint64_t mtp_step_bytes = 0;     // weights one MTP draft step reads
  uint64_t kv_bytes_per_token = 0; // over every attention layer of the load
  bool from_headers = false;       // sizes read from shard headers (else from the config)

  uint64_t resident_bytes(uint64_t context_tokens) const {
    return weight_bytes + kv_bytes_per_token * context_tokens;
  }
};

// `checkpoint` supplies real tensor sizes when every shard is present; pass nullptr (or a
// checkpoint without weights) to estimate from the config's shapes and dtypes.
MemoryEstimate estimate_memory(const LoadPlan& plan, const ModelConfig& config,
                               LoadMode mode, const Checkpoint* checkpoint);

// KV values per token in one attention layer: MLA caches [c_kv | k_rope]
// (kv_lora_rank + qk_rope_head_dim, 576 for V3); GQA caches K and V (2 × kv_heads × head_dim).
uint64_t kv_values_per_token_per_layer(const ModelConfig& config);

}  // namespace nextn
