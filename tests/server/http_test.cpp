// The HTTP layer end to end, in process: raw requests with httplib's client against a Server
// over a scripted backend (which refuses, streams slowly or records cancels on demand), and a
// few against the real Engine on a tiny checkpoint.
#include <httplib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "server/server.h"
#include "server/sse.h"
#include "server_test_util.h"

namespace nextn::server {
namespace {

using ParsedJson = nlohmann::json;
using namespace std::chrono_literals;

// Streams "w0 w1 ..." one word per update, `delay` apart, on its own thread per request.
class ScriptedBackend : public GenerationBackend {
 public:
  std::atomic<int> refuse{0};  // 1: EngineFull(kQueue), 2: EngineFull(kKvBudget), 3: Error
  std::chrono::milliseconds delay{0};
  int words = 5;
  std::vector<std::string> script;  // when set: these updates instead of "w0 w1 ..."

  ~ScriptedBackend() override {
    for (auto& t : threads_) t.join();
  }

  uint64_t submit(GenerationRequest request, GenerationCallbacks callbacks) override {
    if (refuse == 1) throw EngineFull(EngineFull::Reason::kQueue, "queue full");
    if (refuse == 2) throw EngineFull(EngineFull::Reason::kKvBudget, "kv budget full");
    if (refuse == 3) throw Error("temperature out of range");
    const uint64_t id = next_id_++;
    std::lock_guard lock(mutex_);
    threads_.emplace_back(
        [this, id, request = std::move(request), callbacks = std::move(callbacks)] {
          GenerationResult result{.finish = FinishReason::kLength,
                                  .prompt_tokens = static_cast<int64_t>(request.prompt.size())};
          const int count = script.empty() ? words : static_cast<int>(script.size());
          for (int i = 0; i < count; ++i) {
            std::this_thread::sleep_for(delay);
            if (cancelled(id)) {
              result.finish = FinishReason::kInterrupt;
              break;
            }
            GenerationUpdate update{.tokens = {i}};
            if (script.empty()) {
              update.text = fmt::format("w{} ", i);
            } else {
              update.text = script[static_cast<size_t>(i)];
            }
            result.text += update.text;
            ++result.completion_tokens;
            callbacks.on_update(update);
          }
          callbacks.on_done(result);
        });
    return id;
  }
  void cancel(uint64_t id) override {
    std::lock_guard lock(mutex_);
    cancelled_.insert(id);
  }
  EngineMetrics metrics() const override { return {}; }
  bool cancelled(uint64_t id) {
    std::lock_guard lock(mutex_);
    return cancelled_.count(id) > 0;
  }
  size_t cancel_count() {
    std::lock_guard lock(mutex_);
    return cancelled_.size();
  }

