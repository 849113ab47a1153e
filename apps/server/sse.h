// Server-sent events as the OpenAI streaming API frames them: each event one `data: <json>`
// line and a blank line, the stream ending in `data: [DONE]`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nextn::server {

// "data: {...}\n\n" (the JSON on one line; invalid UTF-8 replaced, never thrown on).
std::string sse_event(const nlohmann::ordered_json& data);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";
// A comment line, which clients ignore: sent while a request waits, so that a client that
// went away is noticed (the write fails) even before the first token.
inline constexpr const char* kSseKeepAlive = ": keep-alive\n\n";

// Splits a stream body into the payloads of its `data:` lines (tests, and a check that the
// framing round-trips). Comment lines are skipped.
std::vector<std::string> sse_data_lines(const std::string& stream);

}  // namespace nextn::server
