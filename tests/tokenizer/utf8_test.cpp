// UTF-8 decoding by maximal subpart, and the streaming decoder's edge cases.
#include <gtest/gtest.h>

#include "tokenizer/utf8.h"
#include "tokenizer_test_support.h"

namespace nextn::testing {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, DecodesWellFormedSequences) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  const char32_t expected[] = {U'a', 0xE9, 0x20AC, 0x1F600};
  size_t pos = 0;
  for (const char32_t cp : expected) {
    const utf8::Decoded d = utf8::decode_one(text, pos);
    ASSERT_EQ(d.status, utf8::Status::kValid);
    EXPECT_EQ(d.code_point, cp);
    pos += d.length;
  }
  EXPECT_EQ(pos, text.size());
  EXPECT_TRUE(utf8::is_valid(text));
  EXPECT_EQ(utf8::count_code_points(text), 4u);
}

TEST(Utf8, ReplacesEachMaximalSubpart) {
  // The WHATWG / from_utf8_lossy results (Unicode §3.9, "U+FFFD substitution of maximal
  // subparts").
  const std::pair<std::string, std::string> cases[] = {
      {"\x80", kFffd},                                      // lone continuation byte
      {"\xBF\x80", kFffd + kFffd},                          // two of them
      {"\xC0\xAF", kFffd + kFffd},                          // overlong '/' (C0 never valid)
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd},              // overlong 3-byte form
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},              // UTF-8 of surrogate U+D800
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // above U+10FFFF
      {"\xF5\x80", kFffd + kFffd},                          // F5 is never a lead byte
      {"\xF0\x9F\x98", kFffd},                              // truncated at the end: one
      {"\xF0\x9F\x98"
       "A",
       kFffd + "A"},                                 // cut by an ASCII byte
      {"\xE2\x82\xAC\x80", "\xE2\x82\xAC" + kFffd},  // € then a stray continuation
      {"\xC2\xC2\xA9", kFffd + "\xC2\xA9"},          // a lead byte cut by another
      {"a\xFF"
       "b",
       "a" + kFffd + "b"},
      {"", ""},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(utf8::to_valid(in), out) << ::testing::PrintToString(in);
    EXPECT_EQ(utf8::is_valid(in), in == out);
  }
}

TEST(Utf8, AppendCompleteHoldsBackOnlyAnUnfinishedTail) {
  std::string out;
  EXPECT_EQ(utf8::append_complete("ab\xF0\x9F", out), 2u);
  EXPECT_EQ(out, "ab");
  out.clear();
  EXPECT_EQ(utf8::append_complete("\xF0\x9F\x98\x80", out), 0u);
  EXPECT_EQ(out, "\xF0\x9F\x98\x80");
  out.clear();
  EXPECT_EQ(utf8::append_complete("\xED\xA0", out), 0u);  // ED A0 can never become valid
  EXPECT_EQ(out, kFffd + kFffd);
}

// The tiny tokenizer's ids 0..255 are the single bytes, so streams of ids are streams of bytes.
class StreamingBytes : public ::testing::Test {
 protected:
  std::vector<std::string> stream(const std::string& bytes) {
    StreamingDecoder decoder(tok_);
    std::vector<std::string> out;
    for (const char c : bytes) out.push_back(decoder.push(static_cast<unsigned char>(c)));
    out.push_back(decoder.flush());
    return out;
  }
  Tokenizer tok_ = tiny_tokenizer(tiny_tokenizer_json({}));
};

TEST_F(StreamingBytes, FourByteEmojiSplitOverIds) {
  EXPECT_EQ(stream("\xF0\x9F\x98\x80"),
            (std::vector<std::string>{"", "", "", "\xF0\x9F\x98\x80", ""}));
}

TEST_F(StreamingBytes, InvalidContinuationIsReplacedAtOnce) {
  EXPECT_EQ(stream("\xF0"
                   "A"),
            (std::vector<std::string>{"", kFffd + "A", ""}));
}

TEST_F(StreamingBytes, OverlongLeadIsReplacedWithoutWaiting) {
  EXPECT_EQ(stream("\xC0\xAF"), (std::vector<std::string>{kFffd, kFffd, ""}));
}

TEST_F(StreamingBytes, EncodedSurrogate) {
  // ED could still start U+D000..U+D7FF; A0 rules that out.
  EXPECT_EQ(stream("\xED\xA0\x80"), (std::vector<std::string>{"", kFffd + kFffd, kFffd, ""}));
}

TEST_F(StreamingBytes, TruncatedAtTheEndFlushesOneReplacement) {
  EXPECT_EQ(stream("ok\xE2\x82"), (std::vector<std::string>{"o", "k", "", "", kFffd}));
}

TEST_F(StreamingBytes, MultiByteTokensAcrossCharacters) {
  // One id carrying the end of one character and the start of the next.
  const Tokenizer tok = tiny_tokenizer(
      tiny_tokenizer_json({{"\x98", "\x80"}, {"\xF0", "\x9F"}, {"\x98\x80", "\xF0\x9F"}}));
  const std::optional<int32_t> mid = tok.token_to_id(bl("\x98\x80\xF0\x9F"));
  ASSERT_TRUE(mid.has_value());
  StreamingDecoder decoder(tok);
  EXPECT_EQ(decoder.push(0xF0), "");
  EXPECT_EQ(decoder.push(0x9F), "");
  EXPECT_EQ(decoder.push(*mid), "\xF0\x9F\x98\x80");
  EXPECT_EQ(decoder.push(0x98), "");
  EXPECT_EQ(decoder.push(0x80), "\xF0\x9F\x98\x80");
  EXPECT_EQ(decoder.flush(), "");
}

TEST_F(StreamingBytes, RandomByteStreamsEqualWholeDecode) {
  std::mt19937 rng(1234);
  for (int k = 0; k < 2000; ++k) {
    std::vector<int32_t> ids(rng() % 24);
    for (int32_t& id : ids) {
      // Mostly high bytes, where the interesting sequences are.
      id = static_cast<int32_t>(rng() % 4 == 0 ? rng() % 128 : 0x80 + rng() % 128);
    }
    StreamingDecoder decoder(tok_);
    std::string joined;
    for (const int32_t id : ids) joined += decoder.push(id);
    joined += decoder.flush();
    ASSERT_EQ(joined, tok_.decode(ids)) << ::testing::PrintToString(ids);
  }
}

}  // namespace
}  // namespace nextn::testing
