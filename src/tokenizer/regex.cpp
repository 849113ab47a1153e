#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>

#include "core/error.h"

namespace nextn {
namespace {

constexpr std::string_view kWhiteSpace = "\\p{White_Space}";
constexpr std::string_view kNotWhiteSpace = "\\P{White_Space}";
constexpr std::string_view kWordChars = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}";
constexpr std::string_view kHexChars = "0-9A-Fa-f";
// Bounds of the per-thread JIT stack: deep enough for long runs that a pattern backtracks over.
constexpr size_t kJitStackStart = 32 * 1024;
constexpr size_t kJitStackMax = 8 * 1024 * 1024;

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char swap_case(char c) {
  return static_cast<char>(c ^ 0x20);
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0)
    return fmt::format("code {}", code);
  return reinterpret_cast<const char*>(buffer);
}

// Rewrites one character class starting at pattern[i] == '['; returns the index after it.
// With `fold`, the other case of each ASCII letter (and letter range) is added to the class.
// Copies the escape at p[i] ('\\' and one character) as it is, with the braced argument of
// \p{..}, \P{..} and \x{..} when there is one; returns the index after it.
size_t copy_escape(std::string_view p, size_t i, std::string& out) {
  const char e = p[i + 1];
  out.append(p.substr(i, 2));
  i += 2;
  if (i < p.size() && p[i] == '{' && (e == 'p' || e == 'P' || e == 'x')) {
    const size_t close = p.find('}', i);
    const size_t end = close == std::string_view::npos ? p.size() : close + 1;
    out.append(p.substr(i, end - i));
    i = end;
  }
  return i;
}

size_t rewrite_class(std::string_view p, size_t i, bool fold, std::string& out) {
  out.push_back('[');
  ++i;
  if (i < p.size() && p[i] == '^') out.push_back(p[i++]);
  std::string extra;  // other-case letters, added before the closing bracket
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    if (p[i] == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (e == 's')
        out.append(kWhiteSpace);
      else if (e == 'S')
        out.append(kNotWhiteSpace);
      else if (e == 'w')
        out.append(kWordChars);
      else if (e == 'h')
        out.append(kHexChars);
      else {
        i = copy_escape(p, i, out);
        continue;
      }
      i += 2;
      continue;
    }
    if (p[i] == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX [:alpha:]: copy as is
      const size_t close = p.find(":]", i + 2);
      const size_t end = close == std::string_view::npos ? i + 1 : close + 2;
      out.append(p.substr(i, end - i));
      i = end;
      continue;
    }
    const char c = p[i];
    if (fold && is_ascii_letter(c)) {
      if (i + 2 < p.size() && p[i + 1] == '-' && is_ascii_letter(p[i + 2]) &&
          ((c >= 'a') == (p[i + 2] >= 'a'))) {
        out.append(p.substr(i, 3));
        extra.push_back(swap_case(c));
        extra.push_back('-');
        extra.push_back(swap_case(p[i + 2]));
        i += 3;
        continue;
      }
      extra.push_back(swap_case(c));
    }
    out.push_back(c);
    ++i;
  }
  out.append(extra);
  if (i < p.size()) out.push_back(p[i++]);  // the closing ']'; an unclosed class fails to compile
  return i;
}

}  // namespace

