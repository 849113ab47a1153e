#include "model/mlp.h"

#include <vector>

#include "kernels/kernels.h"
#include "model/router.h"

namespace nextn {

void swiglu_mlp(const MlpWeights& w, const ForwardContext& ctx, const float* x, int64_t tokens,
                float* y) {
  const int64_t H = ctx.config.hidden_size;
  const int64_t width = w.gate_proj.rows;
  float* gate = ctx.arena.take(tokens * width);
  float* up = ctx.arena.take(tokens * width);
  project(ctx, w.gate_proj, x, H, tokens, gate, width);
  project(ctx, w.up_proj, x, H, tokens, up, width);
  for (int64_t i = 0; i < tokens * width; ++i) gate[i] = silu(gate[i]) * up[i];
  project(ctx, w.down_proj, gate, width, tokens, y, H);
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
        const MlpWeights& expert = w.experts[e];
        float* g = gate + first * width;
        float* u = up + first * width;
        matmul_serial(expert.gate_proj, gathered + first * H, H, n, g, width, scratch);
        matmul_serial(expert.up_proj, gathered + first * H, H, n, u, width, scratch);
        for (int64_t i = 0; i < n * width; ++i) g[i] = silu(g[i]) * u[i];
        matmul_serial(expert.down_proj, g, width, n, expert_out + first * H, H, scratch);
      }
    });
    if (ctx.traffic != nullptr) {  // counted here: the bodies run on several threads
      for (const int32_t e : active) {
        const MlpWeights& expert = w.experts[e];
        const auto n = static_cast<uint64_t>(offsets[e + 1] - offsets[e]);
        for (const WeightMatrix* m : {&expert.gate_proj, &expert.up_proj, &expert.down_proj}) {
          ctx.traffic->bytes += weight_bytes(*m);
          ctx.traffic->multiply_adds += static_cast<uint64_t>(m->rows * m->cols) * n;
        }
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
