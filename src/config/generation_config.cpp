#include "config/generation_config.h"

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "config/json_fields.h"
#include "core/error.h"

namespace nextn {

GenerationConfig parse_generation_config(std::string_view json_text, std::string_view file_label) {
  const nlohmann::json root_json = config_json::parse_object(json_text, file_label);
  const config_json::ObjectReader root(root_json, file_label);
  GenerationConfig config;
  config.bos_token_id = root.nullable_int("bos_token_id", 0);
  config.eos_token_ids = root.token_ids("eos_token_id");
  if (root.has("do_sample")) config.do_sample = root.optional_bool("do_sample", false);
  if (root.has("temperature")) {
    config.temperature = root.optional_number("temperature", 1.0);
    // 0 is the publishers' way of saying greedy; a negative temperature has no meaning.
    if (*config.temperature < 0.0) {
      root.fail_expected("temperature", "a number >= 0", *config.temperature);
    }
  }
  if (root.has("top_p")) {
    config.top_p = root.optional_number("top_p", 1.0);
    if (!(*config.top_p > 0.0 && *config.top_p <= 1.0)) {
      root.fail_expected("top_p", "a number in (0, 1]", *config.top_p);
    }
  }
  // top_k 0 means "no top-k filter" in transformers, so 0 is allowed.
  config.top_k = root.nullable_int("top_k", 0);
  return config;
}

std::optional<GenerationConfig> load_generation_config(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "generation_config.json";
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path.string());
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) fail("{}: read failed", path.string());
  return parse_generation_config(text, path.string());
}

std::string generation_config_to_json(const GenerationConfig& config) {
  // An empty config is still an object ({}), never null.
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (config.bos_token_id) out["bos_token_id"] = *config.bos_token_id;
  // HF writes one eos id as a number and several as a list.
  if (config.eos_token_ids.size() == 1) {
    out["eos_token_id"] = config.eos_token_ids[0];
  } else if (!config.eos_token_ids.empty()) {
    out["eos_token_id"] = config.eos_token_ids;
  }
  if (config.do_sample) out["do_sample"] = *config.do_sample;
  if (config.temperature) out["temperature"] = *config.temperature;
  if (config.top_p) out["top_p"] = *config.top_p;
  if (config.top_k) out["top_k"] = *config.top_k;
  return out.dump(2) + "\n";
}

}  // namespace nextn