std::string to_pcre2_syntax(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  // Case-insensitivity per open group: (?i:...) sets it inside, (?i) up to the group's end.
  std::vector<bool> fold_stack{false};
  size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    const bool fold = fold_stack.back();
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (e == 's')
        out.append(kWhiteSpace);
      else if (e == 'S')
        out.append(kNotWhiteSpace);
      else if (e == 'w')
        out.append("[").append(kWordChars).append("]");
      else if (e == 'W')
        out.append("[^").append(kWordChars).append("]");
      else if (e == 'h')
        out.append("[").append(kHexChars).append("]");
      else if (e == 'H')
        out.append("[^").append(kHexChars).append("]");
      else {
        i = copy_escape(p, i, out);  // no case folding inside \p{Lu} or \x{263A}
        continue;
      }
      i += 2;
      continue;
    }
    if (c == '[') {
      i = rewrite_class(p, i, fold, out);
      continue;
    }
    if (c == '(') {
      // Inline flags: (?i:  (?-i:  (?i)  (?-i). Other groups keep the enclosing setting.
      const size_t flags_start = i + 2;
      if (i + 1 < p.size() && p[i + 1] == '?') {
        size_t j = flags_start;
        while (j < p.size() && (p[j] == 'i' || p[j] == '-')) ++j;
        const std::string_view flags = p.substr(flags_start, j - flags_start);
        if (!flags.empty() && j < p.size() && (p[j] == ':' || p[j] == ')') &&
            flags.find('i') != std::string_view::npos) {
          const bool on = flags.find('-') == std::string_view::npos;
          if (p[j] == ':') {
            fold_stack.push_back(on);
            out.append("(?:");
          } else {
            fold_stack.back() = on;
          }
          i = j + 1;
          continue;
        }
      }
      fold_stack.push_back(fold);
      // A group name ((?<name>, (?P<name>) is copied whole: no case folding inside.
      const size_t name_start = p.substr(i, 4) == "(?P<" ? i + 4 : i + 3;
      if ((p.substr(i, 3) == "(?<" || p.substr(i, 4) == "(?P<") && name_start < p.size() &&
          p[name_start] != '=' && p[name_start] != '!') {
        const size_t close = p.find('>', name_start);
        const size_t end = close == std::string_view::npos ? p.size() : close + 1;
        out.append(p.substr(i, end - i));
        i = end;
        continue;
      }
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == ')') {
      if (fold_stack.size() > 1) fold_stack.pop_back();
      out.push_back(c);
      ++i;
      continue;
    }
    if (fold && is_ascii_letter(c)) {
      out.push_back('[');
      out.push_back(c);
      out.push_back(swap_case(c));
      out.push_back(']');
      ++i;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

struct Regex::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// Per-thread match state: one match data block (only the whole match is read, so one pair is
// enough for any pattern) and a JIT stack larger than PCRE2's 32 KiB default.
struct ThreadScratch {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr);
  ThreadScratch() {
    if (context != nullptr && stack != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~ThreadScratch() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
  ThreadScratch(const ThreadScratch&) = delete;
  ThreadScratch& operator=(const ThreadScratch&) = delete;
};

ThreadScratch& thread_scratch() {
  thread_local ThreadScratch scratch;
  if (scratch.data == nullptr || scratch.context == nullptr) nextn::fail("regex: out of memory");
  return scratch;
}

}  // namespace

Regex Regex::compile(std::string_view pattern, std::string_view what) {
  Regex r;
  r.what_ = std::string(what);
  r.pcre2_pattern_ = to_pcre2_syntax(pattern);
  pcre2_compile_context* ctx = pcre2_compile_context_create(nullptr);
  if (ctx == nullptr) nextn::fail("{}: out of memory compiling a regex", what);
  pcre2_set_newline(ctx, PCRE2_NEWLINE_LF);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(r.pcre2_pattern_.data()), r.pcre2_pattern_.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error_code, &error_offset, ctx);
  pcre2_compile_context_free(ctx);
  if (code == nullptr) {
    nextn::fail("{}: invalid regex {}: {} (at offset {} of the rewritten pattern {})", what,
                pattern, pcre2_message(error_code), error_offset, r.pcre2_pattern_);
  }
  auto holder = std::make_shared<Code>();
  holder->code = code;
  // JIT is an optimisation only: a build without it, or a pattern it rejects, runs interpreted.
  holder->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  r.code_ = std::move(holder);
  return r;
}

Regex Regex::literal(std::string_view text, std::string_view what) {
  std::string escaped;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u)) escaped.push_back('\\');
    escaped.push_back(c);
  }
  return compile(escaped, what);
}

void Regex::find_all(std::string_view text, std::vector<Span>& out) const {
  ThreadScratch& scratch = thread_scratch();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0;
  while (offset <= text.size()) {
    // The input was validated (or lossily repaired) before pre-tokenization.
    int rc = pcre2_match(code_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK,
                         scratch.data, scratch.context);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                       scratch.data, scratch.context);
    }
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      nextn::fail("{}: regex match failed on a {}-byte text: {}", what_, text.size(),
                  pcre2_message(rc));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(scratch.data);
    const size_t start = ovector[0];
    const size_t end = ovector[1];
    if (end > start) {
      out.push_back({start, end});
      offset = end;
      continue;
    }
    // Empty match: step over one whole character.
    if (start >= text.size()) return;
    offset = start + 1;
    while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80) {
      ++offset;
    }
  }
}

}  // namespace nextn
