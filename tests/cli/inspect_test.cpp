// `nextn inspect` on index-only directories of the real releases and on tiny checkpoints.
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

std::string real_config(const std::string& name) {
  return (testing::test_data_dir() / "real_configs" / (name + ".json")).string();
}

nlohmann::json inspect_json(const std::filesystem::path& dir, int expected_exit = 0) {
  const auto result = run_nextn("inspect --json " + dir.string());
  EXPECT_EQ(result.exit_code, expected_exit) << result.output;
  return nlohmann::json::parse(result.output);
}

void make_index(const ScratchDir& dir, const std::string& config, const std::string& extra = "") {
  const auto made = run_nextn("make-tiny --from-config " + real_config(config) + " --out " +
                              dir.path().string() + " " + extra);
  ASSERT_EQ(made.exit_code, 0) << made.output;
}

// DeepSeek-V3: 91,991 tensors, MTP layer 61, ~688.6 GB of FP8 weights. (The release's index
// says total_size 688,586,727,753; the table's tensor bytes come to 688,574,839,360, 0.002%
// less, a gap of the size of the 163 shard headers.)
TEST(InspectRealIndex, DeepseekV3) {
  ScratchDir dir;
  make_index(dir, "deepseek-v3", "--shards 163");
  const auto report = inspect_json(dir.path());
  EXPECT_EQ(report["family"], "deepseek_v3");
  EXPECT_EQ(report["weights_present"], false);
  EXPECT_EQ(report["tensors"], 91991);
  EXPECT_EQ(report["files"], 163);
  EXPECT_EQ(report["layers"]["dense"], 3);
  EXPECT_EQ(report["layers"]["moe"], 58);
  EXPECT_EQ(report["layers"]["mtp"], 1);
  // 776 FP8 projections in each of the 59 MoE layers (58 + MTP), 8 in each dense layer; one
  // F32 scale per FP8 weight plus the 59 router biases; the rest BF16.
  EXPECT_EQ(report["tensors_by_dtype"]["F8_E4M3"], 45808);
  EXPECT_EQ(report["tensors_by_dtype"]["F32"], 45867);
  EXPECT_EQ(report["tensors_by_dtype"]["BF16"], 316);
  const double full = report["load_modes"]["full"]["weight_bytes"].get<double>();
  EXPECT_GT(full, 641e9);
  EXPECT_LT(full, 690e9);
  EXPECT_EQ(report["mtp"]["shared"].size(), 0u);
  EXPECT_THAT(report["mtp"]["own"].dump(), HasSubstr("model.layers.61.embed_tokens.weight"));
  EXPECT_THAT(report["mtp"]["own"].dump(), HasSubstr("model.layers.61.shared_head.head.weight"));
  // KV per token: 576 values per layer (c_kv 512 + k_rope 64) over 61 + 1 layers, fp32.
  EXPECT_EQ(report["load_modes"]["full"]["kv_bytes_per_token"], 576 * 62 * 4);
  EXPECT_EQ(report["coverage_problems"].size(), 0u);
  // MTP-only: the MTP layer's ~11.6 GB plus its own embedding and head copies.
  const double mtp = report["load_modes"]["mtp-only"]["weight_bytes"].get<double>();
  EXPECT_GT(mtp, 10e9);
  EXPECT_LT(mtp, 20e9);
}

TEST(InspectRealIndex, Glm45HasItsMtpLayerAt92) {
  ScratchDir dir;
  make_index(dir, "glm-4.5", "--shards 93");
  const auto report = inspect_json(dir.path());
  EXPECT_EQ(report["family"], "glm4_moe");
  EXPECT_EQ(report["layers"]["dense"], 3);
  EXPECT_EQ(report["layers"]["moe"], 89);
  EXPECT_EQ(report["layers"]["mtp"], 1);
  EXPECT_THAT(report["mtp"]["own"].dump(), HasSubstr("model.layers.92.eh_proj.weight"));
  EXPECT_THAT(report["mtp"]["own"].dump(), HasSubstr("model.layers.92.embed_tokens.weight"));
  // 355B parameters in BF16 (plus the MTP layer's embedding and head copies).
  const double full = report["load_modes"]["full"]["weight_bytes"].get<double>();
  EXPECT_GT(full, 2 * 350e9);
  EXPECT_LT(full, 2 * 365e9);
  // GQA KV: 2 × 8 KV heads × 128 per layer, 93 layers.
  EXPECT_EQ(report["load_modes"]["full"]["kv_bytes_per_token"], 2 * 8 * 128 * 93 * 4);
}

