// Tokenizer of the chat-template Jinja subset.
//
// Matches the reference renderer the goldens come from (@huggingface/jinja 0.5.11,
// src/lexer.ts), which is also what Python transformers configures: the template is first
// preprocessed the way the reference does it (one trailing newline dropped, lstrip_blocks,
// trim_blocks, `{% generation %}` markers removed), then split into text and tag tokens with
// `-` whitespace control applied to the neighbouring text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/template_error.h"

namespace nextn::chat {

enum class TokenType {
  kText,
  kComment,
  kOpenStatement,    // {%
  kCloseStatement,   // %}
  kOpenExpression,   // {{
  kCloseExpression,  // }}
  kNumber,           // 12, 1.5, -3 (a sign that cannot be binary is part of the literal)
  kString,           // the unescaped value
  kIdentifier,
  kEquals,
  kOpenParen,
  kCloseParen,
  kOpenSquare,
  kCloseSquare,
  kOpenCurly,
  kCloseCurly,
  kComma,
  kDot,
  kColon,
  kPipe,
  kAdditive,        // + - ~
  kMultiplicative,  // * / // %
  kPower,           // **
  kComparison,      // == != < > <= >=
  kUnary,           // a + or - in prefix position
};

struct Token {
  TokenType type;
  std::string value;
  Offset offset;  // into the original source
};

// Throws TemplateError on text that cannot be tokenized (unterminated string or comment, bad
// escape, stray character).
std::vector<Token> tokenize(std::string_view source);

}  // namespace nextn::chat
