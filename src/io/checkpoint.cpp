#include "io/checkpoint.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/json_parse.h"

namespace nextn {

namespace {

using Json = nlohmann::json;

// An index names shards relative to its directory; anything that could reach outside it (or
// that the OS would read differently, like an embedded NUL) is refused.
bool is_plain_file_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  return name.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

// "total_size" is an integer in every index we know, but some writers emit it as a float.
std::optional<uint64_t> as_byte_count(const Json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    const auto v = value.get<int64_t>();
    if (v >= 0) return static_cast<uint64_t>(v);
  } else if (value.is_number_float()) {
    const double v = value.get<double>();
    if (v >= 0 && v < 0x1p64 && std::floor(v) == v) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path.string());
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) fail("{}: read failed", path.string());
  return std::move(contents).str();
}

bool is_file(const std::filesystem::path& path) {
  std::error_code ignored;
  return std::filesystem::is_regular_file(path, ignored);
}

}  // namespace

SafetensorsIndex parse_safetensors_index(std::string_view json_text, std::string_view file_label) {
  const Json root = parse_json(json_text, file_label, "the index");
  if (!root.is_object()) fail("{}: the index is not a JSON object", file_label);

  SafetensorsIndex index;
  const auto map_it = root.find("weight_map");
  if (map_it == root.end()) fail("{}: missing \"weight_map\"", file_label);
  if (!map_it->is_object()) fail("{}: \"weight_map\" is not a JSON object", file_label);
  for (const auto& [name, file] : map_it->items()) {
    if (!file.is_string()) {
      fail("{}: weight_map: tensor {:?} maps to a non-string shard name", file_label, name);
    }
    const auto& shard = file.get_ref<const std::string&>();
    if (!is_plain_file_name(shard)) {
      fail(
          "{}: weight_map: tensor {:?} maps to {:?}, which is not a plain file name in the "
          "checkpoint directory",
          file_label, name, shard);
    }
    index.weight_map.emplace(name, shard);
  }

  const auto metadata_it = root.find("metadata");
  if (metadata_it != root.end() && !metadata_it->is_null()) {
    if (!metadata_it->is_object()) fail("{}: \"metadata\" is not a JSON object", file_label);
    const auto total_it = metadata_it->find("total_size");
    if (total_it != metadata_it->end()) {
      const auto total = as_byte_count(*total_it);
      if (!total) fail("{}: metadata.total_size is not a non-negative integer", file_label);
      index.total_size = total;
    }
  }
  return index;
}

Checkpoint Checkpoint::open(const std::filesystem::path& dir) {
  Checkpoint checkpoint;
  checkpoint.dir_ = dir;
  const auto index_path = dir / kIndexFileName;
  const auto single_path = dir / kSingleFileName;
  if (is_file(index_path)) {
    // SPEC §2: the index wins even when a model.safetensors sits beside it.
    auto index = parse_safetensors_index(read_text_file(index_path), index_path.string());
    checkpoint.has_index_ = true;
    checkpoint.index_total_size_ = index.total_size;
    for (auto& [name, file] : index.weight_map) {
      checkpoint.names_.push_back(name);
      checkpoint.file_of_.emplace(name, std::move(file));
    }
  } else if (is_file(single_path)) {
    // Without an index the file's own header is the list of names, so it is opened now.
    auto file = std::make_unique<SafetensorsFile>(SafetensorsFile::open(single_path));
    for (const auto& entry : file->header().entries) {
      checkpoint.names_.push_back(entry.name);
      checkpoint.file_of_.emplace(entry.name, std::string(kSingleFileName));
    }
    checkpoint.shards_.emplace(std::string(kSingleFileName), std::move(file));
  } else {
    fail("{}: no weights: neither {} nor {} exists", dir.string(), kIndexFileName, kSingleFileName);
  }
  // names_ is filled from ordered maps / a name-sorted header, so it is already sorted.
  return checkpoint;
}

bool Checkpoint::contains(std::string_view name) const {
  return file_of_.contains(name);
}

const std::string& Checkpoint::file_of(std::string_view name) const {
  const auto it = file_of_.find(name);
  if (it == file_of_.end()) {
    fail("{}: no tensor named {:?} in the checkpoint{}", dir_.string(), name,
         has_index_ ? fmt::format(" ({})", kIndexFileName) : std::string());
  }
  return it->second;
}

std::vector<std::string> Checkpoint::files() const {
  std::set<std::string> distinct;
  for (const auto& [name, file] : file_of_) distinct.insert(file);
  return {distinct.begin(), distinct.end()};
}

bool Checkpoint::weights_present() const {
  for (const auto& file : files()) {
    if (!is_file(dir_ / file)) return false;
  }
  return true;
}

const SafetensorsFile& Checkpoint::shard(const std::string& file) const {
  const std::lock_guard lock(*shards_mutex_);
  auto it = shards_.find(file);
  if (it == shards_.end()) {
    const auto path = dir_ / file;
    if (!is_file(path)) {
      fail("{}: shard file {} is missing (listed in {})", path.string(), file, kIndexFileName);
    }
    it =
        shards_.emplace(file, std::make_unique<SafetensorsFile>(SafetensorsFile::open(path))).first;
  }
  return *it->second;
}

const SafetensorsEntry& Checkpoint::entry(std::string_view name) const {
  const std::string& file = file_of(name);
  const SafetensorsFile* opened = nullptr;
  try {
    opened = &shard(file);
  } catch (const Error& e) {
    // The shard's own message names the file; add the tensor that needed it.
    fail("tensor {:?}: {}", name, e.what());
  }
  const SafetensorsEntry* found = opened->find(name);
  if (found == nullptr) {
    fail("{}: tensor {:?} is listed in {} but missing from its shard {}", opened->path(), name,
         kIndexFileName, file);
  }
  return *found;
}

TensorView Checkpoint::tensor(std::string_view name) const {
  entry(name);  // the checks and messages of entry()
  return shard(file_of(name)).view(name);
}

void Checkpoint::verify() const {
  for (const auto& name : names_) entry(name);
}

}  // namespace nextn
