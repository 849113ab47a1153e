// Jinja filters (`value | name(args)`).
//
// tojson is transformers' (json.dumps with ensure_ascii=False, indent, separators, sort_keys);
// the others are Jinja's, restricted to what the reference renderer also has where its
// behaviour is visible in the goldens (default, join, first, last, length, trim, ...).
#include <algorithm>
#include <charconv>
#include <cmath>

#include "chat/args.h"
#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/json.h"
#include "chat/utf8.h"

namespace nextn::chat {
namespace {

using Filter = Value (*)(Evaluator&, const Value& v, CallArgs& args);

[[noreturn]] void wrong_type(std::string_view filter, const Value& v, Offset offset) {
  fail_at(offset, "filter '{}' cannot be applied to {}", filter, v.type_name());
}

Value f_tojson(Evaluator& ev, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonOptions options;
  options.ensure_ascii = bool_arg(a[0], false, "tojson", "ensure_ascii", args.offset);
  options.indent = static_cast<int>(
      std::clamp<int64_t>(int_arg(a[1], -1, "tojson", "indent", args.offset), -1, 64));
  if (options.indent >= 0) options.item_separator.assign(1, ',');  // json.dumps with an indent
  if (!a[2].is_undefined() && !a[2].is_none()) {
    if (!a[2].is_array() || a[2].as_array().size() != 2 || !a[2].as_array()[0].is_string() ||
        !a[2].as_array()[1].is_string()) {
      fail_at(args.offset, "tojson: 'separators' must be a pair of strings");
    }
    options.item_separator = a[2].as_array()[0].as_string();
    options.key_separator = a[2].as_array()[1].as_string();
  }
  options.sort_keys = bool_arg(a[3], false, "tojson", "sort_keys", args.offset);
  std::string out;
  write_json(out, v, options, args.offset);
  ev.check_size(out.size(), args.offset);
  return Value(std::move(out));
}

Value f_safe(Evaluator&, const Value& v, CallArgs& args) {
  bind_args(args, "safe", {});
  return v;
}

Value f_string(Evaluator&, const Value& v, CallArgs& args) {
  bind_args(args, "string", {});
  return v.is_string() ? v : Value(to_output(v, args.offset));
}

Value f_list(Evaluator&, const Value& v, CallArgs& args) {
  bind_args(args, "list", {});
  if (v.is_array()) return v;
  if (v.is_string()) return Value::array(characters(v.as_string()), args.offset);
  if (v.is_object()) {
    std::vector<Value> keys;
    for (const auto& entry : v.as_object().entries()) keys.emplace_back(entry.first);
    return Value::array(std::move(keys), args.offset);
  }
  wrong_type("list", v, args.offset);
}

Value first_or_last(const Value& v, CallArgs& args, bool first, std::string_view name) {
  bind_args(args, name, {});
  if (v.is_array() || v.is_string()) {
    const std::vector<Value> chars = v.is_string() ? characters(v.as_string()) : std::vector<Value>{};
    const std::vector<Value>& items = v.is_array() ? v.as_array() : chars;
    if (items.empty()) return Value();
    return first ? items.front() : items.back();
  }
  wrong_type(name, v, args.offset);
}

Value f_first(Evaluator&, const Value& v, CallArgs& args) { return first_or_last(v, args, true, "first"); }
Value f_last(Evaluator&, const Value& v, CallArgs& args) { return first_or_last(v, args, false, "last"); }

Value f_length(Evaluator&, const Value& v, CallArgs& args) {
  bind_args(args, "length", {});
  if (v.is_array()) return Value(static_cast<int64_t>(v.as_array().size()));
  if (v.is_object()) return Value(static_cast<int64_t>(v.as_object().size()));
  if (v.is_string()) return Value(static_cast<int64_t>(code_point_starts(v.as_string()).size() - 1));
  wrong_type("length", v, args.offset);
}

Value f_join(Evaluator& ev, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "join", {"d", "attribute"});
  const std::string separator = a[0].is_undefined() ? "" : string_arg(a[0], "join", "d", args.offset);
  if (!a[1].is_undefined()) fail_at(args.offset, "join: 'attribute' is not supported");
  const std::vector<Value> chars = v.is_string() ? characters(v.as_string()) : std::vector<Value>{};
  if (!v.is_array() && !v.is_string()) wrong_type("join", v, args.offset);
  const std::vector<Value>& items = v.is_array() ? v.as_array() : chars;
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    append_output(out, items[i], args.offset);
    ev.check_size(out.size(), args.offset);
  }
  return Value(std::move(out));
}

