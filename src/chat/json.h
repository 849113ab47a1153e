// Turning values into text: what `{{ value }}` prints, and the `tojson` filter.
//
// Printing follows the reference renderer (@huggingface/jinja): none and undefined print as
// nothing, booleans as true / false, lists and dicts as JSON with Python's default separators
// (`{"a": 1, "b": [1, 2]}`). tojson is Python's json.dumps as transformers calls it
// (ensure_ascii=False unless asked, separators ", " and ": ", or "," and ": " with an indent).
#pragma once

#include <string>

#include "chat/value.h"

namespace nextn::chat {

struct JsonOptions {
  int indent = -1;  // < 0: all on one line
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool undefined_as_null = true;  // false when printing a list for {{ }} (it shows "undefined")
};

// Throws TemplateError at `offset` for a function value.
void write_json(std::string& out, const Value& value, const JsonOptions& options, Offset offset,
                int level = 0);

// What {{ value }} appends to the output.
void append_output(std::string& out, const Value& value, Offset offset);
std::string to_output(const Value& value, Offset offset);

}  // namespace nextn::chat
