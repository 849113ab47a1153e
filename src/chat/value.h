// The values a chat template computes with.
//
// Jinja's data model as the reference renderer has it: undefined (a missing variable, key or
// attribute: renders as nothing, is falsy, `is defined` is false), none, booleans, 64-bit
// integers, doubles, UTF-8 strings, lists, dicts that keep insertion order (like Python and
// JS dicts; tool schemas must print in the order the caller gave them), namespaces (the one
// mutable kind: `{% set ns.x = ... %}` must be visible outside the loop that did it) and
// callables (macros, builtins, bound string/dict methods).
//
// Lists and dicts are immutable once built and shared by pointer, so passing them around and
// looking them up in loops never copies them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/template_error.h"

namespace nextn::chat {

class Value;
class Evaluator;
class Object;
struct Namespace;
struct Callable;
struct CallArgs;

// Values nested deeper than this are rejected, so that printing, comparing and freeing them
// stays well inside the stack.
inline constexpr uint32_t kMaxValueDepth = 512;

struct NoneTag {};

class Value {
 public:
  enum class Kind : uint8_t {
    kUndefined, kNone, kBool, kInt, kFloat, kString, kArray, kObject, kNamespace, kCallable
  };

  Value() = default;  // undefined
  static Value none() { return Value(NoneTag{}); }
  explicit Value(bool b) : v_(b) {}
  explicit Value(int64_t i) : v_(i) {}
  explicit Value(double d) : v_(d) {}
  explicit Value(std::string s) : v_(std::move(s)) {}
  explicit Value(const char* s) : v_(std::string(s)) {}
  // Lists and dicts: throw TemplateError at `offset` when nested deeper than kMaxValueDepth.
  static Value array(std::vector<Value> items, Offset offset = 0);
  static Value object(Object entries, Offset offset = 0);
  static Value make_namespace(Object attributes);
  static Value callable(std::string name, std::function<Value(Evaluator&, CallArgs&)> fn);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_object() const { return kind() == Kind::kObject; }
  bool is_namespace() const { return kind() == Kind::kNamespace; }
  bool is_callable() const { return kind() == Kind::kCallable; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  double as_number() const { return is_int() ? static_cast<double>(as_int()) : as_float(); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const std::vector<Value>& as_array() const;
  const Object& as_object() const;
  Namespace& as_namespace() const;
  const Callable& as_callable() const;

  // Nesting depth (1 for scalars) and whether a namespace or callable is inside: a namespace
  // attribute may not hold one, so that values never form a reference cycle.
  uint32_t depth() const;
  bool holds_reference() const;

  // Python truthiness: empty strings, lists and dicts, 0, none and undefined are false.
  bool truthy() const;

  // For error messages: "undefined", "none", "boolean", "integer", "float", "string", "list",
  // "dict", "namespace", "function".
  std::string_view type_name() const;

 private:
  struct ArrayData;
  struct ObjectData;
  static constexpr size_t kArrayIndex = 6;
  static constexpr size_t kObjectIndex = 7;
  explicit Value(NoneTag n) : v_(n) {}

  std::variant<std::monostate, NoneTag, bool, int64_t, double, std::string,
               std::shared_ptr<const ArrayData>, std::shared_ptr<const ObjectData>,
               std::shared_ptr<Namespace>, std::shared_ptr<const Callable>>
      v_;
};

class Object {
 public:
  const Value* find(std::string_view key) const;
  // Replaces the value of an existing key in place (insertion order is kept, as in Python).
  void set(std::string key, Value value);
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  // Built once a dict is large enough for linear search to matter.
  std::unordered_map<std::string, size_t> index_;
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  Offset offset = 0;  // of the call, for errors

  const Value* keyword_arg(std::string_view name) const;
};

struct Callable {
  std::string name;  // for errors: "macro 'visible_text'", "namespace", "string.split"
  std::function<Value(Evaluator&, CallArgs&)> fn;
};

struct Namespace {
  Object attributes;
};

struct Value::ArrayData {
  std::vector<Value> items;
  uint32_t depth;
  bool holds_reference;
};
struct Value::ObjectData : Object {
  uint32_t depth = 1;
  bool holds_reference = false;
};

inline const std::vector<Value>& Value::as_array() const { return std::get<kArrayIndex>(v_)->items; }
inline const Object& Value::as_object() const { return *std::get<kObjectIndex>(v_); }
inline Namespace& Value::as_namespace() const { return *std::get<std::shared_ptr<Namespace>>(v_); }
inline const Callable& Value::as_callable() const {
  return *std::get<std::shared_ptr<const Callable>>(v_);
}

// Deep equality as in Python: numbers (and booleans) compare by value across int and float,
// lists element-wise, dicts by key set and values; none == none; undefined == undefined.
bool equal(const Value& a, const Value& b);

// Rough cost of an operation that walks v (a string's bytes / 64, a list's or dict's size), so
// that the step budget also bounds loops over expensive operations on large values.
uint64_t work_of(const Value& v);

// JSON null -> none, objects keep their key order; throws TemplateError past kMaxValueDepth.
Value from_json(const nlohmann::ordered_json& json);

// Python's repr of a double: shortest round-trip digits, "1.0" for integral values,
// exponent form outside 1e-4 <= |x| < 1e16.
std::string format_float(double d);

}  // namespace nextn::chat
