#include "config/json_fields.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace nextn::config_json {
namespace {

// Long values (a whole nested object) are cut: the message must stay one readable line.
constexpr size_t kMaxDescribedChars = 80;
// Doubles above 2^53 no longer hold every integer, so such a float cannot be an exact count.
constexpr double kMaxExactIntegerDouble = 9007199254740992.0;

std::string integer_wording(int64_t min_value) {
  if (min_value == 1) return "a positive integer";
  if (min_value == 0) return "a non-negative integer";
  if (min_value == std::numeric_limits<int64_t>::min()) return "an integer";
  return fmt::format("an integer >= {}", min_value);
}

}  // namespace

nlohmann::json parse_object(std::string_view text, std::string_view file_label) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: not valid JSON: {}", file_label, e.what());
  }
  if (!root.is_object()) {
    fail("{}: expected a JSON object at the top level, got {}", file_label, describe(root));
  }
  return root;
}

std::string describe(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > kMaxDescribedChars) text = text.substr(0, kMaxDescribedChars) + "...";
  return text;
}

ObjectReader::ObjectReader(const nlohmann::json& object, std::string_view file_label,
                           std::string prefix)
    : object_(&object), file_label_(file_label), prefix_(std::move(prefix)) {}

const nlohmann::json* ObjectReader::find(std::string_view key) const {
  const auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

void ObjectReader::fail_expected(std::string_view key, std::string_view expected,
                                 const nlohmann::json& got) const {
  fail("{}: field '{}': expected {}, got {}", file_label_, path(key), expected, describe(got));
}

void ObjectReader::fail_missing(std::string_view key, std::string_view expected) const {
  fail("{}: field '{}' is missing (expected {})", file_label_, path(key), expected);
}

void ObjectReader::fail_field(std::string_view key, std::string_view message) const {
  fail("{}: field '{}': {}", file_label_, path(key), message);
}

int64_t ObjectReader::to_int(std::string_view key, const nlohmann::json& value,
                             int64_t min_value) const {
  int64_t result = 0;
  if (value.is_number_unsigned()) {
    const auto wide = value.get<uint64_t>();
    if (wide > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail_expected(key, integer_wording(min_value), value);
    }
    result = static_cast<int64_t>(wide);
  } else if (value.is_number_integer()) {
    result = value.get<int64_t>();
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > kMaxExactIntegerDouble) {
      fail_expected(key, integer_wording(min_value), value);
    }
    result = static_cast<int64_t>(d);
  } else {
    fail_expected(key, integer_wording(min_value), value);
  }
  if (result < min_value) fail_expected(key, integer_wording(min_value), value);
  return result;
}

int64_t ObjectReader::required_int(std::string_view key, int64_t min_value) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) {
    if (object_->contains(key)) fail_expected(key, integer_wording(min_value), nullptr);
    fail_missing(key, integer_wording(min_value));
  }
  return to_int(key, *value, min_value);
}

int64_t ObjectReader::optional_int(std::string_view key, int64_t fallback,
                                   int64_t min_value) const {
  const nlohmann::json* value = find(key);
  return value == nullptr ? fallback : to_int(key, *value, min_value);
}

std::optional<int64_t> ObjectReader::nullable_int(std::string_view key, int64_t min_value) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  return to_int(key, *value, min_value);
}

double ObjectReader::optional_number(std::string_view key, double fallback) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_number()) fail_expected(key, "a number", *value);
  const double d = value->get<double>();
  if (!std::isfinite(d)) fail_expected(key, "a finite number", *value);
  return d;
}

double ObjectReader::required_number(std::string_view key) const {
  if (find(key) == nullptr) {
    if (object_->contains(key)) fail_expected(key, "a number", nullptr);
    fail_missing(key, "a number");
  }
  return optional_number(key, 0.0);
}

bool ObjectReader::optional_bool(std::string_view key, bool fallback) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) fail_expected(key, "true or false", *value);
  return value->get<bool>();
}

std::optional<std::string> ObjectReader::optional_string(std::string_view key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) fail_expected(key, "a string", *value);
  return value->get<std::string>();
}

std::string ObjectReader::required_string(std::string_view key) const {
  std::optional<std::string> value = optional_string(key);
  if (!value) fail_missing(key, "a string");
  return *value;
}

std::vector<int64_t> ObjectReader::token_ids(std::string_view key) const {
  const nlohmann::json* value = find(key);
  std::vector<int64_t> ids;
  if (value == nullptr) return ids;
  if (value->is_array()) {
    for (const nlohmann::json& entry : *value) {
      if (!entry.is_number()) fail_expected(key, "a token id or a list of token ids", *value);
      ids.push_back(to_int(key, entry, 0));
    }
    return ids;
  }
  if (!value->is_number()) fail_expected(key, "a token id or a list of token ids", *value);
  ids.push_back(to_int(key, *value, 0));
  return ids;
}

ObjectReader ObjectReader::required_object(std::string_view key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) {
    if (object_->contains(key)) fail_expected(key, "an object", nullptr);
    fail_missing(key, "an object");
  }
  if (!value->is_object()) fail_expected(key, "an object", *value);
  return ObjectReader(*value, file_label_, path(key) + ".");
}

std::vector<int64_t> ObjectReader::int_list(std::string_view key, size_t count,
                                            int64_t min_value) const {
  const std::string expected =
      fmt::format("a list of {} values, each {}", count, integer_wording(min_value));
  const nlohmann::json* value = find(key);
  if (value == nullptr) {
    if (object_->contains(key)) fail_expected(key, expected, nullptr);
    fail_missing(key, expected);
  }
  if (!value->is_array() || value->size() != count) fail_expected(key, expected, *value);
  std::vector<int64_t> result;
  for (const nlohmann::json& entry : *value) {
    if (!entry.is_number()) fail_expected(key, expected, *value);
    result.push_back(to_int(key, entry, min_value));
  }
  return result;
}

std::vector<std::string> ObjectReader::string_list(std::string_view key) const {
  const nlohmann::json* value = find(key);
  std::vector<std::string> result;
  if (value == nullptr) return result;
  if (!value->is_array()) fail_expected(key, "a list of strings", *value);
  for (const nlohmann::json& entry : *value) {
    if (!entry.is_string()) fail_expected(key, "a list of strings", *value);
    result.push_back(entry.get<std::string>());
  }
  return result;
}

}  // namespace nextn::config_json
