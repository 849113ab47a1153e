#include "spec/verify.h"

#include <algorithm>

#include "sampling/sampling.h"

namespace nextn {

Verdict verify_greedy(std::span<const float> target_logits, int64_t vocab,
                      std::span<const int32_t> drafts) {
  Verdict verdict;
  const auto row = [&](int64_t i) { return target_logits.subspan(i * vocab, vocab); };
  for (int32_t draft : drafts) {
    const int32_t best = argmax(row(verdict.accepted));
    if (draft != best) {
      verdict.next = best;
      return verdict;
    }
    ++verdict.accepted;
  }
  verdict.next = argmax(row(verdict.accepted));  // the bonus token
  return verdict;
}

Verdict verify_sampled(std::span<const float> target_probs, std::span<const float> draft_probs,
                       int64_t vocab, std::span<const int32_t> drafts, Rng& rng,
                       std::span<float> residual) {
  Verdict verdict;
  const bool one_hot = draft_probs.empty();
  for (size_t i = 0; i < drafts.size(); ++i) {
    const auto p = target_probs.subspan(i * vocab, vocab);
    const int32_t d = drafts[i];
    const float q_d = one_hot ? 1.0f : draft_probs[i * vocab + d];
    // u < p/q, written without the division: u·q < p (q_d > 0 for a drafted token).
    if (rng.uniform() * q_d < p[d]) {
      ++verdict.accepted;
      continue;
    }
    // Rejected: draw from normalize(max(0, p − q)).
    float mass = 0.0f;
    for (int64_t v = 0; v < vocab; ++v) {
      const float q_v = one_hot ? (v == d ? 1.0f : 0.0f) : draft_probs[i * vocab + v];
      residual[v] = std::max(0.0f, p[v] - q_v);
      mass += residual[v];
    }
    if (mass <= 0.0f) {
      // p == q exactly (only reachable through rounding): the rejection had probability 0, so
      // any draw from p is exact.
      verdict.next = sample(p, rng);
      return verdict;
    }
    for (int64_t v = 0; v < vocab; ++v) residual[v] /= mass;
    verdict.next = sample(residual.first(vocab), rng);
    return verdict;
  }
  verdict.next = sample(target_probs.subspan(drafts.size() * vocab, vocab), rng);
  return verdict;
}

}  // namespace nextn
