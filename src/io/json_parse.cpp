#include "io/json_parse.h"

#include <cstddef>

#include "core/error.h"

namespace nextn {

namespace {

// Valid headers and indexes nest three levels deep. The cap stops hostile input ("[[[[...")
// from building a deep tree whose later handling would cost stack.
constexpr size_t kMaxJsonDepth = 16;

}  // namespace

nlohmann::json parse_json(std::string_view text, std::string_view file_label,
                          std::string_view what) {
  using Json = nlohmann::json;
  const auto depth_guard = [&](int depth, Json::parse_event_t, Json&) {
    if (static_cast<size_t>(depth) > kMaxJsonDepth) {
      fail("{}: {} nests deeper than {} levels", file_label, what, kMaxJsonDepth);
    }
    return true;
  };
  // nlohmann stops at a NUL byte as if the input ended there; valid JSON never holds a raw NUL,
  // so refuse it rather than silently ignore what follows.
  if (text.find('\0') != std::string_view::npos) {
    fail("{}: {} is not valid JSON: it contains a NUL byte", file_label, what);
  }
  try {
    return Json::parse(text.begin(), text.end(), depth_guard);
  } catch (const Json::exception& e) {
    fail("{}: {} is not valid JSON: {}", file_label, what, e.what());
  }
}

}  // namespace nextn
