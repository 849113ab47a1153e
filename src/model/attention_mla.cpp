// DeepSeek multi-head latent attention (SPEC §4).
//
// Cache row per position: [c_kv (kv_lora, after kv_a_layernorm) | k_rope (qk_rope, roped)],
// 576 values for V3. kv_b_proj holds, per head h, W_UK_h (qk_nope rows) then W_UV_h (v rows).
//   absorbed: q_lat = W_UK_hᵀ q_nope; score_s = scale·(q_lat·c_kv_s + q_rope·k_rope_s);
//             o_h = W_UV_h Σ_s p_s c_kv_s
//   naive:    k_nope_s = W_UK_h c_kv_s, v_s = W_UV_h c_kv_s; score_s = scale·(q_nope·k_nope_s +
//             q_rope·k_rope_s); o_h = Σ_s p_s v_s
// Both compute the same function; a test holds them equal. The absorbed form runs: per row and
// attended position it costs heads × (2 kv_lora + qk_rope) multiply-adds against the naive
// form's heads × (qk_nope + qk_rope + v) plus the expansion of every position, which in theory
// pays from a few hundred rows of one sequence (a long prompt); measured on the bench
// checkpoint (1024-token prompt, two threads), this naive form ran at 154 prefill tokens/s
// against 213 absorbed, its expanded keys and values (29 MB a layer) going through memory.
#include <algorithm>
#include <vector>

#include "kernels/kernels.h"
#include "model/attention.h"

namespace nextn {

namespace {

// Read into plain locals where used, not by structured bindings: clang 14 (the clang-tidy
// here) cannot capture those in lambdas.
struct MlaShape {
  int64_t heads, nope, qk, v_dim, latent, width;
  float scale;
};

// The most floats of partial sums a pass may split its attention over spans for (64 MB, against
// a DeepSeek-V3 cache of 9 GB at 64K context, where a decode takes 17 MB and a verify of three
// rows 50 MB).
constexpr int64_t kSpanPartialFloats = int64_t{16} << 20;

// Every head reads the same cache rows: tasks of as many of a row's heads as the threads
// allow, so a row is read once per task rather than twice per head. q_cat [T, heads, width]
// into o_latent [T, heads, latent].
void head_block_attention(const ForwardContext& ctx, const AttentionArgs& args, const MlaShape& m,
                          const float* q_cat, int64_t per_task, float* o_latent) {
  const int64_t heads = m.heads, latent = m.latent, width = m.width;
  const float scale = m.scale;
  const int64_t blocks = (heads + per_task - 1) / per_task;
  const size_t attend_floats = attend_scratch_floats(per_task, latent);
  ctx.pool.parallel_for(args.tokens * blocks, 1, [&](int64_t begin, int64_t end) {
    float* scratch = ctx.pool.scratch(ThreadPool::Scratch::kScores, attend_floats);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / blocks;
      const int64_t h0 = task % blocks * per_task;
      const int64_t n = std::min(per_task, heads - h0);
      const RowPlace& place = args.rows[t];
      const float* cache = place.kv->row(args.cache_layer, 0);
      attend(q_cat + (t * heads + h0) * width, width, n, cache, width, width, cache, width, latent,
             place.slot + 1, scale, scratch, o_latent + (t * heads + h0) * latent, latent);
    }
  });
}

// The same function with tasks of one row's span of kAttendSpan cache rows and a block of
// `per_task` heads, then the spans merged per row and head in ascending order: attend's own
// order, so the same bits.
void span_attention(const ForwardContext& ctx, const AttentionArgs& args, const MlaShape& m,
                    const float* q_cat, int64_t spans, int64_t per_task, float* o_latent) {
  const int64_t heads = m.heads, latent = m.latent, width = m.width;
  const float scale = m.scale;
  const int64_t T = args.tokens;
  const int64_t blocks = (heads + per_task - 1) / per_task;
  float* part = ctx.arena.take(T * spans * heads * latent);  // [T, spans, heads, latent]
  float* part_max = ctx.arena.take(T * spans * heads);
  float* part_sum = ctx.arena.take(T * spans * heads);
  const size_t attend_floats = attend_scratch_floats(per_task, latent);
  ctx.pool.parallel_for(T * spans * blocks, 1, [&](int64_t begin, int64_t end) {
    float* scratch = ctx.pool.scratch(ThreadPool::Scratch::kScores, attend_floats);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t row_span = task / blocks;  // t * spans + span
      const int64_t t = row_span / spans;
      const int64_t first = row_span % spans * kAttendSpan;
      const int64_t h0 = task % blocks * per_task;
      const int64_t n = std::min(per_task, heads - h0);
      const RowPlace& place = args.rows[t];
      const int64_t seen = place.slot + 1;
      if (first >= seen) continue;  // a shorter row of the pass
      const float* rows = place.kv->row(args.cache_layer, first);
      const int64_t at = row_span * heads + h0;
      attend_span(q_cat + (t * heads + h0) * width, width, n, rows, width, width, rows, width,
                  latent, std::min(kAttendSpan, seen - first), scale, scratch, part + at * latent,
                  latent, part_max + at, part_sum + at);
    }
  });
  ctx.pool.parallel_for(T * heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / heads;
      const int64_t h = task % heads;
      const int64_t seen = args.rows[t].slot + 1;
      float* out = o_latent + task * latent;
      float max = 0.0f, sum = 0.0f;
      for (int64_t s = 0; s * kAttendSpan < seen; ++s) {
        const int64_t at = (t * spans + s) * heads + h;
        attend_merge(1, latent, part + at * latent, latent, part_max + at, part_sum + at, s == 0,
                     out, latent, &max, &sum);
      }
      attend_normalize(1, latent, &sum, out, latent);
    }
  });
}

