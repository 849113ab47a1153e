// Verification of drafted tokens against the target (SPEC §6 step 2). Pure functions: they
// read distributions and return what was accepted; no cache is touched (DESIGN principle 9).
#pragma once

#include <cstdint>
#include <span>

#include "core/rng.h"

namespace nextn {

struct Verdict {
  int64_t accepted = 0;  // drafts d_1..d_accepted are accepted
  int32_t next = 0;      // the token emitted after them: the correction, or the bonus token
};

// Greedy: accept d_i while d_i == argmax of target row i−1 (rows are the K + 1 target logits
// of [x, d_1..d_K]); emit the argmax at the first mismatch, or argmax of row K (the bonus).
Verdict verify_greedy(std::span<const float> target_logits, int64_t vocab,
                      std::span<const int32_t> drafts);

// Lossless speculative sampling (Leviathan et al. 2023; Chen et al. 2023). target_probs holds
// K + 1 rows of the target's sampling distribution p (after temperature, top-k, top-p, min-p);
// draft_probs holds K rows of the draft distribution q, or is empty for argmax drafts (q
// one-hot at d_i). Accept d_i with probability min(1, p(d_i) / q(d_i)); at the first rejection
// emit a token drawn from normalize(max(0, p − q)); when all pass, draw the bonus from p_K.
// `residual` is scratch of `vocab` floats.
Verdict verify_sampled(std::span<const float> target_probs, std::span<const float> draft_probs,
                       int64_t vocab, std::span<const int32_t> drafts, Rng& rng,
                       std::span<float> residual);

}  // namespace nextn
