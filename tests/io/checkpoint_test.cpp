// Checkpoint directories (SPEC §2): the index wins when present, shards open lazily, and every
// broken link between index and shards is an error naming the file and the tensor.
#include "io/checkpoint.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/io_test_helpers.h"
#include "test_util.h"

namespace nextn {
namespace {

using testing::error_message;
using testing::mentions;
using testing::ScratchDir;
using testing::to_byte_vector;
using testing::write_file;

constexpr std::string_view kIndexLabel = "model.safetensors.index.json";

std::string index_error(std::string_view json) {
  return error_message([&] { parse_safetensors_index(json, kIndexLabel); });
}

// Writes a shard holding one F8_E4M3 tensor per name, each of `width` bytes filled with its
// name's first letter.
void write_shard(const std::filesystem::path& path, const std::vector<std::string>& names,
                 int64_t width = 4) {
  SafetensorsWriter writer;
  for (const auto& name : names) {
    writer.add(name, DType::kF8E4M3, {width},
               to_byte_vector(std::string(static_cast<size_t>(width), name[0])));
  }
  writer.write(path);
}

// --- parse_safetensors_index -----------------------------------------------------------------

TEST(SafetensorsIndex, ParsesWeightMapAndTotalSize) {
  const auto index =
      parse_safetensors_index(R"({"metadata":{"total_size":1234,"format":"pt"},)"
                              R"("weight_map":{"b.weight":"model-00002-of-00002.safetensors",)"
                              R"("a.weight":"model-00001-of-00002.safetensors"}})",
                              kIndexLabel);
  ASSERT_EQ(index.weight_map.size(), 2u);
  EXPECT_EQ(index.weight_map.at("a.weight"), "model-00001-of-00002.safetensors");
  EXPECT_EQ(index.total_size, 1234u);
}

TEST(SafetensorsIndex, MetadataIsOptionalAndTotalSizeMayBeIntegralFloat) {
  EXPECT_FALSE(parse_safetensors_index(R"({"weight_map":{}})", kIndexLabel).total_size);
  EXPECT_FALSE(
      parse_safetensors_index(R"({"metadata":{},"weight_map":{}})", kIndexLabel).total_size);
  EXPECT_EQ(
      parse_safetensors_index(R"({"metadata":{"total_size":8.0},"weight_map":{}})", kIndexLabel)
          .total_size,
      8u);
}

TEST(SafetensorsIndex, RejectsMalformedDocuments) {
  EXPECT_TRUE(mentions(index_error("{"), {kIndexLabel, "not valid JSON"}));
  EXPECT_TRUE(mentions(index_error("[]"), {kIndexLabel, "not a JSON object"}));
  EXPECT_TRUE(mentions(index_error("{}"), {kIndexLabel, "weight_map"}));
  EXPECT_TRUE(mentions(index_error(R"({"weight_map":[]})"), {kIndexLabel, "weight_map"}));
  EXPECT_TRUE(mentions(index_error(R"({"weight_map":{"x.weight":3}})"),
                       {kIndexLabel, "x.weight", "non-string"}));
  EXPECT_TRUE(
      mentions(index_error(R"({"metadata":[],"weight_map":{}})"), {kIndexLabel, "metadata"}));
  EXPECT_TRUE(mentions(index_error(R"({"metadata":{"total_size":-1},"weight_map":{}})"),
                       {kIndexLabel, "total_size"}));
  EXPECT_TRUE(mentions(index_error(R"({"metadata":{"total_size":"12"},"weight_map":{}})"),
                       {kIndexLabel, "total_size"}));
  EXPECT_TRUE(mentions(index_error(R"({"metadata":{"total_size":1.5},"weight_map":{}})"),
                       {kIndexLabel, "total_size"}));
}

TEST(SafetensorsIndex, RejectsShardNamesOutsideTheDirectory) {
  for (const char* shard :
       {"", ".", "..", "../model.safetensors", "sub/model.safetensors", "/etc/passwd",
        "..\\\\model.safetensors", "a\\\\b.safetensors", "model\\u0000.safetensors"}) {
    const std::string json = std::string(R"({"weight_map":{"x.weight":")") + shard + R"("}})";
    EXPECT_TRUE(mentions(index_error(json), {kIndexLabel, "x.weight", "plain file name"})) << json;
  }
}

// --- Checkpoint ------------------------------------------------------------------------------

TEST(Checkpoint, SingleFileWithoutIndex) {
  ScratchDir dir;
  write_shard(dir / "model.safetensors", {"b.weight", "a.weight"});
  const auto checkpoint = Checkpoint::open(dir.path());
  EXPECT_FALSE(checkpoint.has_index());
  EXPECT_FALSE(checkpoint.index_total_size());
  EXPECT_EQ(checkpoint.tensor_names(), (std::vector<std::string>{"a.weight", "b.weight"}));
  EXPECT_EQ(checkpoint.files(), (std::vector<std::string>{"model.safetensors"}));
  EXPECT_TRUE(checkpoint.weights_present());
  EXPECT_TRUE(checkpoint.contains("a.weight"));
  EXPECT_FALSE(checkpoint.contains("c.weight"));
  EXPECT_EQ(checkpoint.file_of("b.weight"), "model.safetensors");
  const auto view = checkpoint.tensor("b.weight");
  EXPECT_EQ(view.data.size(), 4u);
  EXPECT_EQ(std::to_integer<char>(view.data[0]), 'b');
  EXPECT_NO_THROW(checkpoint.verify());
}

TEST(Checkpoint, ShardedThroughIndex) {
  ScratchDir dir;
  write_shard(dir / "model-00001-of-00002.safetensors", {"a.weight", "b.weight"});
  write_shard(dir / "model-00002-of-00002.safetensors", {"c.weight"}, 8);
  write_shard(dir / "mtp.safetensors", {"m.weight"}, 2);
  write_file(dir / "model.safetensors.index.json",
             R"({"metadata":{"total_size":18},"weight_map":{)"
             R"("a.weight":"model-00001-of-00002.safetensors",)"
             R"("b.weight":"model-00001-of-00002.safetensors",)"
             R"("c.weight":"model-00002-of-00002.safetensors",)"
             R"("m.weight":"mtp.safetensors"}})");
  const auto checkpoint = Checkpoint::open(dir.path());
  EXPECT_TRUE(checkpoint.has_index());
  EXPECT_EQ(checkpoint.index_total_size(), 18u);
  EXPECT_EQ(checkpoint.tensor_names(),
            (std::vector<std::string>{"a.weight", "b.weight", "c.weight", "m.weight"}));
  EXPECT_EQ(checkpoint.files(),
            (std::vector<std::string>{"model-00001-of-00002.safetensors",
                                      "model-00002-of-00002.safetensors", "mtp.safetensors"}));
  EXPECT_TRUE(checkpoint.weights_present());
  EXPECT_EQ(checkpoint.entry("c.weight").shape, (std::vector<int64_t>{8}));
  const auto m = checkpoint.tensor("m.weight");
  EXPECT_EQ(m.file, (dir / "mtp.safetensors").string());
  EXPECT_EQ(m.data.size(), 2u);
  EXPECT_EQ(std::to_integer<char>(m.data[1]), 'm');
  EXPECT_NO_THROW(checkpoint.verify());
}

TEST(Checkpoint, IndexWinsOverSingleFile) {
  ScratchDir dir;
  write_shard(dir / "model.safetensors", {"stale.weight"});
  write_shard(dir / "shard.safetensors", {"fresh.weight"});
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map":{"fresh.weight":"shard.safetensors"}})");
  const auto checkpoint = Checkpoint::open(dir.path());
  EXPECT_TRUE(checkpoint.has_index());
  EXPECT_EQ(checkpoint.tensor_names(), (std::vector<std::string>{"fresh.weight"}));
  EXPECT_FALSE(checkpoint.contains("stale.weight"));
}

TEST(Checkpoint, NoWeightsNamesDirectoryAndBothFiles) {
  ScratchDir dir;
  write_file(dir / "config.json", "{}");
  EXPECT_TRUE(mentions(error_message([&] { Checkpoint::open(dir.path()); }),
                       {dir.path().string(), "model.safetensors.index.json", "model.safetensors"}));
}

TEST(Checkpoint, IndexOnlyDirectoryOpensLazily) {
  ScratchDir dir;
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map":{"a.weight":"s1.safetensors","b.weight":"s2.safetensors"}})");
  const auto checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.tensor_names().size(), 2u);
  EXPECT_EQ(checkpoint.file_of("b.weight"), "s2.safetensors");
  EXPECT_FALSE(checkpoint.weights_present());
}

