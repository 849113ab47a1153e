// Helpers for the io tests: hand-built safetensors bytes and checks on error messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"

namespace nextn::testing {

// A safetensors file from a literal header and data area: 8-byte little-endian size, header,
// data. No padding, so tests control every byte.
inline std::string safetensors_bytes(std::string_view header, std::string_view data = {}) {
  std::string out(8, '\0');
  const uint64_t size = header.size();
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  out.append(header);
  out.append(data);
  return out;
}

inline std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline std::vector<std::byte> to_byte_vector(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

// The message of the nextn::Error that `action` throws, or a marker that fails the substring
// checks when it throws nothing. Any other exception escapes and fails the test.
template <typename Action>
std::string error_message(Action&& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no nextn::Error thrown>";
}

// Every part must appear in `message` (the file, the tensor, the reason).
inline ::testing::AssertionResult mentions(const std::string& message,
                                           std::initializer_list<std::string_view> parts) {
  for (std::string_view part : parts) {
    if (message.find(part) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "message \"" << message << "\" does not mention \"" << part << "\"";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace nextn::testing
