#include "tokenizer/json_field.h"

#include "core/error.h"

namespace nextn::tokenizer_json {
namespace {

constexpr size_t kMaxDescribedChars = 80;  // keeps a message on one readable line

}  // namespace

nlohmann::json parse_object(std::string_view text, std::string_view file) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    nextn::fail("{}: not valid JSON: {}", file, e.what());
  }
  if (!root.is_object()) {
    nextn::fail("{}: expected a JSON object at the top level, got {}", file, describe(root));
  }
  return root;
}

std::string describe(const nlohmann::json& value) {
  // Replacement instead of throwing: strings from a fuzzer may hold invalid UTF-8.
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxDescribedChars) text = text.substr(0, kMaxDescribedChars) + "...";
  return text;
}

std::string Field::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::optional<Field> Field::find(std::string_view key) const {
  expect_object();
  const auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return Field(*it, *file_, child_path(key));
}

Field Field::at(std::string_view key, std::string_view expected) const {
  std::optional<Field> f = find(key);
  if (!f) nextn::fail("{}: field '{}' is missing (expected {})", *file_, child_path(key), expected);
  return *f;
}

Field Field::element(size_t index) const {
  return Field((*value_)[index], *file_, fmt::format("{}[{}]", path_, index));
}

std::string Field::as_string() const {
  if (!value_->is_string()) fail_expected("a string");
  return value_->get<std::string>();
}

bool Field::as_bool() const {
  if (!value_->is_boolean()) fail_expected("true or false");
  return value_->get<bool>();
}

int64_t Field::as_int(int64_t min_value, int64_t max_value) const {
  int64_t v = 0;
  if (value_->is_number_unsigned()) {
    const uint64_t u = value_->get<uint64_t>();
    if (u > static_cast<uint64_t>(max_value)) {
      fail(fmt::format("{} is out of range {}..{}", u, min_value, max_value));
    }
    v = static_cast<int64_t>(u);
  } else if (value_->is_number_integer()) {
    v = value_->get<int64_t>();
  } else {
    fail_expected("an integer");
  }
  if (v < min_value || v > max_value) {
    fail(fmt::format("{} is out of range {}..{}", v, min_value, max_value));
  }
  return v;
}

void Field::expect_object() const {
  if (!value_->is_object()) fail_expected("an object");
}

void Field::expect_array() const {
  if (!value_->is_array()) fail_expected("a list");
}

bool Field::bool_or(std::string_view key, bool fallback) const {
  const std::optional<Field> f = find(key);
  return f ? f->as_bool() : fallback;
}

std::string Field::string_or(std::string_view key, std::string_view fallback) const {
  const std::optional<Field> f = find(key);
  return f ? f->as_string() : std::string(fallback);
}

void Field::fail(std::string_view message) const {
  if (path_.empty()) nextn::fail("{}: {}", *file_, message);
  nextn::fail("{}: field '{}': {}", *file_, path_, message);
}

void Field::fail_expected(std::string_view expected) const {
  fail(fmt::format("expected {}, got {}", expected, describe(*value_)));
}

}  // namespace nextn::tokenizer_json
