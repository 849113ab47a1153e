#include "tokenizer/added_tokens.h"

#include <algorithm>

#include <utf8proc.h>

#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace nextn {
namespace {

// HF's single_word test: a letter, number or '_' counts as part of a word.
bool is_word_char(char32_t c) {
  if (c == '_') return true;
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  const utf8proc_category_t cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

size_t previous_char_start(std::string_view text, size_t pos) {
  size_t p = pos - 1;
  while (p > 0 && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80) --p;
  return p;
}

// End of the white space run starting at `pos` / start of the one ending at `pos`.
size_t skip_space_forward(std::string_view text, size_t pos) {
  while (pos < text.size()) {
    const utf8::Decoded d = utf8::decode_one(text, pos);
    if (!is_white_space(d.code_point)) break;
    pos += d.length;
  }
  return pos;
}

size_t skip_space_backward(std::string_view text, size_t pos, size_t limit) {
  while (pos > limit) {
    const size_t p = previous_char_start(text, pos);
    if (!is_white_space(utf8::decode_one(text, p).code_point)) break;
    pos = p;
  }
  return pos;
}

}  // namespace

int32_t AddedTokenMatcher::child(int32_t node, unsigned char byte) const {
  const auto& children = nodes_[node].children;
  const auto it = std::lower_bound(children.begin(), children.end(), byte,
                                   [](const auto& c, unsigned char b) { return c.first < b; });
  return it != children.end() && it->first == byte ? it->second : -1;
}

void AddedTokenMatcher::add(std::string_view pattern, const AddedToken& token) {
  if (pattern.empty()) return;  // an empty token can never be matched
  int32_t node = 0;
  for (const char ch : pattern) {
    const auto byte = static_cast<unsigned char>(ch);
    int32_t next = child(node, byte);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& children = nodes_[node].children;
      const auto it = std::lower_bound(children.begin(), children.end(), byte,
                                       [](const auto& c, unsigned char b) { return c.first < b; });
      children.insert(it, {byte, next});
    }
    node = next;
  }
  // Two tokens with the same pattern: the first one listed keeps it.
  if (nodes_[node].token < 0) {
    nodes_[node].token = static_cast<int32_t>(tokens_.size());
    tokens_.push_back(token);
    ++patterns_;
  }
}

size_t AddedTokenMatcher::longest_match(std::string_view text, size_t pos, int32_t& token) const {
  size_t best_end = 0;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    node = child(node, static_cast<unsigned char>(text[i]));
    if (node < 0) break;
    if (nodes_[node].token >= 0) {
      best_end = i + 1;
      token = nodes_[node].token;
    }
  }
  if (best_end == 0) return 0;
  const AddedToken& t = tokens_[token];
  if (t.single_word) {
    // Like HF, a longest match that fails the test is skipped, not retried shorter.
    const bool word_before =
        pos > 0 && is_word_char(utf8::decode_one(text, previous_char_start(text, pos)).code_point);
    const bool word_after =
        best_end < text.size() && is_word_char(utf8::decode_one(text, best_end).code_point);
    if (word_before || word_after) return 0;
  }
  return best_end;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextSegment>& out) const {
  size_t plain_start = 0;  // start of the text not yet emitted
  size_t pos = 0;
  while (pos < text.size()) {
    int32_t token = -1;
    const size_t end = patterns_ == 0 ? 0 : longest_match(text, pos, token);
    if (end == 0) {
      ++pos;  // tokens are valid UTF-8, so a match never starts inside a character
      continue;
    }
    const AddedToken& t = tokens_[token];
    const size_t start = t.lstrip ? skip_space_backward(text, pos, plain_start) : pos;
    const size_t stop = t.rstrip ? skip_space_forward(text, end) : end;
    if (start > plain_start) out.push_back({text.substr(plain_start, start - plain_start), -1});
    out.push_back({text.substr(start, stop - start), t.id});
    plain_start = pos = stop;
  }
  if (plain_start < text.size()) out.push_back({text.substr(plain_start), -1});
}

}  // namespace nextn
