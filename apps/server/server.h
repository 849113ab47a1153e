// `nextn serve`: the OpenAI-compatible HTTP server over a GenerationBackend (the Engine).
//
//   POST /v1/chat/completions, POST /v1/completions   (stream: server-sent events)
//   GET  /v1/models, /v1/models/{id}, /health, /metrics
//
// Every failure is an OpenAI error object with its status: 400 bad request (naming the
// parameter), 401 API key, 404 route or model, 405 method, 413 body too large, 429 too many
// requests, 503 KV budget full. A streaming client that goes away is noticed when a write
// fails (a keep-alive comment is written while a request waits) and its request cancelled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/text_model.h"
#include "server/backend.h"
#include "server/openai_request.h"

namespace nextn::server {

enum class LogFormat { kText, kJson, kNone };

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;      // 0: any free port (see Server::port())
  std::string api_key;  // non-empty: Authorization: Bearer KEY on all but /health
  size_t max_body_bytes = 4u << 20;
  int64_t max_concurrent = 64;  // generation requests in flight; more get 429
  LogFormat log_format = LogFormat::kText;
  RequestLimits limits;
  // Where log lines go (one per request); stderr when empty.
  std::function<void(const std::string&)> log;
};

class Server {
 public:
  Server(const TextModel& model, GenerationBackend& backend, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket (Error when it cannot); returns the port.
  int bind();
  // Serves until stop(); call bind() first.
  void run();
  // From any thread: requests in flight are cancelled, run() returns once they have ended.
  void stop();
  int port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nextn::server