TEST(InspectRealIndex, Glm46SharesTheTargetEmbeddingAndHead) {
  ScratchDir dir;
  make_index(dir, "glm-4.6", "--shards 92 --no-mtp-copies");
  const auto report = inspect_json(dir.path());
  EXPECT_EQ(report["coverage_problems"].size(), 0u);
  const std::string shared = report["mtp"]["shared"].dump();
  EXPECT_THAT(shared, HasSubstr("model.layers.92.embed_tokens.weight <- model.embed_tokens.weight"));
  EXPECT_THAT(shared, HasSubstr("model.layers.92.shared_head.head.weight <- lm_head.weight"));
  EXPECT_THAT(report["mtp"]["own"].dump(), ::testing::Not(HasSubstr("embed_tokens")));
}

TEST(InspectRealIndex, TextReportNamesTheEssentials) {
  ScratchDir dir;
  make_index(dir, "deepseek-v3", "--shards 163");
  const auto result = run_nextn("inspect " + dir.path().string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("deepseek_v3 (DeepseekV3ForCausalLM)"));
  EXPECT_THAT(result.output, HasSubstr("not present"));
  EXPECT_THAT(result.output, HasSubstr("3 dense, 58 MoE, 1 MTP (layer 61)"));
  EXPECT_THAT(result.output, HasSubstr("mtp-only"));
  EXPECT_THAT(result.output, HasSubstr("coverage      ok"));
}

TEST(InspectRealIndex, MissingTensorsAreCoverageProblems) {
  ScratchDir dir;
  make_index(dir, "glm-4.5", "--shards 4");
  auto index = nlohmann::json::parse(testing::read_file(dir / "model.safetensors.index.json"));
  index["weight_map"].erase("model.layers.10.mlp.experts.17.down_proj.weight");
  testing::write_file(dir / "model.safetensors.index.json", index.dump());
  const auto report = inspect_json(dir.path(), 3);
  EXPECT_THAT(report["coverage_problems"].dump(),
              HasSubstr("model.layers.10.mlp.experts.17.down_proj.weight"));
}

// Every tiny variant: the weights are present, sizes come from the headers, and a full load
// reads exactly the index's total (D = 1, no extras).
TEST(InspectTiny, EveryVariant) {
  const std::vector<std::string> variants = {
      "--family deepseek-v3 --shards 2",
      "--family deepseek-v3 --fp8 --fp8-block 32 --shards 3 --yarn",
      "--family deepseek-v3 --no-mtp-copies --shards 2",
      "--family glm4-moe --shards 2",
      "--family glm4-moe --qk-norm off --shards 2",
      "--family glm4-moe --fp8 --fp8-strategy channel --shards 2",
      "--family glm4-moe --no-mtp-copies --shards 2",
  };
  for (const std::string& variant : variants) {
    SCOPED_TRACE(variant);
    ScratchDir dir;
    const auto made = run_nextn("make-tiny " + variant + " --out " + dir.path().string());
    ASSERT_EQ(made.exit_code, 0) << made.output;
    const auto report = inspect_json(dir.path());
    EXPECT_EQ(report["weights_present"], true);
    EXPECT_EQ(report["coverage_problems"].size(), 0u);
    EXPECT_EQ(report["load_modes"]["full"]["weight_bytes"], report["index_total_size"]);
    EXPECT_LT(report["load_modes"]["mtp-only"]["weight_bytes"].get<double>(),
              report["load_modes"]["full"]["weight_bytes"].get<double>());
  }
}

TEST(InspectErrors, MissingDirectoryIsAClearError) {
  const auto result = run_nextn("inspect /nonexistent/model");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("/nonexistent/model"));
}

TEST(CliErrors, BadFlagsGetAMessageAndANonZeroExit) {
  EXPECT_NE(run_nextn("inspect").exit_code, 0);
  EXPECT_NE(run_nextn("make-tiny --out /tmp/x --family llama").exit_code, 0);
  EXPECT_NE(run_nextn("frobnicate").exit_code, 0);
  const auto bad = run_nextn("make-tiny --out /tmp/x --top-k 9 --experts 8");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("num_experts_per_tok"));
}

}  // namespace
}  // namespace nextn