Value f_trim(Evaluator&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "trim", {"chars"});
  if (!v.is_string()) wrong_type("trim", v, args.offset);
  return Value(strip(v.as_string(), a[0], true, true, args.offset));
}

Value string_filter(const Value& v, CallArgs& args, std::string_view name,
                    std::string (*fn)(const std::string&)) {
  bind_args(args, name, {});
  if (!v.is_string()) wrong_type(name, v, args.offset);
  return Value(fn(v.as_string()));
}

Value f_upper(Evaluator&, const Value& v, CallArgs& args) {
  return string_filter(v, args, "upper", [](const std::string& s) { return to_upper(s); });
}
Value f_lower(Evaluator&, const Value& v, CallArgs& args) {
  return string_filter(v, args, "lower", [](const std::string& s) { return to_lower(s); });
}
Value f_title(Evaluator&, const Value& v, CallArgs& args) {
  return string_filter(v, args, "title", to_title);
}
Value f_capitalize(Evaluator&, const Value& v, CallArgs& args) {
  return string_filter(v, args, "capitalize", capitalize);
}

Value f_default(Evaluator&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "default", {"default_value", "boolean"});
  const bool boolean = bool_arg(a[1], false, "default", "boolean", args.offset);
  if (v.is_undefined() || (boolean && !v.truthy())) {
    return a[0].is_undefined() ? Value("") : a[0];
  }
  return v;
}

Value f_items(Evaluator&, const Value& v, CallArgs& args) {
  bind_args(args, "items", {});
  if (!v.is_object()) wrong_type("items", v, args.offset);
  std::vector<Value> out;
  for (const auto& [key, value] : v.as_object().entries()) {
    out.push_back(Value::array({Value(key), value}, args.offset));
  }
  return Value::array(std::move(out), args.offset);
}

Value f_reverse(Evaluator&, const Value& v, CallArgs& args) {
  bind_args(args, "reverse", {});
  if (v.is_array()) {
    std::vector<Value> items = v.as_array();
    std::reverse(items.begin(), items.end());
    return Value::array(std::move(items), args.offset);
  }
  if (v.is_string()) {
    std::vector<Value> chars = characters(v.as_string());
    std::string out;
    for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->as_string();
    return Value(std::move(out));
  }
  wrong_type("reverse", v, args.offset);
}

Value f_int(Evaluator&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "int", {"default"});
  const Value fallback = a[0].is_undefined() ? Value(int64_t{0}) : a[0];
  if (v.is_int()) return v;
  if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
  if (v.is_float()) {
    const double d = std::trunc(v.as_float());
    if (!(d > -9.2e18 && d < 9.2e18)) return fallback;
    return Value(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    const std::string s = strip(v.as_string(), Value(), true, true, args.offset);
    int64_t i = 0;
    const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
    const auto r = std::from_chars(begin, s.data() + s.size(), i);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) return Value(i);
    return fallback;
  }
  return fallback;
}

Value f_float(Evaluator&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "float", {"default"});
  const Value fallback = a[0].is_undefined() ? Value(0.0) : a[0];
  if (v.is_float()) return v;
  if (v.is_int()) return Value(static_cast<double>(v.as_int()));
  if (v.is_bool()) return Value(v.as_bool() ? 1.0 : 0.0);
  if (v.is_string()) {
    const std::string s = strip(v.as_string(), Value(), true, true, args.offset);
    double d = 0;
    const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
    const auto r = std::from_chars(begin, s.data() + s.size(), d);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) return Value(d);
    return fallback;
  }
  return fallback;
}

