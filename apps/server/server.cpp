#include "server/server.h"

#include <sys/socket.h>

#include <cstdio>

#include <fmt/format.h>

#include "core/error.h"
#include "server/server_impl.h"

namespace nextn::server {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Compares without an early exit, so the time taken does not tell how much of a key matched.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.size() + 1)]);
  return diff == 0;
}

constexpr const char* kRoutes[] = {"/v1/chat/completions", "/v1/completions", "/v1/models",
                                   "/health", "/metrics"};

}  // namespace

std::string endpoint_label(const std::string& path) {
  for (const char* route : kRoutes) {
    if (path == route) return route;
  }
  if (path.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
  return "other";
}

std::string format_log_line(const RequestRecord& r, LogFormat format) {
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json line = {
        {"method", r.method}, {"path", r.path}, {"status", r.status}, {"seconds", r.seconds}};
    if (r.result) {
      line["prompt_tokens"] = r.result->prompt_tokens;
      line["completion_tokens"] = r.result->completion_tokens;
      line["finish_reason"] = finish_reason_name(r.result->finish);
      line["acceptance_rate"] = r.result->stats.acceptance_rate();
      line["mean_acceptance_length"] = r.result->stats.mean_acceptance_length();
    }
    if (!r.error.empty()) line["error"] = r.error;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = fmt::format("{} {} {} {:.3f}s", r.method, r.path, r.status, r.seconds);
  if (r.result) {
    line += fmt::format(" prompt={} completion={} finish={} accept={:.2f} mean_len={:.2f}",
                        r.result->prompt_tokens, r.result->completion_tokens,
                        finish_reason_name(r.result->finish), r.result->stats.acceptance_rate(),
                        r.result->stats.mean_acceptance_length());
  }
  if (!r.error.empty()) line += " error=\"" + r.error + "\"";
  return line;
}

bool Server::Impl::authorized(const httplib::Request& req) const {
  if (options.api_key.empty()) return true;
  return same_secret(req.get_header_value("Authorization"), "Bearer " + options.api_key);
}

void Server::Impl::reply_error(httplib::Response& res, const ApiError& error) const {
  res.status = error.status();
  res.set_content(error_body(error), "application/json");
}

void Server::Impl::finish(const RequestRecord& record) {
  metrics.record_request(endpoint_label(record.path), record.status);
  if (record.result) metrics.record_latency(endpoint_label(record.path), record.seconds);
  if (options.log_format == LogFormat::kNone) return;
  const std::string line = format_log_line(record, options.log_format);
  if (options.log) {
    options.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void Server::Impl::install_routes() {
  // Every handler answers with an error object instead of letting anything escape.
  auto guarded = [this](bool needs_auth, auto body) {
    return [this, needs_auth, body](const httplib::Request& req, httplib::Response& res) {
      const auto start = Clock::now();
      RequestRecord record{.method = req.method, .path = req.path};
      try {
        if (needs_auth && !authorized(req)) {
          throw ApiError(401, "invalid_request_error",
                         "Incorrect or missing API key: send 'Authorization: Bearer <key>'", "",
                         "invalid_api_key");
        }
        res.status = 200;  // httplib leaves -1 until the handler returns
        body(req, res, record);
      } catch (const ApiError& e) {
        reply_error(res, e);
        record.error = e.what();
      } catch (const std::exception& e) {
        reply_error(res,
                    ApiError(500, "server_error", fmt::format("internal error: {}", e.what())));
        record.error = e.what();
      }
      if (record.deferred) return;
      record.status = res.status;
      record.seconds = seconds_since(start);
      finish(record);
    };
  };
  auto json_reply = [](httplib::Response& res, const nlohmann::ordered_json& body) {
    res.set_content(body.dump(), "application/json");
  };
  auto model_object = [this] {
    return nlohmann::ordered_json{{"id", options.limits.model_name},
                                  {"object", "model"},
                                  {"created", 0},
                                  {"owned_by", "nextn"},
                                  {"max_model_len", options.limits.context}};
  };

  http.Get("/health", guarded(false, [json_reply](const httplib::Request&, httplib::Response& res,
                                                  RequestRecord&) {
             json_reply(res, {{"status", "ok"}});
           }));
  http.Get("/v1/models",
           guarded(true, [json_reply, model_object](const httplib::Request&, httplib::Response& res,
                                                    RequestRecord&) {
             json_reply(res, {{"object", "list"},
                              {"data", nlohmann::ordered_json::array({model_object()})}});
           }));
  http.Get(R"(/v1/models/(.+))",
           guarded(true, [this, json_reply, model_object](const httplib::Request& req,
                                                          httplib::Response& res, RequestRecord&) {
             if (req.matches[1] != options.limits.model_name) {
               throw ApiError(404, "invalid_request_error",
                              fmt::format("The model '{}' does not exist", req.matches[1].str()),
                              "model", "model_not_found");
             }
             json_reply(res, model_object());
           }));
  http.Get("/metrics",
           guarded(true, [this](const httplib::Request&, httplib::Response& res, RequestRecord&) {
             res.set_content(metrics.render(backend.metrics()),
                             "text/plain; version=0.0.4; charset=utf-8");
           }));
  http.Post("/v1/chat/completions",
            guarded(true, [this](const httplib::Request& req, httplib::Response& res,
                                 RequestRecord& record) {
              handle_generation(Endpoint::kChat, req, res, record);
            }));
  http.Post("/v1/completions", guarded(true, [this](const httplib::Request& req,
                                                    httplib::Response& res, RequestRecord& record) {
              handle_generation(Endpoint::kCompletions, req, res, record);
            }));

  // A known path with the wrong method: 405 and the method it takes.
  auto wrong_method = [guarded](const char* allowed) {
    return guarded(false, [allowed](const httplib::Request& req, httplib::Response& res,
                                    RequestRecord&) {
      res.set_header("Allow", allowed);
      throw ApiError(405, "invalid_request_error",
                     fmt::format("{} {} is not supported: use {}", req.method, req.path, allowed));
    });
  };
  for (const char* path : {"/v1/chat/completions", "/v1/completions"}) {
    http.Get(path, wrong_method("POST"));
    http.Put(path, wrong_method("POST"));
    http.Patch(path, wrong_method("POST"));
    http.Delete(path, wrong_method("POST"));
  }
  for (const char* path : {"/v1/models", "/health", "/metrics"}) {
    http.Post(path, wrong_method("GET"));
    http.Put(path, wrong_method("GET"));
    http.Patch(path, wrong_method("GET"));
    http.Delete(path, wrong_method("GET"));
  }

  // Errors httplib answers itself (no route, body too large, a malformed request) get an
  // error object too; responses that already carry one are left as they are.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                     httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message;
    std::string code;
    switch (res.status) {
      case 404:
        message = fmt::format("no route {} {}", req.method, req.path);
        code = "not_found";
        break;
      case 413:
        message =
            fmt::format("the request body is over this server's limit of {} bytes (--max-body)",
                        options.max_body_bytes);
        code = "body_too_large";
        break;
      case 400:
        message = "malformed HTTP request";
        break;
      default:
        message = fmt::format("HTTP {}", res.status);
        break;
    }
    reply_error(res, ApiError(res.status, error_type_for_status(res.status), message, "", code));
    finish(RequestRecord{
        .method = req.method, .path = req.path, .status = res.status, .error = message});
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler(
      [this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        reply_error(res, ApiError(500, "server_error", "internal error"));
      });
}

Server::Server(const TextModel& model, GenerationBackend& backend, ServerOptions options)
    : impl_(std::make_unique<Impl>(model, backend, std::move(options))) {
  Impl& s = *impl_;
  s.http.set_payload_max_length(s.options.max_body_bytes);
  s.http.set_keep_alive_timeout(2);  // idle connections hold a thread; stop() waits for them
  s.http.set_tcp_nodelay(true);      // stream chunks go out as they are written
  // Each streamed request holds a thread while it runs; leave room for the rest.
  const auto threads = static_cast<size_t>(s.options.max_concurrent) + 8;
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.install_routes();
}

Server::~Server() {
  stop();
}

int Server::bind() {
  Impl& s = *impl_;
  if (s.options.port == 0) {
    s.port = s.http.bind_to_any_port(s.options.host);
    if (s.port < 0) fail("cannot listen on {} (any port)", s.options.host);
  } else {
    if (!s.http.bind_to_port(s.options.host, s.options.port)) {
      fail("cannot listen on {}:{} (in use, or not an address of this machine)", s.options.host,
           s.options.port);
    }
    s.port = s.options.port;
  }
  s.http.widen_backlog(1024);
  return s.port;
}

void Server::run() {
  impl_->http.listen_after_bind();
}

void Server::stop() {
  impl_->stopping.store(true);
  impl_->http.stop();
}

int Server::port() const {
  return impl_->port;
}

}  // namespace nextn::server
