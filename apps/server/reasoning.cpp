#include "server/reasoning.h"

#include <algorithm>

namespace nextn::server {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// The length of the longest suffix of `text` that is a proper prefix of `tag`.
size_t partial_tag_suffix(std::string_view text, std::string_view tag) {
  for (size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n) {
    if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
  }
  return 0;
}

}  // namespace

ReasoningSplitter::ReasoningSplitter(bool open)
    : state_(open ? State::kReasoning : State::kStart) {}

SplitText ReasoningSplitter::push(std::string_view text) {
  SplitText out;
  held_.append(text);
  if (state_ == State::kStart) {
    const size_t first = held_.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return out;  // only spaces so far: undecided
    const std::string_view rest = std::string_view(held_).substr(first);
    if (rest.size() < kOpen.size() && kOpen.substr(0, rest.size()) == rest) return out;
    if (rest.substr(0, kOpen.size()) == kOpen) {
      held_ = std::string(rest.substr(kOpen.size()));
      state_ = State::kReasoning;
    } else {
      state_ = State::kContent;
    }
  }
  if (state_ == State::kReasoning) {
    const size_t close = held_.find(kClose);
    if (close == std::string::npos) {
      const size_t keep = partial_tag_suffix(held_, kClose);
      out.reasoning = held_.substr(0, held_.size() - keep);
      held_.erase(0, held_.size() - keep);
      return out;
    }
    out.reasoning = held_.substr(0, close);
    held_.erase(0, close + kClose.size());
    state_ = State::kContent;
  }
  out.content = std::move(held_);
  held_.clear();
  return out;
}

SplitText ReasoningSplitter::finish() {
  SplitText out;
  if (state_ == State::kReasoning) {
    out.reasoning = std::move(held_);
  } else {
    out.content = std::move(held_);
  }
  held_.clear();
  return out;
}

}  // namespace nextn::server
