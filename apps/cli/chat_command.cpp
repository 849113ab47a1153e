// `nextn chat`: an interactive chat in the terminal. Each reply streams as it is generated
// (speculative decoding on the MTP layers), the conversation is kept and re-rendered with the
// model's chat template every turn, and a line of acceptance statistics follows each reply.
//
// Ctrl-C during a reply stops it (the partial reply stays in the conversation); Ctrl-C or
// Ctrl-D at the prompt ends the chat.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "decoding_flags.h"
#include "engine/text_generation.h"
#include "engine/text_model.h"
#include "line_reader.h"
#include "spec/speculative_decoder.h"

namespace nextn::cli {
namespace {

struct ChatArgs {
  std::string model;
  std::optional<std::string> system;
  std::string chat_kwargs;
  int64_t max_tokens = 512;
  int64_t context = 4096;
  bool ignore_eos = false;
  DecodingFlags decoding;
};

static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
std::atomic<bool> g_interrupt{false};

extern "C" void on_sigint(int) {
  g_interrupt.store(true, std::memory_order_relaxed);
}

// SIGINT without SA_RESTART, so that a read at the prompt returns EINTR.
void install_sigint_handler() {
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
}

// The reply as the terminal shows it: control bytes other than newline and tab in caret
// notation (as `cat -v`), so that a model's stray ESC cannot drive the terminal. The
// conversation keeps the reply as generated.
void show(std::string_view piece) {
  std::string out;
  out.reserve(piece.size());
  for (char c : piece) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f) {
      out += '^';
      out += static_cast<char>(byte ^ 0x40);
    } else {
      out += c;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

constexpr const char* kHelp =
    "  /stats   acceptance statistics of the last reply and of the whole chat\n"
    "  /reset   start a new conversation\n"
    "  /help    this list\n"
    "  /quit    leave (also Ctrl-D, or Ctrl-C at the prompt)\n"
    "  A line ending in \\ continues on the next line. Ctrl-C stops a reply.\n";

class ChatSession {
 public:
  ChatSession(const ChatArgs& args, const TextModel& text, ThreadPool& pool)
      : args_(args),
        text_(text),
        sampling_(sampling_from(args.decoding, text.generation_config())),
        options_(speculation_from(args.decoding, text.config())),
        decoder_(text.config(), *text.model().bound, pool, args.context, options_) {
    extra_ = parse_chat_kwargs(args.chat_kwargs);
    text_.chat_template();  // fails now, before the first prompt, when there is none
    reset();
  }

  int run() {
    LineReader reader(STDIN_FILENO);
    std::fprintf(stderr, "nextn chat: %s. /help for commands, Ctrl-D to leave.\n",
                 args_.model.c_str());
    for (;;) {
      g_interrupt.store(false);  // a Ctrl-C from now on leaves the chat
      std::printf("> ");
      std::fflush(stdout);
      std::string line;
      const ReadStatus status = reader.read_line(line, g_interrupt);
      if (status != ReadStatus::kLine) {
        std::printf("\n");
        break;
      }
      if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
      if (line[0] == '/') {
        if (!command(line)) break;
        continue;
      }
      reply(line);
    }
    std::fflush(stdout);
    if (replies_ > 0) std::fprintf(stderr, "%s\n", stats_line(total_, options_).c_str());
    return 0;
  }

 private:
  // false: leave the chat.
  bool command(const std::string& line) {
    const std::string name = line.substr(0, line.find_first_of(" \t"));
    if (name == "/quit" || name == "/exit") return false;
    if (name == "/help") {
      std::printf("%s", kHelp);
    } else if (name == "/reset") {
      reset();
      std::printf("(a new conversation)\n");
    } else if (name == "/stats") {
      std::fflush(stdout);
      if (replies_ == 0) {
        std::fprintf(stderr, "no reply yet\n");
      } else {
        std::fprintf(stderr, "last reply:\n");
        print_stats(decoder_.stats(), options_);
        std::fprintf(stderr, "this chat (%lld replies):\n", static_cast<long long>(replies_));
        print_stats(total_, options_);
      }
    } else {
      std::printf("unknown command %s (/help lists them)\n", name.c_str());
    }
    return true;
  }

  void reset() {
    messages_ = nlohmann::ordered_json::array();
    if (args_.system) messages_.push_back({{"role", "system"}, {"content", *args_.system}});
  }

  void reply(const std::string& user) {
    messages_.push_back({{"role", "user"}, {"content", user}});
    const std::vector<int32_t> prompt = text_.encode_chat(
        text_.render_chat(messages_, /*add_generation_prompt=*/true, nullptr, extra_));
    const int64_t room = args_.context - static_cast<int64_t>(prompt.size());
    if (room < 1) {
      messages_.erase(messages_.size() - 1);
      std::printf(
          "(the conversation is %zu tokens, the context is %lld: /reset to start over, "
          "or use a larger --ctx)\n",
          prompt.size(), static_cast<long long>(args_.context));
      return;
    }
    GenerationLimits limits{.max_tokens = std::min(args_.max_tokens, room)};
    if (!args_.ignore_eos) limits.eos_ids = text_.stop_token_ids();
    TextRequest request{
        .prompt = prompt, .sampling = sampling_, .limits = limits, .interrupt = &g_interrupt};
    const TextResult result = generate_text(decoder_, text_.tokenizer(), request, show);
    if (result.finish == FinishReason::kInterrupt) std::printf(" [stopped]");
    std::printf("\n");
    std::fflush(stdout);
    messages_.push_back({{"role", "assistant"}, {"content", result.text}});
    ++replies_;
    total_.add(decoder_.stats());
    std::fprintf(stderr, "[%s]\n", stats_line(decoder_.stats(), options_).c_str());
  }

  const ChatArgs& args_;
  const TextModel& text_;
  SamplingParams sampling_;
  SpeculativeOptions options_;
  SpeculativeDecoder decoder_;
  nlohmann::ordered_json extra_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json messages_;
  SpecStats total_;
  int64_t replies_ = 0;
};

int run_chat(const ChatArgs& args) {
  const bool speculate = speculation_requested(args.decoding);
  const LoadOptions load{.mode = speculate ? LoadMode::kFull : LoadMode::kTargetOnly};
  const auto text = TextModel::open(args.model, load);
  ThreadPool pool(args.decoding.threads);
  ChatSession session(args, *text, pool);
  install_sigint_handler();
  return session.run();
}

}  // namespace

Action add_chat_command(CLI::App& app) {
  auto args = std::make_shared<ChatArgs>();
  CLI::App* cmd = app.add_subcommand(
      "chat", "Chat in the terminal with the model's chat template and speculative decoding");
  cmd->add_option("--model", args->model, "Checkpoint directory (with tokenizer files)")
      ->required();
  cmd->add_option("--system", args->system, "A system message that starts the conversation");
  cmd->add_option("--chat-kwargs", args->chat_kwargs,
                  "JSON object of extra template variables, e.g. '{\"enable_thinking\": false}'");
  cmd->add_option("-n,--max-tokens", args->max_tokens, "Most tokens per reply")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--ctx", args->context, "Context size: conversation + reply")
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 24));
  cmd->add_flag("--ignore-eos", args->ignore_eos, "Replies end only at -n or Ctrl-C");
  add_decoding_flags(cmd, args->decoding);
  return [args]() { return run_chat(*args); };
}

}  // namespace nextn::cli
