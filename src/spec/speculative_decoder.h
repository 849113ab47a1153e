// Lossless speculative decoding with the MTP layers (SPEC §5-§6).
//
// One step, for the newest token x at position m (sampled, not yet run through the target):
//   1. target forward over [x, d_1..d_K] in one pass → K + 1 distributions and hidden states;
//   2. verify (spec/verify.h) → a accepted drafts and the next token y;
//   3. truncate the target cache to m + a + 1 and every MTP cache to its teacher-forced rows;
//   4. teacher-force the MTP layers over the newly accepted rows (target hidden states), at the
//      next step that drafts: the last of those rows drafts d_1; MTP layer j mod D then drafts
//      d_{j+1} from the recycled hidden state of the row before, at position m' − 1 + j.
// With K = 0 it is plain decoding: one target token per step, no MTP work.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "kv/kv_cache.h"
#include "model/model_weights.h"
#include "model/target_model.h"
#include "mtp/mtp_model.h"
#include "sampling/sampling.h"
#include "spec/draft_length.h"
#include "spec/spec_stats.h"
#include "spec/verify.h"

namespace nextn {

enum class DraftSampling {
  kArgmax,  // drafts are the MTP argmax; q is one-hot
  kSample,  // drafts are drawn from softmax(MTP logits / temperature); q is kept
};

// The sampled verification rule (spec/verify.h). A parameter so that a test can show that
// the statistical test of losslessness catches a broken rule.
using SampledVerifier = Verdict (*)(std::span<const float> target_probs,
                                    std::span<const float> draft_probs, int64_t vocab,
                                    std::span<const int32_t> drafts, Rng& rng,
                                    std::span<float> residual);

struct SpeculativeOptions {
  int64_t spec_tokens = 3;  // K drafts per step (the most, when adaptive); 0: plain decoding
  // Choose K per step to maximise expected tokens per second (spec/draft_length.h).
  bool adaptive = false;
  DraftSampling draft_sampling = DraftSampling::kArgmax;
  MtpOptions mtp;
  SampledVerifier verify_sampled = &nextn::verify_sampled;
};

struct GenerationLimits {
  int64_t max_tokens = 128;
  std::vector<int32_t> eos_ids;  // generation stops at these (they are not emitted)
};

// Receives each run of newly accepted tokens; returning false stops generation.
using TokenSink = std::function<bool(std::span<const int32_t>)>;

class SpeculativeDecoder {
 public:
  // `capacity`: the longest prompt + generation the caches hold.
  SpeculativeDecoder(const ModelConfig& config, const ModelWeights& weights, ThreadPool& pool,
                     int64_t capacity, SpeculativeOptions options);

  // Generates after `prompt`. Returns the generated ids (eos not included).
  std::vector<int32_t> generate(std::span<const int32_t> prompt, const SamplingParams& sampling,
                                const GenerationLimits& limits, const TokenSink& sink = {});

  const SpecStats& stats() const { return stats_; }
  // The caches after generate(), for tests that compare them with a plain run's.
  const KvCache& target_cache() const { return target_kv_; }

 private:
  // Picks a token from one row of target logits (greedy or sampled), using the shared RNG.
  int32_t pick(std::span<const float> logits, const SamplingParams& sampling);
  // Teacher-forces every MTP layer over its rows that are now fully known (SPEC §5): layer 0
  // with the target hidden states (target_hidden holds rows first_target_row onward).
  // With a window (> 0) only the newest rows are forced (DraftLengthController::kProbeWindow).
  void teacher_force(int64_t first_target_row, const float* target_hidden, int64_t window);
  // A draft token from MTP logits: argmax, or drawn from softmax(logits / T) keeping q.
  int32_t choose_draft(std::span<const float> logits, int64_t step, const SamplingParams& sampling);
  // Drafts `count` tokens after the newest one into drafts_.
  void draft(int64_t count, const SamplingParams& sampling);

  const ModelConfig& config_;
  ThreadPool& pool_;
  SpeculativeOptions options_;
  TargetModel target_;
  std::unique_ptr<MtpModel> mtp_;                        // null without MTP layers or with K = 0
  std::unique_ptr<DraftLengthController> draft_length_;  // with adaptive
  KvCache target_kv_;
  std::vector<KvCache> mtp_kv_;
  Rng rng_;
  SpecStats stats_;

  std::vector<int32_t> tokens_;  // prompt and every emitted token
  // Buffers sized once (no allocation per step).
  std::vector<float> logits_;              // [(K + 1), V]
  std::vector<float> hidden_;              // [(K + 1) or prompt, H]
  std::vector<float> probs_;               // [(K + 1), V]
  std::vector<float> residual_;            // [V]
  std::vector<float> mtp_logits_;          // [rows, V]
  std::vector<float> mtp_recycled_;        // [rows, H]
  std::vector<float> chain_hidden_;        // [H]: the recycled hidden state the next draft uses
  std::vector<float> first_draft_logits_;  // [V]: MTP layer 0 logits of the newest row
  std::vector<int32_t> drafts_;
  std::vector<float> draft_probs_;     // [K, V] when drafts are sampled
  std::vector<int32_t> batch_;         // [x, d_1..d_K]
  std::vector<int64_t> forced_rows_;   // per MTP layer: cache rows computed from target states
  std::vector<int64_t> next_mtp_row_;  // per MTP layer: the first row it has not been forced over
  // Target hidden states (post-norm) of rows [pending_first_row_, newest) that the MTP layers
  // have not been teacher-forced over yet: steps without drafts (K = 0) do no MTP work.
  std::vector<float> pending_hidden_;
  int64_t pending_first_row_ = 0;
  // D > 1: the recycled outputs of layer k at every teacher-forced row, layer k + 1's input.
  std::vector<std::vector<float>> recycled_history_;
  int64_t capacity_ = 0;
};

}  // namespace nextn
