#include "chat/json.h"

#include <algorithm>
#include <cmath>

#include "chat/utf8.h"

namespace nextn::chat {
namespace {

void append_hex4(std::string& out, unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";  // lowercase, as json.dumps writes it
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
}

void write_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            append_hex4(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    if (!ensure_ascii) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // Non-ASCII as \uXXXX, characters past the BMP as a UTF-16 surrogate pair.
    const char32_t cp = decode_utf8(s, i);
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      append_hex4(out, 0xD800 + static_cast<unsigned>(v >> 10));
      append_hex4(out, 0xDC00 + static_cast<unsigned>(v & 0x3FF));
    } else {
      append_hex4(out, static_cast<unsigned>(cp));
    }
  }
  out += '"';
}

void write_float(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
  } else if (std::isinf(d)) {
    out += d > 0 ? "Infinity" : "-Infinity";
  } else {
    out += format_float(d);
  }
}

void newline(std::string& out, const JsonOptions& options, int level) {
  out += '\n';
  out.append(static_cast<size_t>(options.indent) * static_cast<size_t>(level), ' ');
}

}  // namespace

void write_json(std::string& out, const Value& value, const JsonOptions& options, Offset offset,
                int level) {
  using Kind = Value::Kind;
  switch (value.kind()) {
    case Kind::kUndefined:
      out += options.undefined_as_null ? "null" : "undefined";
      return;
    case Kind::kNone: out += "null"; return;
    case Kind::kBool: out += value.as_bool() ? "true" : "false"; return;
    case Kind::kInt: out += std::to_string(value.as_int()); return;
    case Kind::kFloat: write_float(out, value.as_float()); return;
    case Kind::kString: write_string(out, value.as_string(), options.ensure_ascii); return;
    case Kind::kCallable:
      fail_at(offset, "cannot convert {} to JSON", value.as_callable().name);
    case Kind::kArray: {
      const auto& items = value.as_array();
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += options.item_separator;
        if (options.indent >= 0) newline(out, options, level + 1);
        write_json(out, items[i], options, offset, level + 1);
      }
      if (options.indent >= 0 && !items.empty()) newline(out, options, level);
      out += ']';
      return;
    }
    case Kind::kObject:
    case Kind::kNamespace: {
      const Object& object =
          value.is_object() ? value.as_object() : value.as_namespace().attributes;
      std::vector<const std::pair<std::string, Value>*> entries;
      entries.reserve(object.size());
      for (const auto& entry : object.entries()) entries.push_back(&entry);
      if (options.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto* a, const auto* b) { return a->first < b->first; });
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += options.item_separator;
        if (options.indent >= 0) newline(out, options, level + 1);
        write_string(out, entries[i]->first, options.ensure_ascii);
        out += options.key_separator;
        write_json(out, entries[i]->second, options, offset, level + 1);
      }
      if (options.indent >= 0 && !entries.empty()) newline(out, options, level);
      out += '}';
      return;
    }
  }
}

void append_output(std::string& out, const Value& value, Offset offset) {
  using Kind = Value::Kind;
  switch (value.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return;
    case Kind::kBool: out += value.as_bool() ? "true" : "false"; return;
    case Kind::kInt: out += std::to_string(value.as_int()); return;
    case Kind::kFloat:
      out += std::isnan(value.as_float()) ? "NaN" : format_float(value.as_float());
      return;
    case Kind::kString: out += value.as_string(); return;
    case Kind::kCallable: fail_at(offset, "cannot print {}", value.as_callable().name);
    case Kind::kArray:
    case Kind::kObject:
    case Kind::kNamespace:
      write_json(out, value, JsonOptions{.undefined_as_null = false}, offset);
      return;
  }
}

std::string to_output(const Value& value, Offset offset) {
  std::string out;
  append_output(out, value, offset);
  return out;
}

}  // namespace nextn::chat
