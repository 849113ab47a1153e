// Parser of the chat-template Jinja subset: tokens -> statements and expressions (ast.h).
//
// The grammar and operator precedence follow the reference renderer (@huggingface/jinja
// 0.5.11, src/parser.ts), from loosest to tightest: `x if c else y`, or, and, not,
// comparisons and in / not in, + - ~, * / // %, **, is-tests, | filters, unary + -, calls and
// member access. Syntax errors, unknown filters and tests and unsupported statements fail
// here, at load time, with the line:column of the offending token.
#pragma once

#include <string_view>

#include "chat/ast.h"

namespace nextn::chat {

// Bounds on what parse() accepts, so that a hostile template cannot exhaust the stack.
inline constexpr int kMaxBlockNesting = 100;    // nested if/for/macro/set/filter blocks
inline constexpr uint32_t kMaxExprHeight = 200;  // height of one expression tree

Block parse_template(std::string_view source);

}  // namespace nextn::chat
