// The safetensors reader and writer (SPEC §2): one test per robustness case, each checking
// that the error names the file and the tensor, plus writer → reader round trips.
#include "io/safetensors.h"

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/io_test_helpers.h"
#include "test_util.h"

namespace nextn {
namespace {

using testing::as_bytes;
using testing::error_message;
using testing::mentions;
using testing::safetensors_bytes;
using testing::ScratchDir;
using testing::to_byte_vector;
using testing::write_file;

constexpr std::string_view kLabel = "bad.safetensors";

// Parses an in-memory file and returns the error message.
std::string header_error(const std::string& file) {
  return error_message([&] { parse_safetensors_header(as_bytes(file), kLabel); });
}

// Writes the bytes to disk and opens them, so the message must carry the real path.
std::string open_error(const ScratchDir& dir, const std::string& file) {
  const auto path = dir / "bad.safetensors";
  write_file(path, file);
  return error_message([&] { SafetensorsFile::open(path); });
}

// --- valid files --------------------------------------------------------------------------

TEST(SafetensorsHeader, ParsesEntriesSortedByNameWithMetadata) {
  const std::string file =
      safetensors_bytes(R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("a":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]},)"
                        R"("__metadata__":{"format":"pt"}})",
                        std::string(12, 'x'));
  const auto header = parse_safetensors_header(as_bytes(file), kLabel);
  ASSERT_EQ(header.entries.size(), 2u);
  EXPECT_EQ(header.entries[0].name, "a");
  EXPECT_EQ(header.entries[0].dtype, DType::kBF16);
  EXPECT_EQ(header.entries[0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(header.entries[0].begin, 8u);
  EXPECT_EQ(header.entries[0].end, 12u);
  EXPECT_EQ(header.entries[1].name, "b");
  EXPECT_EQ(header.metadata.at("format"), "pt");
  EXPECT_EQ(header.data_offset, file.size() - 12);
}

TEST(SafetensorsHeader, AcceptsEmptyHeaderScalarsEmptyTensorsAndGaps) {
  const std::string file =
      safetensors_bytes(R"({"scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                        R"("empty1":{"dtype":"F16","shape":[0,5],"data_offsets":[4,4]},)"
                        R"("empty2":{"dtype":"F16","shape":[0],"data_offsets":[4,4]},)"
                        R"("after_gap":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[6,8]}})",
                        std::string(8, 'x'));
  const auto header = parse_safetensors_header(as_bytes(file), kLabel);
  EXPECT_EQ(header.entries.size(), 4u);
  EXPECT_TRUE(parse_safetensors_header(as_bytes(safetensors_bytes("{}")), kLabel).entries.empty());
  EXPECT_TRUE(
      parse_safetensors_header(as_bytes(safetensors_bytes("  {} \n")), kLabel).entries.empty());
}

// --- SPEC §2 robustness: each case throws an Error naming the file and the tensor ----------

TEST(SafetensorsRobustness, FileShorterThanSizePrefix) {
  for (size_t length = 0; length < 8; ++length) {
    EXPECT_TRUE(mentions(header_error(std::string(length, '\0')), {kLabel, "too short"}));
  }
}

TEST(SafetensorsRobustness, HeaderLargerThanFile) {
  std::string file = safetensors_bytes("{}");
  file[0] = 100;  // claims a 100-byte header, 2 bytes follow
  EXPECT_TRUE(mentions(header_error(file), {kLabel, "header size 100", "truncated"}));
  std::string huge(8, '\xff');
  EXPECT_TRUE(mentions(header_error(huge + "{}"), {kLabel, "header size"}));
}

TEST(SafetensorsRobustness, HeaderAboveSizeLimit) {
  ScratchDir dir;
  const auto path = dir / "bad.safetensors";
  const uint64_t header_size = 100'000'001;
  write_file(path, safetensors_bytes(std::string()));
  {
    // Rewrite the prefix, then grow the file sparsely so the prefix fits it.
    std::string prefix(8, '\0');
    for (size_t i = 0; i < 8; ++i) prefix[i] = static_cast<char>((header_size >> (8 * i)) & 0xff);
    write_file(path, prefix);
    std::filesystem::resize_file(path, 8 + header_size);
  }
  EXPECT_TRUE(mentions(error_message([&] { SafetensorsFile::open(path); }),
                       {"bad.safetensors", "exceeds", "limit"}));
}

TEST(SafetensorsRobustness, HeaderNotJson) {
  EXPECT_TRUE(mentions(header_error(safetensors_bytes("{\"a\":")), {kLabel, "not valid JSON"}));
  EXPECT_TRUE(mentions(header_error(safetensors_bytes("")), {kLabel, "not valid JSON"}));
  EXPECT_TRUE(mentions(header_error(safetensors_bytes(std::string("{}\0", 3))),
                       {kLabel, "not valid JSON"}));
}

TEST(SafetensorsRobustness, HeaderInvalidUtf8) {
  EXPECT_TRUE(
      mentions(header_error(safetensors_bytes("{\"\xff\xfe\":{}}")), {kLabel, "not valid JSON"}));
}

TEST(SafetensorsRobustness, HeaderNestedTooDeep) {
  const std::string deep = "{\"t\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_TRUE(mentions(header_error(safetensors_bytes(deep)), {kLabel, "nests deeper"}));
}

TEST(SafetensorsRobustness, HeaderNotObject) {
  EXPECT_TRUE(mentions(header_error(safetensors_bytes("[1,2]")), {kLabel, "not a JSON object"}));
  EXPECT_TRUE(mentions(header_error(safetensors_bytes("\"x\"")), {kLabel, "not a JSON object"}));
}

TEST(SafetensorsRobustness, EntryNotObject) {
  EXPECT_TRUE(mentions(header_error(safetensors_bytes(R"({"w.weight":[1]})")),
                       {kLabel, "w.weight", "not a JSON object"}));
}

TEST(SafetensorsRobustness, MissingOrWrongTypedDtype) {
  for (const char* header : {R"({"w.weight":{"shape":[1],"data_offsets":[0,4]}})",
                             R"({"w.weight":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})"}) {
    EXPECT_TRUE(
        mentions(header_error(safetensors_bytes(header, "abcd")), {kLabel, "w.weight", "dtype"}));
  }
}

TEST(SafetensorsRobustness, UnknownDtypeNamesTensorAndDtype) {
  ScratchDir dir;
  const auto message = open_error(
      dir, safetensors_bytes(R"({"w.weight":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
                             std::string(8, 'x')));
  EXPECT_TRUE(mentions(message, {(dir / "bad.safetensors").string(), "w.weight", "F64"}));
}

TEST(SafetensorsRobustness, MissingOrWrongTypedShape) {
  for (const char* header :
       {R"({"w.weight":{"dtype":"F32","data_offsets":[0,4]}})",
        R"({"w.weight":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})",
        R"({"w.weight":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})",
        R"({"w.weight":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})"}) {
    EXPECT_TRUE(
        mentions(header_error(safetensors_bytes(header, "abcd")), {kLabel, "w.weight", "shape"}))
        << header;
  }
}

TEST(SafetensorsRobustness, NegativeDimension) {
  EXPECT_TRUE(mentions(header_error(safetensors_bytes(
                           R"({"w.weight":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}})",
                           std::string(16, 'x'))),
                       {kLabel, "w.weight", "negative dimension"}));
  EXPECT_TRUE(mentions(
      header_error(safetensors_bytes(
          R"({"w.weight":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})",
          "abcd")),
      {kLabel, "w.weight", "too large"}));
}

TEST(SafetensorsRobustness, MissingOrMalformedDataOffsets) {
  for (const char* header :
       {R"({"w.weight":{"dtype":"F32","shape":[1]}})",
        R"({"w.weight":{"dtype":"F32","shape":[1],"data_offsets":[0]}})",
        R"({"w.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})",
        R"({"w.weight":{"dtype":"F32","shape":[1],"data_offsets":{"a":0,"b":4}}})",
        R"({"w.weight":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})",
        R"({"w.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})",
        R"({"w.weight":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}})"}) {
    EXPECT_TRUE(mentions(header_error(safetensors_bytes(header, "abcd")),
                         {kLabel, "w.weight", "data_offsets"}))
        << header;
  }
}

