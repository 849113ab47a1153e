// Comma-separated token ids on the command line ("1,2,3").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nextn::cli {

// Throws Error naming `flag` and the bad item.
std::vector<int32_t> parse_token_list(const std::string& text, const std::string& flag);

}  // namespace nextn::cli
