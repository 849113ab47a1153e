#include "model/decoder_layer.h"

#include "kernels/kernels.h"
#include "model/attention.h"
#include "model/mlp.h"

namespace nextn {

void decoder_layer(const DecoderLayerWeights& w, const ForwardContext& ctx, const LayerArgs& args) {
  const int64_t T = args.tokens;
  const int64_t H = ctx.config.hidden_size;
  const float eps = static_cast<float>(ctx.config.rms_norm_eps);
  float* normed = ctx.arena.take(T * H);
  float* delta = ctx.arena.take(T * H);

  rms_norm(args.hidden, w.input_layernorm.data(), T, H, H, eps, normed);
  const AttentionArgs attention{
      .x = normed, .tokens = T, .rows = args.rows, .cache_layer = args.cache_layer, .out = delta};
  if (ctx.traffic != nullptr) {
    // Each sequence's cache rows up to its last row in the pass (rows of a sequence are
    // consecutive), read once from memory; repeats per head come from the caches.
    const auto row_bytes = static_cast<uint64_t>(kv_cache_width(ctx.config)) * sizeof(float);
    for (int64_t t = 0; t < T; ++t) {
      if (t + 1 == T || args.rows[t + 1].kv != args.rows[t].kv) {
        ctx.traffic->kv_bytes += static_cast<uint64_t>(args.rows[t].slot + 1) * row_bytes;
      }
    }
  }
  if (const auto* mla = std::get_if<MlaWeights>(&w.attention)) {
    mla_attention(*mla, ctx, attention);
  } else {
    gqa_attention(std::get<GqaWeights>(w.attention), ctx, attention);
  }
  axpy(1.0f, delta, args.hidden, T * H);

  rms_norm(args.hidden, w.post_attention_layernorm.data(), T, H, H, eps, normed);
  if (const auto* moe = std::get_if<MoeWeights>(&w.mlp)) {
    moe_mlp(*moe, ctx, normed, T, delta);
  } else {
    swiglu_mlp(std::get<MlpWeights>(w.mlp), ctx, normed, T, delta);
  }
  axpy(1.0f, delta, args.hidden, T * H);
}

}  // namespace nextn
