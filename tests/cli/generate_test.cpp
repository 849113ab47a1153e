// `nextn generate` as a user runs it: --json output, flags, and clear errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/run_command.h"
#include "test_util.h"

namespace nextn {
namespace {

using ::testing::HasSubstr;
using testing::run_nextn;
using testing::ScratchDir;

class GenerateCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto made = run_nextn("make-tiny --family glm4-moe --vocab 32 --predictable --out " +
                                dir_.path().string());
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  nlohmann::json generate_json(const std::string& flags) {
    const auto result = run_nextn("generate --model " + dir_.path().string() +
                                  " --prompt-tokens 3,4,5 -n 24 --ignore-eos --json " + flags);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return nlohmann::json::parse(result.output);
  }
  ScratchDir dir_;
};

TEST_F(GenerateCommand, JsonHasTokensAndVllmStats) {
  const auto out = generate_json("--temperature 0 --spec-tokens 3");
  EXPECT_EQ(out["tokens"].size(), 24u);
  const auto& stats = out["stats"];
  for (const char* key :
       {"drafts", "draft_tokens", "accepted_tokens", "acceptance_rate", "mean_acceptance_length",
        "per_position", "prefill_tokens_per_second", "decode_tokens_per_second", "target_seconds",
        "mtp_seconds", "verify_seconds"}) {
    EXPECT_TRUE(stats.contains(key)) << key;
  }
  EXPECT_EQ(stats["per_position"].size(), 3u);
  EXPECT_GT(stats["accepted_tokens"].get<int>(), 0);
}

TEST_F(GenerateCommand, GreedyTextIsTheSameWithAndWithoutSpeculation) {
  const auto plain = generate_json("--temperature 0 --spec-tokens 0")["tokens"];
  EXPECT_EQ(generate_json("--temperature 0 --spec-tokens 3")["tokens"], plain);
  EXPECT_EQ(generate_json("--temperature 0 --spec-tokens auto")["tokens"], plain);
  EXPECT_EQ(generate_json("--temperature 0 --spec-tokens 2 --draft-sampling sample "
                          "--mtp-hidden pre-norm --mtp-pos0-mask off --threads 1")["tokens"],
            plain);
}

TEST_F(GenerateCommand, SameSeedSameTokens) {
  // A fixed K (or 0): with --spec-tokens auto the draft lengths follow measured times, so the
  // random draws, and with them the sampled text, may differ between runs (its distribution
  // does not).
  for (const char* k : {"0", "3"}) {
    const std::string flags =
        std::string(
            "--temperature 0.8 --top-k 10 --top-p 0.9 --min-p 0.01 --seed 7 --spec-tokens ") +
        k;
    EXPECT_EQ(generate_json(flags)["tokens"], generate_json(flags)["tokens"]) << k;
  }
}

TEST_F(GenerateCommand, StreamsTokensThenStatistics) {
  const auto result = run_nextn("generate --model " + dir_.path().string() +
                                " --prompt-tokens 3,4,5 -n 8 --temperature 0 --spec-tokens 2");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("mean acceptance length"));
  EXPECT_THAT(result.output, HasSubstr("per position"));
}

TEST_F(GenerateCommand, BadFlagsAreClearErrors) {
  const std::string model = " --model " + dir_.path().string();
  auto bad = run_nextn("generate" + model + " --prompt-tokens 3,4 --spec-tokens many");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("--spec-tokens"));
  bad = run_nextn("generate" + model + " --prompt-tokens 3,40");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("token id 40"));
  bad = run_nextn("generate" + model + " --prompt-tokens 3 --temperature -1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.output, HasSubstr("--temperature"));
  bad = run_nextn("generate" + model + " --prompt-tokens 3 --draft-sampling maybe");
  EXPECT_NE(bad.exit_code, 0);
  bad = run_nextn("generate" + model + " --prompt-tokens ''");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("--prompt-tokens"));
  bad = run_nextn("generate --model /nonexistent --prompt-tokens 1");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("/nonexistent"));
  // The kernel-table override names itself and the tables this CPU has.
  bad = run_nextn("generate" + model + " --prompt-tokens 3 -n 2", "NEXTN_KERNELS=sse1");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("NEXTN_KERNELS=sse1"));
  EXPECT_THAT(bad.output, HasSubstr("portable"));
}

TEST(GenerateWithoutMtp, AutoFallsBackToPlainDecodingAndAFixedKIsAnError) {
  ScratchDir dir;
  ASSERT_EQ(run_nextn("make-tiny --mtp-layers 0 --out " + dir.path().string()).exit_code, 0);
  const std::string base = "generate --model " + dir.path().string() + " --prompt-tokens 1,2 -n 4";
  EXPECT_EQ(run_nextn(base + " --json").exit_code, 0);
  const auto bad = run_nextn(base + " --spec-tokens 2");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("num_nextn_predict_layers"));
}

}  // namespace
}  // namespace nextn

namespace nextn {
namespace {

TEST(BenchCommand, ReportsEveryFigureAgainstTheMeasuredBandwidth) {
  testing::ScratchDir dir;
  ASSERT_EQ(testing::run_nextn("make-tiny --out " + dir.path().string()).exit_code, 0);
  const auto result = testing::run_nextn("bench --json --model " + dir.path().string() +
                                         " --prompt 16 --decode 4 --repeats 2 --max-verify 3");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto out = nlohmann::json::parse(result.output);
  EXPECT_GT(out["memory_bandwidth_gb_per_s"].get<double>(), 0.1);
  EXPECT_GT(out["prefill"]["tokens_per_second"].get<double>(), 0.0);
  EXPECT_GT(out["decode"]["weight_bytes_per_token"].get<double>(), 0.0);
  EXPECT_GT(out["decode"]["fraction_of_bandwidth"].get<double>(), 0.0);
  EXPECT_GT(out["decode"]["adjacent_bandwidth_gb_per_s"].get<double>(), 0.1);
  EXPECT_GT(out["decode"]["fraction_of_adjacent_bandwidth"].get<double>(), 0.0);
  ASSERT_EQ(out["verify"].size(), 3u);
  for (const auto& v : out["verify"]) {
    EXPECT_GT(v["adjacent_bandwidth_time_ratio"].get<double>(), 0.0);
  }
  // More tokens in a verify pass can only touch as many or more distinct experts and bytes.
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_GE(out["verify"][i]["distinct_experts"], out["verify"][i - 1]["distinct_experts"]);
    EXPECT_GE(out["verify"][i]["weight_bytes"], out["verify"][i - 1]["weight_bytes"]);
  }
  EXPECT_GT(out["mtp_step"]["weight_bytes"].get<double>(), 0.0);
}

}  // namespace
}  // namespace nextn
