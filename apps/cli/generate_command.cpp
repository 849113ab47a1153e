// `nextn generate`: speculative generation with the MTP layers, streaming the tokens and then
// the acceptance statistics (or one JSON object with --json).
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "config/generation_config.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "model/loaded_model.h"
#include "spec/speculative_decoder.h"
#include "token_list.h"

namespace nextn::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt_tokens;
  int64_t max_tokens = 64;
  std::optional<float> temperature;
  std::optional<int64_t> top_k;
  std::optional<float> top_p;
  float min_p = 0.0f;
  uint64_t seed = 0;
  std::string spec_tokens = "auto";
  int64_t max_spec_tokens = 8;
  std::string draft_sampling = "argmax";
  std::string mtp_hidden = "post-norm";
  std::string mtp_pos0_mask = "on";
  int threads = 0;
  bool json = false;
  bool ignore_eos = false;
  int64_t context = 0;
};

void print_stats(const SpecStats& s, int64_t spec_tokens, bool adaptive) {
  std::fprintf(stderr, "\n\n");
  std::fprintf(stderr, "prompt      %lld tokens, %.1f tokens/s\n",
               static_cast<long long>(s.prompt_tokens), s.prefill_tokens_per_second());
  std::fprintf(stderr, "generated   %lld tokens, %.1f tokens/s\n",
               static_cast<long long>(s.generated_tokens), s.decode_tokens_per_second());
  if (spec_tokens == 0) {
    std::fprintf(stderr, "speculation off (--spec-tokens 0)\n");
    return;
  }
  std::fprintf(stderr, "drafts      %lld steps of up to %lld tokens%s, %lld drafted, %lld accepted\n",
               static_cast<long long>(s.drafts), static_cast<long long>(spec_tokens),
               adaptive ? " (auto)" : "",
               static_cast<long long>(s.draft_tokens), static_cast<long long>(s.accepted_tokens));
  std::fprintf(stderr, "acceptance  rate %.3f, mean acceptance length %.3f\n", s.acceptance_rate(),
               s.mean_acceptance_length());
  std::string positions;
  for (double rate : s.per_position_acceptance()) positions += fmt::format(" {:.3f}", rate);
  std::fprintf(stderr, "per position%s\n", positions.c_str());
  std::fprintf(stderr, "time        target %.3f s, MTP %.3f s, verify %.3f s (%lld target passes, "
               "%lld MTP passes)\n",
               s.target_seconds, s.mtp_seconds, s.verify_seconds,
               static_cast<long long>(s.target_forwards), static_cast<long long>(s.mtp_forwards));
}

nlohmann::ordered_json stats_json(const SpecStats& s) {
  return {{"prompt_tokens", s.prompt_tokens},
          {"generated_tokens", s.generated_tokens},
          {"drafts", s.drafts},
          {"draft_tokens", s.draft_tokens},
          {"accepted_tokens", s.accepted_tokens},
          {"acceptance_rate", s.acceptance_rate()},
          {"mean_acceptance_length", s.mean_acceptance_length()},
          {"per_position", s.per_position_acceptance()},
          {"prefill_tokens_per_second", s.prefill_tokens_per_second()},
          {"decode_tokens_per_second", s.decode_tokens_per_second()},
          {"prefill_seconds", s.prefill_seconds},
          {"decode_seconds", s.decode_seconds},
          {"target_seconds", s.target_seconds},
          {"mtp_seconds", s.mtp_seconds},
          {"verify_seconds", s.verify_seconds},
          {"target_forwards", s.target_forwards},
          {"target_rows", s.target_rows},
          {"mtp_forwards", s.mtp_forwards},
          {"mtp_rows", s.mtp_rows}};
}

// --spec-tokens: "auto" or a count.
SpeculativeOptions speculation_from(const GenerateArgs& args, const ModelConfig& config) {
  SpeculativeOptions options;
  if (args.spec_tokens == "auto") {
    // Without MTP layers there is nothing to draft with: plain decoding.
    options.spec_tokens = config.num_nextn_predict_layers > 0 ? args.max_spec_tokens : 0;
    options.adaptive = options.spec_tokens > 0;
    return options;
  }
  int64_t count = -1;
  const auto& text = args.spec_tokens;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc() || ptr != text.data() + text.size() || count < 0 || count > 64) {
    fail("--spec-tokens: '{}' is neither 'auto' nor a number of drafts in 0..64", text);
  }
  options.spec_tokens = count;
  return options;
}

