// Errors that name what was wrong: the file, the tensor, the field or the parameter.
//
// nextn reports bad input by throwing nextn::Error with a message that a user can act on
// without a debugger. Code that parses outside input never aborts and never reads out of
// bounds; it throws.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace nextn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace nextn
