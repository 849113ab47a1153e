// Damaged files: every truncation and thousands of seeded byte mutations of a valid file must
// parse or throw nextn::Error, never crash or read out of bounds (SPEC §2 "Robustness").
// Run under NEXTN_SANITIZE=ON to make "never out of bounds" an enforced check.
#include <cstring>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "io/io_test_helpers.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace nextn {
namespace {

using testing::as_bytes;
using testing::mentions;
using testing::ScratchDir;
using testing::to_byte_vector;

// A small valid file with every dtype and metadata, as the writer lays it out.
std::string valid_file(const ScratchDir& dir) {
  SafetensorsWriter writer;
  writer.add("model.embed_tokens.weight", DType::kBF16, {2, 3}, to_byte_vector("abcdefghijkl"));
  writer.add("model.layers.0.mlp.down_proj.weight", DType::kF8E4M3, {2, 2}, to_byte_vector("mnop"));
  writer.add("model.layers.0.mlp.down_proj.weight_scale_inv", DType::kF32, {1, 1},
             to_byte_vector("qrst"));
  writer.add("model.norm.weight", DType::kF16, {2}, to_byte_vector("uvwx"));
  writer.set_metadata("format", "pt");
  const auto path = dir / "valid.safetensors";
  writer.write(path);
  return testing::read_file(path);
}

// Reads every byte of every tensor view, so a bad span would trip ASan.
size_t touch_all(std::span<const std::byte> file, const SafetensorsHeader& header) {
  size_t sum = 0;
  for (const auto& entry : header.entries) {
    const auto data = file.subspan(header.data_offset + entry.begin, entry.end - entry.begin);
    for (std::byte b : data) sum += std::to_integer<size_t>(b);
  }
  return sum;
}

TEST(SafetensorsMutation, EveryTruncationThrows) {
  ScratchDir dir;
  const std::string file = valid_file(dir);
  ASSERT_NO_THROW(parse_safetensors_header(as_bytes(file), "valid.safetensors"));
  for (size_t length = 0; length < file.size(); ++length) {
    // A fresh heap copy of exactly `length` bytes, so ASan sees any read past the end.
    const std::string cut = file.substr(0, length);
    try {
      parse_safetensors_header(as_bytes(cut), "cut.safetensors");
      ADD_FAILURE() << "truncation to " << length << " of " << file.size() << " bytes parsed";
    } catch (const Error& e) {
      EXPECT_TRUE(mentions(e.what(), {"cut.safetensors"})) << length;
    }
  }
}

TEST(SafetensorsMutation, TruncatedFileOnDiskNamesFileAndTensor) {
  ScratchDir dir;
  const std::string file = valid_file(dir);
  const auto path = dir / "cut.safetensors";
  testing::write_file(path, file.substr(0, file.size() - 1));  // last tensor loses a byte
  EXPECT_TRUE(mentions(testing::error_message([&] { SafetensorsFile::open(path); }),
                       {path.string(), "model.norm.weight", "truncated"}));
}

TEST(SafetensorsMutation, SeededByteFlipsParseOrThrow) {
  ScratchDir dir;
  const std::string file = valid_file(dir);
  std::mt19937 rng(20240601);
  int parsed = 0;
  int rejected = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    std::string mutated = file;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const size_t at = rng() % mutated.size();
      switch (rng() % 3) {
        case 0:
          mutated[at] = static_cast<char>(mutated[at] ^ (1 << (rng() % 8)));
          break;
        case 1:
          mutated[at] = static_cast<char>(rng());
          break;
        default:
          mutated[at] = "0123456789[]{},:\"-e."[rng() % 20];
          break;  // JSON-ish bytes
      }
    }
    try {
      const auto header = parse_safetensors_header(as_bytes(mutated), "mutated.safetensors");
      touch_all(as_bytes(mutated), header);
      ++parsed;
    } catch (const Error& e) {
      ++rejected;
      ASSERT_TRUE(mentions(e.what(), {"mutated.safetensors"})) << trial;
    }
  }
  // Both outcomes must occur, or the mutations are not reaching the interesting code.
  EXPECT_GT(parsed, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace nextn
