// AVX2 attention kernels (compiled with -mavx2 -mfma; entries of the avx2 table), the AVX-512
// ones' shapes within sixteen 8-lane registers.
//
// exp_sum: vector max, e^x by range reduction and a polynomial, vector sums.
// Scores: blocks of up to 4 query heads × 2 cache rows, 8 columns a step, one accumulator per
// score and one fixed horizontal sum. Values: blocks of up to 2 heads × 32 output columns,
// every cache row's 32 columns loaded once for the 2 heads and summed in ascending row order.
// Both go through the cache in runs of rows that stay in L2 while every block of heads reads
// them. A score or an output is the same sequence of operations whatever block or run it
// lands in.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "kernels/avx2_common.h"
#include "kernels/matmul_table.h"

namespace nextn {
namespace {

using avx2::lane_mask;

constexpr int kScoreQueries = 4;
constexpr int kScoreKeys = 2;
constexpr int kValueQueries = 2;
constexpr int64_t kValueColumns = 32;
// Cache rows per run, as in the AVX-512 kernels: a run stays in L2 while every block of heads
// reads it.
constexpr int64_t kKeysPerRun = 64;

// The fixed horizontal sum of every score: ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)).
inline float reduce(__m256 v) {
  const __m256 pairs = _mm256_hadd_ps(v, v);
  const __m256 quads = _mm256_hadd_ps(pairs, pairs);
  return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(quads), _mm256_extractf128_ps(quads, 1)));
}

template <int kQueries, int kKeys>
void score_block(const float* q, int64_t q_stride, const float* keys, int64_t key_stride,
                 int64_t dim, float scale, float* scores, int64_t score_stride) {
  __m256 acc[kQueries][kKeys];
#pragma GCC unroll 4
  for (int i = 0; i < kQueries; ++i) {
#pragma GCC unroll 2
    for (int j = 0; j < kKeys; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  for (int64_t c = 0; c < dim; c += 8) {
    const __m256i mask = lane_mask(dim - c);
    __m256 k[kKeys];
#pragma GCC unroll 2
    for (int j = 0; j < kKeys; ++j) k[j] = _mm256_maskload_ps(keys + j * key_stride + c, mask);
#pragma GCC unroll 4
    for (int i = 0; i < kQueries; ++i) {
      const __m256 qi = _mm256_maskload_ps(q + i * q_stride + c, mask);
#pragma GCC unroll 2
      for (int j = 0; j < kKeys; ++j) acc[i][j] = _mm256_fmadd_ps(qi, k[j], acc[i][j]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < kQueries; ++i) {
#pragma GCC unroll 2
    for (int j = 0; j < kKeys; ++j) scores[i * score_stride + j] = scale * reduce(acc[i][j]);
  }
}

using ScoreBlock = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float, float*,
                            int64_t);
template <int kQueries>
constexpr std::array<ScoreBlock, kScoreKeys + 1> score_blocks() {
  return {nullptr, &score_block<kQueries, 1>, &score_block<kQueries, 2>};
}
constexpr std::array<std::array<ScoreBlock, kScoreKeys + 1>, kScoreQueries + 1> kScoreBlocks = {
    std::array<ScoreBlock, kScoreKeys + 1>{}, score_blocks<1>(), score_blocks<2>(),
    score_blocks<3>(), score_blocks<4>()};

// Rows [0, n_keys) of `values` added to out's 32 columns from c0: from zero when `start`, else
// continuing the sums already there (an fp32 store and load change no bit).
template <int kQueries>
void value_block(const float* p, int64_t p_stride, const float* values, int64_t value_stride,
                 int64_t n_keys, int64_t c0, int64_t dim, bool start, float* out,
                 int64_t out_stride) {
  __m256i masks[4];
  for (int v = 0; v < 4; ++v) masks[v] = lane_mask(dim - c0 - 8 * v);
  __m256 acc[kQueries][4];
#pragma GCC unroll 2
  for (int i = 0; i < kQueries; ++i) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      acc[i][k] = start ? _mm256_setzero_ps()
                        : _mm256_maskload_ps(out + i * out_stride + c0 + 8 * k, masks[k]);
    }
  }
  for (int64_t s = 0; s < n_keys; ++s) {
    const float* row = values + s * value_stride + c0;
    __m256 v[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) v[k] = _mm256_maskload_ps(row + 8 * k, masks[k]);
#pragma GCC unroll 2
    for (int i = 0; i < kQueries; ++i) {
      const __m256 weight = _mm256_broadcast_ss(p + i * p_stride + s);
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) acc[i][k] = _mm256_fmadd_ps(weight, v[k], acc[i][k]);
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < kQueries; ++i) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      _mm256_maskstore_ps(out + i * out_stride + c0 + 8 * k, masks[k], acc[i][k]);
    }
  }
}

