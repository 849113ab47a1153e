#include "model/router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace nextn {

void route_token(const float* logits, const float* correction_bias, const MoeConfig& moe,
                 int32_t* experts, float* weights) {
  const int64_t count = moe.n_routed_experts;
  const int64_t group_size = count / moe.n_group;
  // Small, per token; thread_local so routing allocates nothing after the first call.
  thread_local std::vector<float> scores;
  thread_local std::vector<float> choice;
  thread_local std::vector<int32_t> order;
  scores.resize(static_cast<size_t>(count));
  choice.resize(static_cast<size_t>(count));
  for (int64_t e = 0; e < count; ++e) {
    scores[e] = 1.0f / (1.0f + std::exp(-logits[e]));
    choice[e] = scores[e] + correction_bias[e];
  }
  // Higher first, then the lower index: a strict weak order, so ties are deterministic.
  auto better = [](const std::vector<float>& by) {
    return [&by](int32_t a, int32_t b) { return by[a] > by[b] || (by[a] == by[b] && a < b); };
  };
  if (moe.n_group > 1 && moe.topk_group < moe.n_group) {
    thread_local std::vector<float> group_scores;
    thread_local std::vector<int32_t> groups;
    group_scores.assign(static_cast<size_t>(moe.n_group), 0.0f);
    for (int64_t g = 0; g < moe.n_group; ++g) {
      // Sum of the two largest c in the group.
      float first = -std::numeric_limits<float>::infinity();
      float second = first;
      for (int64_t e = g * group_size; e < (g + 1) * group_size; ++e) {
        if (choice[e] > first) {
          second = first;
          first = choice[e];
        } else if (choice[e] > second) {
          second = choice[e];
        }
      }
      group_scores[g] = group_size >= 2 ? first + second : first;
    }
    groups.resize(static_cast<size_t>(moe.n_group));
    for (int32_t g = 0; g < moe.n_group; ++g) groups[g] = g;
    std::partial_sort(groups.begin(), groups.begin() + moe.topk_group, groups.end(),
                      better(group_scores));
    // Experts of the dropped groups become ineligible (−∞).
    for (int64_t rank = moe.topk_group; rank < moe.n_group; ++rank) {
      const int64_t g = groups[rank];
      for (int64_t e = g * group_size; e < (g + 1) * group_size; ++e) {
        choice[e] = -std::numeric_limits<float>::infinity();
      }
    }
  }
  order.resize(static_cast<size_t>(count));
  for (int32_t e = 0; e < count; ++e) order[e] = e;
  const int64_t k = moe.num_experts_per_tok;
  std::partial_sort(order.begin(), order.begin() + k, order.end(), better(choice));
  float sum = 0.0f;
  for (int64_t i = 0; i < k; ++i) {
    experts[i] = order[i];
    weights[i] = scores[order[i]];
    sum += weights[i];
  }
  const float scale = static_cast<float>(moe.routed_scaling_factor) /
                      (moe.norm_topk_prob ? sum : 1.0f);
  for (int64_t i = 0; i < k; ++i) weights[i] *= scale;
}

}  // namespace nextn
