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
  float* gathered = ctx.arena.take(tokens * H);
  float* expert_out = ctx.arena.take(tokens * H);
  if (ctx.traffic != nullptr) ++ctx.traffic->moe_layers;
  for (int64_t e = 0; e < E; ++e) {
    const int64_t begin = offsets[e];
    const int64_t n = offsets[e + 1] - begin;
    if (n == 0) continue;
    if (ctx.traffic != nullptr) ++ctx.traffic->experts_run;
    for (int64_t i = 0; i < n; ++i) {
      const float* row = x + rows_by_expert[begin + i] * H;
      std::copy(row, row + H, gathered + i * H);
    }
    swiglu_mlp(w.experts[e], ctx, gathered, n, expert_out);
    for (int64_t i = 0; i < n; ++i) {
      axpy(weights_by_expert[begin + i], expert_out + i * H, y + rows_by_expert[begin + i] * H, H);
    }
  }
  if (w.shared_experts) {  // never scaled
    swiglu_mlp(*w.shared_experts, ctx, x, tokens, expert_out);
    axpy(1.0f, expert_out, y, tokens * H);
  }
}

}  // namespace nextn
