#include "io/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"

namespace nextn {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) text += ",";
    if (i + 1 < shape.size()) text += " ";
  }
  return text + ")";
}

}  // namespace

void write_npy(const std::filesystem::path& path, std::span<const float> values,
               const std::vector<int64_t>& shape) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_tuple(shape) +
                       ", }";
  // Pad with spaces so that magic(6) + version(2) + length(2) + header ends on 64 bytes.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) fail("cannot write {}", path.string());
  out.write(kMagic, 6);
  const char version[2] = {1, 0};
  out.write(version, 2);
  const uint16_t length = static_cast<uint16_t>(header.size());
  const char length_bytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  out.write(length_bytes, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size_bytes()));
  if (!out) fail("cannot write {}", path.string());
}

NpyArray read_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read {}", path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) {
    fail("{}: not a .npy file", path.string());
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_length;
  size_t header_start;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) |
                    (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    header_start = 10;
  } else {
    if (bytes.size() < 12) fail("{}: truncated .npy header", path.string());
    header_length = 0;
    for (int i = 0; i < 4; ++i) {
      header_length |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    }
    header_start = 12;
  }
  if (header_start + header_length > bytes.size()) fail("{}: truncated .npy header", path.string());
  const std::string header = bytes.substr(header_start, header_length);
  const bool f4 = header.find("'<f4'") != std::string::npos;
  const bool f8 = header.find("'<f8'") != std::string::npos;
  if (!f4 && !f8) fail("{}: only little-endian float32/float64 arrays are read", path.string());
  if (header.find("'fortran_order': False") == std::string::npos) {
    fail("{}: only C-order arrays are read", path.string());
  }
  NpyArray array;
  const size_t open = header.find('(', header.find("'shape'"));
  const size_t close = header.find(')', open);
  if (open == std::string::npos || close == std::string::npos) {
    fail("{}: no shape in the .npy header", path.string());
  }
  std::stringstream dims(header.substr(open + 1, close - open - 1));
  std::string dim;
  int64_t count = 1;
  while (std::getline(dims, dim, ',')) {
    if (dim.find_first_not_of(' ') == std::string::npos) continue;
    array.shape.push_back(std::stoll(dim));
    count *= array.shape.back();
  }
  const size_t data_start = header_start + header_length;
  const size_t element = f4 ? 4 : 8;
  if (bytes.size() - data_start != static_cast<size_t>(count) * element) {
    fail("{}: data size does not match shape", path.string());
  }
  array.values.resize(static_cast<size_t>(count));
  for (size_t i = 0; i < array.values.size(); ++i) {
    if (f4) {
      std::memcpy(&array.values[i], bytes.data() + data_start + 4 * i, 4);
    } else {
      double v;
      std::memcpy(&v, bytes.data() + data_start + 8 * i, 8);
      array.values[i] = static_cast<float>(v);
    }
  }
  return array;
}

}  // namespace nextn
