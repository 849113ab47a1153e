// The noaux_tc MoE router of DeepSeek-V3 and GLM-4.5 (SPEC §4).
#pragma once

#include <cstdint>

#include "config/model_config.h"

namespace nextn {

// For one token: s = sigmoid(logits); c = s + correction_bias (for choosing only). With
// n_group > 1 each group scores the sum of its two largest c and only the topk_group best
// groups stay eligible. The top num_experts_per_tok experts by c are chosen; their weights are
// the unbiased s, divided by their sum when norm_topk_prob, times routed_scaling_factor.
// Ties go to the lower index. Writes num_experts_per_tok entries to experts and weights.
void route_token(const float* logits, const float* correction_bias, const MoeConfig& moe,
                 int32_t* experts, float* weights);

}  // namespace nextn
