// Loading tiny checkpoints through the tensor table: rule 3 (shared tensors), rule 5 (skips),
// rule 6 (coverage and load modes), FP8 scales, and contradictions with the config.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/checkpoint.h"
#include "test_util.h"
#include "tiny/tiny_checkpoint.h"
#include "weights/weight_set.h"

namespace nextn {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

// The weights' views point into the checkpoint's mappings: both live together.
struct Loaded {
  Checkpoint checkpoint;
  WeightSet weights;
  const TensorView& get(std::string_view name) const { return weights.get(name); }
};

Loaded load(const std::filesystem::path& dir, LoadOptions options = {}) {
  const ModelConfig config = load_model_config(dir);
  Checkpoint checkpoint = Checkpoint::open(dir);
  WeightSet weights = WeightSet::load(checkpoint, config, options);
  return {std::move(checkpoint), std::move(weights)};
}

// Removes the named tensors from a sharded checkpoint's index, as if the release lacked them.
void drop_from_index(const std::filesystem::path& dir, const std::vector<std::string>& names) {
  const std::filesystem::path index_path = dir / std::string(kIndexFileName);
  auto index = nlohmann::json::parse(testing::read_file(index_path));
  for (const std::string& name : names) {
    ASSERT_EQ(index["weight_map"].erase(name), 1u) << name;
  }
  testing::write_file(index_path, index.dump());
}

template <typename Predicate>
std::vector<std::string> names_where(const std::filesystem::path& dir, Predicate predicate) {
  std::vector<std::string> names;
  const Checkpoint checkpoint = Checkpoint::open(dir);
  for (const std::string& name : checkpoint.tensor_names()) {
    if (predicate(name)) names.push_back(name);
  }
  return names;
}

TEST(TensorTable, NamesAreUniqueAndCanonicalNamesToo) {
  for (Family family : {Family::kDeepseekV3, Family::kGlm4Moe}) {
    const auto table = build_tensor_table(tiny_config({.family = family, .mtp_layers = 2}));
    std::set<std::string> hf;
    std::set<std::string> canonical;
    for (const TensorSpec& spec : table) {
      EXPECT_TRUE(hf.insert(spec.hf_name).second) << spec.hf_name;
      EXPECT_TRUE(canonical.insert(spec.name).second) << spec.name;
    }
  }
}

TEST(TensorTable, DeepseekFp8ScalesHavePartialEdgeBlocks) {
  const ModelConfig config =
      tiny_config({.family = Family::kDeepseekV3, .fp8 = true, .fp8_block = 32});
  const auto table = build_tensor_table(config);
  auto find = [&](const std::string& name) {
    return *std::find_if(table.begin(), table.end(),
                         [&](const TensorSpec& s) { return s.hf_name == name; });
  };
  // kv_a_proj_with_mqa: [kv_lora 40 + rope 8, H 72] -> scale [ceil(48/32), ceil(72/32)] = [2, 3].
  const TensorSpec scale = find("model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv");
  EXPECT_EQ(scale.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(scale.dtype, DType::kF32);
  EXPECT_EQ(find("model.layers.0.self_attn.kv_a_proj_with_mqa.weight").dtype, DType::kF8E4M3);
  // Norms, router, embeddings, eh_proj and the heads stay BF16 (SPEC §2).
  EXPECT_EQ(find("model.layers.1.mlp.gate.weight").dtype, DType::kBF16);
  EXPECT_EQ(find("model.layers.1.mlp.gate.e_score_correction_bias").dtype, DType::kF32);
  EXPECT_EQ(find("model.layers.3.eh_proj.weight").dtype, DType::kBF16);
  EXPECT_EQ(find("lm_head.weight").dtype, DType::kBF16);
}

TEST(WeightLoad, EveryVariantOfBothFamiliesLoads) {
  const std::vector<TinyOptions> variants = {
      {.family = Family::kDeepseekV3},
      {.family = Family::kDeepseekV3, .yarn = true, .fp8 = true, .fp8_block = 32, .shards = 3},
      {.family = Family::kDeepseekV3, .mtp_layers = 2, .mtp_copies = false},
      {.family = Family::kGlm4Moe},
      {.family = Family::kGlm4Moe, .qk_norm = false, .shards = 2},
      {.family = Family::kGlm4Moe, .mtp_copies = false},
      {.family = Family::kGlm4Moe, .fp8 = true, .fp8_block = 32},
      {.family = Family::kGlm4Moe, .fp8 = true,
       .fp8_strategy = QuantizationConfig::Strategy::kChannel},
      {.family = Family::kGlm4Moe, .fp8 = true,
       .fp8_strategy = QuantizationConfig::Strategy::kTensor},
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    SCOPED_TRACE(i);
    ScratchDir dir;
    write_tiny_checkpoint(dir.path(), variants[i]);
    const Loaded loaded = load(dir.path());
    const WeightSet& weights = loaded.weights;
    EXPECT_EQ(weights.size(), weights.plan().tensors.size());
    EXPECT_TRUE(weights.plan().missing.empty());
    EXPECT_TRUE(weights.plan().unused.empty());
    EXPECT_GT(weights.mapped_bytes(), 0u);
  }
}

// Rule 3: the MTP layer's own copies are used when present, the target's otherwise.
TEST(WeightLoadRule3, OwnCopiesWhenPresent) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kGlm4Moe});
  const Loaded loaded = load(dir.path());
  const WeightSet& weights = loaded.weights;
  EXPECT_EQ(weights.get("mtp.embed_tokens.weight").name, "model.layers.3.embed_tokens.weight");
  EXPECT_EQ(weights.get("mtp.0.shared_head.head.weight").name,
            "model.layers.3.shared_head.head.weight");
}

