// Turning logits into tokens (SPEC §6): temperature, top-k, top-p, min-p in fp32, and greedy
// decoding when the temperature is 0.
#pragma once

#include <cstdint>
#include <span>

#include "core/rng.h"

namespace nextn {

struct SamplingParams {
  float temperature = 0.0f;  // 0: greedy
  int64_t top_k = 0;         // 0: off
  float top_p = 1.0f;        // 1: off
  float min_p = 0.0f;        // 0: off
  uint64_t seed = 0;

  bool greedy() const { return temperature <= 0.0f; }
};

// Checks ranges; Error names the parameter.
void validate(const SamplingParams& params);

// The largest logit; ties go to the lower id.
int32_t argmax(std::span<const float> logits);

// The distribution a token is drawn from: softmax(logits / temperature), then top-k, top-p
// (the smallest set of most likely tokens whose mass reaches top_p) and min-p (tokens below
// min_p × the largest probability), renormalized. Tokens that are cut get probability 0. Not
// for greedy params (use argmax).
void sampling_probabilities(std::span<const float> logits, const SamplingParams& params,
                            std::span<float> probabilities);

// Draws a token from `probabilities` (which sum to 1) with one uniform draw.
int32_t sample(std::span<const float> probabilities, Rng& rng);

}  // namespace nextn
