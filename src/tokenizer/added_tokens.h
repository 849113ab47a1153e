// Added tokens (tokenizer.json "added_tokens"): matched in the text before pre-tokenization.
//
// As in HF: tokens with normalized == false are matched in the raw text first; the sections
// between them are normalized, and tokens with normalized == true are matched (by their
// normalized content) in that normalized text. In each pass the leftmost, then longest match
// wins. lstrip / rstrip make a match swallow the white space on its left / right; single_word
// rejects a match that touches a word character (letter, number or '_') on either side.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nextn {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A piece of a text: either plain text to be tokenized, or one added token.
struct TextSegment {
  std::string_view text;
  int32_t token_id;  // -1 for plain text
};

// A byte trie over the contents of one set of added tokens.
class AddedTokenMatcher {
 public:
  // `pattern` is the string to find for `token` (its content, or its normalized content).
  void add(std::string_view pattern, const AddedToken& token);
  bool empty() const { return patterns_ == 0; }

  // Cuts `text` into plain and token segments, appended to `out` (no empty plain segments).
  void split(std::string_view text, std::vector<TextSegment>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
    int32_t token = -1;                                       // index into tokens_
  };
  int32_t child(int32_t node, unsigned char byte) const;
  // Longest token at `pos` that passes its single_word check; returns its end (0 if none).
  size_t longest_match(std::string_view text, size_t pos, int32_t& token) const;

  std::vector<Node> nodes_{Node{}};
  std::vector<AddedToken> tokens_;
  size_t patterns_ = 0;
};

}  // namespace nextn
