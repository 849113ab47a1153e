// Binding call arguments to named parameters, for filters, methods and global functions.
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include "chat/value.h"

namespace nextn::chat {

// Binds positional arguments in order, then keyword arguments by name, to `params`; a
// parameter not given is undefined. Fails naming `what` on too many or unknown arguments.
std::vector<Value> bind_args(const CallArgs& args, std::string_view what,
                             std::initializer_list<std::string_view> params);

// Argument accessors that fail naming `what` and the parameter when the type is wrong;
// an undefined (not given) or none argument yields the fallback.
bool bool_arg(const Value& v, bool fallback, std::string_view what, std::string_view param,
              Offset offset);
int64_t int_arg(const Value& v, int64_t fallback, std::string_view what, std::string_view param,
                Offset offset);
const std::string& string_arg(const Value& v, std::string_view what, std::string_view param,
                              Offset offset);

// The code points of s, each as its own string (for list / first / last / reverse on strings).
std::vector<Value> characters(const std::string& s);

// strip / lstrip / rstrip: `chars` undefined or none strips whitespace.
std::string strip(const std::string& s, const Value& chars, bool left, bool right, Offset offset);

// ASCII-only case mapping (the templates only case-map their own ASCII text).
std::string to_upper(std::string s);
std::string to_lower(std::string s);
std::string to_title(const std::string& s);
std::string capitalize(const std::string& s);

}  // namespace nextn::chat
