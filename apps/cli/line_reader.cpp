#include "line_reader.h"

#include <unistd.h>

#include <cerrno>

namespace nextn::cli {

ReadStatus LineReader::read_line(std::string& line, const std::atomic<bool>& interrupt) {
  line.clear();
  bool continued = false;
  for (;;) {
    const size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string part = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (!part.empty() && part.back() == '\r') part.pop_back();
      if (!part.empty() && part.back() == '\\') {  // continues on the next line
        part.pop_back();
        line += part + "\n";
        continued = true;
        continue;
      }
      line += part;
      return ReadStatus::kLine;
    }
    if (at_end_) {
      if (buffer_.empty() && !continued) return ReadStatus::kEndOfInput;
      line += buffer_;
      buffer_.clear();
      return ReadStatus::kLine;
    }
    char chunk[4096];
    const ssize_t n = interrupt.load() ? -1 : ::read(fd_, chunk, sizeof chunk);
    if (n < 0) {
      if (interrupt.load() || errno == EINTR) {
        buffer_.clear();  // Ctrl-C abandons what was typed
        return ReadStatus::kInterrupted;
      }
      at_end_ = true;  // an unreadable input ends the chat like Ctrl-D
    } else if (n == 0) {
      at_end_ = true;
    } else {
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
}

}  // namespace nextn::cli
