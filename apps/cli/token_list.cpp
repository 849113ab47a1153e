#include "token_list.h"

#include <algorithm>
#include <charconv>
#include <climits>

#include "core/error.h"

namespace nextn::cli {

std::vector<int32_t> parse_token_list(const std::string& text, const std::string& flag) {
  std::vector<int32_t> tokens;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t end = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, end - begin);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || value < 0 ||
        value > INT32_MAX) {
      fail("{}: '{}' is not a token id (expected comma-separated non-negative integers)", flag,
           item);
    }
    tokens.push_back(static_cast<int32_t>(value));
    begin = end + 1;
  }
  return tokens;
}

}  // namespace nextn::cli