TEST(WeightLoadRule3, TargetTensorsWhenTheCopiesAreMissing) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kGlm4Moe, .mtp_copies = false});
  const Loaded loaded = load(dir.path());
  const WeightSet& weights = loaded.weights;
  EXPECT_EQ(weights.get("mtp.embed_tokens.weight").name, "model.embed_tokens.weight");
  EXPECT_EQ(weights.get("mtp.0.shared_head.head.weight").name, "lm_head.weight");
  // Shared tensors are mapped once.
  const Loaded with_copies = [] {
    ScratchDir other;
    write_tiny_checkpoint(other.path(), {.family = Family::kGlm4Moe});
    return load(other.path());
  }();
  const auto& config = tiny_config({.family = Family::kGlm4Moe});
  const uint64_t copy_bytes = 2 * static_cast<uint64_t>(config.vocab_size * config.hidden_size) * 2;
  EXPECT_EQ(with_copies.weights.mapped_bytes() - weights.mapped_bytes(), copy_bytes);
}

TEST(WeightLoadRule3, ShareTargetCopiesEvenWhenPresent) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kDeepseekV3});
  const Loaded loaded = load(dir.path(), {.share_target_copies = true});
  const WeightSet& weights = loaded.weights;
  EXPECT_EQ(weights.get("mtp.embed_tokens.weight").name, "model.embed_tokens.weight");
  EXPECT_EQ(weights.get("mtp.0.shared_head.head.weight").name, "lm_head.weight");
  EXPECT_THAT(weights.plan().unused, ::testing::Contains("model.layers.3.embed_tokens.weight"));
}

TEST(WeightLoadRule3, OnlyTheFirstMtpEmbeddingIsLoaded) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kDeepseekV3, .mtp_layers = 2});
  const Loaded loaded = load(dir.path());
  const WeightSet& weights = loaded.weights;
  EXPECT_EQ(weights.get("mtp.embed_tokens.weight").name, "model.layers.3.embed_tokens.weight");
  const auto& skipped = weights.plan().skipped;
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].first, "model.layers.4.embed_tokens.weight");
  EXPECT_EQ(skipped[0].second, SkipReason::kExtraMtpEmbedding);
}