Value f_abs(Evaluator&, const Value& v, CallArgs& args) {
  bind_args(args, "abs", {});
  if (v.is_float()) return Value(std::fabs(v.as_float()));
  if (v.is_int()) {
    if (v.as_int() == INT64_MIN) fail_at(args.offset, "integer overflow in abs");
    return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  wrong_type("abs", v, args.offset);
}

Value f_replace(Evaluator& ev, const Value& v, CallArgs& args) {
  if (!v.is_string()) wrong_type("replace", v, args.offset);
  return ev.call(builtin_member(v, "replace"), args);
}

Value f_indent(Evaluator& ev, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "indent", {"width", "first", "blank"});
  if (!v.is_string()) wrong_type("indent", v, args.offset);
  const int64_t width = std::clamp<int64_t>(int_arg(a[0], 4, "indent", "width", args.offset), 0, 256);
  const bool first = bool_arg(a[1], false, "indent", "first", args.offset);
  const bool blank = bool_arg(a[2], false, "indent", "blank", args.offset);
  const std::string pad(static_cast<size_t>(width), ' ');
  const std::string& s = v.as_string();
  std::string out;
  size_t start = 0;
  for (size_t line = 0;; ++line) {
    const size_t end = s.find('\n', start);
    const std::string_view text = std::string_view(s).substr(start, end == std::string::npos ? std::string::npos : end - start);
    if ((line > 0 || first) && (blank || !text.empty())) out += pad;
    out += text;
    ev.check_size(out.size(), args.offset);
    if (end == std::string::npos) break;
    out += '\n';
    start = end + 1;
  }
  return Value(std::move(out));
}

// An attribute of an item, "a.b" walking into nested dicts (Jinja's attribute= arguments).
Value attribute_of(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.is_object()) {
      const Value* found = v.as_object().find(part);
      v = found ? *found : Value();
    } else if (v.is_namespace()) {
      const Value* found = v.as_namespace().attributes.find(part);
      v = found ? *found : Value();
    } else if (v.is_array()) {
      int64_t i = -1;
      std::from_chars(part.data(), part.data() + part.size(), i);
      v = i >= 0 && static_cast<size_t>(i) < v.as_array().size() ? v.as_array()[static_cast<size_t>(i)] : Value();
    } else {
      return Value();
    }
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

Value f_map(Evaluator& ev, const Value& v, CallArgs& args) {
  if (!v.is_array()) wrong_type("map", v, args.offset);
  std::vector<Value> out;
  if (const Value* attribute = args.keyword_arg("attribute")) {
    const auto a = bind_args(args, "map", {"attribute", "default"});
    const std::string& path = string_arg(*attribute, "map", "attribute", args.offset);
    for (const Value& item : v.as_array()) {
      Value x = attribute_of(item, path);
      out.push_back(x.is_undefined() && !a[1].is_undefined() ? a[1] : std::move(x));
    }
  } else {
    // map('filter', args...): apply a filter to every item.
    if (args.positional.empty()) fail_at(args.offset, "map needs attribute= or a filter name");
    const std::string& name = string_arg(args.positional[0], "map", "filter", args.offset);
    if (!is_known_filter(name) || name == "map") fail_at(args.offset, "map: unknown filter '{}'", name);
    for (const Value& item : v.as_array()) {
      CallArgs rest{{args.positional.begin() + 1, args.positional.end()}, args.keyword, args.offset};
      out.push_back(apply_filter(ev, name, item, rest));
    }
  }
  return Value::array(std::move(out), args.offset);
}

