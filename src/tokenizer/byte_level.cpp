#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace nextn::byte_level {
namespace {

constexpr bool stands_for_itself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Tables {
  std::array<char32_t, 256> to_char{};
  // The alphabet lies in U+0021..U+0143, so the reverse map is a small dense table.
  static constexpr char32_t kMaxChar = 0x144;
  std::array<int16_t, kMaxChar> to_byte{};
  std::array<std::array<char, 2>, 256> utf8{};  // every char of the alphabet is 1 or 2 bytes
  std::array<uint8_t, 256> utf8_length{};
};

constexpr Tables build_tables() {
  Tables t;
  for (auto& v : t.to_byte) v = -1;
  char32_t next_shifted = 0x100;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = stands_for_itself(b) ? static_cast<char32_t>(b) : next_shifted++;
    t.to_char[b] = c;
    t.to_byte[c] = static_cast<int16_t>(b);
    if (c < 0x80) {
      t.utf8[b] = {static_cast<char>(c), 0};
      t.utf8_length[b] = 1;
    } else {
      t.utf8[b] = {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
      t.utf8_length[b] = 2;
    }
  }
  return t;
}

constexpr Tables kTables = build_tables();

}  // namespace

char32_t byte_to_char(uint8_t byte) {
  return kTables.to_char[byte];
}

std::optional<uint8_t> char_to_byte(char32_t c) {
  if (c >= Tables::kMaxChar || kTables.to_byte[c] < 0) return std::nullopt;
  return static_cast<uint8_t>(kTables.to_byte[c]);
}

void encode(std::string_view bytes, std::string& out) {
  for (const char ch : bytes) {
    const auto b = static_cast<uint8_t>(ch);
    out.append(kTables.utf8[b].data(), kTables.utf8_length[b]);
  }
}

bool decode(std::string_view token, std::string& out) {
  const size_t start = out.size();
  for (size_t pos = 0; pos < token.size();) {
    const utf8::Decoded d = utf8::decode_one(token, pos);
    const std::optional<uint8_t> b =
        d.status == utf8::Status::kValid ? char_to_byte(d.code_point) : std::nullopt;
    if (!b) {
      out.resize(start);
      out.append(token);
      return false;
    }
    out.push_back(static_cast<char>(*b));
    pos += d.length;
  }
  return true;
}

}  // namespace nextn::byte_level