// Rule 5 end to end: the extras are skipped with their reasons, nothing else is.
TEST(WeightLoadRule5, ExtrasAreSkipped) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kGlm4Moe, .skip_extras = true});
  const Loaded loaded = load(dir.path());
  const WeightSet& weights = loaded.weights;
  std::map<std::string, SkipReason> skipped(weights.plan().skipped.begin(),
                                            weights.plan().skipped.end());
  EXPECT_EQ(skipped.size(), 4u);
  EXPECT_EQ(skipped["model.layers.0.self_attn.rotary_emb.inv_freq"], SkipReason::kRotaryInvFreq);
  EXPECT_EQ(skipped["model.layers.0.mlp.down_proj.bias"], SkipReason::kOrphanBias);
  EXPECT_EQ(skipped["model.layers.0.mlp.down_proj.weight_scale"], SkipReason::kOrphanWeightScale);
  EXPECT_EQ(skipped["model.layers.0.self_attn.kv_scale"], SkipReason::kLegacyKvScale);
}

// Rule 6: coverage lists every missing name; the load modes need only their part.
TEST(WeightLoadRule6, MissingTensorsAreListed) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kDeepseekV3, .shards = 2});
  drop_from_index(dir.path(), {"model.layers.1.mlp.experts.3.up_proj.weight",
                               "model.layers.0.self_attn.kv_a_layernorm.weight"});
  try {
    load(dir.path());
    FAIL() << "expected a coverage error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 tensor(s) missing"));
    EXPECT_THAT(e.what(), HasSubstr("model.layers.1.mlp.experts.3.up_proj.weight"));
    EXPECT_THAT(e.what(), HasSubstr("model.layers.0.self_attn.kv_a_layernorm.weight"));
  }
}

TEST(WeightLoadRule6, TargetOnlyIgnoresTheMtpLayers) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kGlm4Moe, .shards = 2});
  drop_from_index(dir.path(), names_where(dir.path(), [](const std::string& name) {
                    return name.starts_with("model.layers.3.");
                  }));
  EXPECT_THROW(load(dir.path()), Error);
  EXPECT_THROW(load(dir.path(), {.mode = LoadMode::kMtpOnly}), Error);
  const Loaded loaded = load(dir.path(), {.mode = LoadMode::kTargetOnly});
  const WeightSet& weights = loaded.weights;
  EXPECT_EQ(weights.find("mtp.0.enorm.weight"), nullptr);
  EXPECT_NE(weights.find("layers.2.mlp.experts.0.gate_proj.weight"), nullptr);
}

TEST(WeightLoadRule6, MtpOnlyNeedsOnlyTheMtpLayersAndTheSharedTensors) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(),
                        {.family = Family::kDeepseekV3, .mtp_copies = false, .shards = 2});
  // Drop every target layer and the final norm: an MTP-only load must not care.
  drop_from_index(dir.path(), names_where(dir.path(), [](const std::string& name) {
                    return (name.starts_with("model.layers.") &&
                            !name.starts_with("model.layers.3.")) ||
                           name == "model.norm.weight";
                  }));
  EXPECT_THROW(load(dir.path()), Error);
  const Loaded loaded = load(dir.path(), {.mode = LoadMode::kMtpOnly});
  const WeightSet& weights = loaded.weights;
  EXPECT_EQ(weights.get("mtp.embed_tokens.weight").name, "model.embed_tokens.weight");
  EXPECT_EQ(weights.find("layers.0.input_layernorm.weight"), nullptr);
  EXPECT_NE(weights.find("mtp.0.block.mlp.experts.0.gate_proj.weight"), nullptr);
  // Without the target's embedding the MTP layer has no embedding at all.
  drop_from_index(dir.path(), {"model.embed_tokens.weight"});
  try {
    load(dir.path(), {.mode = LoadMode::kMtpOnly});
    FAIL() << "expected a coverage error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.layers.3.embed_tokens.weight"));
  }
}

TEST(WeightLoadRule1, ATensorPastTheMtpLayersFailsTheLoad) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kDeepseekV3, .mtp_layers = 2});
  // Same weights, but a config that declares one MTP layer: layer 4 is now out of range.
  auto config = nlohmann::json::parse(testing::read_file(dir / "config.json"));
  config["num_nextn_predict_layers"] = 1;
  testing::write_file(dir / "config.json", config.dump());
  try {
    load(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.layers.4."));
  }
}

