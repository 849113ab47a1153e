#include "chat/lexer.h"

#include <array>
#include <utility>

#include "chat/utf8.h"

namespace nextn::chat {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Text after preprocessing, with the original offset of every byte (plus one past the end) so
// that errors still point into the template as written.
struct Source {
  std::string text;
  std::vector<Offset> origin;
};

// Copies the bytes of `in` for which keep(i) holds.
template <typename Keep>
Source filter_bytes(const Source& in, Keep keep) {
  Source out;
  out.text.reserve(in.text.size());
  out.origin.reserve(in.origin.size());
  for (size_t i = 0; i < in.text.size(); ++i) {
    if (keep(i)) {
      out.text += in.text[i];
      out.origin.push_back(in.origin[i]);
    }
  }
  out.origin.push_back(in.origin.back());
  return out;
}

bool at_line_start(std::string_view s, size_t i) {
  if (i == 0) return true;
  if (s[i - 1] == '\n' || s[i - 1] == '\r') return true;
  // U+2028 / U+2029 also end a line for a JS /m regex.
  return i >= 3 && s.substr(i - 3, 2) == "\xE2\x80" && (s[i - 1] == '\xA8' || s[i - 1] == '\xA9');
}

// lstrip_blocks as the reference applies it: /^[ \t]*({[#%-])/gm -> "$1".
Source lstrip_blocks(const Source& in) {
  const std::string_view s = in.text;
  std::vector<bool> drop(s.size(), false);
  for (size_t i = 0; i < s.size(); ++i) {
    if (!at_line_start(s, i)) continue;
    size_t j = i;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (j > i && j + 1 < s.size() && s[j] == '{' &&
        (s[j + 1] == '#' || s[j + 1] == '%' || s[j + 1] == '-')) {
      for (size_t k = i; k < j; ++k) drop[k] = true;
    }
  }
  return filter_bytes(in, [&](size_t i) { return !drop[i]; });
}

// trim_blocks as the reference applies it: /([#%-]})\n/g -> "$1".
Source trim_blocks(const Source& in) {
  const std::string_view s = in.text;
  return filter_bytes(in, [&](size_t i) {
    return !(s[i] == '\n' && i >= 2 && s[i - 1] == '}' &&
             (s[i - 2] == '#' || s[i - 2] == '%' || s[i - 2] == '-'));
  });
}

// Length of a `{%-? (end)?generation -?%}` tag at s[i], 0 if there is none; sets the two
// whitespace-control flags.
size_t generation_tag(std::string_view s, size_t i, bool& strip_before, bool& strip_after) {
  if (s.substr(i, 2) != "{%") return 0;
  size_t j = i + 2;
  strip_before = j < s.size() && s[j] == '-';
  if (strip_before) ++j;
  j += space_run(s, j);
  if (s.substr(j, 3) == "end") j += 3;
  if (s.substr(j, 10) != "generation") return 0;
  j += 10;
  j += space_run(s, j);
  strip_after = j < s.size() && s[j] == '-';
  if (strip_after) ++j;
  if (s.substr(j, 2) != "%}") return 0;
  return j + 2 - i;
}

// The reference drops the assistant-mask markers {% generation %} / {% endgeneration %}; a `-`
// on either side also drops the whitespace on that side (like whitespace control on any tag).
Source remove_generation_tags(const Source& in) {
  const std::string_view s = in.text;
  if (s.find("generation") == std::string_view::npos) return in;
  std::vector<bool> drop(s.size(), false);
  size_t ws_start = 0;  // start of the whitespace run that ends at i
  for (size_t i = 0; i < s.size();) {
    bool strip_before = false;
    bool strip_after = false;
    if (const size_t tag = generation_tag(s, i, strip_before, strip_after); tag > 0) {
      if (strip_before) {
        for (size_t k = ws_start; k < i; ++k) drop[k] = true;
      }
      for (size_t k = i; k < i + tag; ++k) drop[k] = true;
      const size_t after = space_run(s, i + tag);
      if (strip_after) {
        for (size_t k = i + tag; k < i + tag + after; ++k) drop[k] = true;
      }
      i += tag + after;
      ws_start = i;
      continue;
    }
    size_t next = i;
    if (!is_js_space(decode_utf8(s, next))) ws_start = next;
    i = next;
  }
  return filter_bytes(in, [&](size_t i) { return !drop[i]; });
}

Source preprocess(std::string_view source) {
  Source src;
  src.text.assign(source);
  src.origin.resize(source.size() + 1);
  for (size_t i = 0; i <= source.size(); ++i) src.origin[i] = static_cast<Offset>(i);
  // Like Jinja's keep_trailing_newline=False: one final newline is not part of the output.
  if (!src.text.empty() && src.text.back() == '\n') {
    src.text.pop_back();
    src.origin.erase(src.origin.end() - 2);
  }
  return remove_generation_tags(trim_blocks(lstrip_blocks(src)));
}

// In match order: longer symbols first where one is a prefix of another.
constexpr std::array<std::pair<std::string_view, TokenType>, 29> kSymbols = {{
    {"{%", TokenType::kOpenStatement},  {"%}", TokenType::kCloseStatement},
    {"{{", TokenType::kOpenExpression}, {"}}", TokenType::kCloseExpression},
    {"(", TokenType::kOpenParen},       {")", TokenType::kCloseParen},
    {"{", TokenType::kOpenCurly},       {"}", TokenType::kCloseCurly},
    {"[", TokenType::kOpenSquare},      {"]", TokenType::kCloseSquare},
    {",", TokenType::kComma},           {".", TokenType::kDot},
    {":", TokenType::kColon},           {"|", TokenType::kPipe},
    {"<=", TokenType::kComparison},     {">=", TokenType::kComparison},
    {"==", TokenType::kComparison},     {"!=", TokenType::kComparison},
    {"<", TokenType::kComparison},      {">", TokenType::kComparison},
    {"+", TokenType::kAdditive},        {"-", TokenType::kAdditive},
    {"~", TokenType::kAdditive},        {"**", TokenType::kPower},
    {"*", TokenType::kMultiplicative},  {"//", TokenType::kMultiplicative},
    {"/", TokenType::kMultiplicative},
    {"%", TokenType::kMultiplicative},
    {"=", TokenType::kEquals},
}};

class Lexer {
 public:
  explicit Lexer(Source src) : src_(std::move(src)), s_(src_.text) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) {
      const bool in_text = tokens_.empty() || last() == TokenType::kCloseStatement ||
                           last() == TokenType::kCloseExpression ||
                           last() == TokenType::kComment;
      if (in_text && lex_text()) continue;
      if (starts("{#")) {
        lex_comment();
        continue;
      }
      if (starts("{%-") || starts("{{-")) {
        strip_trailing_whitespace();
        open_tag(s_[pos_ + 1] == '%' ? TokenType::kOpenStatement : TokenType::kOpenExpression, 3);
        continue;
      }
      pos_ += space_run(s_, pos_);
      if (pos_ >= s_.size()) fail_at(origin(pos_), "unexpected end of template inside a tag");
      if (starts("-%}") || starts("-}}")) {
        push(s_[pos_ + 1] == '%' ? TokenType::kCloseStatement : TokenType::kCloseExpression,
             std::string(s_.substr(pos_ + 1, 2)), pos_);
        pos_ += 3;
        pos_ += space_run(s_, pos_);
        continue;
      }
      lex_in_tag();
    }
    return std::move(tokens_);
  }

 private:
  TokenType last() const { return tokens_.back().type; }
  bool starts(std::string_view p) const { return s_.substr(pos_, p.size()) == p; }
  Offset origin(size_t i) const { return src_.origin[std::min(i, s_.size())]; }
  void push(TokenType type, std::string value, size_t at) {
    tokens_.push_back(Token{type, std::move(value), origin(at)});
  }
  void open_tag(TokenType type, size_t length) {
    push(type, type == TokenType::kOpenStatement ? "{%" : "{{", pos_);
    curly_depth_ = 0;
    pos_ += length;
  }

  bool lex_text() {
    const size_t start = pos_;
    while (pos_ < s_.size() && !(s_[pos_] == '{' && pos_ + 1 < s_.size() &&
                                 (s_[pos_ + 1] == '%' || s_[pos_ + 1] == '{' ||
                                  s_[pos_ + 1] == '#'))) {
      ++pos_;
    }
    if (pos_ == start) return false;
    push(TokenType::kText, std::string(s_.substr(start, pos_ - start)), start);
    return true;
  }

  // `{%-`, `{{-` and `{#-` remove the whitespace at the end of the text before them.
  void strip_trailing_whitespace() {
    if (tokens_.empty() || last() != TokenType::kText) return;
    std::string& text = tokens_.back().value;
    text.resize(trim_end(text).size());
    if (text.empty()) tokens_.pop_back();
  }

  void lex_comment() {
    const size_t start = pos_;
    pos_ += 2;
    const bool strip_before = pos_ < s_.size() && s_[pos_] == '-';
    const size_t end = s_.find("#}", pos_);
    if (end == std::string_view::npos) fail_at(origin(start), "unterminated comment '{{#'");
    const bool strip_after = end > pos_ && s_[end - 1] == '-';
    if (strip_before) strip_trailing_whitespace();
    push(TokenType::kComment, "", start);
    pos_ = end + 2;
    if (strip_after) pos_ += space_run(s_, pos_);
  }

  void lex_in_tag() {
    const char c = s_[pos_];
    const size_t start = pos_;
    if ((c == '-' || c == '+') && !sign_is_binary()) {
      // A sign where no operand precedes it: part of a number literal, else a unary operator.
      ++pos_;
      std::string number = digits();
      if (!number.empty() && pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
        ++pos_;
        number += '.' + digits();
      }
      if (number.empty()) {
        push(TokenType::kUnary, std::string(1, c), start);
      } else {
        push(TokenType::kNumber, std::string(1, c) + number, start);
      }
      return;
    }
    for (const auto& [symbol, type] : kSymbols) {
      if (symbol == "}}" && curly_depth_ > 0) continue;  // closes a dict literal instead
      if (!starts(symbol)) continue;
      if (type == TokenType::kOpenExpression || type == TokenType::kOpenStatement) {
        curly_depth_ = 0;
      } else if (type == TokenType::kOpenCurly) {
        ++curly_depth_;
      } else if (type == TokenType::kCloseCurly) {
        --curly_depth_;
      }
      push(type, std::string(symbol), start);
      pos_ += symbol.size();
      return;
    }
    if (c == '\'' || c == '"') return lex_string(c);
    if (is_digit(c)) {
      std::string number = digits();
      const bool after_dot = !tokens_.empty() && last() == TokenType::kDot;  // x.0.1 is two keys
      if (!after_dot && pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
        ++pos_;
        number += '.' + digits();
      }
      push(TokenType::kNumber, std::move(number), start);
      return;
    }
    if (is_word(c)) {
      while (pos_ < s_.size() && is_word(s_[pos_])) ++pos_;
      push(TokenType::kIdentifier, std::string(s_.substr(start, pos_ - start)), start);
      return;
    }
    size_t next = pos_;
    std::string shown;
    append_utf8(shown, decode_utf8(s_, next));
    fail_at(origin(start), "unexpected character '{}'", shown);
  }

  // A + or - is binary right after something that ends an operand (reference rule).
  bool sign_is_binary() const {
    if (tokens_.empty()) return false;
    switch (last()) {
      case TokenType::kIdentifier:
      case TokenType::kNumber:
      case TokenType::kString:
      case TokenType::kCloseParen:
      case TokenType::kCloseSquare:
        return true;
      default:
        return false;
    }
  }

  std::string digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  static int hex_value(char h) {
    if (is_digit(h)) return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  }

  void lex_string(char quote) {
    const size_t start = pos_++;
    std::string value;
    while (true) {
      if (pos_ >= s_.size()) fail_at(origin(start), "unterminated string literal");
      const char c = s_[pos_];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++pos_;
        continue;
      }
      const size_t escape_at = pos_;
      if (++pos_ >= s_.size()) fail_at(origin(start), "unterminated string literal");
      const char e = s_[pos_++];
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case '\\': value += '\\'; break;
        case 'x':
        case 'u': {
          const size_t length = e == 'x' ? 2 : 4;
          char32_t cp = 0;
          for (size_t k = 0; k < length; ++k) {
            const int h = pos_ + k < s_.size() ? hex_value(s_[pos_ + k]) : -1;
            if (h < 0) fail_at(origin(escape_at), "invalid \\{} escape in string literal", e);
            cp = cp * 16 + static_cast<char32_t>(h);
          }
          pos_ += length;
          // A lone UTF-16 surrogate has no UTF-8 form.
          append_utf8(value, cp >= 0xD800 && cp <= 0xDFFF ? kReplacementChar : cp);
          break;
        }
        default: {
          std::string shown;
          size_t at = pos_ - 1;
          append_utf8(shown, decode_utf8(s_, at));
          pos_ = at;
          fail_at(origin(escape_at), "unknown escape '\\{}' in string literal", shown);
        }
      }
    }
    ++pos_;
    push(TokenType::kString, std::move(value), start);
  }

  Source src_;
  std::string_view s_;
  size_t pos_ = 0;
  int curly_depth_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(preprocess(source)).run(); }

}  // namespace nextn::chat