TEST(Checkpoint, IndexPointingAtMissingShard) {
  ScratchDir dir;
  write_shard(dir / "s1.safetensors", {"a.weight"});
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map":{"a.weight":"s1.safetensors","b.weight":"s2.safetensors"}})");
  const auto checkpoint = Checkpoint::open(dir.path());
  EXPECT_FALSE(checkpoint.weights_present());
  EXPECT_NO_THROW(checkpoint.tensor("a.weight"));
  for (const auto& message : {error_message([&] { checkpoint.entry("b.weight"); }),
                              error_message([&] { checkpoint.tensor("b.weight"); }),
                              error_message([&] { checkpoint.verify(); })}) {
    EXPECT_TRUE(mentions(message, {"s2.safetensors", "b.weight", "missing"}));
  }
}

TEST(Checkpoint, TensorListedInIndexButMissingFromShard) {
  ScratchDir dir;
  write_shard(dir / "s1.safetensors", {"a.weight"});
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map":{"a.weight":"s1.safetensors","ghost.weight":"s1.safetensors"}})");
  const auto checkpoint = Checkpoint::open(dir.path());
  EXPECT_TRUE(checkpoint.weights_present());
  for (const auto& message : {error_message([&] { checkpoint.tensor("ghost.weight"); }),
                              error_message([&] { checkpoint.verify(); })}) {
    EXPECT_TRUE(mentions(message, {(dir / "s1.safetensors").string(), "ghost.weight",
                                   "listed in model.safetensors.index.json but missing"}));
  }
}

