// Typed reads from the JSON objects of config.json and generation_config.json.
//
// Internal to src/config. Every failure is an Error that names the file label and the full field
// path ("config.json: field 'rope_scaling.factor': expected a number, got \"x\""), so that a user
// can fix a bad config without a debugger (SPEC §1, "an error that names the field").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nextn::config_json {

// Parses `text`; a syntax error or a top level that is not an object names `file_label`.
nlohmann::json parse_object(std::string_view text, std::string_view file_label);

// Short text of a JSON value for messages: its JSON spelling, cut to a readable length.
std::string describe(const nlohmann::json& value);

// Reads fields of one JSON object. `prefix` is the path of the object itself ("" for the top
// level, "rope_scaling." for a nested one) so that messages carry the full path.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& object, std::string_view file_label, std::string prefix = "");

  // The value under `key`, or nullptr when the key is absent or null (HF writes null for "not
  // set", e.g. "rope_scaling": null, so both mean "use the default").
  const nlohmann::json* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  std::string path(std::string_view key) const { return prefix_ + std::string(key); }
  const std::string& file_label() const { return file_label_; }

  [[noreturn]] void fail_expected(std::string_view key, std::string_view expected,
                                  const nlohmann::json& got) const;
  [[noreturn]] void fail_missing(std::string_view key, std::string_view expected) const;
  // "<label>: field '<path>': <message>".
  [[noreturn]] void fail_field(std::string_view key, std::string_view message) const;

  // Integers: JSON integers, or floats with an integral value (re-saved configs write 4096.0).
  int64_t required_int(std::string_view key, int64_t min_value) const;
  int64_t optional_int(std::string_view key, int64_t fallback, int64_t min_value) const;
  // Absent or null → nullopt (q_lora_rank: null means a plain q_proj).
  std::optional<int64_t> nullable_int(std::string_view key, int64_t min_value) const;

  double optional_number(std::string_view key, double fallback) const;
  double required_number(std::string_view key) const;
  bool optional_bool(std::string_view key, bool fallback) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  std::string required_string(std::string_view key) const;

  // A token id or a list of them (eos_token_id); absent or null → empty.
  std::vector<int64_t> token_ids(std::string_view key) const;
  // A nested object; absent, null or not an object is an error.
  ObjectReader required_object(std::string_view key) const;
  // A list of integers of exactly `count` entries, each >= min_value (weight_block_size).
  std::vector<int64_t> int_list(std::string_view key, size_t count, int64_t min_value) const;
  // A list of strings (compressed-tensors "ignore"); absent or null → empty.
  std::vector<std::string> string_list(std::string_view key) const;

  const nlohmann::json& json() const { return *object_; }

 private:
  int64_t to_int(std::string_view key, const nlohmann::json& value, int64_t min_value) const;

  const nlohmann::json* object_;
  std::string file_label_;
  std::string prefix_;
};

}  // namespace nextn::config_json
