// Internal error type of the chat-template engine.
//
// Code deep inside the lexer, parser or evaluator knows the byte offset of the construct that
// failed but not the template's name or its line structure. It throws TemplateError with that
// offset; ChatTemplate::parse / render catch it once and turn it into a nextn::Error that names
// the template and the line:column (see chat_template.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace nextn::chat {

// Offset into the original template source (bytes).
using Offset = uint32_t;

// For errors that belong to no place in the template (a bad context value).
inline constexpr Offset kNoOffset = UINT32_MAX;

struct TemplateError {
  Offset offset;
  std::string message;
};

template <typename... Args>
[[noreturn]] void fail_at(Offset offset, fmt::format_string<Args...> format, Args&&... args) {
  throw TemplateError{offset, fmt::format(format, std::forward<Args>(args)...)};
}

}  // namespace nextn::chat
