// `nextn generate`: speculative generation with the MTP layers, streaming the text (or token
// ids) and then the acceptance statistics (or one JSON object with --json).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "decoding_flags.h"
#include "engine/text_generation.h"
#include "engine/text_model.h"
#include "spec/speculative_decoder.h"
#include "token_list.h"

namespace nextn::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt_tokens;
  std::optional<std::string> prompt;
  bool chat = false;
  std::optional<std::string> system;
  std::string chat_kwargs;
  std::vector<std::string> stop;
  int64_t max_tokens = 64;
  DecodingFlags decoding;
  bool json = false;
  bool ignore_eos = false;
  int64_t context = 0;
};

// The prompt as ids: token ids as given, a plain text (BOS as the tokenizer config says), or
// one user turn rendered with the model's chat template.
std::vector<int32_t> prompt_ids(const GenerateArgs& args, const TextModel& text) {
  if (!args.prompt) return parse_token_list(args.prompt_tokens, "--prompt-tokens");
  if (args.prompt->empty()) fail("--prompt is empty: give the text to continue");
  if (!args.chat) return text.encode_prompt(*args.prompt);
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (args.system) messages.push_back({{"role", "system"}, {"content", *args.system}});
  messages.push_back({{"role", "user"}, {"content", *args.prompt}});
  const nlohmann::ordered_json extra = parse_chat_kwargs(args.chat_kwargs);
  return text.encode_chat(
      text.render_chat(messages, /*add_generation_prompt=*/true, nullptr, extra));
}

int run_generate(const GenerateArgs& args) {
  if (args.chat && !args.prompt) fail("--chat needs --prompt TEXT (the user's message)");
  if ((args.system || !args.chat_kwargs.empty()) && !args.chat) {
    fail("--system and --chat-kwargs apply to --chat prompts only");
  }
  if (!args.stop.empty() && !args.prompt) fail("--stop needs a text prompt (--prompt)");
  const bool speculate = speculation_requested(args.decoding);
  const LoadOptions load{.mode = speculate ? LoadMode::kFull : LoadMode::kTargetOnly};
  const auto text_model = TextModel::open(args.model, load);
  const ModelConfig& config = text_model->config();
  const std::vector<int32_t> prompt = prompt_ids(args, *text_model);
  const SamplingParams sampling = sampling_from(args.decoding, text_model->generation_config());
  GenerationLimits limits{.max_tokens = args.max_tokens};
  if (!args.ignore_eos) limits.eos_ids = text_model->stop_token_ids();
  const SpeculativeOptions options = speculation_from(args.decoding, config);

  ThreadPool pool(args.decoding.threads);
  const int64_t context =
      args.context > 0 ? args.context : static_cast<int64_t>(prompt.size()) + args.max_tokens;
  SpeculativeDecoder decoder(config, *text_model->model().bound, pool, context, options);

  nlohmann::ordered_json out;
  if (args.prompt) {
    TextRequest request{
        .prompt = prompt, .sampling = sampling, .limits = limits, .stop_strings = args.stop};
    TextSink sink;
    if (!args.json) {
      sink = [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      };
    }
    const TextResult result = generate_text(decoder, text_model->tokenizer(), request, sink);
    out["text"] = result.text;
    out["tokens"] = result.tokens;
    out["finish_reason"] = finish_reason_name(result.finish);
  } else {
    TokenSink sink;
    if (!args.json) {
      sink = [](std::span<const int32_t> tokens) {
        for (int32_t token : tokens) std::printf("%d ", token);
        std::fflush(stdout);
        return true;
      };
    }
    out["tokens"] = decoder.generate(prompt, sampling, limits, sink);
  }
  if (args.json) {
    out["prompt_tokens"] = prompt;
    out["stats"] = stats_json(decoder.stats());
    // Invalid UTF-8 cannot reach here (the decoder emits U+FFFD), but never let dump() throw.
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
    std::fflush(stdout);  // the statistics follow on stderr
    std::fprintf(stderr, "\n");
    print_sampling(sampling);
    print_stats(decoder.stats(), options);
  }
  return 0;
}

}  // namespace

Action add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "generate", "Generate with speculative decoding on the checkpoint's MTP layers");
  cmd->add_option("--model", args->model, "Checkpoint directory")->required();
  auto* ids =
      cmd->add_option("--prompt-tokens", args->prompt_tokens, "Comma-separated prompt token ids");
  auto* text = cmd->add_option("-p,--prompt", args->prompt,
                               "Prompt text, encoded with the checkpoint's tokenizer.json");
  ids->excludes(text);
  cmd->add_flag("--chat", args->chat,
                "Wrap --prompt as one user message in the model's chat template");
  cmd->add_option("--system", args->system, "With --chat: a system message before the prompt");
  cmd->add_option("--chat-kwargs", args->chat_kwargs,
                  "With --chat: JSON object of extra template variables, e.g. "
                  "'{\"enable_thinking\": false}'");
  cmd->add_option("--stop", args->stop, "Stop where this text appears (repeatable)");
  cmd->add_option("-n,--max-tokens", args->max_tokens, "Tokens to generate")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  add_decoding_flags(cmd, args->decoding);
  cmd->add_option("--ctx", args->context, "Context size (default: prompt + max tokens)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_flag("--ignore-eos", args->ignore_eos, "Do not stop at the model's eos tokens");
  cmd->add_flag("--json", args->json, "Print one JSON object: text, tokens and stats");
  cmd->callback([cmd, args] {
    if (cmd->count("--prompt-tokens") == 0 && !args->prompt) {
      throw CLI::RequiredError("--prompt or --prompt-tokens");
    }
  });
  return [args]() { return run_generate(*args); };
}

}  // namespace nextn::cli
