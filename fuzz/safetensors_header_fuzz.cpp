// Feeds arbitrary bytes to parse_safetensors_header as a whole file. Bad input must end in
// nextn::Error; anything else (a crash, a sanitizer report, a broken invariant) is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "io/safetensors.h"

namespace {

// What a successful parse promises its callers (safetensors.h): every tensor lies inside the
// data area, its byte size matches its offsets, entries are sorted by name and do not overlap.
void check_invariants(std::span<const std::byte> file, const nextn::SafetensorsHeader& header) {
  if (header.data_offset > file.size()) __builtin_trap();
  const uint64_t data_size = file.size() - header.data_offset;
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < header.entries.size(); ++i) {
    const auto& entry = header.entries[i];
    if (entry.begin > entry.end || entry.end > data_size) __builtin_trap();
    if (i > 0 && !(header.entries[i - 1].name < entry.name)) __builtin_trap();
    uint64_t bytes = nextn::dtype_size(entry.dtype);
    for (int64_t dim : entry.shape) {
      if (dim < 0) __builtin_trap();
      bytes *= static_cast<uint64_t>(dim);  // no overflow: the parser checked it
    }
    if (bytes != entry.end - entry.begin) __builtin_trap();
    // Read every byte of the tensor so that a wrong span trips AddressSanitizer.
    for (std::byte b : file.subspan(header.data_offset + entry.begin, entry.end - entry.begin)) {
      sink = static_cast<uint8_t>(sink ^ std::to_integer<uint8_t>(b));
    }
    for (const auto& other : header.entries) {
      const bool disjoint = other.begin >= entry.end || entry.begin >= other.end;
      if (&other != &entry && other.begin < other.end && entry.begin < entry.end && !disjoint) {
        __builtin_trap();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  try {
    check_invariants(file, nextn::parse_safetensors_header(file, "fuzz.safetensors"));
  } catch (const nextn::Error&) {
    // Rejected cleanly: the expected outcome for most inputs.
  }
  return 0;
}