TEST(SafetensorsRobustness, ByteSizeOverflow) {
  // 2^32 × 2^32 elements: the product wraps to 0 in 64 bits, which an unchecked multiply
  // would accept against data_offsets [0, 0].
  EXPECT_TRUE(mentions(
      header_error(safetensors_bytes(
          R"({"w.weight":{"dtype":"F8_E4M3","shape":[4294967296,4294967296],"data_offsets":[0,0]}})")),
      {kLabel, "w.weight", "overflows"}));
  EXPECT_TRUE(mentions(
      header_error(safetensors_bytes(
          R"({"w.weight":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})")),
      {kLabel, "w.weight", "overflows"}));
}

TEST(SafetensorsRobustness, BeginAfterEnd) {
  EXPECT_TRUE(mentions(
      header_error(safetensors_bytes(
          R"({"w.weight":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", std::string(8, 'x'))),
      {kLabel, "w.weight", "[8, 4]"}));
}

TEST(SafetensorsRobustness, OffsetsOutsideDataArea) {
  ScratchDir dir;
  const auto message = open_error(
      dir, safetensors_bytes(R"({"w.weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                             std::string(12, 'x')));
  EXPECT_TRUE(
      mentions(message, {(dir / "bad.safetensors").string(), "w.weight", "outside", "12 bytes"}));
  // An offset near 2^64 must not wrap around when added to the data offset.
  EXPECT_TRUE(mentions(
      header_error(safetensors_bytes(
          R"({"w.weight":{"dtype":"F32","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}})")),
      {kLabel, "w.weight", "outside"}));
}

