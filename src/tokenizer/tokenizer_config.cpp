// tokenizer_config.json (the fields encoding and chat formatting need) and Tokenizer::load.
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "tokenizer/json_field.h"
#include "tokenizer/tokenizer.h"

namespace nextn {
namespace {

using tokenizer_json::Field;

// bos_token and friends: a plain string or {"__type": "AddedToken", "content": ...}.
std::optional<std::string> token_field(const Field& top, std::string_view key) {
  const std::optional<Field> f = top.find(key);
  if (!f) return std::nullopt;
  if (f->json().is_string()) return f->as_string();
  if (f->json().is_object()) return f->at("content", "the token's text").as_string();
  f->fail_expected("a token string or an AddedToken object");
}

// A string, or HF's list of named templates [{"name": "default", "template": ...}, ...].
std::optional<std::string> chat_template_field(const Field& top) {
  const std::optional<Field> f = top.find("chat_template");
  if (!f) return std::nullopt;
  if (f->json().is_string()) return f->as_string();
  if (!f->json().is_array()) f->fail_expected("a template string or a list of named templates");
  for (size_t i = 0; i < f->json().size(); ++i) {
    const Field entry = f->element(i);
    entry.expect_object();
    if (entry.at("name", "a template name").as_string() == "default") {
      return entry.at("template", "a template string").as_string();
    }
  }
  return std::nullopt;  // only named (tool_use, rag, ...) templates: none is the default
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) nextn::fail("{}: cannot open for reading", path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) nextn::fail("{}: read error", path.string());
  return std::move(buffer).str();
}

}  // namespace

TokenizerConfig parse_tokenizer_config(std::string_view json_text, const std::string& source_name) {
  const nlohmann::json root = tokenizer_json::parse_object(json_text, source_name);
  const Field top(root, source_name, "");
  TokenizerConfig c;
  c.bos_token = token_field(top, "bos_token");
  c.eos_token = token_field(top, "eos_token");
  c.pad_token = token_field(top, "pad_token");
  c.add_bos_token = top.bool_or("add_bos_token", false);
  c.add_eos_token = top.bool_or("add_eos_token", false);
  c.chat_template = chat_template_field(top);
  return c;
}

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  const std::filesystem::path json_path = dir / "tokenizer.json";
  if (!std::filesystem::is_regular_file(json_path)) {
    nextn::fail(
        "{}: not found (nextn needs the checkpoint's tokenizer.json to encode and decode "
        "text)",
        json_path.string());
  }
  TokenizerConfig config;
  const std::filesystem::path config_path = dir / "tokenizer_config.json";
  if (std::filesystem::is_regular_file(config_path)) {
    config = parse_tokenizer_config(read_file(config_path), config_path.string());
  }
  // transformers saves the template to its own file; when present it is the one in use.
  const std::filesystem::path template_path = dir / "chat_template.jinja";
  if (std::filesystem::is_regular_file(template_path))
    config.chat_template = read_file(template_path);
  return from_json_text(read_file(json_path), json_path.string(), std::move(config));
}

}  // namespace nextn
