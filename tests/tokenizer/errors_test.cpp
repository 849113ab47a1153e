// Every way tokenizer.json / tokenizer_config.json can be wrong gives an Error that names the
// file and the field or type.
#include <gtest/gtest.h>

#include "tokenizer_test_support.h"

namespace nextn::testing {
namespace {

std::string error_of(const std::string& json_text, TokenizerConfig config = {}) {
  try {
    Tokenizer::from_json_text(json_text, "bad/tokenizer.json", std::move(config));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string error_of(const nlohmann::json& json, TokenizerConfig config = {}) {
  return error_of(json.dump(), std::move(config));
}

#define EXPECT_MESSAGE(message, part) \
  EXPECT_NE((message).find(part), std::string::npos) << (message)

nlohmann::json valid() {
  return tiny_tokenizer_json({{"a", "b"}});
}

TEST(TokenizerErrors, MalformedJson) {
  const std::string e = error_of(std::string("{\"model\": "));
  EXPECT_MESSAGE(e, "bad/tokenizer.json: not valid JSON");
  EXPECT_MESSAGE(error_of(std::string("[1, 2]")), "expected a JSON object at the top level");
  EXPECT_MESSAGE(error_of(std::string("{\"a\": \"\xC3\x28\"}")), "not valid JSON");
}

TEST(TokenizerErrors, MissingAndMistypedFields) {
  nlohmann::json j = valid();
  j.erase("model");
  EXPECT_MESSAGE(error_of(j), "bad/tokenizer.json: field 'model' is missing");
  j = valid();
  j["model"].erase("merges");
  EXPECT_MESSAGE(error_of(j), "field 'model.merges' is missing");
  j = valid();
  j["model"]["vocab"] = nlohmann::json::array();
  EXPECT_MESSAGE(error_of(j), "field 'model.vocab': expected an object");
  j = valid();
  j["model"]["vocab"]["x"] = "seven";
  EXPECT_MESSAGE(error_of(j), "field 'model.vocab.x': expected an integer");
  j = valid();
  j["model"]["vocab"]["x"] = -1;
  EXPECT_MESSAGE(error_of(j), "field 'model.vocab.x': -1 is out of range");
  j = valid();
  j["pre_tokenizer"] = {{"type", "Split"}, {"behavior", "Isolated"}};
  EXPECT_MESSAGE(error_of(j), "field 'pre_tokenizer.pattern' is missing");
  j = valid();
  j["added_tokens"] = {{{"content", "<x>"}}};
  EXPECT_MESSAGE(error_of(j), "field 'added_tokens[0].id' is missing");
  j = valid();
  j["added_tokens"] = {{{"id", 300}, {"content", ""}}};
  EXPECT_MESSAGE(error_of(j),
                 "field 'added_tokens[0].content': an added token's content must not be empty");
  j = valid();
  j["model"]["fuse_unk"] = "yes";
  EXPECT_MESSAGE(error_of(j), "field 'model.fuse_unk': expected true or false");
}

TEST(TokenizerErrors, UnknownComponentTypesNameTheTypeAndFile) {
  nlohmann::json j = valid();
  j["model"]["type"] = "Unigram";
  EXPECT_MESSAGE(error_of(j),
                 "bad/tokenizer.json: field 'model.type': unsupported model type 'Unigram'");
  j = valid();
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers", {{{"type", "NFC"}}, {{"type", "BertNormalizer"}}}}};
  EXPECT_MESSAGE(
      error_of(j),
      "field 'normalizer.normalizers[1].type': unsupported normalizer type 'BertNormalizer'");
  j = valid();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", {{{"type", "ByteLevel"}}, {{"type", "Metaspace"}}}}};
  EXPECT_MESSAGE(
      error_of(j),
      "field 'pre_tokenizer.pretokenizers[1].type': unsupported pre-tokenizer type 'Metaspace'");
  j = valid();
  j["decoder"] = {{"type", "WordPiece"}};
  EXPECT_MESSAGE(error_of(j), "field 'decoder.type': unsupported decoder type 'WordPiece'");
  j = valid();
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders", {{{"type", "ByteLevel"}}, {{"type", "Fuse"}}}}};
  EXPECT_MESSAGE(error_of(j), "field 'decoder.decoders'");
  j = valid();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  EXPECT_MESSAGE(error_of(j), "field 'pre_tokenizer.behavior': unknown split behavior 'Sideways'");
  j = valid();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Glob", "*"}}}, {"behavior", "Isolated"}};
  EXPECT_MESSAGE(error_of(j),
                 "field 'pre_tokenizer.pattern': expected {\"Regex\": ...} or {\"String\": ...}");
}

TEST(TokenizerErrors, InvalidRegexNamesThePattern) {
  nlohmann::json j = valid();
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(\\p{L}+"}}}, {"behavior", "Isolated"}};
  const std::string e = error_of(j);
  EXPECT_MESSAGE(e,
                 "bad/tokenizer.json: field 'pre_tokenizer.pattern.Regex': invalid regex (\\p{L}+");
  j["pre_tokenizer"]["pattern"]["Regex"] = "\\p{NoSuchProperty}";
  EXPECT_MESSAGE(error_of(j), "invalid regex");
}

TEST(TokenizerErrors, MergesMustNameVocabTokens) {
  nlohmann::json j = valid();
  j["model"]["merges"].push_back("zz a");
  EXPECT_MESSAGE(error_of(j), "field 'model.merges[1]': token \"zz\" is not in model.vocab");
  j = valid();
  j["model"]["merges"].push_back({"a", "c"});  // "ac" is not a token
  EXPECT_MESSAGE(error_of(j),
                 "field 'model.merges[1]': the merged token \"ac\" is not in model.vocab");
  j = valid();
  j["model"]["merges"].push_back("abc");
  EXPECT_MESSAGE(error_of(j), "field 'model.merges[1]': expected \"left right\"");
  j = valid();
  j["model"]["merges"].push_back(7);
  EXPECT_MESSAGE(error_of(j), "field 'model.merges[1]': expected a merge");
}

TEST(TokenizerErrors, DuplicateAndOutOfRangeIds) {
  nlohmann::json j = valid();
  j["model"]["vocab"]["dup"] = 5;
  EXPECT_MESSAGE(error_of(j), "field 'model.vocab': id 5 is used by both");
  j = valid();
  j["added_tokens"] = {{{"id", 300}, {"content", "<x>"}}, {{"id", 300}, {"content", "<y>"}}};
  EXPECT_MESSAGE(error_of(j), "field 'added_tokens[1].id': id 300 is used by two added tokens");
  j = valid();
  j["added_tokens"] = {{{"id", 4294967296LL}, {"content", "<x>"}}};
  EXPECT_MESSAGE(error_of(j), "field 'added_tokens[0].id': 4294967296 is out of range");
  j = valid();
  j["model"]["vocab"]["far"] = 2000000000;
  EXPECT_MESSAGE(error_of(j), "field 'model.vocab': ids are too sparse: the largest is 2000000000");
}

TEST(TokenizerErrors, UnsupportedModelOptions) {
  nlohmann::json j = valid();
  j["model"]["unk_token"] = "<unk>";
  EXPECT_MESSAGE(error_of(j), "field 'model.unk_token': unk_token \"<unk>\" is not in model.vocab");
  j = valid();
  j["model"]["dropout"] = 0.1;
  EXPECT_MESSAGE(error_of(j), "field 'model.dropout': BPE dropout");
  j = valid();
  j["model"]["continuing_subword_prefix"] = "##";
  EXPECT_MESSAGE(error_of(j), "field 'model.continuing_subword_prefix'");
  j = valid();
  j["model"]["dropout"] = 0.0;  // the same as null
  EXPECT_EQ(error_of(j), "(no error)");
}

TEST(TokenizerErrors, ConfigTokensMustExist) {
  TokenizerConfig c;
  c.bos_token = "<s>";
  EXPECT_MESSAGE(error_of(valid(), c),
                 "bad/tokenizer.json: the tokenizer config's bos_token \"<s>\" is neither");
  c = {};
  c.add_bos_token = true;
  EXPECT_MESSAGE(error_of(valid(), c), "add_bos_token but no bos_token");
  c = {};
  c.eos_token = "ab";  // a vocab token is fine
  EXPECT_EQ(error_of(valid(), c), "(no error)");
}

std::string config_error_of(const std::string& text) {
  try {
    parse_tokenizer_config(text, "bad/tokenizer_config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenizerConfigErrors, NameTheField) {
  EXPECT_MESSAGE(config_error_of("{"), "bad/tokenizer_config.json: not valid JSON");
  EXPECT_MESSAGE(config_error_of(R"({"bos_token": 3})"),
                 "field 'bos_token': expected a token string or an AddedToken object, got 3");
  EXPECT_MESSAGE(config_error_of(R"({"eos_token": {"__type": "AddedToken"}})"),
                 "field 'eos_token.content' is missing");
  EXPECT_MESSAGE(config_error_of(R"({"add_bos_token": "true"})"),
                 "field 'add_bos_token': expected true or false");
  EXPECT_MESSAGE(config_error_of(R"({"chat_template": 5})"),
                 "field 'chat_template': expected a template string");
  EXPECT_MESSAGE(config_error_of(R"({"chat_template": [{"name": "default"}]})"),
                 "field 'chat_template[0].template' is missing");
}

TEST(TokenizerLoadErrors, MissingTokenizerJson) {
  ScratchDir dir;
  try {
    Tokenizer::load(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_MESSAGE(std::string(e.what()), (dir.path() / "tokenizer.json").string() + ": not found");
  }
}

}  // namespace
}  // namespace nextn::testing
