#include "engine/batch_step.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "sampling/sampling.h"
#include "spec/verify.h"

namespace nextn {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t newest_position(const Engine::Sequence& seq) {
  return static_cast<int64_t>(seq.tokens.size()) - 1;
}

}  // namespace

TokenLogprob token_logprob(std::span<const float> logits, int32_t token, int64_t top) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float x : logits) sum += std::exp(static_cast<double>(x - max));
  const auto log_z = static_cast<float>(std::log(sum)) + max;
  TokenLogprob out{.id = token, .logprob = logits[static_cast<size_t>(token)] - log_z};
  if (top > 0) {
    std::vector<int32_t> ids(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
    const auto n = std::min<int64_t>(top, static_cast<int64_t>(ids.size()));
    std::partial_sort(ids.begin(), ids.begin() + n, ids.end(), [&](int32_t a, int32_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    for (int64_t i = 0; i < n; ++i) out.top.emplace_back(ids[i], logits[ids[i]] - log_z);
  }
  return out;
}

BatchStepper::BatchStepper(const ModelConfig& config, const ModelWeights& weights,
                           const Tokenizer* tokenizer, ThreadPool& pool, bool with_mtp)
    : config_(config), tokenizer_(tokenizer), pool_(pool), target_(config, weights, pool) {
  if (with_mtp) mtp_ = std::make_unique<MtpModel>(config, weights, pool);
  residual_.resize(static_cast<size_t>(config.vocab_size));
}

void BatchStepper::prepare(Engine::Sequence& seq) {
  const int64_t H = config_.hidden_size;
  seq.target_kv = target_.make_cache(seq.capacity);
  if (seq.max_drafts > 0) {
    for (int64_t k = 0; k < mtp_->layers(); ++k) {
      seq.mtp_kv.push_back(mtp_->make_cache(seq.capacity));
      seq.recycled_history.emplace_back();
    }
    seq.forced_rows.assign(seq.mtp_kv.size(), 0);
    seq.next_mtp_row.assign(seq.mtp_kv.size(), 0);
    seq.chain_hidden.resize(static_cast<size_t>(H));
    seq.first_draft_logits.resize(static_cast<size_t>(config_.vocab_size));
    seq.draft_probs.resize(static_cast<size_t>(seq.max_drafts * config_.vocab_size));
  }
  if (tokenizer_ != nullptr) seq.text_stream.emplace(*tokenizer_);
  seq.stops = std::make_unique<StopStringFilter>(seq.request.stop);
  seq.rng = Rng(seq.request.sampling.seed);
  seq.stats.prompt_tokens = static_cast<int64_t>(seq.tokens.size());
  seq.stats.accepted_at.assign(static_cast<size_t>(seq.max_drafts), 0);
}

int32_t BatchStepper::pick(Engine::Sequence& seq, std::span<const float> logits) {
  const SamplingParams& sampling = seq.request.sampling;
  if (sampling.greedy()) return argmax(logits);
  probs_.resize(logits.size());
  sampling_probabilities(logits, sampling, probs_);
  return sample(probs_, seq.rng);
}

bool BatchStepper::emit(Engine::Sequence& seq, int32_t token, std::span<const float> logits) {
  if (!seq.request.ignore_eos &&
      std::find(seq.eos_ids.begin(), seq.eos_ids.end(), token) != seq.eos_ids.end()) {
    seq.done = true;
    seq.finish = FinishReason::kStop;
    return false;
  }
  seq.tokens.push_back(token);
  ++seq.generated;
  seq.update.tokens.push_back(token);
  if (seq.request.top_logprobs >= 0) {
    seq.update.logprobs.push_back(token_logprob(logits, token, seq.request.top_logprobs));
  }
  if (seq.text_stream) {
    const std::string piece = seq.stops->push(seq.text_stream->push(token));
    seq.update.text += piece;
    seq.text += piece;
    if (seq.stops->stopped()) {
      seq.done = true;
      seq.finish = FinishReason::kStop;
      return false;
    }
  }
  if (seq.generated >= seq.request.max_tokens) {
    seq.done = true;
    seq.finish = FinishReason::kLength;
    return false;
  }
  return true;
}

void BatchStepper::prefill(std::span<Engine::Sequence* const> fresh) {
  if (fresh.empty()) return;
  const int64_t V = config_.vocab_size;
  const int64_t H = config_.hidden_size;
  target_batch_.clear();
  int64_t rows = 0;
  for (Engine::Sequence* seq : fresh) {
    target_batch_.push_back({.tokens = seq->tokens, .kv = &seq->target_kv, .all_logits = false});
    rows += static_cast<int64_t>(seq->tokens.size());
  }
  logits_.resize(static_cast<size_t>(fresh.size()) * V);
  hidden_.resize(static_cast<size_t>(rows * H));
  const auto start = Clock::now();
  target_.forward(target_batch_, logits_.data(), hidden_.data());
  const double seconds = seconds_since(start);
  int64_t row = 0;
  for (size_t i = 0; i < fresh.size(); ++i) {
    Engine::Sequence& seq = *fresh[i];
    const auto T = static_cast<int64_t>(seq.tokens.size());
    ++seq.stats.target_forwards;
    seq.stats.target_rows += T;
    seq.stats.prefill_seconds = seconds;
    const auto row_logits = std::span<const float>(logits_).subspan(i * V, V);
    if (seq.max_drafts > 0) {  // the MTP layers catch up before the first step that drafts
      seq.pending_hidden.assign(hidden_.begin() + row * H, hidden_.begin() + (row + T) * H);
      seq.pending_first_row = 0;
    }
    row += T;
    seq.prefilled = true;
    emit(seq, pick(seq, row_logits), row_logits);
  }
}

void BatchStepper::teacher_force(std::span<Engine::Sequence* const> seqs) {
  const int64_t H = config_.hidden_size;
  const int64_t V = config_.vocab_size;
  for (int64_t k = 0; k < mtp_->layers(); ++k) {
    mtp_batch_.clear();
    std::vector<Engine::Sequence*>& in_batch = in_batch_;
    in_batch.clear();
    int64_t rows = 0;
    for (Engine::Sequence* seq : seqs) {
      // Before a probe only the newest rows (DraftLengthController::catch_up_window).
      const int64_t window = seq->draft_length ? seq->draft_length->catch_up_window() : 0;
      const int64_t from =
          DraftLengthController::catch_up_from(seq->next_mtp_row[k], newest_position(*seq), window);
      const int64_t to = newest_position(*seq) - k;  // row p needs t_{p+1+k}
      if (to <= from) continue;
      const float* input = k == 0 ? seq->pending_hidden.data() + (from - seq->pending_first_row) * H
                                  : seq->recycled_history[k - 1].data() + from * H;
      mtp_batch_.push_back({.position = from,
                            .hidden = input,
                            .tokens = std::span<const int32_t>(seq->tokens)
                                          .subspan(static_cast<size_t>(from + 1 + k),
                                                   static_cast<size_t>(to - from)),
                            .kv = &seq->mtp_kv[k],
                            .all_logits = false});
      in_batch.push_back(seq);
      rows += to - from;
    }
    if (mtp_batch_.empty()) continue;
    logits_.resize(in_batch.size() * static_cast<size_t>(V));
    recycled_.resize(static_cast<size_t>(rows * H));
    const auto start = Clock::now();
    mtp_->forward(k, mtp_batch_, k == 0 ? logits_.data() : nullptr, recycled_.data());
    const double seconds = seconds_since(start);
    int64_t row = 0;
    for (size_t i = 0; i < in_batch.size(); ++i) {
      Engine::Sequence& seq = *in_batch[i];
      const auto count = static_cast<int64_t>(mtp_batch_[i].tokens.size());
      const int64_t from = mtp_batch_[i].position;
      seq.stats.mtp_seconds += seconds;
      ++seq.stats.mtp_forwards;
      seq.stats.mtp_rows += count;
      if (seq.draft_length != nullptr && seq.draft_length->probing()) {
        seq.stats.probe_mtp_rows += count;
      }
      seq.next_mtp_row[k] = from + count;
      const float* out = recycled_.data() + row * H;
      if (k + 1 < mtp_->layers()) {
        std::vector<float>& history = seq.recycled_history[k];
        history.resize(static_cast<size_t>((from + count) * H));
        std::copy(out, out + count * H, history.begin() + from * H);
      }
      if (k == 0) {  // the newest row drafts d_1; its recycled state seeds the chain
        std::copy(logits_.begin() + i * V, logits_.begin() + (i + 1) * V,
                  seq.first_draft_logits.begin());
        std::copy(out + (count - 1) * H, out + count * H, seq.chain_hidden.begin());
      }
      row += count;
    }
  }
  for (Engine::Sequence* seq : seqs) {
    for (size_t k = 0; k < seq->mtp_kv.size(); ++k) seq->forced_rows[k] = seq->mtp_kv[k].size();
    seq->pending_hidden.clear();
  }
}

int32_t BatchStepper::choose_draft(Engine::Sequence& seq, std::span<const float> logits,
                                   int64_t step) {
  const SamplingParams& sampling = seq.request.sampling;
  if (sampling.greedy()) return argmax(logits);  // argmax drafts for greedy requests
  // Drawn from softmax(logits / temperature); q is kept for verification.
  const std::span<float> q =
      std::span(seq.draft_probs).subspan(static_cast<size_t>(step) * logits.size(), logits.size());
  sampling_probabilities(logits, {.temperature = sampling.temperature}, q);
  return sample(q, seq.rng);
}

void BatchStepper::draft(std::span<Engine::Sequence* const> seqs) {
  const int64_t V = config_.vocab_size;
  const int64_t H = config_.hidden_size;
  int64_t most = 0;
  for (Engine::Sequence* seq : seqs) {
    seq->drafts.clear();
    seq->drafts.push_back(choose_draft(*seq, seq->first_draft_logits, 0));
    most = std::max(most, seq->step_drafts);
  }
  // Draft step j: layer j mod D at position newest − 1 + j, fed d_j and the recycled state of
  // the step before (SPEC §5); every sequence that wants a (j+1)-th draft, in one pass.
  for (int64_t j = 1; j < most; ++j) {
    const int64_t k = j % mtp_->layers();
    mtp_batch_.clear();
    std::vector<Engine::Sequence*>& in_batch = in_batch_;
    in_batch.clear();
    for (Engine::Sequence* seq : seqs) {
      if (seq->step_drafts <= j) continue;
      mtp_batch_.push_back(
          {.position = newest_position(*seq) - 1 + j,
           .hidden = seq->chain_hidden.data(),
           .tokens = std::span<const int32_t>(seq->drafts).subspan(static_cast<size_t>(j - 1), 1),
           .kv = &seq->mtp_kv[k]});
      in_batch.push_back(seq);
    }
    logits_.resize(in_batch.size() * static_cast<size_t>(V));
    recycled_.resize(in_batch.size() * static_cast<size_t>(H));
    const auto start = Clock::now();
    mtp_->forward(k, mtp_batch_, logits_.data(), recycled_.data());
    const double seconds = seconds_since(start);
    for (size_t i = 0; i < in_batch.size(); ++i) {
      Engine::Sequence& seq = *in_batch[i];
      seq.stats.mtp_seconds += seconds;
      ++seq.stats.mtp_forwards;
      ++seq.stats.mtp_rows;
      std::copy(recycled_.begin() + i * H, recycled_.begin() + (i + 1) * H,
                seq.chain_hidden.begin());
      seq.drafts.push_back(choose_draft(seq, std::span<const float>(logits_).subspan(i * V, V), j));
    }
  }
}

void BatchStepper::decode(std::span<Engine::Sequence* const> active) {
  const int64_t V = config_.vocab_size;
  const int64_t H = config_.hidden_size;
  // 0. K for each sequence: never more drafts than tokens left to emit.
  std::vector<Engine::Sequence*>& drafting = drafting_;
  drafting.clear();
  for (Engine::Sequence* seq : active) {
    const int64_t remaining = seq->request.max_tokens - seq->generated;
    const int64_t wanted = seq->draft_length ? seq->draft_length->choose() : seq->max_drafts;
    seq->step_drafts =
        seq->max_drafts > 0 ? std::max<int64_t>(0, std::min(wanted, remaining - 1)) : 0;
    seq->drafts.clear();
    if (seq->step_drafts > 0) drafting.push_back(seq);
    if (seq->step_drafts > 0 && seq->draft_length && seq->draft_length->probing()) {
      ++seq->stats.probes;
    }
  }
  // 1. MTP: teacher forcing over the rows accepted since, then the draft chains.
  double mtp_seconds = 0.0;
  if (!drafting.empty()) {
    const auto start = Clock::now();
    teacher_force(drafting);
    draft(drafting);
    mtp_seconds = seconds_since(start);
  }
  // 2. One target pass over every sequence's [x, d_1..d_K].
  target_batch_.clear();
  rows_tokens_.resize(active.size());
  int64_t rows = 0;
  for (size_t i = 0; i < active.size(); ++i) {
    Engine::Sequence& seq = *active[i];
    rows_tokens_[i].assign(1, seq.tokens.back());
    rows_tokens_[i].insert(rows_tokens_[i].end(), seq.drafts.begin(), seq.drafts.end());
    target_batch_.push_back({.tokens = rows_tokens_[i], .kv = &seq.target_kv});
    rows += static_cast<int64_t>(rows_tokens_[i].size());
  }
  logits_.resize(static_cast<size_t>(rows * V));
  hidden_.resize(static_cast<size_t>(rows * H));
  const auto start = Clock::now();
  target_.forward(target_batch_, logits_.data(), hidden_.data());
  const double target_seconds = seconds_since(start);
  // 3. Verify, roll back and emit, per sequence.
  int64_t row = 0;
  for (size_t i = 0; i < active.size(); ++i) {
    Engine::Sequence& seq = *active[i];
    const int64_t K = seq.step_drafts;
    const int64_t newest = newest_position(seq);
    const auto seq_logits = std::span<const float>(logits_).subspan(row * V, (K + 1) * V);
    const float* seq_hidden = hidden_.data() + row * H;
    row += K + 1;
    seq.stats.target_seconds += target_seconds;
    ++seq.stats.target_forwards;
    seq.stats.target_rows += K + 1;
    const auto verify_start = Clock::now();
    Verdict verdict;
    const SamplingParams& sampling = seq.request.sampling;
    if (sampling.greedy()) {
      verdict = verify_greedy(seq_logits, V, seq.drafts);
    } else {
      probs_.resize(static_cast<size_t>((K + 1) * V));
      for (int64_t r = 0; r <= K; ++r) {
        sampling_probabilities(seq_logits.subspan(r * V, V), sampling,
                               std::span(probs_).subspan(r * V, V));
      }
      verdict = verify_sampled(probs_, std::span<const float>(seq.draft_probs).first(K * V), V,
                               seq.drafts, seq.rng, residual_);
    }
    seq.stats.verify_seconds += seconds_since(verify_start);
    if (K > 0) {
      ++seq.stats.drafts;
      seq.stats.draft_tokens += K;
      seq.stats.accepted_tokens += verdict.accepted;
      for (int64_t a = 0; a < verdict.accepted; ++a) ++seq.stats.accepted_at[a];
    }
    seq.target_kv.truncate(newest + 1 + verdict.accepted);
    for (size_t k = 0; k < seq.mtp_kv.size(); ++k) seq.mtp_kv[k].truncate(seq.forced_rows[k]);
    bool going = true;
    for (int64_t a = 0; a < verdict.accepted && going; ++a) {
      going = emit(seq, seq.drafts[a], seq_logits.subspan(a * V, V));
    }
    if (going) emit(seq, verdict.next, seq_logits.subspan(verdict.accepted * V, V));
    if (seq.draft_length) {
      seq.draft_length->record(K, verdict.accepted, target_seconds, mtp_seconds);
    }
    // The target hidden states of the accepted rows wait for the MTP layers.
    if (seq.max_drafts > 0 && !seq.done) {
      if (seq.pending_hidden.empty()) seq.pending_first_row = newest;
      seq.pending_hidden.insert(seq.pending_hidden.end(), seq_hidden,
                                seq_hidden + (verdict.accepted + 1) * H);
    }
  }
}

}  // namespace nextn
