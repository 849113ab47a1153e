// Attention over a sequence's KV cache (SPEC §4): DeepSeek MLA and GLM GQA.
//
// Both take the normed input rows x [T, H] of tokens at positions start .. start+T-1, append
// their cache rows for those positions to layer `cache_layer` of `kv`, attend causally over
// positions 0 .. p for the row at p, and write out [T, H]. The caller commits the positions.
#pragma once

#include <cstdint>

#include "kv/kv_cache.h"
#include "model/forward_context.h"
#include "model/model_weights.h"

namespace nextn {

struct AttentionArgs {
  const float* x = nullptr;  // [T, H]
  int64_t tokens = 0;        // T
  int64_t start = 0;         // position of row 0
  KvCache* kv = nullptr;
  int64_t cache_layer = 0;
  float* out = nullptr;  // [T, H]
};

void mla_attention(const MlaWeights& w, const ForwardContext& ctx, const AttentionArgs& args);
void gqa_attention(const GqaWeights& w, const ForwardContext& ctx, const AttentionArgs& args);

// Cache row width of one layer: MLA kv_lora + qk_rope, GQA 2 × kv_heads × head_dim.
int64_t kv_cache_width(const ModelConfig& config);

}  // namespace nextn
