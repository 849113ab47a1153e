// `nextn tokenize`: the checkpoint's own tokenizer on a text, as ids and pieces. Needs only the
// directory's tokenizer files (tokenizer.json, tokenizer_config.json), not the weights.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace nextn::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string text;
  bool json = false;
  bool no_special = false;
};

// A piece as a quoted, escaped string, so that spaces, newlines and control bytes show.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (unsigned char c : text) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "'";
}

int run_tokenize(const TokenizeArgs& args) {
  std::string text = args.text;
  if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), {});
  const Tokenizer tokenizer = Tokenizer::load(args.model);
  const std::vector<int32_t> ids = tokenizer.encode(text, /*add_special_tokens=*/!args.no_special);
  if (args.json) {
    nlohmann::ordered_json out;
    out["ids"] = ids;
    auto& pieces = out["pieces"] = nlohmann::ordered_json::array();
    for (int32_t id : ids) pieces.push_back(tokenizer.piece(id));
    // Invalid UTF-8 cannot appear: pieces are the vocabulary's (byte-level) strings.
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  // One token a line: id, the vocabulary piece, and the text it decodes to on its own (a piece
  // that is part of a multi-byte character decodes to U+FFFD).
  for (int32_t id : ids) {
    const int32_t one[] = {id};
    std::printf("%8d  %-20s %s\n", id, tokenizer.piece(id).c_str(),
                quoted(tokenizer.decode(one)).c_str());
  }
  std::fprintf(stderr, "%zu tokens\n", ids.size());
  return 0;
}

}  // namespace

Action add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "Encode a text with the checkpoint's tokenizer.json (ids and pieces)");
  cmd->add_option("--model", args->model, "Directory with tokenizer.json")->required();
  cmd->add_option("text", args->text, "The text, or - to read it from standard input")->required();
  cmd->add_flag("--json", args->json, "Print one JSON object {\"ids\": [...], \"pieces\": [...]}");
  cmd->add_flag("--no-special", args->no_special,
                "Do not add BOS/EOS (tokenizer_config.json add_bos_token / add_eos_token)");
  return [args]() { return run_tokenize(*args); };
}

}  // namespace nextn::cli
