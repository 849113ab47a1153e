#include "chat/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace nextn::chat {
namespace {

// Linear search is faster than hashing for the small dicts templates see (messages, tool
// calls); large ones (tool schemas with many properties, caller data) get an index.
constexpr size_t kIndexThreshold = 16;

}  // namespace

const Value* Object::find(std::string_view key) const {
  if (!index_.empty()) {
    const auto it = index_.find(std::string(key));
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Object::set(std::string key, Value value) {
  if (const Value* existing = find(key)) {
    *const_cast<Value*>(existing) = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
  if (!index_.empty()) {
    index_.emplace(entries_.back().first, entries_.size() - 1);
  } else if (entries_.size() > kIndexThreshold) {
    for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].first, i);
  }
}

const Value* CallArgs::keyword_arg(std::string_view name) const {
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value Value::array(std::vector<Value> items, Offset offset) {
  uint32_t depth = 1;
  bool reference = false;
  for (const Value& item : items) {
    depth = std::max(depth, item.depth() + 1);
    reference = reference || item.holds_reference();
  }
  if (depth > kMaxValueDepth) {
    fail_at(offset, "value nested deeper than {} levels", kMaxValueDepth);
  }
  Value v;
  v.v_ = std::make_shared<const ArrayData>(ArrayData{std::move(items), depth, reference});
  return v;
}

Value Value::object(Object entries, Offset offset) {
  auto data = std::make_shared<ObjectData>();
  for (const auto& [key, item] : entries.entries()) {
    data->depth = std::max(data->depth, item.depth() + 1);
    data->holds_reference = data->holds_reference || item.holds_reference();
  }
  if (data->depth > kMaxValueDepth) {
    fail_at(offset, "value nested deeper than {} levels", kMaxValueDepth);
  }
  static_cast<Object&>(*data) = std::move(entries);
  Value v;
  v.v_ = std::shared_ptr<const ObjectData>(std::move(data));
  return v;
}

Value Value::make_namespace(Object attributes) {
  Value v;
  v.v_ = std::make_shared<Namespace>(Namespace{std::move(attributes)});
  return v;
}

Value Value::callable(std::string name, std::function<Value(Evaluator&, CallArgs&)> fn) {
  Value v;
  v.v_ = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

uint32_t Value::depth() const {
  switch (kind()) {
    case Kind::kArray: return std::get<kArrayIndex>(v_)->depth;
    case Kind::kObject: return std::get<kObjectIndex>(v_)->depth;
    // Namespace attributes hold no namespaces (see holds_reference), so this bounds them.
    case Kind::kNamespace: return 2;
    default: return 1;
  }
}

bool Value::holds_reference() const {
  switch (kind()) {
    case Kind::kArray: return std::get<kArrayIndex>(v_)->holds_reference;
    case Kind::kObject: return std::get<kObjectIndex>(v_)->holds_reference;
    case Kind::kNamespace:
    case Kind::kCallable: return true;
    default: return false;
  }
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return as_bool();
    case Kind::kInt: return as_int() != 0;
    case Kind::kFloat: return as_float() != 0.0 && !std::isnan(as_float());
    case Kind::kString: return !as_string().empty();
    case Kind::kArray: return !as_array().empty();
    case Kind::kObject: return !as_object().empty();
    case Kind::kNamespace:
    case Kind::kCallable: return true;
  }
  return false;
}

std::string_view Value::type_name() const {
  switch (kind()) {
    case Kind::kUndefined: return "undefined";
    case Kind::kNone: return "none";
    case Kind::kBool: return "boolean";
    case Kind::kInt: return "integer";
    case Kind::kFloat: return "float";
    case Kind::kString: return "string";
    case Kind::kArray: return "list";
    case Kind::kObject: return "dict";
    case Kind::kNamespace: return "namespace";
    case Kind::kCallable: return "function";
  }
  return "?";
}

bool equal(const Value& a, const Value& b) {
  const auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  if (numeric(a) && numeric(b)) {
    if (a.is_bool() || b.is_bool() || a.is_float() || b.is_float()) {
      const auto number = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number(); };
      return number(a) == number(b);
    }
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone: return true;
    case Value::Kind::kString: return a.as_string() == b.as_string();
    case Value::Kind::kArray: {
      const auto& x = a.as_array();
      const auto& y = b.as_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equal(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Kind::kObject: {
      const Object& x = a.as_object();
      const Object& y = b.as_object();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.entries()) {
        const Value* other = y.find(key);
        if (other == nullptr || !equal(value, *other)) return false;
      }
      return true;
    }
    case Value::Kind::kNamespace: return &a.as_namespace() == &b.as_namespace();
    case Value::Kind::kCallable: return &a.as_callable() == &b.as_callable();
    default: return false;
  }
}

uint64_t work_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString: return v.as_string().size() / 64 + 1;
    case Value::Kind::kArray: return v.as_array().size() + 1;
    case Value::Kind::kObject: return v.as_object().size() + 1;
    default: return 1;
  }
}

namespace {

Value from_json_at(const nlohmann::ordered_json& json, uint32_t depth) {
  if (depth > kMaxValueDepth) {
    fail_at(kNoOffset, "context nested deeper than {} levels", kMaxValueDepth);
  }
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json_at(item, depth + 1));
      return Value::array(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Object entries;
      for (const auto& [key, item] : json.items()) entries.set(key, from_json_at(item, depth + 1));
      return Value::object(std::move(entries));
    }
    default:  // binary, discarded
      fail_at(kNoOffset, "context holds a JSON value of unsupported type '{}'", json.type_name());
  }
}

}  // namespace

Value from_json(const nlohmann::ordered_json& json) { return from_json_at(json, 1); }

std::string format_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest round-trip digits in scientific form: d.ddde[+-]x.
  const auto result = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(result.ptr - buf));
  const size_t e_at = sci.find('e');
  std::string_view mantissa = sci.substr(0, e_at);
  int exponent = 0;
  std::from_chars(sci.data() + e_at + 1 + (sci[e_at + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exponent);
  std::string sign;
  if (!mantissa.empty() && mantissa[0] == '-') {
    sign = "-";
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (const char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out = sign;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else {
      const size_t int_digits = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_digits) {
        out += digits + std::string(int_digits - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
      }
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += exponent < 0 ? "e-" : "e+";
  const std::string magnitude = std::to_string(std::abs(exponent));
  if (magnitude.size() < 2) out += '0';
  out += magnitude;
  return out;
}

}  // namespace nextn::chat
