// UTF-8 decoding with the replacement rule shared by every reference nextn matches.
//
// Invalid input is replaced "by maximal subpart" (Unicode §3.9, U+FFFD substitution; the WHATWG
// TextDecoder and Rust's String::from_utf8_lossy both follow it): each maximal prefix of a
// well-formed sequence that is cut short, and each byte that cannot start one, becomes one
// U+FFFD. Because that rule only looks at the bytes of the sequence itself, a decoder that holds
// back an unfinished tail can stream and still produce the same text as a whole-string decode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nextn::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;
inline constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

enum class Status : uint8_t {
  kValid,      // a whole well-formed sequence of `length` bytes
  kInvalid,    // `length` bytes (>= 1) that can never become valid: one U+FFFD
  kTruncated,  // `length` bytes that are a valid prefix but the text ends: wait for more bytes
};

struct Decoded {
  char32_t code_point;  // meaningful for kValid only
  uint32_t length;
  Status status;
};

// Decodes the sequence that starts at text[pos] (pos < text.size()).
Decoded decode_one(std::string_view text, size_t pos);

// Appends the UTF-8 encoding of `code_point` (which must be a Unicode scalar value).
void append(std::string& out, char32_t code_point);

bool is_valid(std::string_view text);

// `text` with every maximal invalid subpart (a truncated tail included) replaced by U+FFFD.
std::string to_valid(std::string_view text);

// Appends the complete part of `text` to `out` (lossily, as above) and returns how many bytes
// at the end form a valid but unfinished sequence that more bytes could complete (0..3).
size_t append_complete(std::string_view text, std::string& out);

// Number of code points of a valid UTF-8 string.
size_t count_code_points(std::string_view valid_text);

}  // namespace nextn::utf8