TEST(Checkpoint, CorruptShardNamesShardAndTensor) {
  ScratchDir dir;
  write_file(dir / "s1.safetensors",
             testing::safetensors_bytes(R"({"a.weight":{"dtype":"I64","shape":[1],)"
                                        R"("data_offsets":[0,8]}})",
                                        std::string(8, 'x')));
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map":{"a.weight":"s1.safetensors"}})");
  const auto checkpoint = Checkpoint::open(dir.path());
  EXPECT_TRUE(mentions(error_message([&] { checkpoint.tensor("a.weight"); }),
                       {(dir / "s1.safetensors").string(), "a.weight", "I64"}));
}

TEST(Checkpoint, CorruptSingleFileFailsAtOpen) {
  ScratchDir dir;
  write_file(dir / "model.safetensors", std::string(4, '\0'));
  EXPECT_TRUE(mentions(error_message([&] { Checkpoint::open(dir.path()); }),
                       {(dir / "model.safetensors").string(), "too short"}));
}

TEST(Checkpoint, BadIndexNamesIndexFile) {
  ScratchDir dir;
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map":{"x.weight":"../outside.safetensors"}})");
  EXPECT_TRUE(mentions(error_message([&] { Checkpoint::open(dir.path()); }),
                       {(dir / "model.safetensors.index.json").string(), "x.weight"}));
}

TEST(Checkpoint, UnknownTensorNamesDirectoryAndTensor) {
  ScratchDir dir;
  write_shard(dir / "model.safetensors", {"a.weight"});
  const auto checkpoint = Checkpoint::open(dir.path());
  for (const auto& message : {error_message([&] { checkpoint.file_of("nope.weight"); }),
                              error_message([&] { checkpoint.entry("nope.weight"); }),
                              error_message([&] { checkpoint.tensor("nope.weight"); })}) {
    EXPECT_TRUE(mentions(message, {dir.path().string(), "nope.weight"}));
  }
}

TEST(Checkpoint, MovedCheckpointKeepsWorking) {
  ScratchDir dir;
  write_shard(dir / "s1.safetensors", {"a.weight"});
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map":{"a.weight":"s1.safetensors"}})");
  auto first = Checkpoint::open(dir.path());
  const Checkpoint second = std::move(first);
  EXPECT_EQ(second.tensor("a.weight").data.size(), 4u);
}

}  // namespace
}  // namespace nextn
