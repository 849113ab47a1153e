// Internal to the engine: one request's sequence and the batched speculative step over many
// of them (SPEC §5-§6, as spec/speculative_decoder.h runs it for one sequence). Not a public
// header.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/engine.h"
#include "engine/stop_strings.h"
#include "kv/kv_cache.h"
#include "model/target_model.h"
#include "mtp/mtp_model.h"
#include "spec/draft_length.h"
#include "tokenizer/tokenizer.h"

namespace nextn {

struct Engine::Sequence {
  uint64_t id = 0;
  GenerationRequest request;
  GenerationCallbacks callbacks;
  std::chrono::steady_clock::time_point admitted;
  int64_t capacity = 0;  // reserved KV positions (the budget this sequence holds)

  // Decoding state.
  std::vector<int32_t> tokens;  // prompt + emitted; the newest is not yet run through the target
  std::vector<int32_t> eos_ids;
  int64_t generated = 0;
  bool prefilled = false;
  bool done = false;
  FinishReason finish = FinishReason::kLength;
  int64_t max_drafts = 0;  // K, or the most adaptive may choose; 0: plain decoding
  std::unique_ptr<DraftLengthController> draft_length;
  KvCache target_kv;
  std::vector<KvCache> mtp_kv;
  std::vector<int64_t> forced_rows;   // per MTP layer: cache rows computed from target states
  std::vector<int64_t> next_mtp_row;  // per MTP layer: the first row it has not been forced over
  std::vector<float> pending_hidden;  // target hidden states of rows not teacher-forced yet
  int64_t pending_first_row = 0;
  std::vector<std::vector<float>> recycled_history;  // D > 1: layer k's outputs per row
  std::vector<float> chain_hidden;                   // [H] recycled state the next draft uses
  std::vector<float> first_draft_logits;             // [V]
  std::vector<int32_t> drafts;
  std::vector<float> draft_probs;  // [K, V] for sampled drafts
  int64_t step_drafts = 0;         // K of the current step
  Rng rng;
  SpecStats stats;

  // Text.
  std::optional<StreamingDecoder> text_stream;
  std::unique_ptr<StopStringFilter> stops;
  std::string text;
  GenerationUpdate update;  // being filled during a step
};

}  // namespace nextn
