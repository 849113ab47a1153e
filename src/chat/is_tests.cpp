// Jinja tests (`x is string`). The type tests follow the reference renderer, except that a dict
// is also iterable (as in Python; the templates ask `is iterable and is not mapping`).
#include <algorithm>
#include <array>

#include "chat/args.h"
#include "chat/builtins.h"

namespace nextn::chat {
namespace {

constexpr std::array<std::string_view, 18> kTests = {
    "boolean", "callable", "defined", "undefined", "none",     "string",  "number",
    "integer", "float",    "iterable", "mapping",  "sequence", "odd",     "even",
    "true",    "false",    "lower",    "upper"};

}  // namespace

bool is_known_test(std::string_view name) {
  return std::find(kTests.begin(), kTests.end(), name) != kTests.end();
}

bool apply_test(std::string_view name, const Value& v, Offset offset) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "callable") return v.is_callable();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "iterable") return v.is_array() || v.is_string() || v.is_object();
  if (name == "mapping") return v.is_object();
  if (name == "sequence") return v.is_array() || v.is_string() || v.is_object();
  if (name == "odd" || name == "even") {
    if (!v.is_int()) fail_at(offset, "test '{}' needs an integer, got {}", name, v.type_name());
    const bool odd = v.as_int() % 2 != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "lower") return v.is_string() && to_lower(v.as_string()) == v.as_string();
  if (name == "upper") return v.is_string() && to_upper(v.as_string()) == v.as_string();
  fail_at(offset, "unknown test '{}'", name);
}

}  // namespace nextn::chat
