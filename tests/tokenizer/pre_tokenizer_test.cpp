// Pre-tokenizers: Split behaviours, invert, String patterns, Digits, ByteLevel, and the regex
// dialect (Oniguruma's \s and ASCII-only (?i) under PCRE2).
#include <gtest/gtest.h>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/regex.h"
#include "tokenizer_test_support.h"

namespace nextn::testing {
namespace {

using Pieces = std::vector<std::string>;

Pieces pre_tokenize(const nlohmann::json& config, const std::string& text) {
  const std::string file = "pre.json";
  const PreTokenizer p =
      PreTokenizer::from_json(tokenizer_json::Field(config, file, "pre_tokenizer"));
  Pieces out;
  p.apply(text, out);
  return out;
}

nlohmann::json split(const std::string& regex, const std::string& behavior, bool invert = false) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", behavior},
          {"invert", invert}};
}

TEST(PreTokenizer, SplitBehaviours) {
  const std::string text = "a-b--c";
  EXPECT_EQ(pre_tokenize(split("-", "Isolated"), text), (Pieces{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(pre_tokenize(split("-", "Removed"), text), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(pre_tokenize(split("-", "MergedWithPrevious"), text), (Pieces{"a-", "b-", "-", "c"}));
  EXPECT_EQ(pre_tokenize(split("-", "MergedWithNext"), text), (Pieces{"a", "-b", "-", "-c"}));
  EXPECT_EQ(pre_tokenize(split("-", "Contiguous"), text), (Pieces{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(pre_tokenize(split("-", "MergedWithPrevious"), "-a"), (Pieces{"-", "a"}));
}

TEST(PreTokenizer, InvertSwapsMatchesAndGaps) {
  EXPECT_EQ(pre_tokenize(split("\\w+", "Removed", true), "ab, cd!"), (Pieces{"ab", "cd"}));
  EXPECT_EQ(pre_tokenize(split("\\w+", "Removed", false), "ab, cd!"), (Pieces{", ", "!"}));
  EXPECT_EQ(pre_tokenize(split("\\w+", "MergedWithPrevious", true), "ab, cd!"),
            (Pieces{"ab, ", "cd!"}));
}

TEST(PreTokenizer, StringPatternIsLiteral) {
  const nlohmann::json p = {
      {"type", "Split"}, {"pattern", {{"String", "."}}}, {"behavior", "Isolated"}};
  EXPECT_EQ(pre_tokenize(p, "a.b"), (Pieces{"a", ".", "b"}));
  EXPECT_EQ(pre_tokenize(p, "abc"), (Pieces{"abc"}));
  const nlohmann::json q = {
      {"type", "Split"}, {"pattern", {{"String", "(?"}}}, {"behavior", "Removed"}};
  EXPECT_EQ(pre_tokenize(q, "x(?y"), (Pieces{"x", "y"}));
}

TEST(PreTokenizer, Digits) {
  const nlohmann::json each = {{"type", "Digits"}, {"individual_digits", true}};
  const nlohmann::json runs = {{"type", "Digits"}, {"individual_digits", false}};
  EXPECT_EQ(pre_tokenize(each, "ab123c4"), (Pieces{"ab", "1", "2", "3", "c", "4"}));
  EXPECT_EQ(pre_tokenize(runs, "ab123c4"), (Pieces{"ab", "123", "c", "4"}));
  EXPECT_EQ(pre_tokenize(runs, "x٣٤y"), (Pieces{"x", "٣٤", "y"}));  // any Unicode number
}

TEST(PreTokenizer, ByteLevelWithGpt2Pattern) {
  const nlohmann::json p = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  EXPECT_EQ(pre_tokenize(p, "Hello world's 42!!"),
            (Pieces{bl(" Hello"), bl(" world"), bl("'s"), bl(" 42"), bl("!!")}));
  const nlohmann::json raw = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  EXPECT_EQ(pre_tokenize(raw, "a b\n"), (Pieces{bl("a b\n")}));
}

TEST(PreTokenizer, SequenceAppliesEachStepToEveryPiece) {
  const nlohmann::json p = {
      {"type", "Sequence"},
      {"pretokenizers", {split("\\p{N}{1,3}", "Isolated"), {{"type", "Whitespace"}}}}};
  EXPECT_EQ(pre_tokenize(p, "ab 12345, cd"), (Pieces{"ab", "123", "45", ",", "cd"}));
}

TEST(Regex, WhiteSpaceIsTheUnicodeProperty) {
  // PCRE2's UCP \s also takes U+180E; Oniguruma and the reference do not. U+0085 is White_Space.
  EXPECT_EQ(pre_tokenize(split("\\s+", "Removed"), "a\u180Eb"), (Pieces{"a\u180Eb"}));
  EXPECT_EQ(pre_tokenize(split("\\s+", "Removed"), "a\u0085b\u3000c\u2028d"),
            (Pieces{"a", "b", "c", "d"}));
  EXPECT_EQ(pre_tokenize(split("[^\\s]+", "Removed", true), "a\u00A0b"), (Pieces{"a", "b"}));
}

TEST(Regex, CaseInsensitiveGroupsFoldAsciiOnly) {
  const nlohmann::json p = split("(?i:'s|'ll)", "Isolated");
  EXPECT_EQ(pre_tokenize(p, "IT'S"), (Pieces{"IT", "'S"}));
  EXPECT_EQ(pre_tokenize(p, "WE'Ll"), (Pieces{"WE", "'Ll"}));
  EXPECT_EQ(pre_tokenize(p, "x'\u017F"), (Pieces{"x'\u017F"}));  // long s is not an 's'
  EXPECT_EQ(to_pcre2_syntax("(?i:'s|\\p{Lu}[a-c])x"), "(?:'[sS]|\\p{Lu}[a-cA-C])x");
  EXPECT_EQ(to_pcre2_syntax("(?i)ab(?-i)c"), "[aA][bB]c");
  EXPECT_EQ(to_pcre2_syntax("(?<name>x)\\s\\S"), "(?<name>x)\\p{White_Space}\\P{White_Space}");
}

TEST(Regex, EmptyMatchesMoveOnByOneCharacter) {
  std::vector<Regex::Span> spans;
  Regex::compile("x*", "test").find_all("a\u00e9xx", spans);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].start, 3u);
  EXPECT_EQ(spans[0].end, 5u);
}

TEST(Regex, LongRunsDoNotExhaustTheStack) {
  // \s*[\r\n]+ backtracks over the whole run at every start: fine with the JIT or interpreter.
  const std::string pattern = R"(\s*[\r\n]+|\s+(?!\S)|\s+)";
  std::vector<Regex::Span> spans;
  Regex::compile(pattern, "test").find_all(std::string(200000, ' ') + "x", spans);
  ASSERT_FALSE(spans.empty());
  EXPECT_EQ(spans[0].start, 0u);
}

}  // namespace
}  // namespace nextn::testing
