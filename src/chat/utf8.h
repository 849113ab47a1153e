// UTF-8 helpers for the chat-template engine.
//
// Template text and values are UTF-8 byte strings. Where Jinja works on characters (length,
// indexing, slicing, strip, the JSON escaper) we work on code points, as Python does; invalid
// bytes decode as U+FFFD one byte at a time so that no input can make us read out of bounds.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nextn::chat {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at s[i] and advances i past it (by one byte when s[i..] is invalid).
char32_t decode_utf8(std::string_view s, size_t& i);

void append_utf8(std::string& out, char32_t cp);

// The byte offsets where each code point of s starts, plus s.size() at the end.
std::vector<size_t> code_point_starts(std::string_view s);

// Whitespace as JavaScript's \s / String.prototype.trim see it, which is what the reference
// (@huggingface/jinja) uses for `-` whitespace control and strip(): ASCII whitespace, NBSP,
// U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 and U+FEFF.
bool is_js_space(char32_t cp);

// Length in bytes of the JS-whitespace run that starts at s[i].
size_t space_run(std::string_view s, size_t i);

// s without trailing JS whitespace.
std::string_view trim_end(std::string_view s);

}  // namespace nextn::chat
