// Binary operators. The reference renderer's rules (src/runtime.ts evaluateBinaryExpression)
// where the models' templates depend on them, Python's where the reference follows JavaScript
// instead of Jinja: `==` compares deeply and never equates undefined with none, `%` and `//`
// round toward negative infinity, integers do not silently become doubles, strings order.
#include <cmath>

#include "chat/evaluator.h"
#include "chat/json.h"

namespace nextn::chat {

std::string_view op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
    case BinaryOp::kEq: return "==";
    case BinaryOp::kNe: return "!=";
    case BinaryOp::kLt: return "<";
    case BinaryOp::kGt: return ">";
    case BinaryOp::kLe: return "<=";
    case BinaryOp::kGe: return ">=";
    case BinaryOp::kIn: return "in";
    case BinaryOp::kNotIn: return "not in";
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kConcat: return "~";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kFloorDiv: return "//";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "**";
  }
  return "?";
}

namespace {

template <typename T>
bool compare(BinaryOp op, const T& a, const T& b) {
  switch (op) {
    case BinaryOp::kLt: return a < b;
    case BinaryOp::kGt: return a > b;
    case BinaryOp::kLe: return a <= b;
    default: return a >= b;
  }
}

bool is_ordering(BinaryOp op) {
  return op == BinaryOp::kLt || op == BinaryOp::kGt || op == BinaryOp::kLe || op == BinaryOp::kGe;
}

Value int_op(BinaryOp op, int64_t a, int64_t b, Offset offset) {
  int64_t r = 0;
  switch (op) {
    case BinaryOp::kAdd:
      if (__builtin_add_overflow(a, b, &r)) fail_at(offset, "integer overflow in '+'");
      return Value(r);
    case BinaryOp::kSub:
      if (__builtin_sub_overflow(a, b, &r)) fail_at(offset, "integer overflow in '-'");
      return Value(r);
    case BinaryOp::kMul:
      if (__builtin_mul_overflow(a, b, &r)) fail_at(offset, "integer overflow in '*'");
      return Value(r);
    case BinaryOp::kDiv:
      if (b == 0) fail_at(offset, "division by zero");
      return Value(static_cast<double>(a) / static_cast<double>(b));
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod: {
      if (b == 0) fail_at(offset, "division by zero");
      if (a == INT64_MIN && b == -1) fail_at(offset, "integer overflow in '{}'", op_name(op));
      int64_t q = a / b;
      int64_t m = a % b;
      if (m != 0 && ((m < 0) != (b < 0))) {
        --q;
        m += b;
      }
      return Value(op == BinaryOp::kFloorDiv ? q : m);
    }
    default: return Value(compare(op, a, b));
  }
}

Value float_op(BinaryOp op, double a, double b, Offset offset) {
  switch (op) {
    case BinaryOp::kAdd: return Value(a + b);
    case BinaryOp::kSub: return Value(a - b);
    case BinaryOp::kMul: return Value(a * b);
    case BinaryOp::kDiv:
      if (b == 0) fail_at(offset, "division by zero");
      return Value(a / b);
    case BinaryOp::kFloorDiv:
      if (b == 0) fail_at(offset, "division by zero");
      return Value(std::floor(a / b));
    case BinaryOp::kMod: {
      if (b == 0) fail_at(offset, "division by zero");
      double m = std::fmod(a, b);
      if (m != 0 && ((m < 0) != (b < 0))) m += b;
      return Value(m);
    }
    default: return Value(compare(op, a, b));
  }
}

Value power(const Value& a, const Value& b, Offset offset) {
  const auto number = [](const Value& v) {
    return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number();
  };
  const bool ints = !a.is_float() && !b.is_float();
  if (ints) {
    const int64_t base = a.is_bool() ? a.as_bool() : a.as_int();
    int64_t exponent = b.is_bool() ? b.as_bool() : b.as_int();
    if (exponent >= 0) {
      int64_t result = 1;
      int64_t factor = base;
      while (exponent > 0) {
        if ((exponent & 1) && __builtin_mul_overflow(result, factor, &result)) {
          fail_at(offset, "integer overflow in '**'");
        }
        exponent >>= 1;
        if (exponent > 0 && __builtin_mul_overflow(factor, factor, &factor)) {
          fail_at(offset, "integer overflow in '**'");
        }
      }
      return Value(result);
    }
  }
  const double x = number(a);
  const double y = number(b);
  if (x == 0 && y < 0) fail_at(offset, "0 cannot be raised to a negative power");
  const double r = std::pow(x, y);
  if (!std::isfinite(r)) fail_at(offset, "'**' result is not a finite number");
  return Value(r);
}

bool contains(const Value& needle, const Value& haystack, BinaryOp op, Offset offset) {
  if (haystack.is_array()) {
    for (const Value& item : haystack.as_array()) {
      if (equal(item, needle)) return true;
    }
    return false;
  }
  if (haystack.is_string() && needle.is_string()) {
    return haystack.as_string().find(needle.as_string()) != std::string::npos;
  }
  if (haystack.is_object() && needle.is_string()) {
    return haystack.as_object().find(needle.as_string()) != nullptr;
  }
  fail_at(offset, "unsupported operand types for '{}': {} and {}", op_name(op), needle.type_name(),
          haystack.type_name());
}

}  // namespace

