// One pre-norm decoder layer (SPEC §4): h = x + Attn(RMSNorm_in(x)); out = h +
// MLP(RMSNorm_post(h)).
#pragma once

#include <cstdint>

#include "kv/kv_cache.h"
#include "model/attention.h"
#include "model/forward_context.h"
#include "model/model_weights.h"

namespace nextn {

struct LayerArgs {
  float* hidden = nullptr;  // [T, H], the residual stream, updated in place
  int64_t tokens = 0;
  const RowPlace* rows = nullptr;  // [T]: each row's cache, slot and position (attention.h)
  int64_t cache_layer = 0;
};

void decoder_layer(const DecoderLayerWeights& w, const ForwardContext& ctx, const LayerArgs& args);

}  // namespace nextn
