// `nextn logits`: the exact command-line contract other tools rely on (issue: forward pass).
//   nextn logits --model DIR --tokens 1,2,3 --out target.npy [--mtp-out mtp.npy] [--threads N]
// target.npy [T, V]: target logits at positions 0..T−1, one prefill from position 0.
// mtp.npy [T−1, V]: row p = MTP layer 0 fed the target's post-norm hidden state at p and token
// p+1, at position p, with SPEC §5's default settings.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "io/npy.h"
#include "model/loaded_model.h"
#include "model/target_model.h"
#include "mtp/mtp_model.h"
#include "token_list.h"

namespace nextn::cli {
namespace {

struct LogitsArgs {
  std::string model;
  std::string tokens;
  std::string out;
  std::string mtp_out;
  int threads = 0;
};

int run_logits(const LogitsArgs& args) {
  const std::vector<int32_t> tokens = parse_token_list(args.tokens, "--tokens");
  const bool want_mtp = !args.mtp_out.empty();
  const LoadOptions options{.mode = want_mtp ? LoadMode::kFull : LoadMode::kTargetOnly};
  const auto model = LoadedModel::open(args.model, options);
  const ModelConfig& config = model->config;
  for (int32_t token : tokens) check_token(token, config);
  if (want_mtp && tokens.size() < 2) fail("--mtp-out needs at least 2 tokens (it has T−1 rows)");

  ThreadPool pool(args.threads);
  const int64_t T = static_cast<int64_t>(tokens.size());
  const int64_t H = config.hidden_size;
  const int64_t V = config.vocab_size;
  TargetModel target(config, *model->bound, pool);
  KvCache kv = target.make_cache(T);
  std::vector<float> logits(static_cast<size_t>(T * V));
  std::vector<float> hidden(static_cast<size_t>(T * H));
  target.forward(tokens, kv, logits.data(), hidden.data());
  write_npy(args.out, logits, {T, V});
  if (want_mtp) {
    MtpModel mtp(config, *model->bound, pool);
    KvCache mtp_kv = mtp.make_cache(T);
    std::vector<float> mtp_logits(static_cast<size_t>((T - 1) * V));
    mtp.forward(0, 0, hidden.data(), std::span(tokens).subspan(1), mtp_kv, mtp_logits.data(),
                nullptr);
    write_npy(args.mtp_out, mtp_logits, {T - 1, V});
  }
  return 0;
}

}  // namespace

Action add_logits_command(CLI::App& app) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* cmd = app.add_subcommand("logits", "Write the target (and MTP) logits of a token "
                                               "sequence as float32 .npy files");
  cmd->add_option("--model", args->model, "Checkpoint directory")->required();
  cmd->add_option("--tokens", args->tokens, "Comma-separated token ids, e.g. 1,2,3")->required();
  cmd->add_option("--out", args->out, "Target logits [T, V] .npy")->required();
  cmd->add_option("--mtp-out", args->mtp_out, "MTP layer 0 logits [T-1, V] .npy");
  cmd->add_option("--threads", args->threads, "Threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  return [args]() { return run_logits(*args); };
}

}  // namespace nextn::cli
