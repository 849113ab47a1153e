// NumPy .npy files of float32 (format 1.0, little-endian, C order): what `nextn logits` writes
// and what the tests read the reference's golden files from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace nextn {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Throws Error naming the file when it cannot be written.
void write_npy(const std::filesystem::path& path, std::span<const float> values,
               const std::vector<int64_t>& shape);
// Reads '<f4' (and '<f8', converted) arrays in C order; Error names the file otherwise.
NpyArray read_npy(const std::filesystem::path& path);

}  // namespace nextn