// Every row of the pass (of any sequences) in the absorbed form, into o [T, heads, v_dim].
void absorbed_attention(const MlaWeights& w, const ForwardContext& ctx, const AttentionArgs& args,
                        const MlaShape& m, const float* q, float* o) {
  const int64_t T = args.tokens;
  const int64_t heads = m.heads, nope = m.nope, qk = m.qk, v_dim = m.v_dim, latent = m.latent,
                width = m.width;
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
      // The head's W_UK rows read once for every row of the pass.
      combine_rows(w.kv_b_proj, h * (nope + v_dim), nope, q + h * qk, heads * qk, T,
                   q_cat + h * width, heads * width, row);
      for (int64_t t = 0; t < T; ++t) {
        const float* q_head = q + (t * heads + h) * qk;
        std::copy(q_head + nope, q_head + qk, q_cat + (t * heads + h) * width + latent);
      }
    }
  });
  float* o_latent = ctx.arena.take(T * heads * latent);
  const int64_t spans = (max_attended(args) + kAttendSpan - 1) / kAttendSpan;
  const int64_t threads = ctx.pool.size();
  if (threads > 1 && spans > 1 && T * spans * heads * (latent + 2) <= kSpanPartialFloats) {
    // A context past one span and few rows (a decode or a verify): tasks of one row's span and
    // a block of heads, the blocks only as many as keep two tasks a thread, so each cache row
    // is read once per block (once per row when the spans alone are enough) instead of once
    // per thread; then the spans merged in order, as attend merges them. A prefill's many
    // rows keep the blocks of heads: their partial sums would not fit the cap.
    const int64_t wanted_blocks = (2 * threads + T * spans - 1) / (T * spans);
    span_attention(ctx, args, m, q_cat, spans,
                   heads_per_attention_task(heads, heads, wanted_blocks), o_latent);
  } else {
    head_block_attention(ctx, args, m, q_cat, heads_per_attention_task(heads, heads, threads),
                         o_latent);
  }
  // o[t, h] = W_UV_h o_lat[t, h]: the head's v rows of kv_b_proj as a small matmul, the heads
  // over the threads (one synchronisation a layer, not one per head).
  auto w_uv = [&](int64_t h) { return w.kv_b_proj.row_slice(h * (nope + v_dim) + nope, v_dim); };
  const size_t scratch_floats = matmul_scratch_floats(latent);
  ctx.pool.parallel_for(heads, 1, [&](int64_t h_begin, int64_t h_end) {
    float* scratch = ctx.pool.scratch(ThreadPool::Scratch::kRow, scratch_floats);
    for (int64_t h = h_begin; h < h_end; ++h) {
      matmul_serial(w_uv(h), o_latent + h * latent, heads * latent, T, o + h * v_dim, heads * v_dim,
                    scratch);
    }
  });
  for (int64_t h = 0; h < heads; ++h) count_traffic(ctx, w_uv(h), T);
}

