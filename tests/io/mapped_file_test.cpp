// MappedFile: read-only maps of whole files (SPEC §2: weights are used where they lie).
#include "io/mapped_file.h"

#include <cstring>
#include <utility>

#include <gtest/gtest.h>

#include "io/io_test_helpers.h"
#include "test_util.h"

namespace nextn {
namespace {

using testing::error_message;
using testing::mentions;
using testing::ScratchDir;

TEST(MappedFile, MapsContents) {
  ScratchDir dir;
  const auto path = dir / "data.bin";
  testing::write_file(path, "hello mapped world");
  const auto file = MappedFile::open(path);
  EXPECT_EQ(file.path(), path.string());
  ASSERT_EQ(file.bytes().size(), 18u);
  EXPECT_EQ(std::memcmp(file.bytes().data(), "hello mapped world", 18), 0);
}

TEST(MappedFile, EmptyFileMapsToEmptySpan) {
  ScratchDir dir;
  const auto path = dir / "empty.bin";
  testing::write_file(path, "");
  const auto file = MappedFile::open(path);
  EXPECT_TRUE(file.bytes().empty());
}

TEST(MappedFile, MissingFileNamesPathAndReason) {
  ScratchDir dir;
  const auto path = dir / "missing.bin";
  EXPECT_TRUE(mentions(error_message([&] { MappedFile::open(path); }),
                       {path.string(), "No such file or directory"}));
}

TEST(MappedFile, DirectoryIsRejected) {
  ScratchDir dir;
  EXPECT_TRUE(
      mentions(error_message([&] { MappedFile::open(dir.path()); }), {dir.path().string()}));
}

TEST(MappedFile, MoveTransfersTheMapping) {
  ScratchDir dir;
  const auto path = dir / "data.bin";
  testing::write_file(path, "abc");
  auto first = MappedFile::open(path);
  const std::byte* data = first.bytes().data();
  MappedFile second(std::move(first));
  EXPECT_EQ(second.bytes().data(), data);
  EXPECT_TRUE(first.bytes().empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  MappedFile third;
  third = std::move(second);
  EXPECT_EQ(third.bytes().size(), 3u);
  EXPECT_EQ(third.path(), path.string());
  third = MappedFile::open(path);  // replacing a live mapping unmaps the old one
  EXPECT_EQ(third.bytes().size(), 3u);
}

}  // namespace
}  // namespace nextn
