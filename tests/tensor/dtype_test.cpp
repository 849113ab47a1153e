// Scalar conversions of checkpoint dtypes (SPEC §2): known values, exhaustive round trips and
// the rounding rules (nearest, ties to even; FP8 saturates to ±448).
#include "tensor/dtype.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace nextn {
namespace {

TEST(DtypeNames, RoundTripAndSizes) {
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF16, DType::kF8E4M3}) {
    EXPECT_EQ(parse_dtype(dtype_name(dtype)), dtype);
  }
  EXPECT_EQ(dtype_name(DType::kF8E4M3), "F8_E4M3");
  EXPECT_EQ(dtype_size(DType::kF32), 4u);
  EXPECT_EQ(dtype_size(DType::kBF16), 2u);
  EXPECT_EQ(dtype_size(DType::kF16), 2u);
  EXPECT_EQ(dtype_size(DType::kF8E4M3), 1u);
  for (const char* unreadable : {"F64", "I8", "F8_E5M2", "f32", "", "BF16 "}) {
    EXPECT_FALSE(parse_dtype(unreadable).has_value()) << unreadable;
  }
}

TEST(DtypeFp8, DecodesKnownValues) {
  EXPECT_EQ(fp8_e4m3_to_f32(0x00), 0.0f);
  EXPECT_TRUE(std::signbit(fp8_e4m3_to_f32(0x80)));
  EXPECT_EQ(fp8_e4m3_to_f32(0x80), 0.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));      // smallest subnormal
  EXPECT_EQ(fp8_e4m3_to_f32(0x07), 7 * std::ldexp(1.0f, -9));  // largest subnormal
  EXPECT_EQ(fp8_e4m3_to_f32(0x08), std::ldexp(1.0f, -6));      // smallest normal
  EXPECT_EQ(fp8_e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x39), 1.125f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x40), 2.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x77), 240.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x78), 256.0f);  // exponent 15 is finite in e4m3fn
  EXPECT_EQ(fp8_e4m3_to_f32(0x7e), 448.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x7e), kFp8E4M3Max);
  EXPECT_EQ(fp8_e4m3_to_f32(0xfe), -448.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0xb8), -1.0f);
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0x7f)));
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0xff)));
}

TEST(DtypeFp8, EveryCodeDecodesMonotonicallyWithSymmetricSign) {
  float previous = -1.0f;
  for (uint32_t code = 0; code <= 0x7e; ++code) {
    const float value = fp8_e4m3_to_f32(static_cast<uint8_t>(code));
    ASSERT_TRUE(std::isfinite(value)) << code;
    ASSERT_GT(value, previous) << code;
    previous = value;
    const float negative = fp8_e4m3_to_f32(static_cast<uint8_t>(code | 0x80));
    EXPECT_EQ(std::bit_cast<uint32_t>(negative), std::bit_cast<uint32_t>(-value)) << code;
  }
}

TEST(DtypeFp8, AllFiniteCodesRoundTrip) {
  int finite = 0;
  for (uint32_t code = 0; code < 256; ++code) {
    if ((code & 0x7f) == 0x7f) continue;  // the two NaNs
    const float value = fp8_e4m3_to_f32(static_cast<uint8_t>(code));
    EXPECT_EQ(f32_to_fp8_e4m3(value), code) << "code " << code << " value " << value;
    ++finite;
  }
  EXPECT_EQ(finite, 254);
}

TEST(DtypeFp8, SaturatesToMax) {
  EXPECT_EQ(f32_to_fp8_e4m3(448.0f), 0x7e);
  EXPECT_EQ(f32_to_fp8_e4m3(464.0f), 0x7e);  // would round up to 480 in a wider format
  EXPECT_EQ(f32_to_fp8_e4m3(1e6f), 0x7e);
  EXPECT_EQ(f32_to_fp8_e4m3(std::numeric_limits<float>::max()), 0x7e);
  EXPECT_EQ(f32_to_fp8_e4m3(std::numeric_limits<float>::infinity()), 0x7e);
  EXPECT_EQ(f32_to_fp8_e4m3(-1e6f), 0xfe);
  EXPECT_EQ(f32_to_fp8_e4m3(-std::numeric_limits<float>::infinity()), 0xfe);
}

TEST(DtypeFp8, NanStaysNan) {
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(f32_to_fp8_e4m3(NAN))));
}