TEST(SafetensorsRobustness, ShapeByteSizeDoesNotMatchOffsets) {
  ScratchDir dir;
  const auto message = open_error(
      dir, safetensors_bytes(R"({"w.weight":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,16]}})",
                             std::string(16, 'x')));
  EXPECT_TRUE(mentions(
      message, {(dir / "bad.safetensors").string(), "w.weight", "needs 12 bytes", "hold 16"}));
}

TEST(SafetensorsRobustness, OverlappingTensors) {
  ScratchDir dir;
  const auto message = open_error(
      dir, safetensors_bytes(R"({"a.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b.weight":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             std::string(12, 'x')));
  EXPECT_TRUE(
      mentions(message, {(dir / "bad.safetensors").string(), "a.weight", "b.weight", "overlaps"}));
  // Identical ranges overlap too, whatever the name order.
  EXPECT_TRUE(mentions(
      header_error(safetensors_bytes(R"({"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                     R"("y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                     "abcd")),
      {kLabel, "overlaps", "\"y\"", "\"z\""}));
  // A non-empty tensor inside another.
  EXPECT_TRUE(mentions(header_error(safetensors_bytes(
                           R"({"outer":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                           R"("inner":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[5,6]}})",
                           std::string(16, 'x'))),
                       {kLabel, "overlaps", "inner", "outer"}));
}

TEST(SafetensorsRobustness, MetadataWithNonStringValue) {
  EXPECT_TRUE(mentions(header_error(safetensors_bytes(R"({"__metadata__":{"format":1}})")),
                       {kLabel, "__metadata__", "format"}));
  EXPECT_TRUE(mentions(header_error(safetensors_bytes(R"({"__metadata__":"pt"})")),
                       {kLabel, "__metadata__"}));
}