Value binary_op(Evaluator& ev, BinaryOp op, const Value& a, const Value& b, Offset offset) {
  if (op == BinaryOp::kEq) return Value(equal(a, b));
  if (op == BinaryOp::kNe) return Value(!equal(a, b));
  const bool membership = op == BinaryOp::kIn || op == BinaryOp::kNotIn;
  if (membership && b.is_undefined()) return Value(op == BinaryOp::kNotIn);
  if (a.is_undefined() || b.is_undefined()) {
    fail_at(offset, "'{}' applied to an undefined value (a missing variable, key or attribute)",
            op_name(op));
  }
  if (a.is_none() || b.is_none()) fail_at(offset, "'{}' applied to none", op_name(op));
  if (membership) return Value(contains(a, b, op, offset) == (op == BinaryOp::kIn));
  if (op == BinaryOp::kConcat) {
    std::string s = to_output(a, offset);
    append_output(s, b, offset);
    ev.check_size(s.size(), offset);
    ev.charge(s.size() / 64, offset);
    return Value(std::move(s));
  }
  if (op == BinaryOp::kPow) {
    const auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
    if (numeric(a) && numeric(b)) return power(a, b, offset);
  } else if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return int_op(op, a.as_int(), b.as_int(), offset);
    return float_op(op, a.as_number(), b.as_number(), offset);
  } else if (a.is_string() && b.is_string()) {
    if (op == BinaryOp::kAdd) {
      ev.check_size(a.as_string().size() + b.as_string().size(), offset);
      ev.charge((a.as_string().size() + b.as_string().size()) / 64, offset);
      return Value(a.as_string() + b.as_string());
    }
    if (is_ordering(op)) return Value(compare(op, a.as_string(), b.as_string()));
  } else if (a.is_array() && b.is_array() && op == BinaryOp::kAdd) {
    std::vector<Value> items = a.as_array();
    items.insert(items.end(), b.as_array().begin(), b.as_array().end());
    ev.check_size(items.size() * sizeof(Value), offset);
    ev.charge(items.size(), offset);
    return Value::array(std::move(items), offset);
  }
  if (op == BinaryOp::kAdd && (a.is_string() || b.is_string())) {
    fail_at(offset, "'+' between {} and {} (use '~' to join values into a string)", a.type_name(),
            b.type_name());
  }
  fail_at(offset, "unsupported operand types for '{}': {} and {}", op_name(op), a.type_name(),
          b.type_name());
}

}  // namespace nextn::chat
