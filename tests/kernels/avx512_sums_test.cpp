// The batched horizontal sums the AVX-512 blocks store their outputs with are bit for bit the
// one-vector sum: greedy speculative output relies on a row's result not depending on its block.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/avx512_sums_probe.h"

namespace nextn {
namespace {

bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

// Values of wide range, so that the order of additions shows in the low bits.
std::vector<float> scattered_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-20, 20);
  std::vector<float> values(n);
  for (float& v : values) v = std::ldexp(mantissa(rng), exponent(rng));
  return values;
}

TEST(Avx512Sums, EveryCountMatchesTheOneVectorSumBitForBit) {
  if (!cpu_has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  for (int count = 1; count <= 16; ++count) {
    for (uint32_t seed = 0; seed < 20; ++seed) {
      const std::vector<float> vectors = scattered_floats(16 * 16, seed * 31 + count);
      float each[16], one_by_one[16];
      test::avx512_sums(count, vectors.data(), each, one_by_one);
      for (int k = 0; k < count; ++k) {
        uint32_t a, b;
        std::memcpy(&a, &each[k], 4);
        std::memcpy(&b, &one_by_one[k], 4);
        ASSERT_EQ(a, b) << "count " << count << ", sum " << k << ", seed " << seed;
      }
    }
  }
}

TEST(Avx512Sums, ABlockStoresEachTokensRowsWithTheirScale) {
  if (!cpu_has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  const std::vector<float> vectors = scattered_floats(16 * 16, 7);
  const float scale[4] = {0.5f, 3.0f, -2.0f, 0.25f};
  constexpr int64_t kStride = 6;  // wider than the block: the gaps must stay untouched
  std::vector<float> y(4 * kStride, 99.0f);
  test::avx512_block_store(vectors.data(), scale, y.data(), kStride);
  float each[16], one_by_one[16];
  test::avx512_sums(16, vectors.data(), each, one_by_one);
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(y[t * kStride + i], one_by_one[4 * i + t] * scale[i])
          << "row " << i << " token " << t;
    }
    EXPECT_EQ(y[t * kStride + 4], 99.0f);
    EXPECT_EQ(y[t * kStride + 5], 99.0f);
  }
}

}  // namespace
}  // namespace nextn
