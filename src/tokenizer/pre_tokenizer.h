// tokenizer.json "pre_tokenizer": how a text section is cut into the pieces BPE runs on.
//
// Supported: null, Sequence (nested), Split (Regex or String pattern; behaviours Isolated,
// Removed, MergedWithPrevious, MergedWithNext, Contiguous; invert), ByteLevel (add_prefix_space,
// use_regex with the GPT-2 pattern), Digits (individual_digits), Whitespace, WhitespaceSplit.
// The behaviours follow HF's Rust SplitDelimiterBehavior. Anything else is an Error naming the
// type and the file.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tokenizer/json_field.h"
#include "tokenizer/regex.h"

namespace nextn {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// One cut of a text: [start, end) and whether the range is a "delimiter" (a pattern match,
// after `invert`).
struct SplitPart {
  size_t start;
  size_t end;
  bool is_match;
};

// Appends the pieces that `behavior` makes of `text` cut into `parts` (which cover `text` in
// order); empty pieces are dropped.
void apply_split_behavior(std::string_view text, const std::vector<SplitPart>& parts,
                          SplitBehavior behavior, std::vector<std::string>& out);

class PreTokenizer {
 public:
  // `field` is the "pre_tokenizer" value; null means "the whole section is one piece".
  static PreTokenizer from_json(const tokenizer_json::Field& field);

  // Cuts valid UTF-8 `text` into pieces, appended to `out`.
  void apply(std::string_view text, std::vector<std::string>& out) const;

 private:
  struct Split {
    Regex pattern;
    SplitBehavior behavior;
    bool invert;
  };
  struct ByteLevel {
    bool add_prefix_space;
    bool use_regex;
  };
  struct Digits {
    bool individual;
  };
  using Step = std::variant<Split, ByteLevel, Digits>;

  void add(const tokenizer_json::Field& field);
  void apply_step(const Step& step, std::string_view piece, std::vector<std::string>& out) const;

  std::vector<Step> steps_;
  Regex gpt2_pattern_;  // compiled only when a ByteLevel step uses it
};

}  // namespace nextn