 private:
  std::atomic<uint64_t> next_id_{1};
  std::mutex mutex_;
  std::set<uint64_t> cancelled_;
  std::vector<std::thread> threads_;
};

class ServerFixture {
 public:
  ServerFixture(GenerationBackend& backend, ServerOptions options) {
    options.port = 0;
    options.log_format = LogFormat::kNone;
    if (options.limits.model_name.empty()) options.limits.model_name = "tiny";
    server_ = std::make_unique<Server>(testing::tiny_text_model(), backend, std::move(options));
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~ServerFixture() {
    server_->stop();
    thread_.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c;
  }

 private:
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::thread thread_;
};

ServerOptions options() {
  ServerOptions o;
  o.limits.model_name = "tiny";
  o.limits.context = 64;
  o.limits.max_prompt_tokens = 40;
  o.limits.max_tokens_limit = 50;
  o.max_body_bytes = 4096;
  return o;
}

const char* kChat =
    R"({"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":5})";

// The error object of a response, checked for its shape.
ParsedJson error_of(const httplib::Result& res) {
  EXPECT_TRUE(res);
  if (!res) return {};
  const ParsedJson body = ParsedJson::parse(res->body, nullptr, false);
  EXPECT_TRUE(body.is_object() && body.contains("error")) << res->body;
  if (!body.is_object() || !body.contains("error")) return {};
  const ParsedJson& e = body["error"];
  EXPECT_TRUE(e["message"].is_string());
  EXPECT_TRUE(e["type"].is_string());
  EXPECT_TRUE(e.contains("param") && e.contains("code"));
  return e;
}

TEST(Http, MalformedRequestsGetErrorObjectsAndTheServerKeepsServing) {
  ScriptedBackend backend;
  ServerFixture server(backend, options());
  auto client = server.client();
  struct Case {
    const char* path;
    std::string body;
    int status;
    const char* param;
  };
  const std::vector<Case> cases = {
      {"/v1/chat/completions", "{not json", 400, nullptr},
      {"/v1/chat/completions", "[]", 400, nullptr},
      {"/v1/chat/completions", R"({"messages": "hi"})", 400, "messages"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"temperature":"x"})",
       400, "temperature"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"n":3})", 400, "n"},
      {"/v1/chat/completions",
       R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":99999})", 400, "max_tokens"},
      {"/v1/chat/completions", R"({"model":"other","messages":[{"role":"user","content":"hi"}]})",
       404, "model"},
      {"/v1/completions", R"({"prompt": 7})", 400, "prompt"},
      {"/v1/completions", R"({"prompt": "x", "top_p": 2})", 400, "top_p"},
      {"/v1/completions", "{\"prompt\": \"\xff\xfe\"}", 400, nullptr},
      {"/v1/completions", std::string(5000, ' '), 413, nullptr},
  };
  for (const Case& c : cases) {
    const auto res = client.Post(c.path, c.body, "application/json");
    ASSERT_TRUE(res) << c.body.substr(0, 80);
    EXPECT_EQ(res->status, c.status) << c.body.substr(0, 80) << " → " << res->body;
    const ParsedJson e = error_of(res);
    if (c.param) {
      EXPECT_EQ(e["param"], c.param) << res->body;
    }
    if (c.status == 404) {
      EXPECT_EQ(e["code"], "model_not_found");
    }
  }
  EXPECT_EQ(client.Get("/nowhere")->status, 404);
  error_of(client.Get("/nowhere"));
  EXPECT_EQ(client.Get("/v1/chat/completions")->status, 405);
  EXPECT_EQ(client.Post("/health", "{}", "application/json")->status, 405);
  error_of(client.Delete("/v1/models"));
  // Still serving.
  const auto ok = client.Post("/v1/chat/completions", kChat, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ParsedJson::parse(ok->body)["choices"][0]["message"]["content"], "w0 w1 w2 w3 w4 ");
}

TEST(Http, ApiKeyIsRequiredExceptForHealth) {
  ScriptedBackend backend;
  ServerOptions o = options();
  o.api_key = "sekret";
  ServerFixture server(backend, o);
  auto client = server.client();
  EXPECT_EQ(client.Get("/health")->status, 200);
  for (const char* path : {"/v1/models", "/metrics"}) {
    const auto res = client.Get(path);
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(error_of(res)["code"], "invalid_api_key");
  }
  EXPECT_EQ(client.Post("/v1/chat/completions", kChat, "application/json")->status, 401);
  client.set_bearer_token_auth("wrong");
  EXPECT_EQ(client.Post("/v1/chat/completions", kChat, "application/json")->status, 401);
  client.set_bearer_token_auth("sekret");
  EXPECT_EQ(client.Post("/v1/chat/completions", kChat, "application/json")->status, 200);
  const auto models = client.Get("/v1/models");
  ASSERT_EQ(models->status, 200);
  EXPECT_EQ(ParsedJson::parse(models->body)["data"][0]["id"], "tiny");
  EXPECT_EQ(client.Get("/v1/models/tiny")->status, 200);
  EXPECT_EQ(client.Get("/v1/models/other")->status, 404);
}

TEST(Http, EngineRefusalsAre429And503AndBadParametersAre400) {
  ScriptedBackend backend;
  ServerFixture server(backend, options());
  auto client = server.client();
  backend.refuse = 1;
  auto res = client.Post("/v1/chat/completions", kChat, "application/json");
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(error_of(res)["type"], "rate_limit_error");
  backend.refuse = 2;
  res = client.Post("/v1/chat/completions", kChat, "application/json");
  EXPECT_EQ(res->status, 503);
  backend.refuse = 3;
  res = client.Post("/v1/chat/completions", kChat, "application/json");
  EXPECT_EQ(res->status, 400);
  backend.refuse = 0;
  EXPECT_EQ(client.Post("/v1/chat/completions", kChat, "application/json")->status, 200);
}

