// The serving engine: many generation requests at once over one loaded checkpoint, each with
// its own sampling parameters, stop strings, speculation settings and KV cache, stepped
// together by one worker thread (the HTTP server's back end).
//
// Requests are submitted from any thread and report back through callbacks that run on the
// worker thread: on_update for each run of newly final text, on_done exactly once at the end.
// A request that cannot be admitted (no room in the KV budget or the queue) is refused at once
// with EngineFull, never crashed on; cancel() frees a request's sequence at the next step.
//
// Greedy output of a request does not depend on which other requests run beside it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "engine/text_generation.h"
#include "engine/text_model.h"
#include "sampling/sampling.h"
#include "spec/spec_stats.h"

namespace nextn {

struct EngineOptions {
  int64_t max_batch = 8;             // sequences stepped together
  int64_t max_context = 4096;        // prompt + generation of one request, in tokens
  int64_t kv_budget_tokens = 65536;  // sum of the contexts of the admitted requests
  int64_t max_queue = 64;            // requests waiting for a slot
  int threads = 0;                   // 0: one per core
};

// Per request: off (num_tokens 0), a fixed K, or adaptive up to num_tokens ("auto").
struct SpeculationRequest {
  bool adaptive = true;
  int64_t num_tokens = 8;
};

struct GenerationRequest {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int64_t max_tokens = 256;
  bool ignore_eos = false;
  std::vector<std::string> stop;
  SpeculationRequest speculation;
  // < 0: no logprobs. n >= 0: each token's log-probability under the target model (log-softmax
  // of its logits, before temperature and truncation) and the n most likely alternatives.
  int64_t top_logprobs = -1;
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // most likely first
};

// One run of newly accepted tokens.
struct GenerationUpdate {
  std::string text;                    // text that is now final (a stop string cut it, if any)
  std::vector<int32_t> tokens;         // the run's tokens
  std::vector<TokenLogprob> logprobs;  // one per token when logprobs were asked for
};

struct GenerationResult {
  FinishReason finish = FinishReason::kStop;  // kInterrupt: cancelled
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::string text;      // the whole completion, as the updates delivered it
  SpecStats stats;       // this request's speculative counters and times
  double seconds = 0.0;  // from admission to the end
};

struct GenerationCallbacks {
  std::function<void(const GenerationUpdate&)> on_update;
  std::function<void(const GenerationResult&)> on_done;
};

// Why a request was not admitted: the KV budget is taken (retry later: 503) or the queue of
// waiting requests is full (429).
class EngineFull : public Error {
 public:
  enum class Reason { kKvBudget, kQueue };
  EngineFull(Reason reason, const std::string& message) : Error(message), reason_(reason) {}
  Reason reason() const { return reason_; }

 private:
  Reason reason_;
};

// Counters since start, for /metrics; the speculative ones have vLLM's meanings (SPEC §6).
struct EngineMetrics {
  int64_t requests_finished = 0;
  int64_t requests_cancelled = 0;
  int64_t requests_running = 0;
  int64_t requests_waiting = 0;
  int64_t prompt_tokens = 0;
  int64_t generation_tokens = 0;
  int64_t spec_drafts = 0;
  int64_t spec_draft_tokens = 0;
  int64_t spec_accepted_tokens = 0;
  std::vector<int64_t> spec_accepted_per_position;  // [i]: drafts whose first i+1 were accepted
  int64_t steps = 0;                                // batched target passes
  int64_t kv_tokens_reserved = 0;
};

class Engine {
 public:
  Engine(const TextModel& model, EngineOptions options);
  ~Engine();  // cancels what is left and joins the worker
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Checks the request (Error naming the parameter: empty prompt, prompt + max_tokens over
  // max_context, a token id out of range, sampling ranges, speculation without MTP layers) and
  // queues it; EngineFull when it cannot be admitted. Returns the request's id.
  uint64_t submit(GenerationRequest request, GenerationCallbacks callbacks);
  // Ends a request early (its on_done reports kInterrupt); unknown or finished ids are ignored.
  void cancel(uint64_t id);

  EngineMetrics metrics() const;
  const TextModel& model() const { return model_; }
  const EngineOptions& options() const { return options_; }

  struct Sequence;  // internal (engine.cpp)

 private:
  void run();  // the worker thread

  const TextModel& model_;
  EngineOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t next_id_ = 1;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<uint64_t> cancelled_;
  EngineMetrics metrics_;
  std::thread worker_;
};

}  // namespace nextn
