// Element types of checkpoint tensors (SPEC §2) and their scalar conversions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nextn {

enum class DType : uint8_t { kF32, kBF16, kF16, kF8E4M3 };

// Safetensors spelling: "F32", "BF16", "F16", "F8_E4M3".
std::string_view dtype_name(DType dtype);
// Parses the safetensors spelling; nullopt for anything nextn cannot read.
std::optional<DType> parse_dtype(std::string_view name);
size_t dtype_size(DType dtype);

// e4m3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities; 0x7f/0xff are NaN;
// the largest finite magnitude is 448.
inline constexpr float kFp8E4M3Max = 448.0f;

float bf16_to_f32(uint16_t bits);
float f16_to_f32(uint16_t bits);
float fp8_e4m3_to_f32(uint8_t bits);
// Round to nearest, ties to even. NaN stays NaN.
uint16_t f32_to_bf16(float value);
uint16_t f32_to_f16(float value);
// Round to nearest even, saturating to ±448 (the convention of FP8 weight quantizers).
uint8_t f32_to_fp8_e4m3(float value);

}  // namespace nextn
