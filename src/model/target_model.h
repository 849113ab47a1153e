// The target model's forward pass (SPEC §4): embed → L decoder layers → model.norm → lm_head.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/arena.h"
#include "core/thread_pool.h"
#include "kv/kv_cache.h"
#include "model/attention.h"
#include "model/forward_context.h"
#include "model/model_weights.h"
#include "model/rope.h"

namespace nextn {

// Checks a token id against the vocabulary; Error names the id and V.
void check_token(int64_t token, const ModelConfig& config);

// One sequence's part of a batched pass: its new tokens, appended to its cache.
struct SequenceInput {
  std::span<const int32_t> tokens;
  KvCache* kv = nullptr;
  bool all_logits = true;  // false: logits of the last row only (prefill)
};

class TargetModel {
 public:
  TargetModel(const ModelConfig& config, const ModelWeights& weights, ThreadPool& pool,
              ForwardOptions options = {});

  KvCache make_cache(int64_t capacity) const;

  // Runs `tokens` at positions kv.size() .. kv.size() + T − 1 and appends them to kv.
  // logits [T, V] (or only the last row's [V] with last_row_logits) and hidden [T, H] (the
  // post-model.norm state the MTP layer takes) are written when non-null.
  void forward(std::span<const int32_t> tokens, KvCache& kv, float* logits, float* hidden,
               bool last_row_logits = false);
  // Several sequences in one pass (continuous batching): each weight is read once for all of
  // their rows. Rows are laid out in batch order: hidden [Σ T_i, H]; logits hold, in the same
  // order, every row of the sequences with all_logits and the last row of the others. Each
  // row's result is the same as in a pass of its own sequence alone. A cache may appear once.
  void forward(std::span<const SequenceInput> batch, float* logits, float* hidden);

  const ModelConfig& config() const { return config_; }
  // What the last forward read from the weights.
  const WeightTraffic& last_traffic() const { return traffic_; }

 private:
  const ModelConfig& config_;
  const ModelWeights& weights_;
  ThreadPool& pool_;
  Rope rope_;
  ForwardOptions options_;
  Arena arena_;
  WeightTraffic traffic_;
  std::vector<RowPlace> rows_;  // per pass; capacity kept across passes
  std::vector<int64_t> logit_rows_;
};

}  // namespace nextn