TEST(DtypeFp8, RoundsToNearestTiesToEven) {
  // 1.0 = 0x38 and 1.125 = 0x39: the midpoint goes to the even code 0x38.
  EXPECT_EQ(f32_to_fp8_e4m3(1.0625f), 0x38);
  // 1.125 = 0x39 and 1.25 = 0x3a: the midpoint goes to 0x3a.
  EXPECT_EQ(f32_to_fp8_e4m3(1.1875f), 0x3a);
  EXPECT_EQ(f32_to_fp8_e4m3(-1.0625f), 0xb8);
  // Just off the midpoint rounds to the nearer side.
  EXPECT_EQ(f32_to_fp8_e4m3(std::nextafter(1.0625f, 2.0f)), 0x39);
  EXPECT_EQ(f32_to_fp8_e4m3(std::nextafter(1.0625f, 0.0f)), 0x38);
  // Subnormals: half the smallest subnormal ties to zero; a bit more rounds up.
  EXPECT_EQ(f32_to_fp8_e4m3(std::ldexp(1.0f, -10)), 0x00);
  EXPECT_EQ(f32_to_fp8_e4m3(std::nextafter(std::ldexp(1.0f, -10), 1.0f)), 0x01);
  // 1.5 × 2^-9 lies between codes 1 and 2: ties to 2.
  EXPECT_EQ(f32_to_fp8_e4m3(1.5f * std::ldexp(1.0f, -9)), 0x02);
  // 432 is the midpoint of 416 (0x7d, odd) and 448 (0x7e, even).
  EXPECT_EQ(fp8_e4m3_to_f32(0x7d), 416.0f);
  EXPECT_EQ(f32_to_fp8_e4m3(432.0f), 0x7e);
  EXPECT_EQ(f32_to_fp8_e4m3(-0.0f), 0x80);
}

TEST(DtypeFp8, EveryMidpointTiesToEven) {
  for (uint32_t code = 0; code < 0x7e; ++code) {
    const float low = fp8_e4m3_to_f32(static_cast<uint8_t>(code));
    const float high = fp8_e4m3_to_f32(static_cast<uint8_t>(code + 1));
    const float midpoint = (low + high) / 2;  // exact: both are short binary fractions
    const uint32_t even = (code % 2 == 0) ? code : code + 1;
    EXPECT_EQ(f32_to_fp8_e4m3(midpoint), even) << "between codes " << code << " and " << code + 1;
  }
}

TEST(DtypeBf16, DecodesAndEncodesExactValues) {
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(bf16_to_f32(0x7f80), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(bf16_to_f32(0x7fc0)));
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_bf16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
}

TEST(DtypeBf16, AllCodesRoundTrip) {
  for (uint32_t code = 0; code < 0x10000; ++code) {
    const float value = bf16_to_f32(static_cast<uint16_t>(code));
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(value)))) << code;
    } else {
      EXPECT_EQ(f32_to_bf16(value), code) << code;
    }
  }
}

TEST(DtypeBf16, RoundsToNearestTiesToEven) {
  // 1.0 = 0x3f80 (even), next 0x3f81: the f32 midpoint 0x3f808000 goes down to 0x3f80.
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);
  // Between 0x3f81 (odd) and 0x3f82: the midpoint 0x3f818000 goes up to 0x3f82.
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f807fffu)), 0x3f80);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0xbf818000u)), 0xbf82);
  // Rounding up out of the largest finite value gives infinity, as IEEE requires.
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);
}

TEST(DtypeBf16, NanStaysNan) {
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  // A NaN whose payload lies only in the low bits must not round to infinity.
  const float low_payload_nan = std::bit_cast<float>(0x7f800001u);
  ASSERT_TRUE(std::isnan(low_payload_nan));
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(low_payload_nan))));
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::bit_cast<float>(0xffffffffu)))));
}

TEST(DtypeF16, DecodesKnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(f16_to_f32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
}

TEST(DtypeF16, AllNonNanCodesRoundTrip) {
  for (uint32_t code = 0; code < 0x10000; ++code) {
    const float value = f16_to_f32(static_cast<uint16_t>(code));
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(value)))) << code;
    } else {
      ASSERT_EQ(f32_to_f16(value), code) << code;  // includes ±0 and ±infinity
    }
  }
}

TEST(DtypeF16, RoundsToNearestTiesToEvenAndOverflows) {
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie to even 0x3c00
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie to even 0x3c02
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);             // half the min subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -24)), 0x0002);             // 1.5 ulps ties to 2
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // the midpoint to 65536 rounds to infinity
  EXPECT_EQ(f32_to_f16(-1e9f), 0xfc00);
}

}  // namespace
}  // namespace nextn
