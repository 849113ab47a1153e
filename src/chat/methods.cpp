// Methods of strings and dicts (`content.split('</think>')`, `d.items()`) and the global
// functions. The string methods are Python's, with the reference renderer's whitespace set.
#include <ctime>

#include "chat/args.h"
#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/utf8.h"

namespace nextn::chat {
namespace {

using Method = Value (*)(Evaluator&, const Value& self, CallArgs& args);

bool any_affix(const Value& self, const Value& affix, bool prefix, std::string_view what,
               Offset offset) {
  const std::string& s = self.as_string();
  const auto test = [&](const Value& a) {
    const std::string& p = string_arg(a, what, "prefix", offset);
    return p.size() <= s.size() &&
           (prefix ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0);
  };
  if (affix.is_array()) {  // a tuple of alternatives
    for (const Value& a : affix.as_array()) {
      if (test(a)) return true;
    }
    return false;
  }
  return test(affix);
}

std::vector<Value> split_whitespace(const std::string& s, int64_t maxsplit) {
  std::vector<Value> parts;
  size_t i = 0;
  while (true) {
    i += space_run(s, i);
    if (i >= s.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
      parts.emplace_back(s.substr(i));  // the rest, trailing whitespace included (Python)
      break;
    }
    const size_t start = i;
    while (i < s.size()) {
      size_t next = i;
      if (is_js_space(decode_utf8(s, next))) break;
      i = next;
    }
    parts.emplace_back(s.substr(start, i - start));
  }
  return parts;
}

Value str_split(Evaluator& ev, const Value& self, CallArgs& args) {
  const auto a = bind_args(args, "split", {"sep", "maxsplit"});
  const int64_t maxsplit = int_arg(a[1], -1, "split", "maxsplit", args.offset);
  const std::string& s = self.as_string();
  std::vector<Value> parts;
  if (a[0].is_undefined() || a[0].is_none()) {
    parts = split_whitespace(s, maxsplit);
  } else {
    const std::string& sep = string_arg(a[0], "split", "sep", args.offset);
    if (sep.empty()) fail_at(args.offset, "split: empty separator");
    size_t start = 0;
    while (true) {
      const size_t at = (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit)
                            ? std::string::npos
                            : s.find(sep, start);
      if (at == std::string::npos) {
        parts.emplace_back(s.substr(start));
        break;
      }
      parts.emplace_back(s.substr(start, at - start));
      start = at + sep.size();
    }
  }
  ev.charge(parts.size(), args.offset);
  return Value::array(std::move(parts), args.offset);
}

Value str_replace(Evaluator& ev, const Value& self, CallArgs& args) {
  const auto a = bind_args(args, "replace", {"old", "new", "count"});
  const std::string& from = string_arg(a[0], "replace", "old", args.offset);
  const std::string& to = string_arg(a[1], "replace", "new", args.offset);
  int64_t count = int_arg(a[2], -1, "replace", "count", args.offset);
  const std::string& s = self.as_string();
  std::string out;
  if (from.empty()) {  // Python inserts `new` around every character
    const std::vector<size_t> starts = code_point_starts(s);
    for (size_t k = 0; k < starts.size(); ++k) {
      if (count != 0) {
        out += to;
        --count;
      }
      if (k + 1 < starts.size()) out.append(s, starts[k], starts[k + 1] - starts[k]);
      ev.check_size(out.size(), args.offset);
    }
    return Value(std::move(out));
  }
  size_t start = 0;
  while (count != 0) {
    const size_t at = s.find(from, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += to;
    ev.check_size(out.size(), args.offset);
    start = at + from.size();
    --count;
  }
  out.append(s, start);
  return Value(std::move(out));
}

Value no_args(const CallArgs& args, std::string_view what) {
  bind_args(args, what, {});
  return Value();
}

Value dict_get(Evaluator&, const Value& self, CallArgs& args) {
  const auto a = bind_args(args, "get", {"key", "default"});
  if (!a[0].is_string()) fail_at(args.offset, "get: a dict key must be a string, got {}", a[0].type_name());
  if (const Value* v = self.as_object().find(a[0].as_string())) return *v;
  return a[1].is_undefined() ? Value::none() : a[1];
}

Value dict_view(const Value& self, CallArgs& args, int which, std::string_view what) {
  no_args(args, what);
  std::vector<Value> out;
  for (const auto& [key, value] : self.as_object().entries()) {
    if (which == 0) out.emplace_back(key);
    if (which == 1) out.push_back(value);
    if (which == 2) out.push_back(Value::array({Value(key), value}, args.offset));
  }
  return Value::array(std::move(out), args.offset);
}

struct NamedMethod {
  std::string_view name;
  Method fn;
};

const NamedMethod kStringMethods[] = {
    {"upper", [](Evaluator&, const Value& s, CallArgs& a) { no_args(a, "upper"); return Value(to_upper(s.as_string())); }},
    {"lower", [](Evaluator&, const Value& s, CallArgs& a) { no_args(a, "lower"); return Value(to_lower(s.as_string())); }},
    {"title", [](Evaluator&, const Value& s, CallArgs& a) { no_args(a, "title"); return Value(to_title(s.as_string())); }},
    {"capitalize", [](Evaluator&, const Value& s, CallArgs& a) { no_args(a, "capitalize"); return Value(capitalize(s.as_string())); }},
    {"strip", [](Evaluator&, const Value& s, CallArgs& a) {
       return Value(strip(s.as_string(), bind_args(a, "strip", {"chars"})[0], true, true, a.offset)); }},
    {"lstrip", [](Evaluator&, const Value& s, CallArgs& a) {
       return Value(strip(s.as_string(), bind_args(a, "lstrip", {"chars"})[0], true, false, a.offset)); }},
    {"rstrip", [](Evaluator&, const Value& s, CallArgs& a) {
       return Value(strip(s.as_string(), bind_args(a, "rstrip", {"chars"})[0], false, true, a.offset)); }},
    {"startswith", [](Evaluator&, const Value& s, CallArgs& a) {
       return Value(any_affix(s, bind_args(a, "startswith", {"prefix"})[0], true, "startswith", a.offset)); }},
    {"endswith", [](Evaluator&, const Value& s, CallArgs& a) {
       return Value(any_affix(s, bind_args(a, "endswith", {"suffix"})[0], false, "endswith", a.offset)); }},
    {"split", str_split},
    {"replace", str_replace},
};

const NamedMethod kDictMethods[] = {
    {"get", dict_get},
    {"keys", [](Evaluator&, const Value& d, CallArgs& a) { return dict_view(d, a, 0, "keys"); }},
    {"values", [](Evaluator&, const Value& d, CallArgs& a) { return dict_view(d, a, 1, "values"); }},
    {"items", [](Evaluator&, const Value& d, CallArgs& a) { return dict_view(d, a, 2, "items"); }},
};

template <size_t N>
Value bind_method(const NamedMethod (&table)[N], const Value& self, std::string_view name,
                  std::string_view type) {
  for (const NamedMethod& m : table) {
    if (m.name != name) continue;
    const Method fn = m.fn;
    return Value::callable(std::string(type) + "." + std::string(name),
                           [self, fn](Evaluator& ev, CallArgs& args) { return fn(ev, self, args); });
  }
  return Value();
}

Value namespace_fn(Evaluator&, CallArgs& args) {
  Object attributes;
  if (args.positional.size() > 1) fail_at(args.offset, "namespace takes at most one positional argument");
  if (args.positional.size() == 1) {
    const Value& source = args.positional[0];
    if (!source.is_object()) fail_at(args.offset, "namespace: expected a dict, got {}", source.type_name());
    for (const auto& [key, value] : source.as_object().entries()) attributes.set(key, value);
  }
  for (const auto& [key, value] : args.keyword) attributes.set(key, value);
  for (const auto& [key, value] : attributes.entries()) {
    if (value.holds_reference()) {
      fail_at(args.offset, "namespace: attribute '{}' cannot hold a namespace or a function", key);
    }
  }
  return Value::make_namespace(std::move(attributes));
}

Value range_fn(Evaluator& ev, CallArgs& args) {
  const auto a = bind_args(args, "range", {"start", "stop", "step"});
  int64_t start = 0;
  int64_t stop = 0;
  const int64_t step = int_arg(a[2], 1, "range", "step", args.offset);
  if (a[1].is_undefined()) {
    if (a[0].is_undefined()) fail_at(args.offset, "range expects at least one argument");
    stop = int_arg(a[0], 0, "range", "stop", args.offset);
  } else {
    start = int_arg(a[0], 0, "range", "start", args.offset);
    stop = int_arg(a[1], 0, "range", "stop", args.offset);
  }
  if (step == 0) fail_at(args.offset, "range: step must not be zero");
  // Count first (in unsigned arithmetic, which cannot overflow here), so a huge range fails
  // before allocating.
  const bool up = step > 0;
  const uint64_t span = up ? (stop > start ? static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) : 0)
                           : (start > stop ? static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) : 0);
  const uint64_t magnitude = up ? static_cast<uint64_t>(step) : static_cast<uint64_t>(-(step + 1)) + 1;
  const uint64_t n = span == 0 ? 0 : (span - 1) / magnitude + 1;
  ev.charge(n, args.offset);
  ev.check_size(n > SIZE_MAX / sizeof(Value) ? SIZE_MAX : n * sizeof(Value), args.offset);
  std::vector<Value> out;
  out.reserve(n);
  for (uint64_t k = 0; k < n; ++k) out.emplace_back(start + static_cast<int64_t>(k) * step);
  return Value::array(std::move(out), args.offset);
}

// Templates call raise_exception('...') to reject conversations they cannot render.
Value raise_exception_fn(Evaluator&, CallArgs& args) {
  std::string message;
  for (const Value& v : args.positional) message += v.is_string() ? v.as_string() : std::string(v.type_name());
  fail_at(args.offset, "raise_exception: {}", message);
}

Value strftime_now_fn(Evaluator&, CallArgs& args) {
  const auto a = bind_args(args, "strftime_now", {"format"});
  const std::string& format = string_arg(a[0], "strftime_now", "format", args.offset);
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::string out(256 + format.size() * 8, '\0');
  const size_t n = std::strftime(out.data(), out.size(), format.c_str(), &local);
  out.resize(n);
  return Value(std::move(out));
}

}  // namespace

Value builtin_member(const Value& object, std::string_view name) {
  if (object.is_string()) {
    if (name == "length") return Value(static_cast<int64_t>(code_point_starts(object.as_string()).size() - 1));
    return bind_method(kStringMethods, object, name, "string");
  }
  if (object.is_array()) {
    if (name == "length") return Value(static_cast<int64_t>(object.as_array().size()));
    return Value();
  }
  if (object.is_object()) return bind_method(kDictMethods, object, name, "dict");
  return Value();
}

Value global_function(std::string_view name) {
  using Fn = Value (*)(Evaluator&, CallArgs&);
  static constexpr std::pair<std::string_view, Fn> kGlobals[] = {
      {"namespace", namespace_fn},
      {"range", range_fn},
      {"raise_exception", raise_exception_fn},
      {"strftime_now", strftime_now_fn},
  };
  for (const auto& [n, fn] : kGlobals) {
    if (n == name) return Value::callable(std::string(n), fn);
  }
  return Value();
}

}  // namespace nextn::chat
