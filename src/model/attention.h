// Attention over a sequence's KV cache (SPEC §4): DeepSeek MLA and GLM GQA.
//
// Both take the normed input rows x [T, H], write their cache rows into slots start ..
// start+T−1 of layer `cache_layer` of `kv`, attend causally (row t sees slots 0 .. start+t),
// and write out [T, H]. RoPE uses the positions position .. position+T−1: the target's slots
// are its positions, an MTP layer's draft rows may sit at later positions than their slots.
// The caller commits the slots.
#pragma once

#include <cstdint>

#include "kv/kv_cache.h"
#include "model/forward_context.h"
#include "model/model_weights.h"

namespace nextn {

struct AttentionArgs {
  const float* x = nullptr;  // [T, H]
  int64_t tokens = 0;        // T
  int64_t start = 0;         // cache slot of row 0
  int64_t position = 0;      // RoPE position of row 0
  KvCache* kv = nullptr;
  int64_t cache_layer = 0;
  float* out = nullptr;  // [T, H]
};

void mla_attention(const MlaWeights& w, const ForwardContext& ctx, const AttentionArgs& args);
void gqa_attention(const GqaWeights& w, const ForwardContext& ctx, const AttentionArgs& args);

// Cache row width of one layer: MLA kv_lora + qk_rope, GQA 2 × kv_heads × head_dim.
int64_t kv_cache_width(const ModelConfig& config);

// Sizes every pool thread's attention scratch for caches of `capacity` positions, so that
// decode steps never allocate (DESIGN principle 4).
void reserve_attention_scratch(const ModelConfig& config, int64_t capacity, ThreadPool& pool);

}  // namespace nextn
