// generation_config.json: eos ids and the publisher's default sampling values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nextn {

struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // eos_token_id may be a number or a list
  std::optional<bool> do_sample;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  bool operator==(const GenerationConfig&) const = default;
};

GenerationConfig parse_generation_config(std::string_view json_text, std::string_view file_label);
// dir/generation_config.json when present, nullopt when absent; Error when malformed.
std::optional<GenerationConfig> load_generation_config(const std::filesystem::path& dir);
std::string generation_config_to_json(const GenerationConfig& config);

}  // namespace nextn
