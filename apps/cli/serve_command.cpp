// `nextn serve`: the OpenAI-compatible HTTP server (apps/server) over the batching engine.
// Loads the checkpoint once, serves until Ctrl-C / SIGTERM, then lets the requests in flight
// end (cancelled) and exits.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "commands.h"
#include "core/error.h"
#include "engine/engine.h"
#include "engine/text_model.h"
#include "server/server.h"

namespace nextn::cli {
namespace {

struct ServeArgs {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string served_model_name;
  std::string log_format = "text";
  int64_t max_batch = 8;
  int64_t context = 4096;
  int64_t kv_budget = 0;  // 0: max_batch full contexts
  int64_t max_queue = 64;
  size_t max_body = 4u << 20;
  int64_t max_prompt_tokens = 0;  // 0: the context
  int64_t max_tokens_limit = 0;   // 0: the context
  int64_t max_concurrent = 64;
  int64_t max_spec_tokens = 8;
  int threads = 0;
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that went away is a failed write, not a signal
}

double weight_gigabytes(const std::filesystem::path& dir) {
  uintmax_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".safetensors")
      bytes += entry.file_size();
  }
  return static_cast<double>(bytes) / 1e9;
}

int run_serve(const ServeArgs& args) {
  install_signal_handlers();
  const std::filesystem::path dir = args.model;
  std::string name = args.served_model_name;
  if (name.empty()) name = std::filesystem::absolute(dir).lexically_normal().filename().string();
  if (name.empty())
    name = std::filesystem::absolute(dir).lexically_normal().parent_path().filename().string();

  // One call loads every shard; a per-shard progress bar would need a hook in the loader.
  std::fprintf(stderr, "loading %s ... ", dir.string().c_str());
  std::fflush(stderr);
  const auto start = std::chrono::steady_clock::now();
  const auto model = TextModel::open(dir, LoadOptions{.mode = LoadMode::kFull});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "done in %.1f s, %.2f GB\n", seconds, weight_gigabytes(dir));
  model->chat_template();  // fails now when the checkpoint has no tokenizer or template

  const int64_t kv_budget = args.kv_budget > 0
                                ? args.kv_budget
                                : args.max_batch * (args.context + args.max_spec_tokens + 1);
  Engine engine(*model, EngineOptions{.max_batch = args.max_batch,
                                      .max_context = args.context,
                                      .kv_budget_tokens = kv_budget,
                                      .max_queue = args.max_queue,
                                      .threads = args.threads});
  server::EngineBackend backend(engine);
  server::ServerOptions options{.host = args.host,
                                .port = args.port,
                                .api_key = args.api_key,
                                .max_body_bytes = args.max_body,
                                .max_concurrent = args.max_concurrent,
                                .log_format = args.log_format == "json" ? server::LogFormat::kJson
                                                                        : server::LogFormat::kText};
  options.limits = server::RequestLimits{
      .model_name = name,
      .context = args.context,
      .max_prompt_tokens = args.max_prompt_tokens > 0 ? args.max_prompt_tokens : args.context - 1,
      .max_tokens_limit = args.max_tokens_limit > 0 ? args.max_tokens_limit : args.context - 1,
      .max_spec_tokens = args.max_spec_tokens,
      .has_mtp =
          model->config().num_nextn_predict_layers > 0 && !model->model().bound->mtp_layers.empty(),
      .default_sampling = server::default_sampling(model->generation_config())};
  server::Server http(*model, backend, std::move(options));
  const int port = http.bind();
  std::fprintf(stderr, "nextn serve: model '%s' on http://%s:%d (Ctrl-C stops)\n", name.c_str(),
               args.host.c_str(), port);
  std::fflush(stderr);

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      if (g_stop.load()) {
        std::fprintf(stderr, "nextn serve: stopping\n");
        http.stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  http.run();
  done.store(true);
  watcher.join();
  std::fprintf(stderr, "nextn serve: stopped\n");
  return 0;
}

}  // namespace

Action add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd =
      app.add_subcommand("serve", "OpenAI-compatible HTTP server (chat and text completions)");
  cmd->add_option("--model", args->model, "Checkpoint directory (with tokenizer files)")
      ->required();
  cmd->add_option("--host", args->host, "Address to listen on (loopback by default)");
  cmd->add_option("--port", args->port, "Port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", args->api_key,
                  "Require 'Authorization: Bearer KEY' (all but /health)");
  cmd->add_option("--served-model-name", args->served_model_name,
                  "Model id (default: the directory's name)");
  cmd->add_option("--log-format", args->log_format, "One line per request: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--max-batch", args->max_batch, "Requests stepped together")
      ->check(CLI::Range(int64_t{1}, int64_t{1024}));
  cmd->add_option("--ctx", args->context, "Context per request: prompt + max_tokens")
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 24));
  cmd->add_option("--kv-budget", args->kv_budget,
                  "KV cache tokens over all admitted requests (default: max-batch contexts)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 34));
  cmd->add_option("--max-queue", args->max_queue, "Requests waiting for a batch slot before 429")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("--max-body", args->max_body, "Largest request body in bytes (413 above)")
      ->check(CLI::Range(size_t{64}, size_t{1} << 32));
  cmd->add_option("--max-prompt-tokens", args->max_prompt_tokens,
                  "Longest prompt (default: ctx - 1)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("--max-tokens-limit", args->max_tokens_limit,
                  "Largest max_tokens accepted (default: ctx - 1)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("--max-concurrent", args->max_concurrent,
                  "Generation requests in flight before 429")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--max-spec-tokens", args->max_spec_tokens,
                  "Most drafted tokens per step (\"auto\" adapts up to it)")
      ->check(CLI::Range(int64_t{1}, int64_t{16}));
  cmd->add_option("--threads", args->threads, "Compute threads (0: one per core)")
      ->check(CLI::Range(0, 1024));
  return [args]() { return run_serve(*args); };
}

}  // namespace nextn::cli
