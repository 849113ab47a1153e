#include "io/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <utility>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/json_parse.h"

namespace nextn {

namespace {

using Json = nlohmann::json;

constexpr uint64_t kSizePrefixBytes = 8;
// The reference implementation refuses headers above 100 MB; a real one (DeepSeek-V3 shard)
// is well under 1 MB, so a bigger size prefix is corruption, not a checkpoint.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// The writer starts the data area, and every tensor whose size is a multiple of it, on a
// 64-byte (cache-line) boundary: a kernel's 64-byte load from a tensor that starts off a line
// reads two lines, which slows a checkpoint that runs from the caches (the embedded models) by
// about 15 %. The format itself guarantees only 8.
constexpr uint64_t kTensorAlignment = 64;

uint64_t read_le64(std::span<const std::byte> bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value |= uint64_t{std::to_integer<uint8_t>(bytes[i])} << (8 * i);
  return value;
}

// The integer value of a JSON number that must be a non-negative integer; nullopt otherwise
// (floats, negatives, non-numbers).
std::optional<uint64_t> as_unsigned(const Json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    const auto v = value.get<int64_t>();
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

// Byte size of a tensor, or nullopt when it does not fit in 64 bits.
std::optional<uint64_t> checked_byte_size(const std::vector<int64_t>& shape, DType dtype) {
  uint64_t bytes = dtype_size(dtype);
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes)) return std::nullopt;
  }
  return bytes;
}

SafetensorsEntry parse_entry(const std::string& name, const Json& value, uint64_t data_size,
                             std::string_view file_label) {
  if (!value.is_object())
    fail("{}: tensor {:?}: header entry is not a JSON object", file_label, name);
  SafetensorsEntry entry;
  entry.name = name;

  const auto dtype_it = value.find("dtype");
  if (dtype_it == value.end() || !dtype_it->is_string()) {
    fail("{}: tensor {:?}: missing or non-string \"dtype\"", file_label, name);
  }
  const auto& dtype_text = dtype_it->get_ref<const std::string&>();
  const auto dtype = parse_dtype(dtype_text);
  if (!dtype) {
    fail("{}: tensor {:?}: unsupported dtype {:?} (nextn reads F32, BF16, F16, F8_E4M3)",
         file_label, name, dtype_text);
  }
  entry.dtype = *dtype;

  const auto shape_it = value.find("shape");
  if (shape_it == value.end() || !shape_it->is_array()) {
    fail("{}: tensor {:?}: missing or non-array \"shape\"", file_label, name);
  }
  for (const Json& dim : *shape_it) {
    if (!dim.is_number_integer()) {  // true for signed and unsigned integers, false for 2.0
      fail("{}: tensor {:?}: \"shape\" holds a non-integer dimension", file_label, name);
    }
    if (dim.is_number_unsigned() &&
        dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail("{}: tensor {:?}: dimension {} is too large", file_label, name, dim.get<uint64_t>());
    }
    const auto d = dim.get<int64_t>();
    if (d < 0) fail("{}: tensor {:?}: negative dimension {}", file_label, name, d);
    entry.shape.push_back(d);
  }

  const auto offsets_it = value.find("data_offsets");
  if (offsets_it == value.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    fail("{}: tensor {:?}: \"data_offsets\" must be an array [begin, end]", file_label, name);
  }
  const auto begin = as_unsigned((*offsets_it)[0]);
  const auto end = as_unsigned((*offsets_it)[1]);
  if (!begin || !end) {
    fail("{}: tensor {:?}: \"data_offsets\" must hold two non-negative integers", file_label, name);
  }
  entry.begin = *begin;
  entry.end = *end;
  if (entry.begin > entry.end) {
    fail("{}: tensor {:?}: data_offsets [{}, {}] end before they begin", file_label, name,
         entry.begin, entry.end);
  }
  if (entry.end > data_size) {
    fail(
        "{}: tensor {:?}: data_offsets [{}, {}] lie outside the data area ({} bytes); "
        "the file may be truncated",
        file_label, name, entry.begin, entry.end, data_size);
  }
  const auto bytes = checked_byte_size(entry.shape, entry.dtype);
  if (!bytes) {
    fail("{}: tensor {:?}: shape [{}] of {} overflows 64 bits", file_label, name,
         fmt::join(entry.shape, ", "), dtype_text);
  }
  if (*bytes != entry.end - entry.begin) {
    fail("{}: tensor {:?}: shape [{}] of {} needs {} bytes but data_offsets [{}, {}] hold {}",
         file_label, name, fmt::join(entry.shape, ", "), dtype_text, *bytes, entry.begin, entry.end,
         entry.end - entry.begin);
  }
  return entry;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file,
                                           std::string_view file_label) {
  if (file.size() < kSizePrefixBytes) {
    fail("{}: {} bytes is too short for a safetensors file (the header size alone takes 8)",
         file_label, file.size());
  }
  const uint64_t header_size = read_le64(file.first(kSizePrefixBytes));
  const uint64_t after_prefix = file.size() - kSizePrefixBytes;
  if (header_size > after_prefix) {
    fail(
        "{}: header size {} is larger than the {} bytes after it; the file is truncated or "
        "not safetensors",
        file_label, header_size, after_prefix);
  }
  if (header_size > kMaxHeaderBytes) {
    fail("{}: header size {} exceeds the {}-byte limit", file_label, header_size, kMaxHeaderBytes);
  }

  const auto header_bytes = file.subspan(kSizePrefixBytes, header_size);
  const std::string_view text(reinterpret_cast<const char*>(header_bytes.data()),
                              header_bytes.size());
  const Json root = parse_json(text, file_label, "the header");
  if (!root.is_object()) fail("{}: the header is not a JSON object", file_label);

  SafetensorsHeader header;
  header.data_offset = kSizePrefixBytes + header_size;
  const uint64_t data_size = file.size() - header.data_offset;
  // nlohmann keeps object members in a std::map, so this walk is already in name order.
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail("{}: \"__metadata__\" is not a JSON object", file_label);
      for (const auto& [key, item] : value.items()) {
        if (!item.is_string()) {
          fail("{}: \"__metadata__\" key {:?} has a non-string value", file_label, key);
        }
        header.metadata.emplace(key, item.get<std::string>());
      }
      continue;
    }
    header.entries.push_back(parse_entry(name, value, data_size, file_label));
  }

  // Overlap check: walk the non-empty ranges in offset order. Empty tensors occupy no bytes,
  // so they cannot collide with anything.
  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& entry : header.entries) {
    if (entry.end > entry.begin) by_offset.push_back(&entry);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return std::pair(a->begin, a->end) < std::pair(b->begin, b->end);
  });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto& previous = *by_offset[i - 1];
    const auto& current = *by_offset[i];
    if (current.begin < previous.end) {
      fail("{}: tensor {:?} (bytes [{}, {})) overlaps tensor {:?} (bytes [{}, {}))", file_label,
           current.name, current.begin, current.end, previous.name, previous.begin, previous.end);
    }
  }
  return header;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile result;
  result.file_ = MappedFile::open(path);
  result.header_ = parse_safetensors_header(result.file_.bytes(), result.file_.path());
  result.by_name_.reserve(result.header_.entries.size());
  for (size_t i = 0; i < result.header_.entries.size(); ++i) {
    result.by_name_.emplace(result.header_.entries[i].name, i);
  }
  return result;
}

