// Feed-forward blocks (SPEC §4): the SwiGLU MLP and the noaux_tc mixture of experts.
#pragma once

#include <cstdint>

#include "model/forward_context.h"
#include "model/model_weights.h"

namespace nextn {

// y = down(silu(gate(x)) ⊙ up(x)) for `tokens` rows of x [T, H]; y [T, H].
void swiglu_mlp(const MlpWeights& w, const ForwardContext& ctx, const float* x, int64_t tokens,
                float* y);

// y = Σ_e w_e · Expert_e(x) + SharedExpert(x). All rows are routed first, then each chosen
// expert runs once over the rows that chose it, so a batch reads each distinct expert once.
void moe_mlp(const MoeWeights& w, const ForwardContext& ctx, const float* x, int64_t tokens,
             float* y);

}  // namespace nextn
