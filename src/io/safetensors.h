// The safetensors format (SPEC §2): 8-byte little-endian header size N, N bytes of JSON, then
// the data area. Every offset and size is validated before any data byte is touched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.h"
#include "io/tensor_view.h"
#include "tensor/dtype.h"

namespace nextn {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offsets relative to the start of the data area
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_offset = 0;                     // 8 + N: where the data area starts in the file
  std::vector<SafetensorsEntry> entries;        // sorted by name
  std::map<std::string, std::string> metadata;  // "__metadata__", string values only
};

// Parses and validates the header of a safetensors file whose complete contents are `file`.
// Checks: the size prefix fits the file; the JSON is an object of objects; every dtype is
// readable (else the error names tensor and dtype); shapes are non-negative and their byte size
// (overflow-checked) equals end - begin; offsets lie in the data area; no two tensors overlap.
// Errors name `file_label` and the tensor.
SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file,
                                           std::string_view file_label);

// One mapped safetensors file with its validated header.
class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::string& path() const { return file_.path(); }
  const SafetensorsHeader& header() const { return header_; }
  const SafetensorsEntry* find(std::string_view name) const;  // nullptr when absent
  // A view of the named tensor; throws Error naming file and tensor when absent.
  TensorView view(std::string_view name) const;

 private:
  MappedFile file_;
  SafetensorsHeader header_;
  std::unordered_map<std::string, size_t> by_name_;
};

// Writes a safetensors file (make-tiny and tests). The data area starts on a 64-byte boundary,
// and so does every tensor whose size is a multiple of 64: those come first, in name order,
// then the rest in name order (the format allows any order of the offsets).
class SafetensorsWriter {
 public:
  // `bytes` must hold exactly numel × dtype_size bytes; throws Error otherwise or on a
  // duplicate name.
  void add(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<std::byte> bytes);
  void set_metadata(std::string key, std::string value);
  // Throws Error naming the file when it cannot be written.
  void write(const std::filesystem::path& path) const;
  uint64_t data_bytes() const;

 private:
  struct Pending {
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<std::byte> bytes;
  };
  using Entry = std::pair<const std::string, Pending>;  // name, tensor
  std::vector<const Entry*> layout() const;             // the order of the data area

  std::map<std::string, Pending> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace nextn
