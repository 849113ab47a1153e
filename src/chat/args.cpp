#include "chat/args.h"

#include <algorithm>

#include "chat/utf8.h"

namespace nextn::chat {

std::vector<Value> bind_args(const CallArgs& args, std::string_view what,
                             std::initializer_list<std::string_view> params) {
  std::vector<Value> bound(params.size());
  if (args.positional.size() > params.size()) {
    fail_at(args.offset, "{} takes at most {} argument(s), got {}", what, params.size(),
            args.positional.size());
  }
  for (size_t i = 0; i < args.positional.size(); ++i) bound[i] = args.positional[i];
  for (const auto& [key, value] : args.keyword) {
    const auto it = std::find(params.begin(), params.end(), key);
    if (it == params.end()) fail_at(args.offset, "{} got an unexpected keyword argument '{}'", what, key);
    const size_t i = static_cast<size_t>(it - params.begin());
    if (i < args.positional.size()) fail_at(args.offset, "{} got argument '{}' twice", what, key);
    bound[i] = value;
  }
  return bound;
}

bool bool_arg(const Value& v, bool fallback, std::string_view what, std::string_view param,
              Offset offset) {
  if (v.is_undefined() || v.is_none()) return fallback;
  if (!v.is_bool()) fail_at(offset, "{}: '{}' must be a boolean, got {}", what, param, v.type_name());
  return v.as_bool();
}

int64_t int_arg(const Value& v, int64_t fallback, std::string_view what, std::string_view param,
                Offset offset) {
  if (v.is_undefined() || v.is_none()) return fallback;
  if (!v.is_int()) fail_at(offset, "{}: '{}' must be an integer, got {}", what, param, v.type_name());
  return v.as_int();
}

const std::string& string_arg(const Value& v, std::string_view what, std::string_view param,
                              Offset offset) {
  if (!v.is_string()) {
    fail_at(offset, "{}: '{}' must be a string, got {}", what, param, v.type_name());
  }
  return v.as_string();
}

std::vector<Value> characters(const std::string& s) {
  std::vector<Value> out;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    decode_utf8(s, i);
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

std::string strip(const std::string& s, const Value& chars, bool left, bool right, Offset offset) {
  std::vector<char32_t> set;
  const bool whitespace = chars.is_undefined() || chars.is_none();
  if (!whitespace) {
    const std::string& c = string_arg(chars, "strip", "chars", offset);
    for (size_t i = 0; i < c.size();) set.push_back(decode_utf8(c, i));
  }
  const auto strippable = [&](char32_t cp) {
    return whitespace ? is_js_space(cp) : std::find(set.begin(), set.end(), cp) != set.end();
  };
  const std::vector<size_t> starts = code_point_starts(s);
  size_t begin = 0;
  size_t end = starts.size() - 1;  // in code points
  const auto cp_at = [&](size_t k) {
    size_t i = starts[k];
    return decode_utf8(s, i);
  };
  if (left) {
    while (begin < end && strippable(cp_at(begin))) ++begin;
  }
  if (right) {
    while (end > begin && strippable(cp_at(end - 1))) --end;
  }
  return s.substr(starts[begin], starts[end] - starts[begin]);
}

std::string to_upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string to_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Python's str.title on ASCII: a letter after a non-letter is upper-cased, others lower-cased.
std::string to_title(const std::string& s) {
  std::string out = s;
  bool previous_cased = false;
  for (char& c : out) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (letter) {
      c = previous_cased ? to_lower(std::string(1, c))[0] : to_upper(std::string(1, c))[0];
    }
    previous_cased = letter;
  }
  return out;
}

std::string capitalize(const std::string& s) {
  if (s.empty()) return s;
  return to_upper(s.substr(0, 1)) + to_lower(s.substr(1));
}

}  // namespace nextn::chat
