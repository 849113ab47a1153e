// Stop strings over streamed text: generation ends where one of them first appears, and the
// text handed out never includes it (OpenAI's and llama.cpp's `stop`).
//
// Text arrives in pieces (one per accepted run of tokens), so a stop string may straddle two
// pieces. The filter therefore holds back the longest tail of what it has seen that could still
// become the start of a stop string, and releases it once it cannot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nextn {

class StopStringFilter {
 public:
  // Empty strings are ignored (they would stop before the first character).
  explicit StopStringFilter(std::vector<std::string> stop_strings);

  // Takes newly generated text; returns the text that is now safe to show. After a stop string
  // is found, returns the text before it and ignores everything after.
  std::string push(std::string_view text);
  // The held-back tail at the end of generation (empty once stopped).
  std::string flush();

  bool stopped() const { return stopped_; }
  bool empty() const { return stops_.empty(); }

 private:
  std::vector<std::string> stops_;
  std::string pending_;  // seen but not yet released
  bool stopped_ = false;
};

}  // namespace nextn
