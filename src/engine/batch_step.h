// The batched speculative step (SPEC §5-§6) over the engine's active sequences: one target pass
// for every sequence's [x, d_1..d_K], MTP teacher forcing and each draft step batched across
// sequences too, then per-sequence verification, rollback and emission. Internal to engine/.
#pragma once

#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "engine/engine_sequence.h"
#include "model/target_model.h"
#include "mtp/mtp_model.h"
#include "tokenizer/tokenizer.h"

namespace nextn {

class BatchStepper {
 public:
  BatchStepper(const ModelConfig& config, const ModelWeights& weights, const Tokenizer* tokenizer,
               ThreadPool& pool, bool with_mtp);

  bool has_mtp() const { return mtp_ != nullptr; }
  int64_t mtp_layers() const { return mtp_ ? mtp_->layers() : 0; }
  // Caches and buffers for a newly admitted sequence.
  void prepare(Engine::Sequence& seq);
  // Runs the prompts of fresh sequences in one pass and emits each one's first token.
  void prefill(std::span<Engine::Sequence* const> fresh);
  // One speculative step for every sequence (all prefilled, none done).
  void decode(std::span<Engine::Sequence* const> active);

 private:
  void teacher_force(std::span<Engine::Sequence* const> seqs);
  void draft(std::span<Engine::Sequence* const> seqs);
  int32_t choose_draft(Engine::Sequence& seq, std::span<const float> logits, int64_t step);
  int32_t pick(Engine::Sequence& seq, std::span<const float> logits);
  // Appends one token unless generation must stop first; false once the sequence is done.
  bool emit(Engine::Sequence& seq, int32_t token, std::span<const float> logits);

  const ModelConfig& config_;
  const Tokenizer* tokenizer_;
  ThreadPool& pool_;
  TargetModel target_;
  std::unique_ptr<MtpModel> mtp_;
  // Scratch, grown to the largest step.
  std::vector<SequenceInput> target_batch_;
  std::vector<MtpSequenceInput> mtp_batch_;
  std::vector<std::vector<int32_t>> rows_tokens_;
  std::vector<float> logits_, hidden_, probs_, residual_, recycled_;
  std::vector<Engine::Sequence*> drafting_;  // decode(): the sequences that draft this step
  std::vector<Engine::Sequence*> in_batch_;  // the sequences of the MTP pass being run
};

// The log-probability of `token` and the `top` most likely tokens under softmax(logits).
TokenLogprob token_logprob(std::span<const float> logits, int32_t token, int64_t top);

}  // namespace nextn