TEST(Http, TooManyConcurrentRequestsGet429) {
  ScriptedBackend backend;
  backend.delay = 100ms;
  ServerOptions o = options();
  o.max_concurrent = 2;
  ServerFixture server(backend, o);
  std::atomic<int> ok{0}, limited{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 5; ++i) {
    clients.emplace_back([&] {
      auto client = server.client();
      const auto res = client.Post("/v1/chat/completions", kChat, "application/json");
      if (res && res->status == 200) ++ok;
      if (res && res->status == 429) ++limited;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok + limited, 5);
  EXPECT_GE(ok, 2);
  EXPECT_GE(limited, 1);
}

TEST(Http, StreamsServerSentEvents) {
  ScriptedBackend backend;
  ServerFixture server(backend, options());
  auto client = server.client();
  const auto res = client.Post(
      "/v1/chat/completions",
      R"({"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}})",
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  const auto lines = sse_data_lines(res->body);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    const ParsedJson chunk = ParsedJson::parse(lines[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    if (!chunk["choices"].empty()) text += chunk["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(text, "w0 w1 w2 w3 w4 ");
  const ParsedJson usage = ParsedJson::parse(lines[lines.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 5);
  const ParsedJson finish = ParsedJson::parse(lines[lines.size() - 3]);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
}

TEST(Http, ReasoningIsSplitFromContent) {
  ScriptedBackend backend;
  backend.script = {"<thi", "nk>Let me see", ".</th", "ink>", "Four."};
  ServerFixture server(backend, options());
  auto client = server.client();
  const auto whole = client.Post("/v1/chat/completions", kChat, "application/json");
  const ParsedJson message = ParsedJson::parse(whole->body)["choices"][0]["message"];
  EXPECT_EQ(message["reasoning_content"], "Let me see.");
  EXPECT_EQ(message["content"], "Four.");
  const auto stream = client.Post("/v1/chat/completions",
                                  R"({"messages":[{"role":"user","content":"hi"}],"stream":true})",
                                  "application/json");
  std::string reasoning, content;
  for (const auto& line : sse_data_lines(stream->body)) {
    if (line == "[DONE]") continue;
    const ParsedJson delta = ParsedJson::parse(line)["choices"][0]["delta"];
    reasoning += delta.value("reasoning_content", "");
    content += delta.value("content", "");
  }
  EXPECT_EQ(reasoning, "Let me see.");
  EXPECT_EQ(content, "Four.");
  // Text completions are never split.
  const auto text = client.Post("/v1/completions", R"({"prompt":"hi"})", "application/json");
  EXPECT_EQ(ParsedJson::parse(text->body)["choices"][0]["text"], "<think>Let me see.</think>Four.");
}

TEST(Http, AClientThatGoesAwayMidStreamIsCancelled) {
  ScriptedBackend backend;
  backend.delay = 50ms;
  backend.words = 200;  // 10 s if nobody cancels
  ServerFixture server(backend, options());
  auto client = server.client();
  int chunks = 0;
  const auto start = std::chrono::steady_clock::now();
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = R"({"prompt":"hi","stream":true})";
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };
  client.send(req);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (backend.cancel_count() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(backend.cancel_count(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(server.client().Get("/health")->status, 200);
}

TEST(Http, RealEngineAnswersChatAndCompletions) {
  Engine engine(testing::tiny_text_model(),
                EngineOptions{.max_batch = 4, .max_context = 64, .kv_budget_tokens = 512});
  EngineBackend backend(engine);
  ServerOptions o = options();
  o.limits.has_mtp = true;
  ServerFixture server(backend, o);
  auto client = server.client();
  const char* greedy = R"({"prompt":"hello","max_tokens":12,"temperature":0,"speculative":0})";
  const auto plain = client.Post("/v1/completions", greedy, "application/json");
  ASSERT_EQ(plain->status, 200) << plain->body;
  const ParsedJson body = ParsedJson::parse(plain->body);
  EXPECT_EQ(body["usage"]["completion_tokens"], 12);
  for (const char* spec : {R"("auto")", "3", R"({"num_tokens": 2})"}) {
    const std::string request =
        std::string(R"({"prompt":"hello","max_tokens":12,"temperature":0,"speculative":)") + spec +
        "}";
    const auto res = client.Post("/v1/completions", request, "application/json");
    ASSERT_EQ(res->status, 200);
    EXPECT_EQ(ParsedJson::parse(res->body)["choices"][0]["text"], body["choices"][0]["text"])
        << spec;
  }
  const auto stream = client.Post(
      "/v1/completions", R"({"prompt":"hello","max_tokens":12,"temperature":0,"stream":true})",
      "application/json");
  std::string text;
  for (const auto& line : sse_data_lines(stream->body)) {
    if (line != "[DONE]") text += ParsedJson::parse(line)["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, body["choices"][0]["text"]);
  const auto metrics = client.Get("/metrics");
  EXPECT_NE(metrics->body.find("nextn:spec_decode_num_drafts_total"), std::string::npos);
}

}  // namespace
}  // namespace nextn::server
