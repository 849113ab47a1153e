// The text commands as a user runs them: `nextn tokenize` on the real DeepSeek-V3 tokenizer,
// `nextn generate --prompt / --chat` and `nextn chat` on tiny checkpoints with a tokenizer,
// and the clear errors for bad input.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/interactive_process.h"
#include "cli/run_command.h"
#include "test_util.h"

namespace nextn {
namespace {

using ::testing::HasSubstr;
using testing::InteractiveProcess;
using ::testing::Not;
using testing::run_nextn;
using testing::ScratchDir;

const std::filesystem::path kDeepseekTokenizer =
    std::filesystem::path(NEXTN_TOKENIZER_CACHE_DIR) / "deepseek-v3";

void require_deepseek_tokenizer() {
  ASSERT_TRUE(std::filesystem::exists(kDeepseekTokenizer / "tokenizer.json"))
      << kDeepseekTokenizer << " is missing: run scripts/fetch_tokenizers.sh";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(TokenizeCommand, JsonIdsAndPiecesOfTheRealTokenizer) {
  require_deepseek_tokenizer();
  const auto result = run_nextn("tokenize --json --no-special --model " +
                                kDeepseekTokenizer.string() + " 'Hello world! 123456'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto out = nlohmann::json::parse(result.output);
  // Ids of @huggingface/tokenizers on the same tokenizer.json.
  EXPECT_EQ(out["ids"], nlohmann::json::parse("[19923, 2058, 3, 223, 6895, 18009]"));
  EXPECT_EQ(out["pieces"], nlohmann::json::parse(R"(["Hello", "Ġworld", "!", "Ġ", "123", "456"])"));
}

TEST(TokenizeCommand, AddsBosAsTheTokenizerConfigSaysAndReadsStandardInput) {
  require_deepseek_tokenizer();
  ScratchDir dir;
  write_file(dir / "in.txt", "Hello");
  const auto result = run_nextn("tokenize --json --model " + kDeepseekTokenizer.string() + " - < " +
                                (dir / "in.txt").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // add_bos_token is true for DeepSeek-V3: <｜begin▁of▁sentence｜> is id 0.
  EXPECT_EQ(nlohmann::json::parse(result.output)["ids"], nlohmann::json::parse("[0, 19923]"));
}

TEST(TokenizeCommand, PlainOutputShowsIdsPiecesAndText) {
  require_deepseek_tokenizer();
  const auto result =
      run_nextn("tokenize --no-special --model " + kDeepseekTokenizer.string() + " 'a\nb'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("'\\n'"));
  EXPECT_THAT(result.output, HasSubstr("3 tokens"));
}

TEST(TokenizeCommand, ClearErrors) {
  ScratchDir dir;
  auto bad = run_nextn("tokenize --model " + dir.path().string() + " hello");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("tokenizer.json"));
  // A tokenizer.json of another kind (a Unigram model) names the type it does not support.
  write_file(dir / "tokenizer.json",
             R"({"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
                 "post_processor": null, "decoder": null,
                 "model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", 0.0]]}})");
  bad = run_nextn("tokenize --model " + dir.path().string() + " hello");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("Unigram"));
  write_file(dir / "tokenizer.json", "{not json");
  bad = run_nextn("tokenize --model " + dir.path().string() + " hello");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("tokenizer.json"));
}

class TextCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto made =
        run_nextn("make-tiny --vocab 300 --predictable --tokenizer --out " + dir_.path().string());
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  nlohmann::json generate_json(const std::string& flags) {
    const auto result = run_nextn("generate --json --model " + dir_.path().string() + " " + flags);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return nlohmann::json::parse(result.output);
  }
  std::string model() const { return " --model " + dir_.path().string(); }
  ScratchDir dir_;
};

TEST_F(TextCommands, GreedyTextIsTheSameWithAndWithoutSpeculation) {
  const std::string prompt = "-p 'The quick brown fox' -n 32 --ignore-eos --temperature 0";
  const auto plain = generate_json(prompt + " --spec-tokens 0");
  EXPECT_EQ(plain["tokens"].size(), 32u);
  for (const char* k : {"1", "3", "auto"}) {
    const auto spec = generate_json(prompt + " --spec-tokens " + k);
    EXPECT_EQ(spec["text"], plain["text"]) << k;
    EXPECT_EQ(spec["tokens"], plain["tokens"]) << k;
  }
  EXPECT_EQ(plain["finish_reason"], "length");
  // BOS first (add_bos_token), then the prompt's tokens.
  EXPECT_EQ(plain["prompt_tokens"][0], 0);
}

TEST_F(TextCommands, ChatWrapsThePromptInTheTemplate) {
  const auto plain = generate_json("-p Hi -n 4 --temperature 0");
  const auto chat = generate_json("-p Hi --chat --system 'Be brief.' -n 4 --temperature 0");
  // <｜begin▁of▁sentence｜> + system + <｜User｜> + "Hi" + <｜Assistant｜>: ids 0, 2 and 3.
  const auto& ids = chat["prompt_tokens"];
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 0), 1) << ids;  // one BOS, from the template
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 1) << ids;
  EXPECT_EQ(ids.back(), 3);
  EXPECT_GT(ids.size(), plain["prompt_tokens"].size());
}

