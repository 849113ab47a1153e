// tokenizer_config.json fields and Tokenizer::load's choice of files.
#include <gtest/gtest.h>

#include "tokenizer_test_support.h"

namespace nextn::testing {
namespace {

TEST(TokenizerConfig, TokensAsStringsOrAddedTokenObjects) {
  const TokenizerConfig c = parse_tokenizer_config(R"({
    "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
    "eos_token": "</s>", "pad_token": null, "add_bos_token": true})",
                                                   "c.json");
  EXPECT_EQ(c.bos_token, "<s>");
  EXPECT_EQ(c.eos_token, "</s>");
  EXPECT_EQ(c.pad_token, std::nullopt);
  EXPECT_TRUE(c.add_bos_token);
  EXPECT_FALSE(c.add_eos_token);
  EXPECT_EQ(c.chat_template, std::nullopt);
}

TEST(TokenizerConfig, DefaultsWhenAbsent) {
  const TokenizerConfig c = parse_tokenizer_config("{}", "c.json");
  EXPECT_FALSE(c.bos_token || c.eos_token || c.pad_token || c.chat_template);
  EXPECT_FALSE(c.add_bos_token);
  EXPECT_FALSE(c.add_eos_token);
}

TEST(TokenizerConfig, ChatTemplateStringOrNamedList) {
  EXPECT_EQ(parse_tokenizer_config(R"({"chat_template": "{{ x }}"})", "c").chat_template,
            "{{ x }}");
  EXPECT_EQ(
      parse_tokenizer_config(
          R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})",
          "c")
          .chat_template,
      "D");
  EXPECT_EQ(parse_tokenizer_config(R"({"chat_template": [{"name": "rag", "template": "R"}]})", "c")
                .chat_template,
            std::nullopt);
}

class LoadDir : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_ / "tokenizer.json", tiny_tokenizer_json({{"a", "b"}}).dump());
  }
  ScratchDir dir_;
};

TEST_F(LoadDir, TokenizerJsonAlone) {
  const Tokenizer tok = Tokenizer::load(dir_.path());
  EXPECT_EQ(tok.encode("ab", true), tok.encode("ab"));
  EXPECT_EQ(tok.bos_id(), std::nullopt);
  EXPECT_EQ(tok.config().chat_template, std::nullopt);
}

TEST_F(LoadDir, BosAndEosFromTheConfig) {
  write_file(dir_ / "tokenizer_config.json",
             R"({"bos_token": "a", "eos_token": "ab", "add_bos_token": true, "add_eos_token": true,
                 "chat_template": "from config"})");
  const Tokenizer tok = Tokenizer::load(dir_.path());
  const int32_t ab = *tok.token_to_id(bl("ab"));
  EXPECT_EQ(tok.bos_id(), 'a');
  EXPECT_EQ(tok.eos_id(), ab);  // ASCII letters spell themselves in the byte-level alphabet
  EXPECT_EQ(tok.encode("ab", false), (std::vector<int32_t>{ab}));
  EXPECT_EQ(tok.encode("ab", true), (std::vector<int32_t>{'a', ab, ab}));
  EXPECT_EQ(tok.config().chat_template, "from config");
}

TEST_F(LoadDir, ChatTemplateFileWins) {
  write_file(dir_ / "tokenizer_config.json", R"({"chat_template": "from config"})");
  write_file(dir_ / "chat_template.jinja", "from file {{ messages }}");
  EXPECT_EQ(Tokenizer::load(dir_.path()).config().chat_template, "from file {{ messages }}");
  std::filesystem::remove(dir_ / "tokenizer_config.json");
  EXPECT_EQ(Tokenizer::load(dir_.path()).config().chat_template, "from file {{ messages }}");
}

TEST_F(LoadDir, BadConfigNamesItsFile) {
  write_file(dir_ / "tokenizer_config.json", R"({"eos_token": ["x"]})");
  try {
    Tokenizer::load(dir_.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json: field 'eos_token'"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace nextn::testing
