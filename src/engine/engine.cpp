#include "engine/engine.h"

#include <algorithm>

#include "engine/batch_step.h"
#include "engine/engine_sequence.h"
#include "model/target_model.h"

namespace nextn {
namespace {

using Clock = std::chrono::steady_clock;

bool model_has_mtp(const TextModel& model) {
  return model.config().num_nextn_predict_layers > 0 && !model.model().bound->mtp_layers.empty();
}

}  // namespace

Engine::Engine(const TextModel& model, EngineOptions options) : model_(model), options_(options) {
  if (options_.max_batch < 1)
    fail("engine: max_batch must be at least 1, got {}", options_.max_batch);
  if (options_.max_context < 2)
    fail("engine: max_context must be at least 2, got {}", options_.max_context);
  if (options_.kv_budget_tokens < options_.max_context) {
    fail("engine: the KV budget ({} tokens) must hold at least one full context ({} tokens)",
         options_.kv_budget_tokens, options_.max_context);
  }
  worker_ = std::thread([this] { run(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

uint64_t Engine::submit(GenerationRequest request, GenerationCallbacks callbacks) {
  const ModelConfig& config = model_.config();
  const auto prompt = static_cast<int64_t>(request.prompt.size());
  if (prompt == 0) fail("the prompt is empty: generation needs at least one token");
  for (int32_t token : request.prompt) check_token(token, config);
  if (request.max_tokens < 1) fail("max_tokens must be at least 1, got {}", request.max_tokens);
  if (prompt + request.max_tokens > options_.max_context) {
    fail("the prompt ({} tokens) + max_tokens ({}) exceeds the context of {} tokens", prompt,
         request.max_tokens, options_.max_context);
  }
  validate(request.sampling);
  if (request.top_logprobs > 20)
    fail("top_logprobs must be at most 20, got {}", request.top_logprobs);
  const SpeculationRequest& spec = request.speculation;
  if (spec.num_tokens < 0 || spec.num_tokens > DraftLengthController::kMaxDrafts) {
    fail("speculative num_tokens must be in 0..{}, got {}", DraftLengthController::kMaxDrafts,
         spec.num_tokens);
  }
  int64_t drafts = spec.num_tokens;
  if (!model_has_mtp(model_)) {
    if (drafts > 0 && !spec.adaptive) {
      fail(
          "speculative decoding needs the checkpoint's MTP layers, and this model has none: "
          "ask for num_tokens 0 or \"auto\"");
    }
    drafts = 0;
  }
  auto seq = std::make_unique<Sequence>();
  seq->request = std::move(request);
  seq->callbacks = std::move(callbacks);
  seq->tokens = seq->request.prompt;
  seq->eos_ids = model_.stop_token_ids();
  seq->max_drafts = drafts;
  if (drafts > 0 && spec.adaptive)
    seq->draft_length = std::make_unique<DraftLengthController>(drafts);
  seq->capacity = prompt + seq->request.max_tokens + drafts + 1;

  std::lock_guard lock(mutex_);
  if (static_cast<int64_t>(waiting_.size()) >= options_.max_queue) {
    if (metrics_.kv_tokens_reserved + seq->capacity > options_.kv_budget_tokens) {
      throw EngineFull(EngineFull::Reason::kKvBudget,
                       fmt::format("the KV cache budget of {} tokens is in use and {} requests are "
                                   "waiting: retry later",
                                   options_.kv_budget_tokens, waiting_.size()));
    }
    throw EngineFull(EngineFull::Reason::kQueue,
                     fmt::format("{} requests are already waiting: retry later", waiting_.size()));
  }
  seq->id = next_id_++;
  const uint64_t id = seq->id;
  waiting_.push_back(std::move(seq));
  metrics_.requests_waiting = static_cast<int64_t>(waiting_.size());
  wake_.notify_all();
  return id;
}

void Engine::cancel(uint64_t id) {
  {
    std::lock_guard lock(mutex_);
    cancelled_.push_back(id);
  }
  wake_.notify_all();
}

EngineMetrics Engine::metrics() const {
  std::lock_guard lock(mutex_);
  return metrics_;
}

void Engine::run() {
  const TextModel& text = model_;
  ThreadPool pool(options_.threads);
  BatchStepper stepper(text.config(), *text.model().bound,
                       text.has_tokenizer() ? &text.tokenizer() : nullptr, pool,
                       model_has_mtp(text));
  std::vector<std::unique_ptr<Sequence>> active;
  std::vector<Sequence*> fresh, stepping;
  std::vector<std::unique_ptr<Sequence>> dropped;  // cancelled before they ran

  // The tail of the text that the decoders held back, then the last update and the result.
  // Called after the metrics count the sequence, so that on_done sees them settled.
  auto finish = [&](Sequence& seq) {
    if (seq.text_stream && !seq.stops->stopped()) {
      const std::string tail = seq.stops->push(seq.text_stream->flush()) + seq.stops->flush();
      if (!tail.empty()) {
        seq.text += tail;
        seq.update.text += tail;
      }
    }
    if (!seq.update.text.empty() || !seq.update.tokens.empty()) {
      if (seq.callbacks.on_update) seq.callbacks.on_update(seq.update);
      seq.update = {};
    }
    seq.stats.generated_tokens = seq.generated;
    GenerationResult result{
        .finish = seq.finish,
        .prompt_tokens = static_cast<int64_t>(seq.request.prompt.size()),
        .completion_tokens = seq.generated,
        .text = seq.text,
        .stats = seq.stats,
        .seconds = std::chrono::duration<double>(Clock::now() - seq.admitted).count()};
    if (seq.callbacks.on_done) seq.callbacks.on_done(result);
  };

  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !active.empty() || !waiting_.empty(); });
      if (stopping_) {
        for (auto& seq : waiting_) active.push_back(std::move(seq));
        waiting_.clear();
      }
      // Cancellations: a waiting request is dropped, a running one ends after this point.
      for (uint64_t id : cancelled_) {
        for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
          if ((*it)->id == id) {
            dropped.push_back(std::move(*it));
            waiting_.erase(it);
            break;
          }
        }
        for (auto& seq : active) {
          if (seq->id == id && !seq->done) {
            seq->done = true;
            seq->finish = FinishReason::kInterrupt;
          }
        }
      }
      cancelled_.clear();
      if (stopping_) {
        for (auto& seq : active) {
          if (!seq->done) {
            seq->done = true;
            seq->finish = FinishReason::kInterrupt;
          }
        }
      }
      // Admission: in order, while a batch slot and the KV budget allow.
      while (!stopping_ && !waiting_.empty() &&
             static_cast<int64_t>(active.size()) < options_.max_batch &&
             metrics_.kv_tokens_reserved + waiting_.front()->capacity <=
                 options_.kv_budget_tokens) {
        metrics_.kv_tokens_reserved += waiting_.front()->capacity;
        active.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
      }
      metrics_.requests_waiting = static_cast<int64_t>(waiting_.size());
      metrics_.requests_running = static_cast<int64_t>(active.size());
    }
    if (!dropped.empty()) {
      {
        std::lock_guard lock(mutex_);
        metrics_.requests_cancelled += static_cast<int64_t>(dropped.size());
      }
      for (auto& seq : dropped) {
        seq->finish = FinishReason::kInterrupt;
        seq->admitted = Clock::now();
        finish(*seq);
      }
      dropped.clear();
    }

    fresh.clear();
    stepping.clear();
    for (auto& seq : active) {
      if (seq->done) continue;
      if (!seq->prefilled) {
        seq->admitted = Clock::now();
        stepper.prepare(*seq);
        fresh.push_back(seq.get());
      } else {
        stepping.push_back(seq.get());
      }
    }
    const auto step_start = Clock::now();
    if (!stepping.empty()) stepper.decode(stepping);
    const double decode_seconds = std::chrono::duration<double>(Clock::now() - step_start).count();
    for (Sequence* seq : stepping) seq->stats.decode_seconds += decode_seconds;
    stepper.prefill(fresh);

    // Deliver, then retire finished sequences.
    EngineMetrics delta;
    for (auto& seq : active) {
      if (!seq->done && (!seq->update.text.empty() || !seq->update.tokens.empty())) {
        if (seq->callbacks.on_update) seq->callbacks.on_update(seq->update);
        seq->update = {};
      }
    }
    int64_t released = 0;
    for (auto& seq : active) {
      if (!seq->done) continue;
      released += seq->capacity;
      if (seq->finish == FinishReason::kInterrupt) {
        ++delta.requests_cancelled;
      } else {
        ++delta.requests_finished;
      }
      delta.prompt_tokens += static_cast<int64_t>(seq->request.prompt.size());
      delta.generation_tokens += seq->generated;
      delta.spec_drafts += seq->stats.drafts;
      delta.spec_draft_tokens += seq->stats.draft_tokens;
      delta.spec_accepted_tokens += seq->stats.accepted_tokens;
      if (delta.spec_accepted_per_position.size() < seq->stats.accepted_at.size()) {
        delta.spec_accepted_per_position.resize(seq->stats.accepted_at.size());
      }
      for (size_t i = 0; i < seq->stats.accepted_at.size(); ++i) {
        delta.spec_accepted_per_position[i] += seq->stats.accepted_at[i];
      }
    }
    {
      std::lock_guard lock(mutex_);
      metrics_.kv_tokens_reserved -= released;
      metrics_.requests_finished += delta.requests_finished;
      metrics_.requests_cancelled += delta.requests_cancelled;
      metrics_.prompt_tokens += delta.prompt_tokens;
      metrics_.generation_tokens += delta.generation_tokens;
      metrics_.spec_drafts += delta.spec_drafts;
      metrics_.spec_draft_tokens += delta.spec_draft_tokens;
      metrics_.spec_accepted_tokens += delta.spec_accepted_tokens;
      auto& per_position = metrics_.spec_accepted_per_position;
      if (per_position.size() < delta.spec_accepted_per_position.size()) {
        per_position.resize(delta.spec_accepted_per_position.size());
      }
      for (size_t i = 0; i < delta.spec_accepted_per_position.size(); ++i) {
        per_position[i] += delta.spec_accepted_per_position[i];
      }
      if (!stepping.empty() || !fresh.empty()) ++metrics_.steps;
      int64_t running = 0;
      for (const auto& seq : active) running += seq->done ? 0 : 1;
      metrics_.requests_running = running;
    }
    for (auto& seq : active) {
      if (seq->done) finish(*seq);
    }
    std::erase_if(active, [](const auto& seq) { return seq->done; });
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && active.empty() && waiting_.empty()) return;
    }
  }
}

}  // namespace nextn