TEST_F(TextCommands, StreamsTextThenStatistics) {
  const auto result =
      run_nextn("generate" + model() + " -p 'Hello' -n 16 --spec-tokens 2 --ignore-eos");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("mean acceptance length"));
}

TEST_F(TextCommands, StopStringEndsTheText) {
  const auto full = generate_json("-p 'The dog' -n 24 --ignore-eos --temperature 0");
  const std::string text = full["text"];
  ASSERT_GE(text.size(), 6u);
  const std::string stop = text.substr(3, 2);
  const nlohmann::json stop_arg = stop;  // JSON-quoted, then shell-quoted below
  ScratchDir args;
  write_file(args / "stop", stop);
  const auto cut = generate_json("-p 'The dog' -n 24 --ignore-eos --temperature 0 --stop \"$(cat " +
                                 (args / "stop").string() + ")\"");
  EXPECT_EQ(cut["text"], text.substr(0, text.find(stop)));
  EXPECT_EQ(cut["finish_reason"], "stop");
}

TEST_F(TextCommands, BadTextInputIsAClearError) {
  auto bad = run_nextn("generate" + model() + " -p ''");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("--prompt is empty"));
  bad = run_nextn("generate" + model() + " -p hi --prompt-tokens 1,2");
  EXPECT_NE(bad.exit_code, 0);
  bad = run_nextn("generate" + model());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.output, HasSubstr("--prompt"));
  bad = run_nextn("generate" + model() + " -p hi --chat --chat-kwargs '[1]'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("--chat-kwargs"));
  bad = run_nextn("generate" + model() + " --prompt-tokens 1 --chat");
  EXPECT_NE(bad.exit_code, 0);
}

TEST_F(TextCommands, UnsupportedTemplateFeatureFailsAtLoadNamingTheFile) {
  auto config = nlohmann::json::parse(std::ifstream(dir_ / "tokenizer_config.json"));
  config["chat_template"] = "{% for m in messages %}{{ m.content | wordcount }}{% endfor %}";
  write_file(dir_ / "tokenizer_config.json", config.dump());
  const auto bad = run_nextn("generate" + model() + " -p hi --chat");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("tokenizer_config.json"));
  EXPECT_THAT(bad.output, HasSubstr("wordcount"));
}

TEST_F(TextCommands, ChatKeepsTheConversationAndShowsStatistics) {
  InteractiveProcess chat({"chat", "--model", dir_.path().string(), "-n", "8", "--temperature", "0",
                           "--spec-tokens", "3"});
  ASSERT_TRUE(chat.started());
  ASSERT_TRUE(chat.wait_for("> ")) << chat.output();
  chat.type("Hello there\n");
  ASSERT_TRUE(chat.wait_for("mean acceptance length")) << chat.output();
  chat.type("/stats\n");
  ASSERT_TRUE(chat.wait_for("this chat (1 replies)")) << chat.output();
  const size_t after_stats = chat.output().size();
  chat.type("And a second \\\nline\n");  // a backslash continues the message
  ASSERT_TRUE(chat.wait_for("mean acceptance length", after_stats)) << chat.output();
  chat.type("/stats\n");
  ASSERT_TRUE(chat.wait_for("this chat (2 replies)")) << chat.output();
  chat.type("/bogus\n");
  ASSERT_TRUE(chat.wait_for("unknown command /bogus")) << chat.output();
  chat.close_stdin();  // Ctrl-D
  EXPECT_EQ(chat.wait_exit(), 0) << chat.output();
  EXPECT_THAT(chat.output(), Not(HasSubstr("error")));
}

TEST_F(TextCommands, CtrlCStopsAReplyAndCtrlCAtThePromptLeaves) {
  InteractiveProcess chat({"chat", "--model", dir_.path().string(), "-n", "1000000", "--ctx",
                           "1000000", "--ignore-eos", "--threads", "1", "--spec-tokens", "2"});
  ASSERT_TRUE(chat.started());
  ASSERT_TRUE(chat.wait_for("> ")) << chat.output();
  const size_t before = chat.output().size();
  chat.type("Tell me everything\n");
  // Wait for the reply to start streaming, then press Ctrl-C.
  ASSERT_TRUE(chat.wait_for_more(before + 16)) << chat.output();
  chat.interrupt();
  ASSERT_TRUE(chat.wait_for("[stopped]", before)) << chat.output();
  ASSERT_TRUE(chat.wait_for("> ", chat.output().find("[stopped]"))) << chat.output();
  chat.interrupt();  // at the prompt: leave
  EXPECT_EQ(chat.wait_exit(), 0) << chat.output();
}

TEST(ChatCommand, ModelWithoutATemplateIsAClearError) {
  ScratchDir dir;
  ASSERT_EQ(run_nextn("make-tiny --vocab 300 --tokenizer --out " + dir.path().string()).exit_code,
            0);
  auto config = nlohmann::json::parse(std::ifstream(dir / "tokenizer_config.json"));
  config.erase("chat_template");
  write_file(dir / "tokenizer_config.json", config.dump());
  const auto bad = run_nextn("chat --model " + dir.path().string() + " < /dev/null");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("chat_template"));
}

}  // namespace
}  // namespace nextn
