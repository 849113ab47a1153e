// Typed reads from tokenizer.json and tokenizer_config.json that name the field on failure.
//
// Internal to src/tokenizer. Every failure is "<file>: field '<path>': <what was wrong>", e.g.
// "tokenizer.json: field 'pre_tokenizer.pretokenizers[2].type': unsupported pre-tokenizer type
// 'Metaspace'", so a user can find the line without a debugger.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nextn::tokenizer_json {

// Parses `text`; a syntax error or a top level that is not an object names `file`.
nlohmann::json parse_object(std::string_view text, std::string_view file);

// Short JSON spelling of a value for messages.
std::string describe(const nlohmann::json& value);

// One JSON value and where it sits. Holds pointers: the document must outlive it.
class Field {
 public:
  Field(const nlohmann::json& value, const std::string& file, std::string path)
      : value_(&value), file_(&file), path_(std::move(path)) {}

  const nlohmann::json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  const std::string& file() const { return *file_; }
  bool is_null() const { return value_->is_null(); }

  // Member `key` of this object; absent or null → nullopt (HF writes null for "not set").
  std::optional<Field> find(std::string_view key) const;
  // Member `key`; absent or null is an error saying what was expected.
  Field at(std::string_view key, std::string_view expected) const;
  Field element(size_t index) const;

  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int(int64_t min_value, int64_t max_value) const;
  void expect_object() const;
  void expect_array() const;

  // Optional members with defaults.
  bool bool_or(std::string_view key, bool fallback) const;
  std::string string_or(std::string_view key, std::string_view fallback) const;

  [[noreturn]] void fail(std::string_view message) const;
  [[noreturn]] void fail_expected(std::string_view expected) const;

 private:
  std::string child_path(std::string_view key) const;

  const nlohmann::json* value_;
  const std::string* file_;
  std::string path_;
};

}  // namespace nextn::tokenizer_json
