#include "server/sse.h"

#include <vector>

namespace nextn::server {

std::string sse_event(const nlohmann::ordered_json& data) {
  std::string out = "data: ";
  out += data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += "\n\n";
  return out;
}

std::vector<std::string> sse_data_lines(const std::string& stream) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < stream.size()) {
    size_t end = stream.find('\n', start);
    if (end == std::string::npos) end = stream.size();
    const std::string line = stream.substr(start, end - start);
    if (line.rfind("data: ", 0) == 0) lines.push_back(line.substr(6));
    start = end + 1;
  }
  return lines;
}

}  // namespace nextn::server