int run_generate(const GenerateArgs& args) {
  const std::vector<int32_t> prompt = parse_token_list(args.prompt_tokens, "--prompt-tokens");
  const bool speculate = args.spec_tokens != "0";
  const LoadOptions load{.mode = speculate ? LoadMode::kFull : LoadMode::kTargetOnly};
  const auto model = LoadedModel::open(args.model, load);
  const ModelConfig& config = model->config;
  // Defaults follow generation_config.json, as vLLM does; flags override them.
  const auto generation = load_generation_config(args.model);
  SamplingParams sampling;
  if (generation && generation->do_sample.value_or(true)) {
    sampling.temperature = static_cast<float>(generation->temperature.value_or(0.0));
    sampling.top_p = static_cast<float>(generation->top_p.value_or(1.0));
    sampling.top_k = generation->top_k.value_or(0);
  }
  if (args.temperature) sampling.temperature = *args.temperature;
  if (args.top_p) sampling.top_p = *args.top_p;
  if (args.top_k) sampling.top_k = *args.top_k;
  sampling.min_p = args.min_p;
  sampling.seed = args.seed;
  validate(sampling);

  GenerationLimits limits{.max_tokens = args.max_tokens};
  if (!args.ignore_eos) {
    limits.eos_ids.assign(config.eos_token_ids.begin(), config.eos_token_ids.end());
    if (generation) {
      limits.eos_ids.insert(limits.eos_ids.end(), generation->eos_token_ids.begin(),
                            generation->eos_token_ids.end());
    }
  }
  SpeculativeOptions options = speculation_from(args, config);
  options.draft_sampling =
      args.draft_sampling == "sample" ? DraftSampling::kSample : DraftSampling::kArgmax;
  options.mtp.recycle = args.mtp_hidden == "pre-norm" ? MtpRecycle::kPreNorm : MtpRecycle::kPostNorm;
  options.mtp.pos0_mask = args.mtp_pos0_mask == "on";

  ThreadPool pool(args.threads);
  const int64_t context =
      args.context > 0 ? args.context : static_cast<int64_t>(prompt.size()) + args.max_tokens;
  SpeculativeDecoder decoder(config, *model->bound, pool, context, options);
  TokenSink sink;
  if (!args.json) {
    sink = [](std::span<const int32_t> tokens) {
      for (int32_t token : tokens) std::printf("%d ", token);
      std::fflush(stdout);
      return true;
    };
  }
  const std::vector<int32_t> tokens = decoder.generate(prompt, sampling, limits, sink);
  if (args.json) {
    nlohmann::ordered_json out;
    out["tokens"] = tokens;
    out["stats"] = stats_json(decoder.stats());
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("\n");
    std::fflush(stdout);  // the statistics follow on stderr
    std::fprintf(stderr, "sampling    temperature %g, top-k %lld, top-p %g, min-p %g, seed %llu\n",
                 sampling.temperature, static_cast<long long>(sampling.top_k), sampling.top_p,
                 sampling.min_p, static_cast<unsigned long long>(sampling.seed));
    print_stats(decoder.stats(), options.spec_tokens, options.adaptive);
  }
  return 0;
}

}  // namespace

Action add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "generate", "Generate with speculative decoding on the checkpoint's MTP layers");
  cmd->add_option("--model", args->model, "Checkpoint directory")->required();
  cmd->add_option("--prompt-tokens", args->prompt_tokens, "Comma-separated prompt token ids")
      ->required();
  cmd->add_option("-n,--max-tokens", args->max_tokens, "Tokens to generate")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--temperature", args->temperature,
                  "0 for greedy (default: generation_config.json, else 0)")
      ->check(CLI::Range(0.0f, 100.0f));
  cmd->add_option("--top-k", args->top_k, "Keep the k most likely tokens (0: off)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--top-p", args->top_p, "Nucleus sampling mass (1: off)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--min-p", args->min_p, "Drop tokens below min-p × the top probability")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--seed", args->seed, "Random seed (same seed, same text)");
  cmd->add_option("--spec-tokens", args->spec_tokens,
                  "Drafts per step: auto (chosen per step for speed), or K (0: no speculation)");
  cmd->add_option("--max-spec-tokens", args->max_spec_tokens, "The most drafts auto may choose")
      ->check(CLI::Range(int64_t{1}, int64_t{16}));
  cmd->add_option("--draft-sampling", args->draft_sampling, "argmax or sample")
      ->check(CLI::IsMember({"argmax", "sample"}));
  cmd->add_option("--mtp-hidden", args->mtp_hidden, "Recycled MTP state: post-norm or pre-norm")
      ->check(CLI::IsMember({"post-norm", "pre-norm"}));
  cmd->add_option("--mtp-pos0-mask", args->mtp_pos0_mask, "Zero the MTP embedding at position 0")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--threads", args->threads, "Threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--ctx", args->context, "Context size (default: prompt + max tokens)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_flag("--ignore-eos", args->ignore_eos, "Do not stop at the model's eos tokens");
  cmd->add_flag("--json", args->json, "Print one JSON object: tokens and stats");
  return [args]() { return run_generate(*args); };
}

}  // namespace nextn::cli
