// The byte-level alphabet of GPT-2-style BPE (HF "ByteLevel" pre-tokenizer and decoder).
//
// Every byte is spelled as one printable code point so that vocab entries are ordinary strings:
// the printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves and the other 68
// bytes are shifted to U+0100.. in increasing byte order (so ' ' is 'Ġ' U+0120, '\n' is 'Ċ').
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nextn::byte_level {

char32_t byte_to_char(uint8_t byte);
std::optional<uint8_t> char_to_byte(char32_t c);

// Appends the byte-level spelling of the raw bytes `bytes`.
void encode(std::string_view bytes, std::string& out);

// Appends the raw bytes a byte-level token stands for. A token with any character outside the
// alphabet (an added token such as "<｜User｜>") is taken as its own UTF-8, as HF's ByteLevel
// decoder does; returns false in that case.
bool decode(std::string_view token, std::string& out);

}  // namespace nextn::byte_level
