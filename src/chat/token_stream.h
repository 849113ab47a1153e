// The token cursor shared by the expression and statement parsers (parser.cpp).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/lexer.h"

namespace nextn::chat {

class TokenStream {
 protected:
  using T = TokenType;

  TokenStream(std::vector<Token> tokens, Offset end) : tokens_(std::move(tokens)), end_(end) {}

  const Token* peek(size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() ? &tokens_[pos_ + ahead] : nullptr;
  }
  bool at(T type, size_t ahead = 0) const {
    const Token* t = peek(ahead);
    return t != nullptr && t->type == type;
  }
  bool at_word(std::string_view word, size_t ahead = 0) const {
    const Token* t = peek(ahead);
    return t != nullptr && t->type == T::kIdentifier && t->value == word;
  }
  Offset here() const { return pos_ < tokens_.size() ? tokens_[pos_].offset : end_; }

  std::string describe_here() const {
    const Token* t = peek();
    if (t == nullptr) return "end of template";
    switch (t->type) {
      case T::kText: return "text";
      case T::kComment: return "comment";
      case T::kString: return "string literal";
      case T::kNumber: return "number " + t->value;
      case T::kIdentifier: return "'" + t->value + "'";
      default: return "'" + t->value + "'";
    }
  }

  const Token& expect(T type, std::string_view what) {
    if (!at(type)) fail_at(here(), "expected {}, found {}", what, describe_here());
    return tokens_[pos_++];
  }
  void expect_word(std::string_view word) {
    if (!at_word(word)) fail_at(here(), "expected '{}', found {}", word, describe_here());
    ++pos_;
  }
  std::string expect_name(std::string_view what) {
    return expect(T::kIdentifier, what).value;
  }

  // Is the next tag `{% name %}` for one of names?
  bool at_statement(std::initializer_list<std::string_view> names) const {
    if (!at(T::kOpenStatement) || !at(T::kIdentifier, 1)) return false;
    for (const std::string_view n : names) {
      if (tokens_[pos_ + 1].value == n) return true;
    }
    return false;
  }

  std::vector<Token> tokens_;
  Offset end_;
  size_t pos_ = 0;
};

}  // namespace nextn::chat
