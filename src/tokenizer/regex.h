// The regexes of tokenizer.json, compiled once with PCRE2 (UTF + UCP, JIT when available).
//
// tokenizer.json patterns are written for the Oniguruma engine of HF's Rust tokenizers. PCRE2
// reads almost all of that syntax the same way; `to_pcre2_syntax` rewrites the few constructs
// that differ, following the JS port (@huggingface/tokenizers) whose output the goldens hold:
//   \s \S      Oniguruma and the reference mean the White_Space property; PCRE2's UCP \s also
//              takes U+180E, so \s becomes \p{White_Space}.
//   \w \W      letters, marks, decimal digits and connector punctuation (PCRE2 10.42 has L|N|_).
//   \h \H      a hex digit in Oniguruma, horizontal space in PCRE2.
//   (?i:...)   ASCII case folding only: 's must not match 'ſ (U+017F), as it would under PCRE2's
//              Unicode caseless matching; letters become [sS] classes.
//   ^ $        line anchors at \n, as in Oniguruma's Ruby syntax (PCRE2_MULTILINE, LF newline).
// Unicode properties (\p{L}, \p{N}, ...) come from PCRE2's tables (Unicode 14 for 10.42).
//
// A Regex is immutable and may be used from several threads at once: each thread matches with
// its own match data and JIT stack.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nextn {

class Regex {
 public:
  struct Span {
    size_t start;
    size_t end;
  };

  // Compiles an Oniguruma-style pattern; a syntax error is an Error naming `what` and the offset.
  static Regex compile(std::string_view pattern, std::string_view what);
  // A pattern that matches `text` literally (HF's Split {"String": ...}).
  static Regex literal(std::string_view text, std::string_view what);

  // Appends the non-empty, non-overlapping matches in `text` (valid UTF-8), left to right. An
  // empty match moves the search on by one character, as the Rust and JS engines do.
  void find_all(std::string_view text, std::vector<Span>& out) const;

  const std::string& pattern() const { return pcre2_pattern_; }

 private:
  struct Code;
  std::shared_ptr<const Code> code_;
  std::string pcre2_pattern_;
  std::string what_;
};

// Exposed for tests: the PCRE2 spelling of an Oniguruma pattern (see the header comment).
std::string to_pcre2_syntax(std::string_view pattern);

}  // namespace nextn