TEST(SafetensorsRobustness, EmptyFile) {
  ScratchDir dir;
  EXPECT_TRUE(mentions(open_error(dir, ""), {(dir / "bad.safetensors").string(), "too short"}));
}

// --- SafetensorsFile -----------------------------------------------------------------------

TEST(SafetensorsFile, ViewPointsIntoTheMappedData) {
  ScratchDir dir;
  const auto path = dir / "model.safetensors";
  write_file(path,
             safetensors_bytes(R"({"a":{"dtype":"F8_E4M3","shape":[2,2],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F8_E4M3","shape":[3],"data_offsets":[4,7]}})",
                               "ABCDxyz"));
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file.path(), path.string());
  ASSERT_NE(file.find("b"), nullptr);
  EXPECT_EQ(file.find("c"), nullptr);
  const TensorView view = file.view("b");
  EXPECT_EQ(view.name, "b");
  EXPECT_EQ(view.file, path.string());
  EXPECT_EQ(view.dtype, DType::kF8E4M3);
  EXPECT_EQ(view.numel(), 3);
  ASSERT_EQ(view.data.size(), 3u);
  EXPECT_EQ(std::memcmp(view.data.data(), "xyz", 3), 0);
  EXPECT_TRUE(mentions(error_message([&] { file.view("missing.weight"); }),
                       {path.string(), "missing.weight"}));
}

TEST(SafetensorsFile, MissingFileNamesPath) {
  ScratchDir dir;
  EXPECT_TRUE(mentions(error_message([&] { SafetensorsFile::open(dir / "nope.safetensors"); }),
                       {"nope.safetensors", "No such file"}));
}

// --- SafetensorsWriter ---------------------------------------------------------------------

template <typename T>
std::vector<std::byte> raw(const std::vector<T>& values) {
  std::vector<std::byte> out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

TEST(SafetensorsWriter, RoundTripsEveryDtype) {
  ScratchDir dir;
  const std::vector<float> values = {0.0f, -1.5f, 3.25f, 448.0f, -0.015625f, 2.0f};
  std::vector<uint16_t> bf16;
  std::vector<uint16_t> f16;
  std::vector<uint8_t> fp8;
  for (float v : values) {
    bf16.push_back(f32_to_bf16(v));
    f16.push_back(f32_to_f16(v));
    fp8.push_back(f32_to_fp8_e4m3(v));
  }
  SafetensorsWriter writer;
  writer.add("t.f32", DType::kF32, {2, 3}, raw(values));
  writer.add("t.bf16", DType::kBF16, {3, 2}, raw(bf16));
  writer.add("t.f16", DType::kF16, {6}, raw(f16));
  writer.add("t.fp8", DType::kF8E4M3, {1, 6}, raw(fp8));
  writer.add("t.empty", DType::kF32, {0, 4}, {});
  writer.set_metadata("format", "pt");
  EXPECT_EQ(writer.data_bytes(), 24u + 12u + 12u + 6u);
  const auto path = dir / "rt.safetensors";
  writer.write(path);

  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file.header().metadata.at("format"), "pt");
  EXPECT_EQ(file.header().data_offset % 64, 0u);
  ASSERT_EQ(file.header().entries.size(), 5u);

  const auto f32_view = file.view("t.f32");
  EXPECT_EQ(f32_view.dtype, DType::kF32);
  EXPECT_EQ(f32_view.shape, (std::vector<int64_t>{2, 3}));
  const auto bf16_view = file.view("t.bf16");
  const auto f16_view = file.view("t.f16");
  const auto fp8_view = file.view("t.fp8");
  EXPECT_EQ(bf16_view.dtype, DType::kBF16);
  EXPECT_EQ(f16_view.dtype, DType::kF16);
  EXPECT_EQ(fp8_view.dtype, DType::kF8E4M3);
  EXPECT_EQ(fp8_view.shape, (std::vector<int64_t>{1, 6}));
  for (size_t i = 0; i < values.size(); ++i) {
    float f32 = 0;
    std::memcpy(&f32, f32_view.data.data() + 4 * i, 4);
    uint16_t b = 0;
    std::memcpy(&b, bf16_view.data.data() + 2 * i, 2);
    uint16_t h = 0;
    std::memcpy(&h, f16_view.data.data() + 2 * i, 2);
    const auto q = std::to_integer<uint8_t>(fp8_view.data[i]);
    // Every value was chosen to be exact in all four formats.
    EXPECT_EQ(f32, values[i]);
    EXPECT_EQ(bf16_to_f32(b), values[i]);
    EXPECT_EQ(f16_to_f32(h), values[i]);
    EXPECT_EQ(fp8_e4m3_to_f32(q), values[i]);
  }
  EXPECT_TRUE(file.view("t.empty").data.empty());
}

