// Helpers of the AVX-512 kernel files. Include only from a file compiled with -mavx512f. They
// have internal linkage on purpose: each kernel file is compiled for its own instruction set,
// and one shared inline definition could be linked from the file with the wider set into the
// one meant for CPUs without it.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "kernels/row_prefetch.h"

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

// The row prefetches are shared with the AVX2 table (kernels/row_prefetch.h).
using row_prefetch::kPrefetchBlocks;
using row_prefetch::prefetch_first_rows;
using row_prefetch::prefetch_lead_rows;

// One level of reduce_each: out[k] = combine(in[2k], in[2k + 1]) for the kIn inputs, a missing
// second operand repeating the last input (lanes of different vectors are never added
// together, so a repeat changes only lanes nobody reads).
template <int kIn, typename Combine>
static inline void pair_level(const __m512* in, __m512* out, Combine combine) {
#pragma GCC unroll 8
  for (int k = 0; k < (kIn + 1) / 2; ++k) {
    out[k] = combine(in[2 * k], in[2 * k + 1 < kIn ? 2 * k + 1 : kIn - 1]);
  }
}

// The horizontal sums of up to 16 vectors at once: lane k of the result is bit for bit
// reduce(v[k]) for k < kCount (the other lanes hold repeats). It makes the same pairs of
// additions as reduce() (lane i + lane i+8, then + 4, + 2, + 1), but each shuffle and add works
// for several vectors, so 16 sums cost 45 operations instead of about 110: a block's outputs
// cost less than its multiply-adds even when rows are only a few hundred columns wide.
template <int kCount>
static inline __m512 reduce_each(const __m512 (&v)[kCount]) {
  static_assert(kCount >= 1 && kCount <= 16);
  constexpr int kPairs = (kCount + 1) / 2, kQuads = (kPairs + 1) / 2, kOcts = (kQuads + 1) / 2;
  // Level 1: lanes i and i + 8. Vector k holds sums (2k, 2k + 1) in its two 256-bit halves.
  __m512 s1[kPairs];
  pair_level<kCount>(v, s1, [](__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  });
  // Level 2: + 4. Vector k holds sums 4k .. 4k + 3 in its four 128-bit quarters.
  __m512 s2[kQuads];
  pair_level<kPairs>(s1, s2, [](__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  });
  // Level 3: + 2. Quarter q of vector k: two lanes of sum 8k + q, two of sum 8k + 4 + q.
  __m512 s3[kOcts];
  pair_level<kQuads>(s2, s3, [](__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  });
  // Level 4: + 1. Lane 4q + j holds sum 4j + q; the permutation puts sum k in lane k.
  __m512 sums[1];
  pair_level<kOcts>(s3, sums, [](__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  });
  const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  return _mm512_permutexvar_ps(order, sums[0]);
}

// Lanes [first, first + count) of v stored at out[0 .. count).
static inline void store_lanes(float* out, __m512 v, int first, int count) {
  if (first != 0) {
    v = _mm512_permutexvar_ps(
        _mm512_add_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                         _mm512_set1_epi32(first)),
        v);
  }
  _mm512_mask_storeu_ps(out, lane_mask(count), v);
}

// Lane L holds values[L % kCount]: one factor per row of a token-major block of kCount rows.
template <int kCount>
static inline __m512 repeat_lanes(const float* values) {
  static_assert(kCount >= 1 && kCount <= 16);
  alignas(64) static constexpr std::array<int32_t, 16> kIndex = [] {
    std::array<int32_t, 16> index{};
    for (int lane = 0; lane < 16; ++lane) index[lane] = lane % kCount;
    return index;
  }();
  return _mm512_permutexvar_ps(_mm512_load_si512(kIndex.data()),
                               _mm512_maskz_loadu_ps(lane_mask(kCount), values));
}

// A block's outputs: y[t · y_stride + i] = reduce(acc[i][t]), times out_scale[i] when given.
// The sums are taken token-major (a token's rows in adjacent lanes), so each token's outputs
// leave in one store.
template <int kRows, int kTokens>
static inline void store_block(const __m512 (&acc)[kRows][kTokens], const float* out_scale,
                               float* y, int64_t y_stride) {
  if constexpr (kRows * kTokens > 16) {  // shapes no table runs, but instantiated: one by one
    for (int i = 0; i < kRows; ++i) {
      for (int t = 0; t < kTokens; ++t) {
        y[t * y_stride + i] = reduce(acc[i][t]) * (out_scale != nullptr ? out_scale[i] : 1.0f);
      }
    }
  } else {
    __m512 flat[kRows * kTokens];
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) {
#pragma GCC unroll 8
      for (int i = 0; i < kRows; ++i) flat[t * kRows + i] = acc[i][t];
    }
    __m512 sums = reduce_each(flat);
    if (out_scale != nullptr) sums = _mm512_mul_ps(sums, repeat_lanes<kRows>(out_scale));
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) store_lanes(y + t * y_stride, sums, t * kRows, kRows);
  }
}

}  // namespace nextn::avx512
