// The AVX-512 helpers of kernels/avx512_common.h, run on plain arrays for avx512_sums_test.cpp.
// This file alone is compiled with -mavx512f (tests/CMakeLists.txt); the test calls it only on
// a CPU that has AVX-512. GCC 12 warns inside its own AVX-512 headers (as in
// src/kernels/matmul_avx512.cpp): silenced for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/avx512_sums_probe.h"

#include "kernels/avx512_common.h"

namespace nextn::test {

namespace {

template <int kCount>
void sums_of(const float* vectors, float* each, float* one_by_one) {
  __m512 v[kCount];
  for (int k = 0; k < kCount; ++k) v[k] = _mm512_loadu_ps(vectors + 16 * k);
  _mm512_storeu_ps(each, avx512::reduce_each(v));
  for (int k = 0; k < kCount; ++k) one_by_one[k] = avx512::reduce(v[k]);
}

template <int... kCounts>
void dispatch(int count, const float* vectors, float* each, float* one_by_one,
              std::integer_sequence<int, kCounts...>) {
  ((count == kCounts + 1 ? sums_of<kCounts + 1>(vectors, each, one_by_one) : void()), ...);
}

}  // namespace

void avx512_sums(int count, const float* vectors, float* each, float* one_by_one) {
  dispatch(count, vectors, each, one_by_one, std::make_integer_sequence<int, 16>{});
}

void avx512_block_store(const float* vectors, const float* out_scale, float* y, int64_t y_stride) {
  __m512 acc[4][4];
  for (int i = 0; i < 4; ++i) {
    for (int t = 0; t < 4; ++t) acc[i][t] = _mm512_loadu_ps(vectors + 16 * (4 * i + t));
  }
  avx512::store_block<4, 4>(acc, out_scale, y, y_stride);
}

}  // namespace nextn::test