// selectattr / rejectattr / select / reject: keep the items whose (attribute) passes a test;
// `equalto` / `eq` / `==` / `ne` / `!=` compare with one argument.
Value select_items(Evaluator& ev, const Value& v, CallArgs& args, bool by_attribute, bool keep,
                   std::string_view what) {
  if (!v.is_array()) wrong_type(what, v, args.offset);
  if (!args.keyword.empty()) fail_at(args.offset, "{} takes positional arguments only", what);
  size_t k = 0;
  std::string path;
  if (by_attribute) {
    if (args.positional.empty()) fail_at(args.offset, "{} needs an attribute name", what);
    path = string_arg(args.positional[k++], what, "attribute", args.offset);
  }
  std::string test;
  if (k < args.positional.size()) test = string_arg(args.positional[k++], what, "test", args.offset);
  const bool comparison = test == "equalto" || test == "eq" || test == "==" || test == "ne" || test == "!=";
  if (!test.empty() && !comparison && !is_known_test(test)) fail_at(args.offset, "{}: unknown test '{}'", what, test);
  if (comparison && k >= args.positional.size()) fail_at(args.offset, "{}: test '{}' needs a value", what, test);
  const Value other = comparison ? args.positional[k++] : Value();
  if (k < args.positional.size()) fail_at(args.offset, "{}: too many arguments", what);
  std::vector<Value> out;
  for (const Value& item : v.as_array()) {
    ev.charge(1, args.offset);
    const Value x = by_attribute ? attribute_of(item, path) : item;
    bool pass = false;
    if (test.empty()) {
      pass = x.truthy();
    } else if (comparison) {
      pass = equal(x, other) == (test != "ne" && test != "!=");
    } else {
      pass = apply_test(test, x, args.offset);
    }
    if (pass == keep) out.push_back(item);
  }
  return Value::array(std::move(out), args.offset);
}

Value f_selectattr(Evaluator& ev, const Value& v, CallArgs& a) { return select_items(ev, v, a, true, true, "selectattr"); }
Value f_rejectattr(Evaluator& ev, const Value& v, CallArgs& a) { return select_items(ev, v, a, true, false, "rejectattr"); }
Value f_select(Evaluator& ev, const Value& v, CallArgs& a) { return select_items(ev, v, a, false, true, "select"); }
Value f_reject(Evaluator& ev, const Value& v, CallArgs& a) { return select_items(ev, v, a, false, false, "reject"); }

Value f_unique(Evaluator& ev, const Value& v, CallArgs& args) {
  bind_args(args, "unique", {});
  if (!v.is_array()) wrong_type("unique", v, args.offset);
  std::vector<Value> out;
  for (const Value& item : v.as_array()) {
    ev.charge(out.size() + 1, args.offset);
    if (std::none_of(out.begin(), out.end(), [&](const Value& o) { return equal(o, item); })) out.push_back(item);
  }
  return Value::array(std::move(out), args.offset);
}

struct NamedFilter {
  std::string_view name;
  Filter fn;
};

constexpr NamedFilter kFilters[] = {
    {"tojson", f_tojson},       {"safe", f_safe},           {"string", f_string},
    {"list", f_list},           {"first", f_first},         {"last", f_last},
    {"length", f_length},       {"count", f_length},        {"join", f_join},
    {"trim", f_trim},           {"upper", f_upper},         {"lower", f_lower},
    {"title", f_title},         {"capitalize", f_capitalize}, {"default", f_default},
    {"d", f_default},           {"items", f_items},         {"reverse", f_reverse},
    {"int", f_int},             {"float", f_float},         {"abs", f_abs},
    {"replace", f_replace},     {"indent", f_indent},       {"map", f_map},
    {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr}, {"select", f_select},
    {"reject", f_reject},       {"unique", f_unique},
};

}  // namespace

bool is_known_filter(std::string_view name) {
  return std::any_of(std::begin(kFilters), std::end(kFilters),
                     [&](const NamedFilter& f) { return f.name == name; });
}

Value apply_filter(Evaluator& ev, std::string_view name, const Value& operand, CallArgs& args) {
  ev.charge(work_of(operand), args.offset);
  for (const NamedFilter& f : kFilters) {
    if (f.name == name) return f.fn(ev, operand, args);
  }
  fail_at(args.offset, "unknown filter '{}'", name);
}

}  // namespace nextn::chat
