// The BPE model: merge order, tie-breaking, merge formats, unknown characters.
#include <gtest/gtest.h>

#include "tokenizer_test_support.h"

namespace nextn::testing {
namespace {

using Pieces = std::vector<std::string>;

Pieces encode_pieces(const Tokenizer& tok, const std::string& text) {
  return raw_pieces(tok, tok.encode(text));
}

TEST(Bpe, LowerRankMergesFirst) {
  // "ab" (rank 0) beats "bc" (rank 1), so "abc" can only become "ab" + "c", then rank 2.
  const Tokenizer first =
      tiny_tokenizer(tiny_tokenizer_json({{"a", "b"}, {"b", "c"}, {"ab", "c"}}));
  EXPECT_EQ(encode_pieces(first, "abc"), (Pieces{"abc"}));
  const Tokenizer no_abc =
      tiny_tokenizer(tiny_tokenizer_json({{"a", "b"}, {"b", "c"}, {"a", "bc"}}));
  EXPECT_EQ(encode_pieces(no_abc, "abc"), (Pieces{"ab", "c"}));
  const Tokenizer bc_first =
      tiny_tokenizer(tiny_tokenizer_json({{"b", "c"}, {"a", "b"}, {"a", "bc"}}));
  EXPECT_EQ(encode_pieces(bc_first, "abc"), (Pieces{"abc"}));
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  const Tokenizer tok = tiny_tokenizer(tiny_tokenizer_json({{"a", "a"}}));
  EXPECT_EQ(encode_pieces(tok, "aaa"), (Pieces{"aa", "a"}));
  EXPECT_EQ(encode_pieces(tok, "aaaaa"), (Pieces{"aa", "aa", "a"}));
}

TEST(Bpe, MergesAcrossAMergedSymbol) {
  const Tokenizer tok =
      tiny_tokenizer(tiny_tokenizer_json({{"a", "a"}, {"aa", "aa"}, {"b", "aaaa"}}));
  EXPECT_EQ(encode_pieces(tok, "baaaa"), (Pieces{"baaaa"}));
  EXPECT_EQ(encode_pieces(tok, "aaaaaaaaa"), (Pieces{"aaaa", "aaaa", "a"}));
}

TEST(Bpe, LongPieceIsNotQuadratic) {
  // One pre-token of 300,000 letters: a quadratic merge loop would not finish in test time.
  const Tokenizer tok =
      tiny_tokenizer(tiny_tokenizer_json({{"a", "a"}, {"aa", "aa"}, {"aaaa", "aaaa"}}));
  const std::vector<int32_t> ids = tok.encode(std::string(300000, 'a'));
  EXPECT_EQ(ids.size(), 300000u / 8);
  EXPECT_EQ(tok.decode(ids), std::string(300000, 'a'));
}

TEST(Bpe, PairAndStringMergeFormatsAgree) {
  nlohmann::json strings = tiny_tokenizer_json({{"h", "e"}, {"l", "l"}, {"he", "ll"}, {" ", "w"}});
  nlohmann::json pairs = strings;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : strings["model"]["merges"]) {
    const std::string s = m;
    list.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  pairs["model"]["merges"] = list;
  const std::string text = "hello world, hell";
  EXPECT_EQ(tiny_tokenizer(strings).encode(text), tiny_tokenizer(pairs).encode(text));
  EXPECT_EQ(encode_pieces(tiny_tokenizer(pairs), "hello"), (Pieces{"hell", "o"}));
}

TEST(Bpe, RepeatedMergeKeepsItsLastRank) {
  // ("b","c") listed first and again after ("a","b"): its rank is the later one.
  nlohmann::json json = tiny_tokenizer_json({{"b", "c"}, {"a", "b"}});
  json["model"]["merges"].push_back(bl("b") + " " + bl("c"));
  EXPECT_EQ(encode_pieces(tiny_tokenizer(json), "abc"), (Pieces{"ab", "c"}));
}

// A non-byte-level model: characters missing from the vocab go to byte fallback or unk.
nlohmann::json char_model(bool byte_fallback, bool fuse_unk, bool with_unk) {
  nlohmann::json vocab = {{"<unk>", 0},  {"a", 1},   {"<0x62>", 2}, {"<0xC3>", 3},
                          {"<0xA9>", 4}, {"abc", 5}, {"c", 6}};
  return {{"model",
           {{"type", "BPE"},
            {"vocab", vocab},
            {"merges", nlohmann::json::array()},
            {"unk_token", with_unk ? nlohmann::json("<unk>") : nlohmann::json(nullptr)},
            {"byte_fallback", byte_fallback},
            {"fuse_unk", fuse_unk}}}};
}

TEST(Bpe, ByteFallbackAndUnknownCharacters) {
  const auto encode = [](const nlohmann::json& json, const std::string& text) {
    return Tokenizer::from_json_text(json.dump(), "chars.json").encode(text);
  };
  using Ids = std::vector<int32_t>;
  EXPECT_EQ(encode(char_model(true, false, true), "ab\xC3\xA9?"), (Ids{1, 2, 3, 4, 0}));
  EXPECT_EQ(encode(char_model(false, false, true), "ab??"), (Ids{1, 0, 0, 0}));
  EXPECT_EQ(encode(char_model(false, true, true), "ab??a"), (Ids{1, 0, 1}));
  EXPECT_EQ(encode(char_model(false, false, false), "ab?c"), (Ids{1, 6}));  // no unk: dropped
}

TEST(Bpe, IgnoreMergesTakesWholeVocabPieces) {
  nlohmann::json json = char_model(false, false, true);
  EXPECT_EQ(Tokenizer::from_json_text(json.dump(), "x").encode("abc"),
            (std::vector<int32_t>{1, 0, 6}));
  json["model"]["ignore_merges"] = true;
  EXPECT_EQ(Tokenizer::from_json_text(json.dump(), "x").encode("abc"), (std::vector<int32_t>{5}));
}

TEST(Bpe, NoDecoderJoinsTokensWithSpaces) {
  const Tokenizer tok = Tokenizer::from_json_text(char_model(false, false, true).dump(), "x");
  const std::vector<int32_t> ids = {1, 6, 5};
  EXPECT_EQ(tok.decode(ids), "a c abc");
  StreamingDecoder stream(tok);
  std::string joined;
  for (const int32_t id : ids) joined += stream.push(id);
  EXPECT_EQ(joined + stream.flush(), "a c abc");
}

}  // namespace
}  // namespace nextn::testing
