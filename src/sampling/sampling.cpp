#include "sampling/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace nextn {

void validate(const SamplingParams& params) {
  if (!(params.temperature >= 0.0f) || !std::isfinite(params.temperature)) {
    fail("temperature must be a finite number >= 0, got {}", params.temperature);
  }
  if (params.top_k < 0) fail("top_k must be >= 0 (0 turns it off), got {}", params.top_k);
  if (!(params.top_p > 0.0f && params.top_p <= 1.0f)) {
    fail("top_p must be in (0, 1], got {}", params.top_p);
  }
  if (!(params.min_p >= 0.0f && params.min_p <= 1.0f)) {
    fail("min_p must be in [0, 1], got {}", params.min_p);
  }
}

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

void sampling_probabilities(std::span<const float> logits, const SamplingParams& params,
                            std::span<float> probabilities) {
  const size_t V = logits.size();
  const float inverse_temperature = 1.0f / params.temperature;
  float max = -INFINITY;
  for (float l : logits) max = std::fmax(max, l);
  float sum = 0.0f;
  for (size_t i = 0; i < V; ++i) {
    probabilities[i] = std::exp((logits[i] - max) * inverse_temperature);
    sum += probabilities[i];
  }
  for (float& p : probabilities) p /= sum;
  const bool top_k = params.top_k > 0 && static_cast<size_t>(params.top_k) < V;
  const bool top_p = params.top_p < 1.0f;
  if (top_k || top_p) {
    // Token ids by decreasing probability (ties: lower id first), sorted only as far as the
    // cut needs: top-p usually keeps a few dozen of a vocabulary of 10^5, and a full sort of
    // that took milliseconds a token.
    auto before = [&](int32_t a, int32_t b) {
      return probabilities[a] > probabilities[b] || (probabilities[a] == probabilities[b] && a < b);
    };
    thread_local std::vector<int32_t> order;
    order.resize(V);
    std::iota(order.begin(), order.end(), 0);
    size_t sorted = 0;  // order[0, sorted) is the sorted head; the rest follow it in any order
    auto sort_head = [&](size_t n) {
      n = std::min(n, V);
      if (n <= sorted) return;
      if (n < V) std::nth_element(order.begin() + sorted, order.begin() + n, order.end(), before);
      std::sort(order.begin() + sorted, order.begin() + n, before);
      sorted = n;
    };
    size_t keep = top_k ? static_cast<size_t>(params.top_k) : V;
    if (top_p) {
      // Keep the smallest head whose mass reaches top_p, renormalized after top-k (without
      // top-k the whole mass is `sum` over the normalized probabilities).
      float kept_mass = 0.0f;
      if (top_k) {
        sort_head(keep);
        for (size_t i = 0; i < keep; ++i) kept_mass += probabilities[order[i]];
      } else {
        for (float p : probabilities) kept_mass += p;
      }
      float mass = 0.0f;
      for (size_t i = 0; i < keep; ++i) {
        if (i == sorted) sort_head(std::max<size_t>(64, 4 * sorted));
        mass += probabilities[order[i]] / kept_mass;
        if (mass >= params.top_p) {
          keep = i + 1;
          break;
        }
      }
    } else {  // top-k alone: which tokens are in the head matters, not their order
      std::nth_element(order.begin(), order.begin() + keep, order.end(), before);
    }
    for (size_t i = keep; i < V; ++i) probabilities[order[i]] = 0.0f;
  }
  if (params.min_p > 0.0f) {
    float largest = 0.0f;
    for (float p : probabilities) largest = std::fmax(largest, p);
    const float threshold = params.min_p * largest;
    for (float& p : probabilities) {
      if (p < threshold) p = 0.0f;
    }
  }
  sum = 0.0f;
  for (float p : probabilities) sum += p;
  for (float& p : probabilities) p /= sum;
}

int32_t sample(std::span<const float> probabilities, Rng& rng) {
  const float u = rng.uniform();
  float cumulative = 0.0f;
  int32_t last_possible = 0;
  for (size_t i = 0; i < probabilities.size(); ++i) {
    if (probabilities[i] <= 0.0f) continue;
    cumulative += probabilities[i];
    last_possible = static_cast<int32_t>(i);
    if (u < cumulative) return last_possible;
  }
  return last_possible;  // rounding left the sum a hair below u
}

}  // namespace nextn
