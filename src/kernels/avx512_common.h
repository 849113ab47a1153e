// Helpers of the AVX-512 kernel files. Include only from a file compiled with -mavx512f. They
// have internal linkage on purpose: each kernel file is compiled for its own instruction set,
// and one shared inline definition could be linked from the file with the wider set into the
// one meant for CPUs without it.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace nextn::avx512 {

// The first `remaining` of 16 lanes (all of them from 16, none below 1).
static inline __mmask16 lane_mask(int64_t remaining) {
  if (remaining >= 16) return static_cast<__mmask16>(0xffff);
  return remaining <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << remaining) - 1);
}

// A fixed-order horizontal sum of 16 floats (GCC 12's _mm512_reduce_add_ps trips
// -Wuninitialized).
static inline float reduce(__m512 v) {
  const __m256 low = _mm512_castps512_ps256(v);
  const __m256 high = _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 sum8 = _mm256_add_ps(low, high);
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
}

}  // namespace nextn::avx512
