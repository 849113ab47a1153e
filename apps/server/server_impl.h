// The server's internals, shared by server.cpp (routes, auth, errors, lifecycle) and
// generation_handler.cpp (the two generation endpoints).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "server/api_error.h"
#include "server/metrics.h"
#include "server/server.h"

namespace nextn::server {

// What one request's log line says.
struct RequestRecord {
  std::string method;
  std::string path;
  int status = 200;
  double seconds = 0.0;
  std::optional<GenerationResult> result;  // generation requests that ran
  std::string error;                       // the error message, when status >= 400
  bool deferred = false;                   // a stream: logged when it ends, not by the handler
};

// httplib listens with a backlog of 5, so a burst of new connections overflows it and the
// dropped SYNs cost the clients a one-second retransmit; Linux lets listen() be called
// again on the bound socket to widen it.
class HttpServer : public httplib::Server {
 public:
  void widen_backlog(int backlog) {
    if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, backlog);
  }
};

struct Server::Impl {
  Impl(const TextModel& m, GenerationBackend& b, ServerOptions o)
      : model(m), backend(b), options(std::move(o)) {}

  const TextModel& model;
  GenerationBackend& backend;
  ServerOptions options;
  HttpServer http;
  ServerMetrics metrics;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> stopping{false};
  int port = 0;

  void install_routes();
  bool authorized(const httplib::Request& req) const;
  // Writes an error response.
  void reply_error(httplib::Response& res, const ApiError& error) const;
  // Counts the request in /metrics and writes its log line.
  void finish(const RequestRecord& record);
  void handle_generation(Endpoint endpoint, const httplib::Request& req, httplib::Response& res,
                         RequestRecord& record);
};

// The endpoint label for metrics: a known route, or "other" (unbounded paths would make
// unbounded label sets).
std::string endpoint_label(const std::string& path);

std::string format_log_line(const RequestRecord& record, LogFormat format);

}  // namespace nextn::server
