// One pre-norm decoder layer (SPEC §4): h = x + Attn(RMSNorm_in(x)); out = h + MLP(RMSNorm_post(h)).
#pragma once

#include <cstdint>

#include "kv/kv_cache.h"
#include "model/forward_context.h"
#include "model/model_weights.h"

namespace nextn {

struct LayerArgs {
  float* hidden = nullptr;  // [T, H], the residual stream, updated in place
  int64_t tokens = 0;
  int64_t start = 0;     // cache slot of row 0
  int64_t position = 0;  // RoPE position of row 0
  KvCache* kv = nullptr;
  int64_t cache_layer = 0;
};

void decoder_layer(const DecoderLayerWeights& w, const ForwardContext& ctx, const LayerArgs& args);

}  // namespace nextn
