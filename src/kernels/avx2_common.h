// Helpers of the AVX2 kernel files. Include only from a file compiled with -mavx2; internal
// linkage for the reason avx512_common.h gives.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace nextn::avx2 {

// The first `remaining` of 8 lanes (all of them from 8, none below 1), as a maskload mask.
static inline __m256i lane_mask(int64_t remaining) {
  const auto n = static_cast<int>(std::clamp<int64_t>(remaining, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

}  // namespace nextn::avx2