TEST(WeightLoad, ShapeThatContradictsTheConfigNamesFileAndTensor) {
  ScratchDir dir;
  write_tiny_checkpoint(dir.path(), {.family = Family::kGlm4Moe});
  auto config = nlohmann::json::parse(testing::read_file(dir / "config.json"));
  config["moe_intermediate_size"] = 48;
  testing::write_file(dir / "config.json", config.dump());
  try {
    load(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.safetensors"));
    EXPECT_THAT(e.what(), HasSubstr("mlp.experts.0.gate_proj.weight"));
    EXPECT_THAT(e.what(), HasSubstr("[48, 72]"));
  }
}

TEST(WeightLoad, DtypeThatContradictsTheConfigNamesFileAndTensor) {
  ScratchDir bf16;
  write_tiny_checkpoint(bf16.path(), {.family = Family::kDeepseekV3});
  ScratchDir fp8;
  write_tiny_checkpoint(fp8.path(), {.family = Family::kDeepseekV3, .fp8 = true});
  // FP8 weights under a config without quantization_config.
  std::filesystem::copy_file(bf16 / "config.json", fp8 / "config.json",
                             std::filesystem::copy_options::overwrite_existing);
  try {
    load(fp8.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.safetensors"));
    EXPECT_THAT(e.what(), HasSubstr("model.layers.0.self_attn.q_a_proj.weight"));
    EXPECT_THAT(e.what(), HasSubstr("dtype F8_E4M3 contradicts config.json"));
  }
  // BF16 weights under a config that says FP8: the scales it implies are missing, by name.
  write_tiny_checkpoint(fp8.path(), {.family = Family::kDeepseekV3, .fp8 = true});
  std::filesystem::copy_file(fp8 / "config.json", bf16 / "config.json",
                             std::filesystem::copy_options::overwrite_existing);
  try {
    load(bf16.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.layers.0.self_attn.q_a_proj.weight_scale_inv"));
  }
}

// Block FP8 with partial edge blocks: fp8 × scale[r/b][c/b] reproduces the weight within FP8
// precision (3 mantissa bits: half an ulp is 1/16 of the value's power of two).
TEST(WeightLoad, Fp8BlockScalesDequantizeToTheBf16Weights) {
  ScratchDir plain;
  ScratchDir quantized;
  write_tiny_checkpoint(plain.path(), {.family = Family::kDeepseekV3, .seed = 7});
  write_tiny_checkpoint(quantized.path(),
                        {.family = Family::kDeepseekV3, .fp8 = true, .fp8_block = 32, .seed = 7});
  const Loaded reference = load(plain.path());
  const Loaded loaded = load(quantized.path());
  const WeightSet& weights = loaded.weights;
  const std::string name = "layers.0.self_attn.kv_a_proj_with_mqa.weight";  // [48, 72]
  const TensorView& w = weights.get(name);
  const TensorView& s = weights.get(name + "_scale_inv");
  const TensorView& ref = reference.get(name);
  ASSERT_EQ(w.shape, (std::vector<int64_t>{48, 72}));
  ASSERT_EQ(s.shape, (std::vector<int64_t>{2, 3}));
  const auto* scales = reinterpret_cast<const float*>(s.data.data());
  for (int64_t r = 0; r < 48; ++r) {
    for (int64_t c = 0; c < 72; ++c) {
      const size_t i = static_cast<size_t>(r * 72 + c);
      const float value = fp8_e4m3_to_f32(static_cast<uint8_t>(w.data[i])) *
                          scales[(r / 32) * 3 + c / 32];
      uint16_t bits;
      std::memcpy(&bits, ref.data.data() + 2 * i, 2);
      const float expected = bf16_to_f32(bits);
      // Error bound: half an FP8 step at this magnitude, plus BF16 rounding of the reference.
      const float tolerance = std::fabs(expected) / 16.0f + scales[(r / 32) * 3 + c / 32] / 1024.0f;
      ASSERT_NEAR(value, expected, tolerance + 1e-6f) << "at " << r << "," << c;
    }
  }
}

}  // namespace
}  // namespace nextn
