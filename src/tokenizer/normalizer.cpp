#include "tokenizer/normalizer.h"

#include <cstdlib>
#include <memory>

#include <utf8proc.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace nextn {
namespace {

std::string unicode_normalize(std::string_view text, utf8proc_option_t options) {
  if (text.empty()) return {};
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &result,
                   static_cast<utf8proc_option_t>(options | UTF8PROC_STABLE));
  if (n < 0) nextn::fail("normalizer: utf8proc failed: {}", utf8proc_errmsg(n));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(result, &std::free);
  return std::string(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
}

std::string lowercase(std::string_view text) {
  // Simple (one-to-one) case mapping per code point; HF's Rust uses the full mapping, which only
  // differs for a handful of characters such as U+0130.
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const utf8::Decoded d = utf8::decode_one(text, pos);
    utf8::append(
        out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(d.code_point))));
    pos += d.length;
  }
  return out;
}

std::string strip(std::string_view text, bool left, bool right) {
  size_t begin = 0;
  size_t end = text.size();
  if (left) {
    while (begin < end) {
      const utf8::Decoded d = utf8::decode_one(text, begin);
      if (!is_white_space(d.code_point)) break;
      begin += d.length;
    }
  }
  if (right) {
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      if (!is_white_space(utf8::decode_one(text, start).code_point)) break;
      end = start;
    }
  }
  return std::string(text.substr(begin, end - begin));
}

std::string replace_all(std::string_view text, const Regex& pattern, std::string_view content) {
  std::vector<Regex::Span> spans;
  pattern.find_all(text, spans);
  if (spans.empty()) return std::string(text);
  std::string out;
  size_t prev = 0;
  for (const Regex::Span& s : spans) {
    out.append(text.substr(prev, s.start - prev));
    out.append(content);
    prev = s.end;
  }
  out.append(text.substr(prev));
  return out;
}

}  // namespace

bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

Regex pattern_from_json(const tokenizer_json::Field& field) {
  field.expect_object();
  if (const auto regex = field.find("Regex")) {
    return Regex::compile(regex->as_string(),
                          fmt::format("{}: field '{}.Regex'", field.file(), field.path()));
  }
  if (const auto literal = field.find("String")) {
    return Regex::literal(literal->as_string(),
                          fmt::format("{}: field '{}.String'", field.file(), field.path()));
  }
  field.fail_expected("{\"Regex\": ...} or {\"String\": ...}");
}

Normalizer Normalizer::from_json(const tokenizer_json::Field& field) {
  Normalizer n;
  if (field.is_null()) return n;
  n.present_ = true;
  n.add(field);
  return n;
}

void Normalizer::add(const tokenizer_json::Field& field) {
  field.expect_object();
  const tokenizer_json::Field type_field = field.at("type", "a normalizer type");
  const std::string type = type_field.as_string();
  if (type == "Sequence") {
    const tokenizer_json::Field list = field.at("normalizers", "a list of normalizers");
    list.expect_array();
    for (size_t i = 0; i < list.json().size(); ++i) add(list.element(i));
  } else if (type == "NFC") {
    steps_.push_back(Unicode{UnicodeForm::kNfc});
  } else if (type == "NFD") {
    steps_.push_back(Unicode{UnicodeForm::kNfd});
  } else if (type == "NFKC") {
    steps_.push_back(Unicode{UnicodeForm::kNfkc});
  } else if (type == "NFKD") {
    steps_.push_back(Unicode{UnicodeForm::kNfkd});
  } else if (type == "Lowercase") {
    steps_.push_back(Lowercase{});
  } else if (type == "Strip") {
    steps_.push_back(Strip{field.bool_or("strip_left", true), field.bool_or("strip_right", true)});
  } else if (type == "Prepend") {
    steps_.push_back(Prepend{field.at("prepend", "a string").as_string()});
  } else if (type == "Replace") {
    steps_.push_back(Replace{pattern_from_json(field.at("pattern", "a pattern object")),
                             field.at("content", "a string").as_string()});
  } else {
    type_field.fail(
        fmt::format("unsupported normalizer type '{}' (nextn supports Sequence, NFC, "
                    "NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace)",
                    type));
  }
}

std::string Normalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const Step& step : steps_) {
    if (const auto* u = std::get_if<Unicode>(&step)) {
      switch (u->form) {
        case UnicodeForm::kNfc:
          s = unicode_normalize(s, UTF8PROC_COMPOSE);
          break;
        case UnicodeForm::kNfd:
          s = unicode_normalize(s, UTF8PROC_DECOMPOSE);
          break;
        case UnicodeForm::kNfkc:
          s = unicode_normalize(s,
                                static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
          break;
        case UnicodeForm::kNfkd:
          s = unicode_normalize(
              s, static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
          break;
      }
    } else if (std::holds_alternative<Lowercase>(step)) {
      s = lowercase(s);
    } else if (const auto* st = std::get_if<Strip>(&step)) {
      s = strip(s, st->left, st->right);
    } else if (const auto* pre = std::get_if<Prepend>(&step)) {
      if (!s.empty()) s = pre->text + s;  // HF prepends to non-empty text only
    } else if (const auto* rep = std::get_if<Replace>(&step)) {
      s = replace_all(s, rep->pattern, rep->content);
    }
  }
  return s;
}

}  // namespace nextn
