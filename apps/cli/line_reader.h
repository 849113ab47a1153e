// Lines from standard input for `nextn chat`, with Ctrl-C and Ctrl-D told apart from text.
//
// std::getline cannot say that a read was interrupted by a signal, and the chat needs exactly
// that: Ctrl-C at the prompt ends the chat, Ctrl-D (end of input) ends it too, and a line that
// ends in a backslash continues on the next one (multi-line messages).
#pragma once

#include <atomic>
#include <string>

namespace nextn::cli {

enum class ReadStatus { kLine, kEndOfInput, kInterrupted };

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // A line without its newline. kEndOfInput only when nothing was read before the end; a last
  // line without a newline is returned as a line first. kInterrupted when a signal handler
  // set `interrupt` before or during the read.
  ReadStatus read_line(std::string& line, const std::atomic<bool>& interrupt);

 private:
  int fd_;
  std::string buffer_;  // read but not yet returned
  bool at_end_ = false;
};

}  // namespace nextn::cli
