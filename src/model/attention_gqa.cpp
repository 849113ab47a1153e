// GLM grouped-query attention (SPEC §4): q/k/v with bias, per-head q/k RMSNorm before RoPE,
// NeoX RoPE on the first head_dim × partial_rotary_factor channels, scale head_dim^-½.
// Cache row per position: [K of every KV head | V of every KV head].
#include <algorithm>
#include <vector>

#include "kernels/kernels.h"
#include "model/attention.h"

namespace nextn {

int64_t kv_cache_width(const ModelConfig& config) {
  if (const MlaConfig* mla = config.mla()) return mla->kv_lora_rank + mla->qk_rope_head_dim;
  return 2 * config.gqa()->num_key_value_heads * config.gqa()->head_dim;
}

int64_t heads_per_attention_task(int64_t sharing, int64_t heads, int64_t threads) {
  const int64_t share = (heads + threads - 1) / std::max<int64_t>(1, threads);
  return std::min(sharing, (share + 3) / 4 * 4);
}

namespace {
// The floats of a thread's attention scratch (ThreadPool::Scratch::kScores).
size_t attention_scratch_floats(const ModelConfig& config, int64_t threads) {
  if (const MlaConfig* mla = config.mla()) {
    // A task takes at most every head (a long context's spans, attention_mla.cpp), the naive
    // form one head at a time over its v_head_dim values.
    return std::max(attend_scratch_floats(config.num_attention_heads, mla->kv_lora_rank),
                    attend_scratch_floats(1, mla->v_head_dim));
  }
  const GqaConfig& gqa = *config.gqa();
  const int64_t group = config.num_attention_heads / gqa.num_key_value_heads;
  return attend_scratch_floats(heads_per_attention_task(group, config.num_attention_heads, threads),
                               gqa.head_dim);
}
}  // namespace

void reserve_attention_scratch(const ModelConfig& config, ThreadPool& pool) {
  pool.reserve_scratch(ThreadPool::Scratch::kScores, attention_scratch_floats(config, pool.size()));
  if (const MlaConfig* mla = config.mla()) {
    pool.reserve_scratch(ThreadPool::Scratch::kLatent, static_cast<size_t>(mla->kv_lora_rank));
  }
}

int64_t max_attended(const AttentionArgs& args) {
  int64_t most = 0;
  for (int64_t t = 0; t < args.tokens; ++t) most = std::max(most, args.rows[t].slot + 1);
  return most;
}

void gqa_attention(const GqaWeights& w, const ForwardContext& ctx, const AttentionArgs& args) {
  const ModelConfig& config = ctx.config;
  const GqaConfig& gqa = *config.gqa();
  const int64_t T = args.tokens;
  const int64_t H = config.hidden_size;
  const int64_t heads = config.num_attention_heads;
  const int64_t kv_heads = gqa.num_key_value_heads;
  const int64_t d = gqa.head_dim;
  const int64_t group = heads / kv_heads;
  const float eps = static_cast<float>(config.rms_norm_eps);
  const float scale = static_cast<float>(ctx.softmax_scale);

  float* q = ctx.arena.take(T * heads * d);
  float* k = ctx.arena.take(T * kv_heads * d);
  float* v = ctx.arena.take(T * kv_heads * d);
  project(ctx, w.q_proj, args.x, H, T, q, heads * d);
  project(ctx, w.k_proj, args.x, H, T, k, kv_heads * d);
  project(ctx, w.v_proj, args.x, H, T, v, kv_heads * d);
  float* cos = ctx.arena.take(ctx.rope.rotary_dim() / 2);
  float* sin = ctx.arena.take(ctx.rope.rotary_dim() / 2);
  for (int64_t t = 0; t < T; ++t) {
    float* qt = q + t * heads * d;
    float* kt = k + t * kv_heads * d;
    float* vt = v + t * kv_heads * d;
    if (!w.q_bias.empty()) {
      axpy(1.0f, w.q_bias.data(), qt, heads * d);
      axpy(1.0f, w.k_bias.data(), kt, kv_heads * d);
      axpy(1.0f, w.v_bias.data(), vt, kv_heads * d);
    }
    if (!w.q_norm.empty()) {  // per-head RMSNorm, before RoPE
      rms_norm(qt, w.q_norm.data(), heads, d, d, eps, qt);
      rms_norm(kt, w.k_norm.data(), kv_heads, d, d, eps, kt);
    }
    const RowPlace& place = args.rows[t];
    ctx.rope.angles(place.position, cos, sin);
    for (int64_t h = 0; h < heads; ++h) ctx.rope.rotate(qt + h * d, cos, sin);
    for (int64_t h = 0; h < kv_heads; ++h) ctx.rope.rotate(kt + h * d, cos, sin);
    float* row = place.kv->row(args.cache_layer, place.slot);
    std::copy(kt, kt + kv_heads * d, row);
    std::copy(vt, vt + kv_heads * d, row + kv_heads * d);
  }

  float* o = ctx.arena.take(T * heads * d);
  // A KV head's group of query heads reads the same cache rows: tasks of as many of them as
  // the threads allow, so a row is read once per task rather than twice per head.
  const int64_t width = 2 * kv_heads * d;
  const int64_t per_task = heads_per_attention_task(group, heads, ctx.pool.size());
  const int64_t per_group = (group + per_task - 1) / per_task;
  const size_t scratch_floats = attend_scratch_floats(per_task, d);
  ctx.pool.parallel_for(T * kv_heads * per_group, 1, [&](int64_t begin, int64_t end) {
    float* scratch = ctx.pool.scratch(ThreadPool::Scratch::kScores, scratch_floats);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / (kv_heads * per_group);
      const int64_t g = task / per_group % kv_heads;  // the KV head these query heads read
      const int64_t h0 = g * group + task % per_group * per_task;
      const int64_t n = std::min(per_task, (g + 1) * group - h0);
      const RowPlace& place = args.rows[t];
      const int64_t seen = place.slot + 1;
      const float* cache = place.kv->row(args.cache_layer, 0);
      attend(q + (t * heads + h0) * d, d, n, cache + g * d, width, d, cache + (kv_heads + g) * d,
             width, d, seen, scale, scratch, o + (t * heads + h0) * d, d);
    }
  });
  project(ctx, w.o_proj, o, heads * d, T, args.out, H);
}

}  // namespace nextn
