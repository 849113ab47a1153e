#include "spec/speculative_decoder.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "kernels/kernels.h"
#include "spec/verify.h"

namespace nextn {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

SpeculativeDecoder::SpeculativeDecoder(const ModelConfig& config, const ModelWeights& weights,
                                       ThreadPool& pool, int64_t capacity,
                                       SpeculativeOptions options)
    : config_(config),
      pool_(pool),
      options_(options),
      target_(config, weights, pool),
      target_kv_(target_.make_cache(capacity + options.spec_tokens + 1)) {
  const int64_t K = options.spec_tokens;
  if (K < 0) fail("spec-tokens must be >= 0, got {}", K);
  const int64_t V = config.vocab_size;
  const int64_t H = config.hidden_size;
  if (K > 0) {
    if (config.num_nextn_predict_layers == 0) {
      fail(
          "speculative decoding needs the checkpoint's MTP layers, and num_nextn_predict_layers "
          "is 0: use --spec-tokens 0");
    }
    mtp_ = std::make_unique<MtpModel>(config, weights, pool, options.mtp);
    for (int64_t k = 0; k < mtp_->layers(); ++k) {
      mtp_kv_.push_back(mtp_->make_cache(capacity + K + 1));
      recycled_history_.emplace_back();
    }
    if (options.adaptive) draft_length_ = std::make_unique<DraftLengthController>(K);
  }
  logits_.resize(static_cast<size_t>((K + 1) * V));
  probs_.resize(static_cast<size_t>((K + 1) * V));
  residual_.resize(static_cast<size_t>(V));
  hidden_.resize(static_cast<size_t>((K + 1) * H));
  chain_hidden_.resize(static_cast<size_t>(H));
  first_draft_logits_.resize(static_cast<size_t>(V));
  drafts_.reserve(static_cast<size_t>(K));
  draft_probs_.resize(static_cast<size_t>(K * V));
  capacity_ = capacity;
}

int32_t SpeculativeDecoder::pick(std::span<const float> logits, const SamplingParams& sampling) {
  if (sampling.greedy()) return argmax(logits);
  const std::span<float> p = std::span(probs_).first(logits.size());
  sampling_probabilities(logits, sampling, p);
  return sample(p, rng_);
}

// Runs layer k over rows [its cache size, last_row] (teacher forcing): layer 0 takes the
// target's hidden states, layer k ≥ 1 the recycled outputs of layer k − 1 at the same rows
// (sequential MTP, SPEC §5); row p takes token t_{p+1+k}. `target_hidden` holds the target
// hidden states of rows [first_target_row, ...).
void SpeculativeDecoder::teacher_force(int64_t first_target_row, const float* target_hidden,
                                       int64_t window) {
  const int64_t H = config_.hidden_size;
  const int64_t V = config_.vocab_size;
  const int64_t newest = static_cast<int64_t>(tokens_.size()) - 1;  // position of the newest token
  for (int64_t k = 0; k < mtp_->layers(); ++k) {
    KvCache& kv = mtp_kv_[k];
    const int64_t from = DraftLengthController::catch_up_from(next_mtp_row_[k], newest, window);
    const int64_t to = newest - k;  // row p needs t_{p+1+k}, known up to t_newest
    if (to <= from) continue;
    const int64_t rows = to - from;
    const float* input = nullptr;
    if (k == 0) {
      input = target_hidden + (from - first_target_row) * H;
    } else {
      input = recycled_history_[k - 1].data() + from * H;
    }
    const bool keep_history = k + 1 < mtp_->layers();
    mtp_logits_.resize(static_cast<size_t>(V));
    mtp_recycled_.resize(static_cast<size_t>(rows * H));
    const auto start = Clock::now();
    mtp_->forward(k, from, input, std::span(tokens_).subspan(from + 1 + k, rows), kv,
                  k == 0 ? mtp_logits_.data() : nullptr, mtp_recycled_.data(),
                  /*last_row_logits=*/true);
    stats_.mtp_seconds += seconds_since(start);
    ++stats_.mtp_forwards;
    stats_.mtp_rows += rows;
    next_mtp_row_[k] = to;
    if (keep_history) {
      std::vector<float>& history = recycled_history_[k];
      history.resize(static_cast<size_t>(to * H));
      std::copy(mtp_recycled_.begin(), mtp_recycled_.end(), history.begin() + from * H);
    }
    if (k == 0) {
      // The newest row of layer 0 drafts d_1; its recycled state seeds the chain.
      std::copy(mtp_logits_.begin(), mtp_logits_.begin() + V, first_draft_logits_.begin());
      std::copy(mtp_recycled_.end() - H, mtp_recycled_.end(), chain_hidden_.begin());
    }
  }
  forced_rows_.clear();
  for (const KvCache& kv : mtp_kv_) forced_rows_.push_back(kv.size());
}

int32_t SpeculativeDecoder::choose_draft(std::span<const float> logits, int64_t step,
                                         const SamplingParams& sampling) {
  if (options_.draft_sampling == DraftSampling::kArgmax || sampling.greedy()) return argmax(logits);
  // Drawn from softmax(logits / temperature); q is kept for verification.
  const std::span<float> q = std::span(draft_probs_).subspan(step * logits.size(), logits.size());
  const SamplingParams plain{.temperature = sampling.temperature};
  sampling_probabilities(logits, plain, q);
  return sample(q, rng_);
}

void SpeculativeDecoder::draft(int64_t count, const SamplingParams& sampling) {
  const int64_t V = config_.vocab_size;
  const int64_t newest = static_cast<int64_t>(tokens_.size()) - 1;
  drafts_.clear();
  drafts_.push_back(choose_draft(first_draft_logits_, 0, sampling));
  for (int64_t j = 1; j < count; ++j) {
    // Draft step j: layer j mod D at position newest − 1 + j, fed d_j and the recycled hidden
    // state of the step before (SPEC §5).
    const int64_t k = j % mtp_->layers();
    const auto start = Clock::now();
    mtp_->forward(k, newest - 1 + j, chain_hidden_.data(), std::span(drafts_).subspan(j - 1, 1),
                  mtp_kv_[k], mtp_logits_.data(), chain_hidden_.data(), true);
    stats_.mtp_seconds += seconds_since(start);
    ++stats_.mtp_forwards;
    ++stats_.mtp_rows;
    drafts_.push_back(choose_draft(std::span(mtp_logits_).first(V), j, sampling));
  }
}

std::vector<int32_t> SpeculativeDecoder::generate(std::span<const int32_t> prompt,
                                                  const SamplingParams& sampling,
                                                  const GenerationLimits& limits,
                                                  const TokenSink& sink) {
  validate(sampling);
  const int64_t V = config_.vocab_size;
  const int64_t H = config_.hidden_size;
  const int64_t T = static_cast<int64_t>(prompt.size());
  if (T == 0) fail("the prompt is empty: generation needs at least one token");
  if (limits.max_tokens < 1) fail("max_tokens must be at least 1, got {}", limits.max_tokens);
  if (T + limits.max_tokens > capacity_) {
    fail("prompt ({} tokens) + max_tokens ({}) exceeds the context of {} tokens", T,
         limits.max_tokens, capacity_);
  }
  for (int32_t token : prompt) check_token(token, config_);
  tokens_.assign(prompt.begin(), prompt.end());
  pending_hidden_.clear();
  target_kv_.truncate(0);
  for (KvCache& kv : mtp_kv_) kv.truncate(0);
  forced_rows_.assign(mtp_kv_.size(), 0);
  next_mtp_row_.assign(mtp_kv_.size(), 0);
  rng_ = Rng(sampling.seed);
  stats_ = SpecStats{};
  stats_.prompt_tokens = T;
  stats_.accepted_at.assign(static_cast<size_t>(options_.spec_tokens), 0);
  std::vector<int32_t> generated;
  bool stopped = false;
  // Appends one token unless it is eos or over budget; false once generation must stop.
  auto emit = [&](int32_t token) {
    if (std::find(limits.eos_ids.begin(), limits.eos_ids.end(), token) != limits.eos_ids.end()) {
      return false;
    }
    tokens_.push_back(token);
    generated.push_back(token);
    return static_cast<int64_t>(generated.size()) < limits.max_tokens;
  };
  auto deliver = [&](size_t from) {
    if (sink && generated.size() > from &&
        !sink(std::span(generated).subspan(from, generated.size() - from))) {
      stopped = true;
    }
  };

  // Prefill: the prompt in one target pass, then the MTP layers over the prompt's rows.
  auto start = Clock::now();
  std::vector<float> prompt_hidden(static_cast<size_t>(T * H));
  target_.forward(prompt, target_kv_, logits_.data(), prompt_hidden.data(),
                  /*last_row_logits=*/true);
  ++stats_.target_forwards;
  stats_.target_rows += T;
  const int32_t first = pick(std::span(logits_).first(V), sampling);
  stopped = !emit(first);
  // The MTP layers catch up lazily, right before the first step that drafts (spec/…h).
  pending_hidden_ = std::move(prompt_hidden);
  pending_first_row_ = 0;
  stats_.prefill_seconds = seconds_since(start);
  deliver(0);

  const auto decode_start = Clock::now();
  while (!stopped) {
    const int64_t newest = static_cast<int64_t>(tokens_.size()) - 1;  // x, not yet run
    const int64_t remaining = limits.max_tokens - static_cast<int64_t>(generated.size());
    const int64_t wanted = draft_length_ ? draft_length_->choose() : options_.spec_tokens;
    // More drafts than tokens left to emit would be work thrown away.
    const int64_t K = mtp_ ? std::min(wanted, remaining - 1) : 0;
    drafts_.clear();
    const double mtp_before = stats_.mtp_seconds;
    if (K > 0) {
      const int64_t rows_before = stats_.mtp_rows;
      teacher_force(pending_first_row_, pending_hidden_.data(),
                    draft_length_ ? draft_length_->catch_up_window() : 0);
      if (draft_length_ && draft_length_->probing()) {
        ++stats_.probes;
        stats_.probe_mtp_rows += stats_.mtp_rows - rows_before;
      }
      pending_hidden_.clear();
      draft(K, sampling);
    }
    const double mtp_step_seconds = stats_.mtp_seconds - mtp_before;
    // 1. One target pass over [x, d_1..d_K].
    batch_.assign(1, tokens_.back());
    batch_.insert(batch_.end(), drafts_.begin(), drafts_.end());
    start = Clock::now();
    target_.forward(batch_, target_kv_, logits_.data(), hidden_.data());
    const double verify_seconds = seconds_since(start);
    stats_.target_seconds += verify_seconds;
    ++stats_.target_forwards;
    stats_.target_rows += K + 1;
    // 2. Verify.
    start = Clock::now();
    Verdict verdict;
    const auto rows = std::span(logits_).first(static_cast<size_t>((K + 1) * V));
    if (sampling.greedy()) {
      verdict = verify_greedy(rows, V, drafts_);
    } else {
      for (int64_t i = 0; i <= K; ++i) {
        sampling_probabilities(rows.subspan(i * V, V), sampling,
                               std::span(probs_).subspan(i * V, V));
      }
      const bool sampled_drafts = options_.draft_sampling == DraftSampling::kSample;
      verdict =
          options_.verify_sampled(std::span(probs_).first(rows.size()),
                                  sampled_drafts ? std::span<const float>(draft_probs_).first(K * V)
                                                 : std::span<const float>(),
                                  V, drafts_, rng_, residual_);
    }
    stats_.verify_seconds += seconds_since(start);
    if (K > 0) {
      ++stats_.drafts;
      stats_.draft_tokens += K;
      stats_.accepted_tokens += verdict.accepted;
      for (int64_t i = 0; i < verdict.accepted; ++i) ++stats_.accepted_at[i];
    }
    // 3. Roll back: the target keeps x and the accepted drafts; the MTP layers keep their
    // teacher-forced rows.
    target_kv_.truncate(newest + 1 + verdict.accepted);
    for (size_t k = 0; k < mtp_kv_.size(); ++k) mtp_kv_[k].truncate(forced_rows_[k]);
    const size_t delivered = generated.size();
    for (int64_t i = 0; i < verdict.accepted && !stopped; ++i) stopped = !emit(drafts_[i]);
    if (!stopped) stopped = !emit(verdict.next);
    deliver(delivered);
    if (draft_length_) draft_length_->record(K, verdict.accepted, verify_seconds, mtp_step_seconds);
    // 4. The target hidden states of the rows now accepted wait for the MTP layers, which are
    // teacher-forced over them at the next step that drafts (one pass over all waiting rows).
    if (mtp_ && !stopped) {
      if (pending_hidden_.empty()) pending_first_row_ = newest;
      pending_hidden_.insert(pending_hidden_.end(), hidden_.begin(),
                             hidden_.begin() + (verdict.accepted + 1) * H);
    }
  }
  stats_.decode_seconds = seconds_since(decode_start);
  stats_.generated_tokens = static_cast<int64_t>(generated.size());
  // Whatever stopped generation, the target cache holds exactly the tokens it has run.
  target_kv_.truncate(static_cast<int64_t>(tokens_.size()) - 1);
  return generated;
}

}  // namespace nextn
