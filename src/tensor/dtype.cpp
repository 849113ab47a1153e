#include "tensor/dtype.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace nextn {

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kBF16: return "BF16";
    case DType::kF16: return "F16";
    case DType::kF8E4M3: return "F8_E4M3";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  if (name == "F32") return DType::kF32;
  if (name == "BF16") return DType::kBF16;
  if (name == "F16") return DType::kF16;
  if (name == "F8_E4M3") return DType::kF8E4M3;
  return std::nullopt;
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kBF16:
    case DType::kF16: return 2;
    case DType::kF8E4M3: return 1;
  }
  return 0;
}

float bf16_to_f32(uint16_t bits) { return std::bit_cast<float>(uint32_t{bits} << 16); }

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = uint32_t{bits & 0x8000u} << 16;
  const uint32_t exponent = (bits >> 10) & 0x1f;
  const uint32_t mantissa = bits & 0x3ff;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // subnormal or zero
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? INFINITY : NAN;
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  }
  return std::bit_cast<float>(std::bit_cast<uint32_t>(magnitude) | sign);
}

float fp8_e4m3_to_f32(uint8_t bits) {
  const bool negative = (bits & 0x80) != 0;
  const int exponent = (bits >> 3) & 0xf;
  const int mantissa = bits & 0x7;
  float magnitude;
  if (exponent == 0xf && mantissa == 0x7) {
    magnitude = NAN;
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -9);  // subnormal: m/8 * 2^-6
  } else {
    magnitude = std::ldexp(static_cast<float>(8 + mantissa), exponent - 10);
  }
  return negative ? -magnitude : magnitude;
}

uint16_t f32_to_bf16(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

// Round-to-nearest-even onto a small float grid, for F16 and FP8 writes (make-tiny, tests).
// Non-negative codes decode to increasing magnitudes, so a binary search over the codes finds
// the two neighbours of the value.
namespace {

template <typename Decode>
uint32_t nearest_code(float magnitude, uint32_t largest_code, Decode decode) {
  uint32_t low = 0;
  uint32_t high = largest_code;
  if (magnitude >= decode(high)) return high;
  while (high - low > 1) {  // invariant: decode(low) <= magnitude < decode(high)
    const uint32_t middle = (low + high) / 2;
    if (decode(middle) <= magnitude) {
      low = middle;
    } else {
      high = middle;
    }
  }
  const float below = magnitude - decode(low);
  const float above = decode(high) - magnitude;
  if (below < above) return low;
  if (above < below) return high;
  return (low & 1) == 0 ? low : high;  // tie: the even code
}

}  // namespace

uint16_t f32_to_f16(float value) {
  if (std::isnan(value)) return 0x7e00;
  const uint16_t sign = std::signbit(value) ? 0x8000 : 0;
  const float magnitude = std::fabs(value);
  if (magnitude >= 65520.0f) return sign | 0x7c00;  // rounds to infinity
  const uint32_t code = nearest_code(magnitude, 0x7bff, [](uint32_t c) {
    return f16_to_f32(static_cast<uint16_t>(c));
  });
  return static_cast<uint16_t>(sign | code);
}

uint8_t f32_to_fp8_e4m3(float value) {
  if (std::isnan(value)) return 0x7f;
  const uint8_t sign = std::signbit(value) ? 0x80 : 0;
  const float magnitude = std::fmin(std::fabs(value), kFp8E4M3Max);
  const uint32_t code = nearest_code(magnitude, 0x7e, [](uint32_t c) {
    return fp8_e4m3_to_f32(static_cast<uint8_t>(c));
  });
  return static_cast<uint8_t>(sign | code);
}

}  // namespace nextn
