#include "model/mlp.h"

#include <vector>

#include "kernels/kernels.h"
#include "model/router.h"

namespace nextn {

namespace {

// down(silu(gate(x)) ⊙ up(x)) for `tokens` rows of x [T, H] into y [T, H], with gate and up
// [T, width] as scratch; `project(w, x, x_stride, tokens, y, y_stride)` runs each matmul.
template <typename Project>
void swiglu(const MlpWeights& w, int64_t H, const float* x, int64_t tokens, float* gate, float* up,
            float* y, Project&& project) {
  const int64_t width = w.gate_proj.rows;
  project(w.gate_proj, x, H, tokens, gate, width);
  project(w.up_proj, x, H, tokens, up, width);
  for (int64_t i = 0; i < tokens * width; ++i) gate[i] = silu(gate[i]) * up[i];
  project(w.down_proj, gate, width, tokens, y, H);
}

}  // namespace

void swiglu_mlp(const MlpWeights& w, const ForwardContext& ctx, const float* x, int64_t tokens,
                float* y) {
  const int64_t width = w.gate_proj.rows;
  float* gate = ctx.arena.take(tokens * width);
  float* up = ctx.arena.take(tokens * width);
  swiglu(w, ctx.config.hidden_size, x, tokens, gate, up, y,
         [&](const WeightMatrix& m, const float* in, int64_t in_stride, int64_t n, float* out,
             int64_t out_stride) { project(ctx, m, in, in_stride, n, out, out_stride); });
}

void moe_mlp(const MoeWeights& w, const ForwardContext& ctx, const float* x, int64_t tokens,
             float* y) {
  const MoeConfig& moe = ctx.config.moe;
  const int64_t H = ctx.config.hidden_size;
  const int64_t E = moe.n_routed_experts;
  const int64_t k = moe.num_experts_per_tok;

  // Route every row (router logits in fp32).
  float* logits = ctx.arena.take(tokens * E);
  project(ctx, w.router, x, H, tokens, logits, E);
  thread_local std::vector<int32_t> chosen;
  thread_local std::vector<float> chosen_weight;
  chosen.resize(static_cast<size_t>(tokens * k));
  chosen_weight.resize(static_cast<size_t>(tokens * k));
  for (int64_t t = 0; t < tokens; ++t) {
    route_token(logits + t * E, w.correction_bias.data(), moe, chosen.data() + t * k,
                chosen_weight.data() + t * k);
  }

  // Group the rows by expert (counting sort over the T × k choices).
  thread_local std::vector<int64_t> offsets;
  thread_local std::vector<int32_t> rows_by_expert;
  thread_local std::vector<float> weights_by_expert;
  offsets.assign(static_cast<size_t>(E + 1), 0);
  for (int32_t e : chosen) ++offsets[e + 1];
  for (int64_t e = 0; e < E; ++e) offsets[e + 1] += offsets[e];
  rows_by_expert.resize(chosen.size());
  weights_by_expert.resize(chosen.size());
  {
    thread_local std::vector<int64_t> fill;
    fill.assign(offsets.begin(), offsets.end() - 1);
    for (int64_t i = 0; i < tokens * k; ++i) {
      const int64_t slot = fill[chosen[i]]++;
      rows_by_expert[slot] = static_cast<int32_t>(i / k);
      weights_by_expert[slot] = chosen_weight[i];
    }
  }

  std::fill(y, y + tokens * H, 0.0f);
  if (ctx.traffic != nullptr) ++ctx.traffic->moe_layers;
  thread_local std::vector<int32_t> active;  // the experts chosen by some row, ascending
  active.clear();
  for (int64_t e = 0; e < E; ++e) {
    if (offsets[e + 1] > offsets[e]) active.push_back(static_cast<int32_t>(e));
  }
  const int64_t choices = tokens * k;
  float* gathered = ctx.arena.take(choices * H);
  float* expert_out = ctx.arena.take(choices * H);
  for (int64_t i = 0; i < choices; ++i) {
    const float* row = x + rows_by_expert[i] * H;
    std::copy(row, row + H, gathered + i * H);
  }
  if (ctx.pool.size() > 1 && static_cast<int64_t>(active.size()) >= ctx.pool.size()) {
    // The experts over the threads, each run whole on one: a thread streams one expert's
    // weights at a time and a layer synchronises once, not three times per expert.
    const int64_t width = moe.moe_intermediate_size;
    float* gate = ctx.arena.take(choices * width);
    float* up = ctx.arena.take(choices * width);
    const size_t scratch_floats = matmul_scratch_floats(std::max(H, width));
    // Plain pointers: inside the body, the thread_local names would be the worker's own.
    const int32_t* experts = active.data();
    const int64_t* starts = offsets.data();
    ctx.pool.parallel_for(static_cast<int64_t>(active.size()), 1, [&](int64_t b, int64_t end) {
      float* scratch = ctx.pool.scratch(ThreadPool::Scratch::kRow, scratch_floats);
      for (int64_t a = b; a < end; ++a) {
        const int32_t e = experts[a];
        const int64_t first = starts[e];
        const int64_t n = starts[e + 1] - first;
        swiglu(w.experts[e], H, gathered + first * H, n, gate + first * width, up + first * width,
               expert_out + first * H,
               [&](const WeightMatrix& m, const float* in, int64_t in_stride, int64_t rows,
                   float* out, int64_t out_stride) {
                 matmul_serial(m, in, in_stride, rows, out, out_stride, scratch);
               });
      }
    });
    for (const int32_t e : active) {  // counted here: the bodies run on several threads
      const MlpWeights& expert = w.experts[e];
      for (const WeightMatrix* m : {&expert.gate_proj, &expert.up_proj, &expert.down_proj}) {
        count_traffic(ctx, *m, offsets[e + 1] - offsets[e]);
      }
    }
  } else {
    for (const int32_t e : active) {
      const int64_t first = offsets[e];
      swiglu_mlp(w.experts[e], ctx, gathered + first * H, offsets[e + 1] - first,
                 expert_out + first * H);
    }
  }
  if (ctx.traffic != nullptr) ctx.traffic->experts_run += static_cast<int64_t>(active.size());
  // Summed in expert order whatever the threads did, so a row's result does not depend on
  // the batch or on the thread count.
  for (int64_t i = 0; i < choices; ++i) {
    axpy(weights_by_expert[i], expert_out + i * H, y + rows_by_expert[i] * H, H);
  }
  if (w.shared_experts) {  // never scaled
    swiglu_mlp(*w.shared_experts, ctx, x, tokens, expert_out);
    axpy(1.0f, expert_out, y, tokens * H);
  }
}

}  // namespace nextn