using ValueBlock = void (*)(const float*, int64_t, const float*, int64_t, int64_t, int64_t, int64_t,
                            bool, float*, int64_t);
constexpr std::array<ValueBlock, kValueQueries + 1> kValueBlocks = {nullptr, &value_block<1>,
                                                                    &value_block<2>};

// e^x for x ≤ 0: x = n ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor series to r^6
// (relative error below 2^-22), times 2^n placed in the exponent bits. Below -87 (where 2^n
// would leave the normal range) the result is 0, as e^x is there to within 2^-125.
inline __m256 exp_nonpositive(__m256 x) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(0x1.715476p+0f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // ln 2 in two parts: n · ln2_hi is exact for |n| < 2^9, and both products are fused.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e400p-1f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720.0f);
  for (const float c : {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f}) {
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
  }
  const __m256 in_range = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ);
  const __m256i exponent = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_max_ps(n, _mm256_set1_ps(-126.0f))),
                       _mm256_set1_epi32(127)),
      23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(exponent)), in_range);
}

}  // namespace

float exp_sum_avx2(float* values, int64_t n, float* shift) {
  const __m256 lowest = _mm256_set1_ps(-INFINITY);
  __m256 top = _mm256_set1_ps(*shift);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i mask = lane_mask(n - i);
    top = _mm256_max_ps(top, _mm256_blendv_ps(lowest, _mm256_maskload_ps(values + i, mask),
                                              _mm256_castsi256_ps(mask)));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, top);
  *shift = *std::max_element(lanes, lanes + 8);
  const __m256 max = _mm256_set1_ps(*shift);
  __m256 sum = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i mask = lane_mask(n - i);
    const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_maskload_ps(values + i, mask), max));
    _mm256_maskstore_ps(values + i, mask, e);
    sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(mask)));
  }
  return reduce(sum);
}

void attention_scores_avx2(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                           int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
                           float* scores, int64_t score_stride) {
  for (int64_t run = 0; run < n_keys; run += kKeysPerRun) {
    const int64_t run_end = std::min(n_keys, run + kKeysPerRun);
    for (int64_t i = 0; i < queries; i += kScoreQueries) {
      const auto& blocks =
          kScoreBlocks[static_cast<size_t>(std::min<int64_t>(kScoreQueries, queries - i))];
      for (int64_t s = run; s < run_end; s += kScoreKeys) {
        blocks[static_cast<size_t>(std::min<int64_t>(kScoreKeys, run_end - s))](
            q + i * q_stride, q_stride, keys + s * key_stride, key_stride, dim, scale,
            scores + i * score_stride + s, score_stride);
      }
    }
  }
}

void attention_values_avx2(const float* p, int64_t p_stride, int64_t queries, const float* values,
                           int64_t value_stride, int64_t n_keys, int64_t dim, float* out,
                           int64_t out_stride) {
  for (int64_t run = 0; run == 0 || run < n_keys; run += kKeysPerRun) {  // no rows: zeros
    const int64_t length = std::min(kKeysPerRun, n_keys - run);
    for (int64_t i = 0; i < queries; i += kValueQueries) {
      const ValueBlock block =
          kValueBlocks[static_cast<size_t>(std::min<int64_t>(kValueQueries, queries - i))];
      for (int64_t c0 = 0; c0 < dim; c0 += kValueColumns) {
        block(p + i * p_stride + run, p_stride, values + run * value_stride, value_stride, length,
              c0, dim, run == 0, out + i * out_stride, out_stride);
      }
    }
  }
}

}  // namespace nextn
