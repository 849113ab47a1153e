// Feeds arbitrary text to parse_safetensors_index. Bad input must end in nextn::Error; a crash,
// a sanitizer report or a shard name that escapes the checkpoint directory is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto index = nextn::parse_safetensors_index(text, "fuzz.index.json");
    for (const auto& [name, shard] : index.weight_map) {
      const bool plain = !shard.empty() && shard != "." && shard != ".." &&
                         shard.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
      if (!plain) __builtin_trap();
    }
  } catch (const nextn::Error&) {
    // Rejected cleanly.
  }
  return 0;
}
