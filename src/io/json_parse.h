// Parsing of outside JSON (safetensors headers, index files) shared by the io layer.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace nextn {

// Parses `text`; any syntax error, invalid UTF-8 or nesting deeper than the checkpoint formats
// use becomes an Error naming `file_label` and `what` ("the header", "the index").
nlohmann::json parse_json(std::string_view text, std::string_view file_label,
                          std::string_view what);

}  // namespace nextn
