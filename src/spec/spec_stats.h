// Speculative-decoding metrics with vLLM's meanings (SPEC §6), plus counters and timings of
// the work each step did.
#pragma once

#include <cstdint>
#include <vector>

namespace nextn {

struct SpecStats {
  int64_t drafts = 0;           // verification steps that carried drafts
  int64_t draft_tokens = 0;     // tokens drafted
  int64_t accepted_tokens = 0;  // drafted tokens accepted
  // accepted_at[i]: drafts whose first i + 1 tokens were all accepted.
  std::vector<int64_t> accepted_at;

  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  int64_t target_forwards = 0;  // target passes (prefill included)
  int64_t target_rows = 0;      // tokens run through the target
  int64_t mtp_forwards = 0;     // MTP layer passes
  int64_t mtp_rows = 0;         // rows run through MTP layers
  int64_t probes = 0;           // auto: drafting steps that were probes after steps at K = 0
  int64_t probe_mtp_rows = 0;   // rows the MTP layers caught up over right before those probes
  double prefill_seconds = 0.0;
  double decode_seconds = 0.0;
  double target_seconds = 0.0;  // of decode_seconds
  double mtp_seconds = 0.0;     // prompt rows included
  double verify_seconds = 0.0;  // sampling and verification

  // Adds another run's counts and times (a conversation's totals over its replies).
  void add(const SpecStats& other) {
    drafts += other.drafts;
    draft_tokens += other.draft_tokens;
    accepted_tokens += other.accepted_tokens;
    if (accepted_at.size() < other.accepted_at.size()) accepted_at.resize(other.accepted_at.size());
    for (size_t i = 0; i < other.accepted_at.size(); ++i) accepted_at[i] += other.accepted_at[i];
    prompt_tokens += other.prompt_tokens;
    generated_tokens += other.generated_tokens;
    target_forwards += other.target_forwards;
    target_rows += other.target_rows;
    mtp_forwards += other.mtp_forwards;
    mtp_rows += other.mtp_rows;
    probes += other.probes;
    probe_mtp_rows += other.probe_mtp_rows;
    prefill_seconds += other.prefill_seconds;
    decode_seconds += other.decode_seconds;
    target_seconds += other.target_seconds;
    mtp_seconds += other.mtp_seconds;
    verify_seconds += other.verify_seconds;
  }

  double acceptance_rate() const {
    return draft_tokens == 0
               ? 0.0
               : static_cast<double>(accepted_tokens) / static_cast<double>(draft_tokens);
  }
  // 1 + accepted / drafts: tokens emitted per verification step.
  double mean_acceptance_length() const {
    return drafts == 0 ? 1.0
                       : 1.0 + static_cast<double>(accepted_tokens) / static_cast<double>(drafts);
  }
  std::vector<double> per_position_acceptance() const {
    std::vector<double> rates;
    for (int64_t count : accepted_at) {
      rates.push_back(drafts == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(drafts));
    }
    return rates;
  }
  double prefill_tokens_per_second() const {
    return prefill_seconds > 0 ? static_cast<double>(prompt_tokens) / prefill_seconds : 0.0;
  }
  double decode_tokens_per_second() const {
    return decode_seconds > 0 ? static_cast<double>(generated_tokens) / decode_seconds : 0.0;
  }
};

}  // namespace nextn
