// DeepSeek multi-head latent attention (SPEC §4).
//
// Cache row per position: [c_kv (kv_lora, after kv_a_layernorm) | k_rope (qk_rope, roped)],
// 576 values for V3. kv_b_proj holds, per head h, W_UK_h (qk_nope rows) then W_UV_h (v rows).
//   absorbed: q_lat = W_UK_hᵀ q_nope; score_s = scale·(q_lat·c_kv_s + q_rope·k_rope_s);
//             o_h = W_UV_h Σ_s p_s c_kv_s
//   naive:    k_nope_s = W_UK_h c_kv_s, v_s = W_UV_h c_kv_s; score_s = scale·(q_nope·k_nope_s +
//             q_rope·k_rope_s); o_h = Σ_s p_s v_s
// Both compute the same function; a test holds them equal.
#include <algorithm>
#include <vector>

#include "kernels/kernels.h"
#include "model/attention.h"

namespace nextn {

void mla_attention(const MlaWeights& w, const ForwardContext& ctx, const AttentionArgs& args) {
  const ModelConfig& config = ctx.config;
  const MlaConfig& mla = *config.mla();
  const int64_t T = args.tokens;
  const int64_t H = config.hidden_size;
  const int64_t heads = config.num_attention_heads;
  const int64_t nope = mla.qk_nope_head_dim;
  const int64_t rope_dim = mla.qk_rope_head_dim;
  const int64_t qk = nope + rope_dim;
  const int64_t v_dim = mla.v_head_dim;
  const int64_t latent = mla.kv_lora_rank;
  const int64_t width = latent + rope_dim;
  const float scale = static_cast<float>(ctx.softmax_scale);

  // Queries [T, heads × (nope | rope)].
  float* q = ctx.arena.take(T * heads * qk);
  if (w.q_a_proj) {
    const int64_t rank = w.q_a_proj->rows;
    float* q_a = ctx.arena.take(T * rank);
    project(ctx, *w.q_a_proj, args.x, H, T, q_a, rank);
    rms_norm(q_a, w.q_a_layernorm.data(), T, rank, rank, static_cast<float>(config.rms_norm_eps),
             q_a);
    project(ctx, *w.q_b_proj, q_a, rank, T, q, heads * qk);
  } else {
    project(ctx, *w.q_proj, args.x, H, T, q, heads * qk);
  }
  // Compressed KV, normed and roped, straight into the cache rows.
  float* kv_a = ctx.arena.take(T * width);
  project(ctx, w.kv_a_proj_with_mqa, args.x, H, T, kv_a, width);
  float* cos = ctx.arena.take(rope_dim / 2);
  float* sin = ctx.arena.take(rope_dim / 2);
  for (int64_t t = 0; t < T; ++t) {
    const RowPlace& place = args.rows[t];
    float* row = place.kv->row(args.cache_layer, place.slot);
    rms_norm(kv_a + t * width, w.kv_a_layernorm.data(), 1, latent, latent,
             static_cast<float>(config.rms_norm_eps), row);
    std::copy(kv_a + t * width + latent, kv_a + (t + 1) * width, row + latent);
    ctx.rope.angles(place.position, cos, sin);
    ctx.rope.rotate(row + latent, cos, sin);
    for (int64_t h = 0; h < heads; ++h) ctx.rope.rotate(q + (t * heads + h) * qk + nope, cos, sin);
  }

  float* o = ctx.arena.take(T * heads * v_dim);
  const auto score_floats = static_cast<size_t>(max_attended(args));
  if (ctx.options.absorbed_mla) {
    // Per head one query of `width` values against the cache rows: [q_lat | q_rope], where
    // q_lat[t, h] = W_UK_hᵀ q_nope[t, h] combines the rows of W_UK_h by q_nope.
    float* q_cat = ctx.arena.take(T * heads * width);
    if (ctx.traffic != nullptr) {  // the W_UK rows combined below (W_UV goes through project)
      ctx.traffic->bytes +=
          static_cast<uint64_t>(heads * nope * latent) * dtype_size(w.kv_b_proj.dtype);
    }
    ctx.pool.parallel_for(heads, 1, [&](int64_t h_begin, int64_t h_end) {
      float* row = ctx.pool.scratch(ThreadPool::Scratch::kLatent, static_cast<size_t>(latent));
      for (int64_t h = h_begin; h < h_end; ++h) {
        for (int64_t t = 0; t < T; ++t) {
          const float* q_head = q + (t * heads + h) * qk;
          float* query = q_cat + (t * heads + h) * width;
          combine_rows(w.kv_b_proj, h * (nope + v_dim), nope, q_head, query, row);
          std::copy(q_head + nope, q_head + qk, query + latent);
        }
      }
    });
    // Every head reads the same cache rows: tasks of as many of a token's heads as the threads
    // allow, so a row is read once per task rather than twice per head.
    float* o_latent = ctx.arena.take(T * heads * latent);
    const int64_t per_task = heads_per_attention_task(heads, heads, ctx.pool.size());
    const int64_t blocks = (heads + per_task - 1) / per_task;
    ctx.pool.parallel_for(T * blocks, 1, [&](int64_t begin, int64_t end) {
      float* scores = ctx.pool.scratch(ThreadPool::Scratch::kScores,
                                       score_floats * static_cast<size_t>(per_task));
      for (int64_t task = begin; task < end; ++task) {
        const int64_t t = task / blocks;
        const int64_t h0 = task % blocks * per_task;
        const int64_t n = std::min(per_task, heads - h0);
        const RowPlace& place = args.rows[t];
        const int64_t seen = place.slot + 1;
        const float* cache = place.kv->row(args.cache_layer, 0);
        attention_scores(q_cat + (t * heads + h0) * width, width, n, cache, width, seen, width,
                         scale, scores, seen);
        for (int64_t i = 0; i < n; ++i) softmax(scores + i * seen, seen);
        attention_values(scores, seen, n, cache, width, seen, latent,
                         o_latent + (t * heads + h0) * latent, latent);
      }
    });
    // o[t, h] = W_UV_h o_lat[t, h]: the head's v rows of kv_b_proj as a small matmul, the heads
    // over the threads (one synchronisation a layer, not one per head).
    auto w_uv = [&](int64_t h) { return w.kv_b_proj.row_slice(h * (nope + v_dim) + nope, v_dim); };
    const size_t scratch_floats = matmul_scratch_floats(latent);
    ctx.pool.parallel_for(heads, 1, [&](int64_t h_begin, int64_t h_end) {
      float* scratch = ctx.pool.scratch(ThreadPool::Scratch::kRow, scratch_floats);
      for (int64_t h = h_begin; h < h_end; ++h) {
        matmul_serial(w_uv(h), o_latent + h * latent, heads * latent, T, o + h * v_dim,
                      heads * v_dim, scratch);
      }
    });
    for (int64_t h = 0; h < heads; ++h) count_traffic(ctx, w_uv(h), T);
  } else {
    // Naive: expand k_nope and v of every cached position, per head, one sequence (a run of
    // rows sharing a cache) at a time.
    for (int64_t first = 0; first < T;) {
      int64_t last = first;
      while (last + 1 < T && args.rows[last + 1].kv == args.rows[first].kv) ++last;
      const KvCache& kv = *args.rows[first].kv;
      const int64_t context = args.rows[last].slot + 1;  // positions the run's last row sees
      float* kv_full = ctx.arena.take(context * heads * (nope + v_dim));
      for (int64_t s = 0; s < context; ++s) {
        project(ctx, w.kv_b_proj, kv.row(args.cache_layer, s), width, 1,
                kv_full + s * heads * (nope + v_dim), heads * (nope + v_dim));
      }
      ctx.pool.parallel_for((last - first + 1) * heads, 1, [&](int64_t begin, int64_t end) {
        float* scores = ctx.pool.scratch(ThreadPool::Scratch::kScores, score_floats);
        for (int64_t local = begin; local < end; ++local) {
          const int64_t task = first * heads + local;
          const int64_t h = task % heads;
          const int64_t seen = args.rows[task / heads].slot + 1;
          for (int64_t s = 0; s < seen; ++s) {
            const float* k_nope = kv_full + (s * heads + h) * (nope + v_dim);
            const float* k_rope = kv.row(args.cache_layer, s) + latent;
            scores[s] = scale * (dot(q + task * qk, k_nope, nope) +
                                 dot(q + task * qk + nope, k_rope, rope_dim));
          }
          softmax(scores, seen);
          float* out = o + task * v_dim;
          std::fill(out, out + v_dim, 0.0f);
          for (int64_t s = 0; s < seen; ++s) {
            axpy(scores[s], kv_full + (s * heads + h) * (nope + v_dim) + nope, out, v_dim);
          }
        }
      });
      first = last + 1;
    }
  }
  project(ctx, w.o_proj, o, heads * v_dim, T, args.out, H);
}

}  // namespace nextn
