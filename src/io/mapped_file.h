// A read-only memory map of a whole file. Weights are used where they lie (SPEC §2).
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

namespace nextn {

class MappedFile {
 public:
  // Maps `path` read-only. Throws Error naming the file when it cannot be opened or mapped.
  // An empty file maps to an empty span.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace nextn
