// A HuggingFace checkpoint directory: config.json plus weights in `model.safetensors` or in the
// shards that `model.safetensors.index.json` lists (SPEC §2). Names always resolve through the
// index when it exists. Shards are opened lazily, so a directory that holds only config.json and
// the index can still be inspected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/safetensors.h"

namespace nextn {

inline constexpr std::string_view kIndexFileName = "model.safetensors.index.json";
inline constexpr std::string_view kSingleFileName = "model.safetensors";

struct SafetensorsIndex {
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
  std::optional<uint64_t> total_size;             // "metadata": {"total_size": ...}
};

// Parses an index file. Shard names must be plain file names (no directory part, no "..").
// Errors name `file_label` and the offending tensor or field.
SafetensorsIndex parse_safetensors_index(std::string_view json_text, std::string_view file_label);

class Checkpoint {
 public:
  // Reads the index when present, else opens model.safetensors; throws Error naming the
  // directory when neither exists.
  static Checkpoint open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  bool has_index() const { return has_index_; }
  std::optional<uint64_t> index_total_size() const { return index_total_size_; }

  // Every tensor name of the checkpoint, sorted.
  const std::vector<std::string>& tensor_names() const { return names_; }
  bool contains(std::string_view name) const;
  // The file (relative to dir) that holds `name`; throws Error when the name is unknown.
  const std::string& file_of(std::string_view name) const;
  // Distinct shard files, sorted.
  std::vector<std::string> files() const;
  // True when every shard file exists on disk.
  bool weights_present() const;

  // The header entry of `name`, opening its shard if needed. Throws Error naming the file and
  // tensor when the shard is missing or corrupt, or the tensor is listed in the index but
  // missing from its shard.
  const SafetensorsEntry& entry(std::string_view name) const;
  TensorView tensor(std::string_view name) const;

  // Opens every shard and checks that each index entry is present in its shard.
  void verify() const;

 private:
  const SafetensorsFile& shard(const std::string& file) const;

  std::filesystem::path dir_;
  bool has_index_ = false;
  std::optional<uint64_t> index_total_size_;
  std::vector<std::string> names_;
  std::map<std::string, std::string, std::less<>> file_of_;
  // Shards open on first use; loaders may ask for tensors from several threads, so the lazy
  // open is guarded. Held by pointer so that Checkpoint stays movable.
  mutable std::unique_ptr<std::mutex> shards_mutex_ = std::make_unique<std::mutex>();
  mutable std::map<std::string, std::unique_ptr<SafetensorsFile>> shards_;
};

}  // namespace nextn
