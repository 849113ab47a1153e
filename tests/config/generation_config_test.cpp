// generation_config.json: eos as a number or a list, the publishers' sampling defaults.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/generation_config.h"
#include "core/error.h"
#include "test_util.h"

namespace nextn {
namespace {

using nlohmann::json;

GenerationConfig parse(const json& config) {
  return parse_generation_config(config.dump(), "generation_config.json");
}

std::string error_of(const json& config) {
  try {
    parse(config);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an Error for " << config.dump();
  return "";
}

TEST(GenerationConfig, DeepseekR1ScalarEos) {
  // deepseek-ai/DeepSeek-R1 generation_config.json.
  const GenerationConfig c = parse_generation_config(
      R"({"_from_model_config": true, "bos_token_id": 0, "eos_token_id": 1, "do_sample": true,
          "temperature": 0.6, "top_p": 0.95, "transformers_version": "4.39.3"})",
      "generation_config.json");
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{1});
  EXPECT_EQ(c.do_sample, true);
  EXPECT_EQ(c.temperature, 0.6);
  EXPECT_EQ(c.top_p, 0.95);
  EXPECT_FALSE(c.top_k.has_value());
}

TEST(GenerationConfig, Glm47ListEos) {
  // zai-org/GLM-4.7 generation_config.json.
  const GenerationConfig c = parse_generation_config(
      R"({"_from_model_config": true, "eos_token_id": [151329, 151336, 151338],
          "pad_token_id": 151329, "temperature": 1.0, "transformers_version": "4.56.2"})",
      "generation_config.json");
  EXPECT_FALSE(c.bos_token_id.has_value());
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{151329, 151336, 151338}));
  EXPECT_FALSE(c.do_sample.has_value());
  EXPECT_EQ(c.temperature, 1.0);
  EXPECT_FALSE(c.top_p.has_value());
}

TEST(GenerationConfig, EmptyObject) {
  EXPECT_EQ(parse(json::object()), GenerationConfig{});
}

TEST(GenerationConfig, TopK) {
  EXPECT_EQ(parse({{"top_k", 40}}).top_k, 40);
  EXPECT_EQ(parse({{"top_k", 0}}).top_k, 0);
}

TEST(GenerationConfig, NullsAreAbsent) {
  const GenerationConfig c =
      parse({{"bos_token_id", nullptr}, {"eos_token_id", nullptr}, {"temperature", nullptr}});
  EXPECT_EQ(c, GenerationConfig{});
}

TEST(GenerationConfig, RoundTripScalarAndListEos) {
  const std::vector<GenerationConfig> cases = {
      GenerationConfig{},
      GenerationConfig{.bos_token_id = 0,
                       .eos_token_ids = {1},
                       .do_sample = true,
                       .temperature = 0.6,
                       .top_p = 0.95},
      GenerationConfig{.eos_token_ids = {151329, 151336, 151338}, .temperature = 1.0},
      GenerationConfig{.eos_token_ids = {2}, .do_sample = false, .top_k = 20},
  };
  for (const GenerationConfig& c : cases) {
    const std::string text = generation_config_to_json(c);
    EXPECT_EQ(parse_generation_config(text, "round trip"), c) << text;
  }
}

TEST(GenerationConfig, ToJsonWritesScalarForOneEos) {
  const json out = json::parse(generation_config_to_json({.eos_token_ids = {1}}));
  EXPECT_EQ(out["eos_token_id"], 1);
  const json list = json::parse(generation_config_to_json({.eos_token_ids = {1, 2}}));
  EXPECT_EQ(list["eos_token_id"], json({1, 2}));
  EXPECT_FALSE(list.contains("temperature"));
}

TEST(GenerationConfig, LoadAbsentIsNullopt) {
  testing::ScratchDir dir;
  EXPECT_FALSE(load_generation_config(dir.path()).has_value());
}

TEST(GenerationConfig, LoadPresent) {
  testing::ScratchDir dir;
  testing::write_file(dir / "generation_config.json", R"({"eos_token_id": [5, 6]})");
  const std::optional<GenerationConfig> c = load_generation_config(dir.path());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->eos_token_ids, (std::vector<int64_t>{5, 6}));
}

TEST(GenerationConfig, LoadMalformedNamesFile) {
  testing::ScratchDir dir;
  testing::write_file(dir / "generation_config.json", "{oops");
  try {
    load_generation_config(dir.path());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("generation_config.json"), std::string::npos) << e.what();
  }
}

TEST(GenerationConfigError, EosString) {
  const std::string message = error_of({{"eos_token_id", "</s>"}});
  EXPECT_NE(message.find("generation_config.json: field 'eos_token_id'"), std::string::npos)
      << message;
}

TEST(GenerationConfigError, NegativeTemperature) {
  EXPECT_NE(error_of({{"temperature", -0.1}}).find("'temperature'"), std::string::npos);
}

TEST(GenerationConfigError, TopPOutOfRange) {
  EXPECT_NE(error_of({{"top_p", 1.5}}).find("'top_p'"), std::string::npos);
  EXPECT_NE(error_of({{"top_p", 0}}).find("'top_p'"), std::string::npos);
}

TEST(GenerationConfigError, TopKNegative) {
  EXPECT_NE(error_of({{"top_k", -1}}).find("'top_k'"), std::string::npos);
}

TEST(GenerationConfigError, DoSampleNotBool) {
  EXPECT_NE(error_of({{"do_sample", "yes"}}).find("'do_sample'"), std::string::npos);
}

TEST(GenerationConfigError, BosNotNumber) {
  EXPECT_NE(error_of({{"bos_token_id", "<s>"}}).find("'bos_token_id'"), std::string::npos);
}

}  // namespace
}  // namespace nextn
