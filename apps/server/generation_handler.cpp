// POST /v1/chat/completions and /v1/completions: parse and check the body, submit it to the
// backend, then either wait for the whole result or stream the updates as server-sent events.
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "core/error.h"
#include "server/pending_request.h"
#include "server/response_assembler.h"
#include "server/server_impl.h"
#include "server/sse.h"

namespace nextn::server {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(100);  // how often a waiting handler looks up
constexpr auto kKeepAlive =
    std::chrono::milliseconds(1000);  // a comment after this long without data

// Holds one of the --max-concurrent places while a request is in flight.
class Slot {
 public:
  explicit Slot(std::atomic<int64_t>& count) : count_(count) {}
  ~Slot() { count_.fetch_sub(1); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  std::atomic<int64_t>& count_;
};

// What a stream's provider and releaser share.
struct StreamState {
  std::shared_ptr<Slot> slot;
  std::shared_ptr<PendingRequest> pending;
  std::unique_ptr<ResponseAssembler> assembler;
  uint64_t id = 0;
  bool opened = false;
  bool finished = false;  // the closing events went out
  bool cancelled = false;
  Clock::time_point start;
  Clock::time_point last_write;
  RequestRecord record;
};

}  // namespace

void Server::Impl::handle_generation(Endpoint endpoint, const httplib::Request& req,
                                     httplib::Response& res, RequestRecord& record) {
  const auto start = Clock::now();
  if (stopping.load())
    throw ApiError(503, "service_unavailable_error", "the server is shutting down");
  if (in_flight.fetch_add(1) >= options.max_concurrent) {
    in_flight.fetch_sub(1);
    throw ApiError(
        429, "rate_limit_error",
        fmt::format("too many requests in flight: this server takes {} at once (--max-concurrent)",
                    options.max_concurrent),
        "", "too_many_requests");
  }
  auto slot = std::make_shared<Slot>(in_flight);

  ApiRequest request = parse_request(endpoint, parse_body(req.body), model, options.limits);
  auto assembler = std::make_unique<ResponseAssembler>(request, model.tokenizer(),
                                                       make_header(endpoint, request.model));
  auto pending = std::make_shared<PendingRequest>();
  uint64_t id = 0;
  try {
    id = backend.submit(std::move(request.generation), pending->callbacks());
  } catch (const EngineFull& e) {
    if (e.reason() == EngineFull::Reason::kQueue) {
      throw ApiError(429, "rate_limit_error", e.what(), "", "queue_full");
    }
    throw ApiError(503, "service_unavailable_error", e.what(), "", "kv_budget_full");
  } catch (const Error& e) {
    throw ApiError(400, "invalid_request_error", e.what());
  }

  if (!request.stream) {
    bool cancelled = false;
    for (;;) {
      PendingRequest::Batch batch = pending->wait(kPoll);
      for (const GenerationUpdate& update : batch.updates) assembler->add(update);
      if (batch.result) {
        res.set_content(assembler->body(*batch.result)
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        "application/json");
        record.result = std::move(batch.result);
        return;
      }
      if (stopping.load() && !cancelled) {
        backend.cancel(id);
        cancelled = true;
      }
    }
  }

  auto state = std::make_shared<StreamState>();
  state->slot = std::move(slot);
  state->pending = std::move(pending);
  state->assembler = std::move(assembler);
  state->id = id;
  state->start = start;
  state->last_write = Clock::now();
  state->record = record;
  record.deferred = true;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto cancel = [this, state] {
    if (!state->cancelled) {
      backend.cancel(state->id);
      state->cancelled = true;
    }
  };
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, state, cancel](size_t, httplib::DataSink& sink) {
        std::string out;
        if (!state->opened) {
          out = state->assembler->open_events();
          state->opened = true;
        }
        PendingRequest::Batch batch = state->pending->wait(kPoll);
        for (const GenerationUpdate& update : batch.updates)
          out += state->assembler->update_events(update);
        if (batch.result) {
          out += state->assembler->close_events(*batch.result);
          state->record.result = std::move(batch.result);
        }
        if (out.empty() && Clock::now() - state->last_write > kKeepAlive) out = kSseKeepAlive;
        if (!out.empty()) {
          if (!sink.write(out.data(), out.size())) {  // the client went away
            cancel();
            return false;
          }
          state->last_write = Clock::now();
        }
        if (state->record.result) {
          state->finished = true;
          sink.done();
          return true;
        }
        if (stopping.load()) cancel();
        return true;
      },
      [this, state, cancel](bool) {
        if (!state->finished) {
          cancel();
          state->record.error = "the client went away or the server stopped; request cancelled";
          // Wait briefly for the engine to confirm, so the log line has the counts.
          const auto deadline = Clock::now() + std::chrono::seconds(2);
          while (!state->record.result && Clock::now() < deadline) {
            PendingRequest::Batch batch = state->pending->wait(kPoll);
            if (batch.result) state->record.result = std::move(batch.result);
          }
        }
        state->record.status = 200;
        state->record.seconds = std::chrono::duration<double>(Clock::now() - state->start).count();
        finish(state->record);
      });
}

}  // namespace nextn::server
