// The MTP ("nextn") layers as a draft model (SPEC §5).
//
// Layer k at a row with position p takes a hidden state h and the next token t:
//   e = embed(t), zeroed at p == 0 by default; x = eh_proj([enorm(e) ; hnorm(h)]);
//   out = decoder block L + k on x over this layer's own KV cache;
//   logits = head(shared_head.norm(out)).
// The hidden state recycled into the next draft step is shared_head.norm(out) by default, or
// the raw `out` (pre-norm) as an option.
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

enum class MtpRecycle { kPostNorm, kPreNorm };

struct MtpOptions {
  // vLLM zeroes the embedding at position 0; the models were trained without that mask.
  bool pos0_mask = true;
  MtpRecycle recycle = MtpRecycle::kPostNorm;
};

// One sequence's rows in a batched MTP pass: rows at positions position .. position + T − 1
// with hidden [T, H] and tokens [T], appended to `kv` (that sequence's cache of the layer).
struct MtpSequenceInput {
  int64_t position = 0;
  const float* hidden = nullptr;
  std::span<const int32_t> tokens;
  KvCache* kv = nullptr;
  bool all_logits = true;  // false: logits of the last row only
};

class MtpModel {
 public:
  MtpModel(const ModelConfig& config, const ModelWeights& weights, ThreadPool& pool,
           MtpOptions options = {}, ForwardOptions forward_options = {});

  int64_t layers() const { return config_.num_nextn_predict_layers; }
  // One cache per MTP layer: each layer has its own rows.
  KvCache make_cache(int64_t capacity) const;
  // What the last forward read from the weights.
  const WeightTraffic& last_traffic() const { return traffic_; }

  // Runs MTP layer k over T rows at positions position .. position + T − 1 with hidden
  // [T, H] and tokens [T], appending them to kv (that layer's cache). logits [T, V] (or the
  // last row's [V] with last_row_logits) and recycled [T, H] are written when non-null;
  // recycled may alias hidden.
  void forward(int64_t k, int64_t position, const float* hidden, std::span<const int32_t> tokens,
               KvCache& kv, float* logits, float* recycled, bool last_row_logits = false);
  // Layer k over several sequences in one pass. recycled [Σ T_i, H] in batch order (it may
  // alias the inputs: they are read first); logits hold every row of the sequences with all_logits
  // and the last row of the others, in batch order.
  void forward(int64_t k, std::span<const MtpSequenceInput> batch, float* logits, float* recycled);

 private:
  const ModelConfig& config_;
  const ModelWeights& weights_;
  ThreadPool& pool_;
  Rope rope_;
  MtpOptions options_;
  ForwardOptions forward_options_;
  Arena arena_;
  WeightTraffic traffic_;
  std::vector<RowPlace> rows_;  // per pass; capacity kept across passes
  std::vector<int64_t> logit_rows_;
};

}  // namespace nextn