const SafetensorsEntry* SafetensorsFile::find(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &header_.entries[it->second];
}

TensorView SafetensorsFile::view(std::string_view name) const {
  const SafetensorsEntry* entry = find(name);
  if (entry == nullptr) fail("{}: no tensor named {:?}", path(), name);
  // parse_safetensors_header proved begin <= end <= data size, so this stays in the map.
  return TensorView{
      .name = entry->name,
      .file = path(),
      .dtype = entry->dtype,
      .shape = entry->shape,
      .data = file_.bytes().subspan(header_.data_offset + entry->begin, entry->end - entry->begin),
  };
}

void SafetensorsWriter::add(std::string name, DType dtype, std::vector<int64_t> shape,
                            std::vector<std::byte> bytes) {
  if (name == "__metadata__") fail("safetensors writer: \"__metadata__\" is not a tensor name");
  if (tensors_.contains(name)) fail("safetensors writer: tensor {:?} added twice", name);
  for (int64_t dim : shape) {
    if (dim < 0) fail("safetensors writer: tensor {:?}: negative dimension {}", name, dim);
  }
  const auto expected = checked_byte_size(shape, dtype);
  if (!expected || *expected != bytes.size()) {
    fail("safetensors writer: tensor {:?}: shape [{}] of {} does not match {} bytes of data", name,
         fmt::join(shape, ", "), dtype_name(dtype), bytes.size());
  }
  tensors_.emplace(std::move(name), Pending{dtype, std::move(shape), std::move(bytes)});
}

void SafetensorsWriter::set_metadata(std::string key, std::string value) {
  metadata_[std::move(key)] = std::move(value);
}

uint64_t SafetensorsWriter::data_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, tensor] : tensors_) total += tensor.bytes.size();
  return total;
}

std::vector<const SafetensorsWriter::Entry*> SafetensorsWriter::layout() const {
  std::vector<const Entry*> order;
  order.reserve(tensors_.size());
  // Tensors whose size is a multiple of the alignment first, so that each starts aligned;
  // the rest (biases, block scales) after them. Name order within each part.
  for (const bool aligned_size : {true, false}) {
    for (const Entry& entry : tensors_) {
      if ((entry.second.bytes.size() % kTensorAlignment == 0) == aligned_size) {
        order.push_back(&entry);
      }
    }
  }
  return order;
}

void SafetensorsWriter::write(const std::filesystem::path& path) const {
  Json root = Json::object();
  if (!metadata_.empty()) root["__metadata__"] = metadata_;
  const auto order = layout();
  uint64_t offset = 0;
  for (const Entry* entry : order) {
    const auto& [name, tensor] = *entry;
    const uint64_t end = offset + tensor.bytes.size();
    root[name] = {{"dtype", dtype_name(tensor.dtype)},
                  {"shape", tensor.shape},
                  {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string header;
  try {
    header = root.dump();
  } catch (const Json::exception& e) {  // e.g. a name that is not valid UTF-8
    fail("{}: cannot write safetensors header: {}", path.string(), e.what());
  }
  // Pad with spaces (valid JSON whitespace) so the data area starts aligned.
  const uint64_t unpadded = kSizePrefixBytes + header.size();
  header.append((kTensorAlignment - unpadded % kTensorAlignment) % kTensorAlignment, ' ');

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("{}: cannot open for writing: {}", path.string(), std::strerror(errno));
  char prefix[kSizePrefixBytes];
  for (size_t i = 0; i < kSizePrefixBytes; ++i) {
    prefix[i] = static_cast<char>((uint64_t{header.size()} >> (8 * i)) & 0xff);
  }
  out.write(prefix, sizeof prefix);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const Entry* entry : order) {
    const std::vector<std::byte>& bytes = entry->second.bytes;
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  out.close();
  if (!out) fail("{}: write failed: {}", path.string(), std::strerror(errno));
}

}  // namespace nextn
