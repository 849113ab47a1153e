// The byte-level alphabet: every byte has one printable character and back.
#include <gtest/gtest.h>

#include <set>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace nextn {
namespace {

TEST(ByteLevel, AllBytesRoundTrip) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_level::byte_to_char(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(c).second) << "byte " << b << " shares its character";
    EXPECT_EQ(byte_level::char_to_byte(c), static_cast<uint8_t>(b));
  }
  EXPECT_EQ(seen.size(), 256u);
}

TEST(ByteLevel, KnownCharacters) {
  EXPECT_EQ(byte_level::byte_to_char(' '), U'\u0120');   // Ġ
  EXPECT_EQ(byte_level::byte_to_char('\n'), U'\u010A');  // Ċ
  EXPECT_EQ(byte_level::byte_to_char('\t'), U'\u0109');  // ĉ
  EXPECT_EQ(byte_level::byte_to_char('A'), U'A');
  EXPECT_EQ(byte_level::byte_to_char(0x00), U'\u0100');
  EXPECT_EQ(byte_level::byte_to_char(0xAD), U'\u0143');  // the last shifted byte
  EXPECT_EQ(byte_level::byte_to_char(0xE9), U'\u00E9');
  EXPECT_EQ(byte_level::char_to_byte(U'\u0144'), std::nullopt);
  EXPECT_EQ(byte_level::char_to_byte(U' '), std::nullopt);  // space is spelled Ġ
}

TEST(ByteLevel, EncodeDecodeEveryByteString) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string spelled;
  byte_level::encode(all, spelled);
  EXPECT_TRUE(utf8::is_valid(spelled));
  EXPECT_EQ(utf8::count_code_points(spelled), 256u);
  std::string back;
  EXPECT_TRUE(byte_level::decode(spelled, back));
  EXPECT_EQ(back, all);
}

TEST(ByteLevel, TokenOutsideTheAlphabetIsItsOwnUtf8) {
  std::string out = "x";
  EXPECT_FALSE(byte_level::decode("<｜User｜>", out));
  EXPECT_EQ(out, "x<｜User｜>");
  out.clear();
  EXPECT_TRUE(byte_level::decode("ĠHello", out));
  EXPECT_EQ(out, " Hello");
}

}  // namespace
}  // namespace nextn
