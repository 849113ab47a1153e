// Filters, tests, methods and global functions of the chat-template engine.
//
// The set is what the models' chat templates use plus the common Jinja ones that cost little;
// the parser checks filter and test names against it so that a template using anything else
// fails when it is loaded, naming the feature and its line:column.
#pragma once

#include <string_view>

#include "chat/value.h"

namespace nextn::chat {

bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);

// `operand | name(args)`.
Value apply_filter(Evaluator& evaluator, std::string_view name, const Value& operand,
                   CallArgs& args);

// `operand is name`.
bool apply_test(std::string_view name, const Value& operand, Offset offset);

// `object.name` for strings, lists and dicts: a bound method (`'a,b'.split`), a property
// (`.length`) or undefined when there is none.
Value builtin_member(const Value& object, std::string_view name);

// Functions every template can call: namespace, range, raise_exception, strftime_now. Undefined
// for other names.
Value global_function(std::string_view name);

}  // namespace nextn::chat
