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

// Passes of more rows than a verify of DraftLengthController::kMaxDrafts drafts: prefills and
// large batches, whose tasks balance better when they are many.
constexpr int64_t kFewRows = 17;

// q_cat[t, h] = [W_UK_hᵀ q_nope[t, h] | q_rope[t, h]] for heads [h0, h0 + n) of rows
// [t0, t0 + rows): the rows of each head's W_UK read once for all those rows. `row` holds
// `latent` floats.
void absorb_queries(const MlaWeights& w, const MlaShape& m, const float* q, int64_t t0,
                    int64_t rows, int64_t h0, int64_t n, float* q_cat, float* row) {
  const int64_t heads = m.heads, nope = m.nope, qk = m.qk, v_dim = m.v_dim, latent = m.latent,
                width = m.width;
  for (int64_t h = h0; h < h0 + n; ++h) {
    combine_rows(w.kv_b_proj, h * (nope + v_dim), nope, q + (t0 * heads + h) * qk, heads * qk, rows,
                 q_cat + (t0 * heads + h) * width, heads * width, row);
    for (int64_t t = t0; t < t0 + rows; ++t) {
      const float* q_head = q + (t * heads + h) * qk;
      std::copy(q_head + nope, q_head + qk, q_cat + (t * heads + h) * width + latent);
    }
  }
}

// Head h's W_UV rows of kv_b_proj.
WeightMatrix w_uv(const MlaWeights& w, const MlaShape& m, int64_t h) {
  return w.kv_b_proj.row_slice(h * (m.nope + m.v_dim) + m.nope, m.v_dim);
}

// o[t, h] = W_UV_h o_latent[t, h] for heads [h0, h0 + n) of rows [t0, t0 + rows), each head's
// rows read once for all those rows. `scratch` holds matmul_scratch_floats(latent) floats.
void expand_values(const MlaWeights& w, const MlaShape& m, const float* o_latent, int64_t t0,
                   int64_t rows, int64_t h0, int64_t n, float* o, float* scratch) {
  const int64_t heads = m.heads, v_dim = m.v_dim, latent = m.latent;
  for (int64_t h = h0; h < h0 + n; ++h) {
    matmul_serial(w_uv(w, m, h), o_latent + (t0 * heads + h) * latent, heads * latent, rows,
                  o + (t0 * heads + h) * v_dim, heads * v_dim, scratch);
  }
}

// The whole absorbed attention of a block of heads in one task: its queries absorbed, its
// attention, its values expanded, so a layer synchronises its threads once instead of three
// times and a block's latent rows stay in its thread's caches. Every head reads the same cache
// rows, so the blocks are as large as the threads allow (each cache row read once per block).
// The rows of the pass split into groups, each rereading its block's W_UK and W_UV, only to
// give every thread a task (a decode's or a verify's blocks fewer than the threads: more threads
// than a quarter of the heads) or, past kFewRows rows on several threads, four tasks a thread,
// so that a prefill's later rows, which attend to more, balance over the threads.
// q [T, heads, qk] into o [T, heads, v_dim].
void head_block_attention(const MlaWeights& w, const ForwardContext& ctx, const AttentionArgs& args,
                          const MlaShape& m, const float* q, float* o) {
  const int64_t heads = m.heads, latent = m.latent, width = m.width;
  const float scale = m.scale;
  const int64_t T = args.tokens;
  const int64_t threads = ctx.pool.size();
  const int64_t per_task = heads_per_attention_task(heads, heads, threads);
  const int64_t blocks = (heads + per_task - 1) / per_task;
  const int64_t wanted_tasks = threads > 1 && T > kFewRows ? 4 * threads : threads;
  const int64_t groups = std::clamp<int64_t>((wanted_tasks + blocks - 1) / blocks, 1, T);
  const int64_t per_group = (T + groups - 1) / groups;
  float* q_cat = ctx.arena.take(T * heads * width);
  float* o_latent = ctx.arena.take(T * heads * latent);
  const size_t attend_floats = attend_scratch_floats(per_task, latent);
  const size_t row_floats = matmul_scratch_floats(latent);
  ctx.pool.parallel_for(groups * blocks, 1, [&](int64_t begin, int64_t end) {
    float* scores = ctx.pool.scratch(ThreadPool::Scratch::kScores, attend_floats);
    float* row = ctx.pool.scratch(ThreadPool::Scratch::kLatent, static_cast<size_t>(latent));
    float* matmul_scratch = ctx.pool.scratch(ThreadPool::Scratch::kRow, row_floats);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t0 = task / blocks * per_group;
      const int64_t rows = std::min(per_group, T - t0);
      const int64_t h0 = task % blocks * per_task;
      const int64_t n = std::min(per_task, heads - h0);
      if (rows <= 0) continue;
      absorb_queries(w, m, q, t0, rows, h0, n, q_cat, row);
      for (int64_t t = t0; t < t0 + rows; ++t) {
        const RowPlace& place = args.rows[t];
        const float* cache = place.kv->row(args.cache_layer, 0);
        attend(q_cat + (t * heads + h0) * width, width, n, cache, width, width, cache, width,
               latent, place.slot + 1, scale, scores, o_latent + (t * heads + h0) * latent, latent);
      }
      expand_values(w, m, o_latent, t0, rows, h0, n, o, matmul_scratch);
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
  const int64_t heads = m.heads, latent = m.latent, width = m.width;
  if (ctx.traffic != nullptr) {  // W_UK and W_UV, each row read once for the pass
    ctx.traffic->bytes +=
        static_cast<uint64_t>(heads * (m.nope + m.v_dim) * latent) * dtype_size(w.kv_b_proj.dtype);
    ctx.traffic->multiply_adds += static_cast<uint64_t>(heads * m.v_dim * latent * T);
  }
  const int64_t spans = (max_attended(args) + kAttendSpan - 1) / kAttendSpan;
  const int64_t threads = ctx.pool.size();
  if (threads == 1 || spans <= 1 || T * spans * heads * (latent + 2) > kSpanPartialFloats) {
    head_block_attention(w, ctx, args, m, q, o);
    return;
  }
  // A context past one span and few rows (a decode or a verify): tasks of one row's span and a
  // block of heads, the blocks only as many as keep two tasks a thread, so each cache row is
  // read once per block (once per row when the spans alone are enough) instead of once per
  // thread; then the spans merged in order, as attend merges them. A prefill's many rows keep
  // the blocks of heads: their partial sums would not fit the cap. Queries and values go
  // through the heads in their own passes over the threads, each head's weights read once.
  float* q_cat = ctx.arena.take(T * heads * width);
  ctx.pool.parallel_for(heads, 1, [&](int64_t h_begin, int64_t h_end) {
    float* row = ctx.pool.scratch(ThreadPool::Scratch::kLatent, static_cast<size_t>(latent));
    absorb_queries(w, m, q, 0, T, h_begin, h_end - h_begin, q_cat, row);
  });
  float* o_latent = ctx.arena.take(T * heads * latent);
  const int64_t wanted_blocks = (2 * threads + T * spans - 1) / (T * spans);
  span_attention(ctx, args, m, q_cat, spans, heads_per_attention_task(heads, heads, wanted_blocks),
                 o_latent);
  const size_t scratch_floats = matmul_scratch_floats(latent);
  ctx.pool.parallel_for(heads, 1, [&](int64_t h_begin, int64_t h_end) {
    float* scratch = ctx.pool.scratch(ThreadPool::Scratch::kRow, scratch_floats);
    expand_values(w, m, o_latent, 0, T, h_begin, h_end - h_begin, o, scratch);
  });
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
