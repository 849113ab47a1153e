// Splits a chat reply into reasoning and content at <think> … </think>, as it streams: a
// reply that begins with <think> (spaces aside), or whose prompt already ended in <think>,
// is reasoning up to </think> and content after it. Text that could still be the start of a
// tag is held back until it is decided, so a tag split over two updates is still found.
#pragma once

#include <string>
#include <string_view>

namespace nextn::server {

struct SplitText {
  std::string reasoning;
  std::string content;
  bool empty() const { return reasoning.empty() && content.empty(); }
};

class ReasoningSplitter {
 public:
  // `open`: the prompt ends inside a <think> block, so the reply starts as reasoning.
  explicit ReasoningSplitter(bool open);

  SplitText push(std::string_view text);
  SplitText finish();  // what is held back, at the end of the reply

 private:
  enum class State { kStart, kReasoning, kContent };
  State state_;
  std::string held_;
};

}  // namespace nextn::server
