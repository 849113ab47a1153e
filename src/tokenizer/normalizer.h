// tokenizer.json "normalizer": the text transformations applied before pre-tokenization.
//
// Supported: null, Sequence (nested, possibly empty), NFC, NFD, NFKC, NFKD (utf8proc), Lowercase,
// Strip, Prepend, Replace (String or Regex pattern). Anything else is an Error naming the type.
// Sequences are flattened into one list of steps at load time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tokenizer/json_field.h"
#include "tokenizer/regex.h"

namespace nextn {

class Normalizer {
 public:
  // `field` is the "normalizer" value (null allowed: present() is then false).
  static Normalizer from_json(const tokenizer_json::Field& field);

  // False for a null normalizer. A Sequence with no steps is present: HF then still matches
  // `normalized` added tokens after normalization, so the difference is kept.
  bool present() const { return present_; }

  // Normalizes valid UTF-8 text; the result is valid UTF-8.
  std::string apply(std::string_view text) const;

 private:
  enum class UnicodeForm { kNfc, kNfd, kNfkc, kNfkd };
  struct Unicode {
    UnicodeForm form;
  };
  struct Lowercase {};
  struct Strip {
    bool left;
    bool right;
  };
  struct Prepend {
    std::string text;
  };
  struct Replace {
    Regex pattern;
    std::string content;
  };
  using Step = std::variant<Unicode, Lowercase, Strip, Prepend, Replace>;

  void add(const tokenizer_json::Field& field);

  bool present_ = false;
  std::vector<Step> steps_;
};

// Shared with the pre-tokenizers and added tokens: a Split / Replace "pattern" object
// ({"Regex": "..."} or {"String": "..."}).
Regex pattern_from_json(const tokenizer_json::Field& field);

// Unicode White_Space (what Rust's char::is_whitespace and JS trim() agree on, bar U+FEFF).
bool is_white_space(char32_t c);

}  // namespace nextn