TEST(SafetensorsWriter, LaysOutContiguousWithSizesOf64FirstAfterASpacePaddedHeader) {
  ScratchDir dir;
  SafetensorsWriter writer;
  writer.add("b", DType::kF8E4M3, {3}, to_byte_vector("bbb"));
  writer.add("a", DType::kF8E4M3, {1}, to_byte_vector("a"));
  writer.add("c", DType::kBF16, {1}, to_byte_vector("cc"));
  writer.add("z", DType::kBF16, {32}, to_byte_vector(std::string(64, 'z')));
  writer.add("y", DType::kF8E4M3, {2, 64}, to_byte_vector(std::string(128, 'y')));
  const auto path = dir / "layout.safetensors";
  writer.write(path);
  const std::string bytes = testing::read_file(path);
  uint64_t header_size = 0;
  for (size_t i = 0; i < 8; ++i) header_size |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  EXPECT_EQ((8 + header_size) % 64, 0u);
  const std::string header = bytes.substr(8, header_size);
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header.find_first_not_of(' ', header.rfind('}') + 1), std::string::npos);
  // y and z (sizes 128 and 64) first in name order, then a, b, c: no gap anywhere.
  EXPECT_EQ(bytes.substr(8 + header_size), std::string(128, 'y') + std::string(64, 'z') + "abbbcc");
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file.header().data_offset % 64, 0u);
  EXPECT_EQ(file.find("y")->begin, 0u);
  EXPECT_EQ(file.find("z")->begin, 128u);
  EXPECT_EQ(file.find("a")->begin, 192u);
  EXPECT_EQ(file.find("b")->begin, 193u);
  EXPECT_EQ(file.find("c")->begin, 196u);
  EXPECT_EQ(file.find("c")->end, 198u);
}

TEST(SafetensorsWriter, RejectsBadInput) {
  SafetensorsWriter writer;
  EXPECT_TRUE(
      mentions(error_message([&] { writer.add("w", DType::kF32, {2}, to_byte_vector("abc")); }),
               {"\"w\"", "3 bytes"}));
  EXPECT_TRUE(mentions(error_message([&] { writer.add("n", DType::kF32, {-1}, {}); }),
                       {"\"n\"", "negative"}));
  writer.add("ok", DType::kF8E4M3, {1}, to_byte_vector("x"));
  EXPECT_TRUE(
      mentions(error_message([&] { writer.add("ok", DType::kF8E4M3, {1}, to_byte_vector("x")); }),
               {"\"ok\"", "twice"}));
  EXPECT_TRUE(mentions(
      error_message([&] { writer.add("__metadata__", DType::kF8E4M3, {1}, to_byte_vector("x")); }),
      {"__metadata__"}));
}

TEST(SafetensorsWriter, UnwritablePathNamesFile) {
  ScratchDir dir;
  SafetensorsWriter writer;
  const auto path = dir / "no-such-dir" / "out.safetensors";
  EXPECT_TRUE(mentions(error_message([&] { writer.write(path); }), {path.string()}));
}

}  // namespace
}  // namespace nextn
