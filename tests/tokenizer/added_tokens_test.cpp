// Added tokens: leftmost-longest matching, lstrip / rstrip / single_word, the normalized pass,
// special tokens in decode.
#include <gtest/gtest.h>

#include "tokenizer_test_support.h"

namespace nextn::testing {
namespace {

using Ids = std::vector<int32_t>;

nlohmann::json token(const std::string& content, nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json t = {{"content", content}, {"normalized", false}};
  t.update(extra);
  return t;
}

TEST(AddedTokens, LeftmostThenLongestMatchWins) {
  const Tokenizer tok = tiny_tokenizer(tiny_tokenizer_json(
      {}, nullptr, nullptr, {token("ab"), token("abc"), token("bcd"), token("d")}));
  const int32_t ab = *tok.token_to_id("ab"), abc = *tok.token_to_id("abc"),
                bcd = *tok.token_to_id("bcd"), d = *tok.token_to_id("d");
  EXPECT_EQ(tok.encode("abcd"), (Ids{abc, d}));
  EXPECT_EQ(tok.encode("abd"), (Ids{ab, d}));
  EXPECT_EQ(tok.encode("xbcd"), (Ids{'x', bcd}));
  EXPECT_EQ(tok.encode("ab"), (Ids{ab}));
}

TEST(AddedTokens, LstripAndRstripSwallowWhiteSpace) {
  const Tokenizer tok = tiny_tokenizer(tiny_tokenizer_json(
      {}, nullptr, nullptr,
      {token("<l>", {{"lstrip", true}}), token("<r>", {{"rstrip", true}}), token("<n>")}));
  const int32_t l = *tok.token_to_id("<l>"), r = *tok.token_to_id("<r>"),
                n = *tok.token_to_id("<n>");
  EXPECT_EQ(tok.encode("x \t<l> y"), (Ids{'x', l, ' ', 'y'}));
  EXPECT_EQ(tok.encode("x <r> \n y"), (Ids{'x', ' ', r, 'y'}));
  EXPECT_EQ(tok.encode("x <n> y"), (Ids{'x', ' ', n, ' ', 'y'}));
  EXPECT_EQ(tok.encode("<r>  <l>"), (Ids{r, l}));
}

TEST(AddedTokens, SingleWordRejectsMatchesInsideWords) {
  const Tokenizer tok = tiny_tokenizer(
      tiny_tokenizer_json({}, nullptr, nullptr, {token("tok", {{"single_word", true}})}));
  const int32_t t = *tok.token_to_id("tok");
  EXPECT_EQ(tok.encode("a tok."), (Ids{'a', ' ', t, '.'}));
  EXPECT_EQ(tok.encode("tok"), (Ids{t}));
  EXPECT_EQ(tok.encode("atok"), (Ids{'a', 't', 'o', 'k'}));
  EXPECT_EQ(tok.encode("tok_"), (Ids{'t', 'o', 'k', '_'}));
}

TEST(AddedTokens, NormalizedTokensMatchAfterTheNormalizer) {
  const nlohmann::json lowercase = {{"type", "Lowercase"}};
  const Tokenizer tok = tiny_tokenizer(tiny_tokenizer_json(
      {}, nullptr, lowercase,
      {token("HELLO", {{"normalized", true}}), token("RAW", {{"normalized", false}})}));
  const int32_t hello = *tok.token_to_id("HELLO"), raw = *tok.token_to_id("RAW");
  EXPECT_EQ(tok.encode("Hello"), (Ids{hello}));  // "hello" after normalization
  EXPECT_EQ(tok.encode("hello"), (Ids{hello}));
  EXPECT_EQ(tok.encode("RAW"), (Ids{raw}));
  EXPECT_EQ(tok.encode("Raw"), (Ids{'r', 'a', 'w'}));  // not the raw spelling: normalized text
}

TEST(AddedTokens, SpecialTokensInDecode) {
  const Tokenizer tok = tiny_tokenizer(tiny_tokenizer_json(
      {}, nullptr, nullptr,
      {token("<｜User｜>", {{"special", true}}), token("<tool>", {{"special", false}})}));
  const int32_t user = *tok.token_to_id("<｜User｜>"), tool = *tok.token_to_id("<tool>");
  EXPECT_TRUE(tok.is_special(user));
  EXPECT_FALSE(tok.is_special(tool));
  EXPECT_FALSE(tok.is_special('a'));
  const Ids ids = {user, 'h', 'i', tool};
  EXPECT_EQ(tok.decode(ids), "<｜User｜>hi<tool>");  // outside the byte alphabet: raw UTF-8
  EXPECT_EQ(tok.decode(ids, true), "hi<tool>");
  StreamingDecoder stream(tok, true);
  std::string joined;
  for (const int32_t id : ids) joined += stream.push(id);
  EXPECT_EQ(joined + stream.flush(), "hi<tool>");
  EXPECT_EQ(tok.piece(user), "<｜User｜>");
  EXPECT_EQ(tok.piece(' '), "Ġ");
  EXPECT_EQ(tok.vocab_size(), 258);
}

TEST(AddedTokens, UnknownIdsDecodeToNothing) {
  const Tokenizer tok = tiny_tokenizer(tiny_tokenizer_json({}));
  EXPECT_EQ(tok.decode(Ids{'a', 99999, -1, 'b'}), "ab");
  EXPECT_THROW(tok.piece(99999), Error);
}

}  // namespace
}  // namespace nextn::testing
