// The rows of one forward pass over a batch of sequences, shared by the target model and the
// MTP layers: each sequence's new tokens in order, each at its cache's next slot.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "config/model_config.h"
#include "core/error.h"
#include "model/attention.h"
#include "model/target_model.h"  // check_token

namespace nextn {

// Appends the rows of `batch` to `rows` (sequence by sequence; row t of a sequence at slot
// kv->size() + t and position first_position(seq) + t) and to `logit_rows` the indices of the
// rows whose logits are wanted (every row, or a sequence's last with all_logits false).
// Checks first that each sequence has tokens, that no cache appears twice and that every token
// is in the vocabulary (`model` names the batch in the errors), and reserves each cache's new
// rows. Sequence: SequenceInput or MtpSequenceInput (tokens, kv, all_logits).
template <typename Sequence, typename FirstPosition>
void place_batch_rows(std::span<const Sequence> batch, const ModelConfig& config,
                      std::string_view model, FirstPosition first_position,
                      std::vector<RowPlace>& rows, std::vector<int64_t>& logit_rows) {
  rows.clear();
  logit_rows.clear();
  for (const Sequence& seq : batch) {
    const auto count = static_cast<int64_t>(seq.tokens.size());
    if (count == 0) fail("a sequence in the {} batch has no tokens", model);
    for (const Sequence& other : batch) {
      if (&other != &seq && other.kv == seq.kv) {
        fail("a KV cache appears twice in one {} batch", model);
      }
    }
    for (int32_t token : seq.tokens) check_token(token, config);
    seq.kv->reserve_append(count);
    const int64_t position = first_position(seq);
    for (int64_t t = 0; t < count; ++t) {
      if (seq.all_logits || t + 1 == count) {
        logit_rows.push_back(static_cast<int64_t>(rows.size()));
      }
      rows.push_back({.kv = seq.kv, .slot = seq.kv->size() + t, .position = position + t});
    }
  }
}

}  // namespace nextn