// Rows [first, first + count) of one sequence in the naive form: k_nope and v of every position
// the rows see, expanded from the cache by one matmul per group of heads, then per head the
// scores against [k_nope | k_rope] and the sum of the values. The expansion takes at most
// ForwardOptions::naive_mla_expansion_floats at a time.
void naive_attention(const MlaWeights& w, const ForwardContext& ctx, const AttentionArgs& args,
                     const MlaShape& m, const float* q, int64_t first, int64_t count, float* o) {
  const int64_t heads = m.heads, nope = m.nope, qk = m.qk, v_dim = m.v_dim, latent = m.latent,
                width = m.width;
  const float scale = m.scale;
  const KvCache& kv = *args.rows[first].kv;
  const int64_t context = args.rows[first + count - 1].slot + 1;  // what the last row sees
  const float* cache = kv.row(args.cache_layer, 0);
  const int64_t per_head = nope + v_dim;
  const int64_t group = std::clamp<int64_t>(
      ctx.options.naive_mla_expansion_floats / std::max<int64_t>(1, context * (per_head + qk)), 1,
      heads);
  // [context, group heads × (k_nope | v)], then keys [context, group heads × (k_nope | k_rope)],
  // taken once and reused by every group (the arena frees nothing before the pass ends).
  float* expanded = ctx.arena.take(context * group * per_head);
  float* keys = ctx.arena.take(context * group * qk);
  for (int64_t h0 = 0; h0 < heads; h0 += group) {
    const int64_t n = std::min(group, heads - h0);
    project(ctx, w.kv_b_proj.row_slice(h0 * per_head, n * per_head), cache, width, context,
            expanded, n * per_head);
    for (int64_t s = 0; s < context; ++s) {
      for (int64_t h = 0; h < n; ++h) {
        const float* from = expanded + (s * n + h) * per_head;
        float* key = keys + (s * n + h) * qk;
        std::copy(from, from + nope, key);
        std::copy(cache + s * width + latent, cache + (s + 1) * width, key + nope);
      }
    }
    ctx.pool.parallel_for(count * n, 1, [&](int64_t begin, int64_t end) {
      float* scratch =
          ctx.pool.scratch(ThreadPool::Scratch::kScores, attend_scratch_floats(1, v_dim));
      for (int64_t task = begin; task < end; ++task) {
        const int64_t t = first + task / n;
        const int64_t h = task % n;
        const int64_t seen = args.rows[t].slot + 1;
        attend(q + (t * heads + h0 + h) * qk, qk, 1, keys + h * qk, n * qk, qk,
               expanded + h * per_head + nope, n * per_head, v_dim, seen, scale, scratch,
               o + (t * heads + h0 + h) * v_dim, v_dim);
      }
    });
  }
}

}  // namespace

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
  const MlaShape shape{heads, nope, qk, v_dim, latent, width, scale};
  if (ctx.options.mla == MlaForm::kAbsorbed) {
    absorbed_attention(w, ctx, args, shape, q, o);
  } else {
    for (int64_t first = 0; first < T;) {  // one sequence (a run of rows sharing a cache) at a time
      int64_t last = first;
      while (last + 1 < T && args.rows[last + 1].kv == args.rows[first].kv) ++last;
      naive_attention(w, ctx, args, shape, q, first, last - first + 1, o);
      first = last + 1;
    }
  }
  project(ctx, w.o_proj, o, heads * v_dim, T, args.out, H);
}

}  // namespace nextn
