// AVX-512 attention kernels (compiled with -mavx512f; entries of the avx512 tables).
//
// exp_sum (a softmax without its division): vector max, e^x by range reduction and a
// polynomial, vector sums.
// Scores: blocks of up to 4 query heads × 4 cache rows, 16 columns a step, one accumulator per
// score, so each cache row is loaded once for 4 heads and each query once for 4 rows. Values:
// blocks of up to 4 heads × 64 output columns, every cache row's 64 columns loaded once for
// the 4 heads and summed in ascending row order. Both go through the cache in runs of rows
// that stay in L2 while every block of heads reads them. Either way a score or an output is
// the same sequence of operations whatever the block or run it lands in.
// GCC 12 warns inside its own AVX-512 headers (as in matmul_avx512.cpp): silenced for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "kernels/avx512_common.h"
#include "kernels/matmul_table.h"

namespace nextn {
namespace {

constexpr int kBlock = 4;

using avx512::lane_mask;

// The loops over a block's accumulators are unrolled by hand (#pragma GCC unroll): left as
// loops, GCC 12 keeps the accumulator array in memory and stores all of it every step, which
// ran these kernels at a third of the FMA peak.
template <int kQueries, int kKeys>
void score_block(const float* q, int64_t q_stride, const float* keys, int64_t key_stride,
                 int64_t dim, float scale, float* scores, int64_t score_stride) {
  __m512 acc[kQueries][kKeys];
#pragma GCC unroll 4
  for (int i = 0; i < kQueries; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < kKeys; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 mask = lane_mask(dim - c);
    __m512 k[kKeys];
#pragma GCC unroll 4
    for (int j = 0; j < kKeys; ++j) k[j] = _mm512_maskz_loadu_ps(mask, keys + j * key_stride + c);
#pragma GCC unroll 4
    for (int i = 0; i < kQueries; ++i) {
      const __m512 qi = _mm512_maskz_loadu_ps(mask, q + i * q_stride + c);
#pragma GCC unroll 4
      for (int j = 0; j < kKeys; ++j) acc[i][j] = _mm512_fmadd_ps(qi, k[j], acc[i][j]);
    }
  }
  // All the block's sums at once, a head's scores in adjacent lanes.
  __m512 flat[kQueries * kKeys];
#pragma GCC unroll 4
  for (int i = 0; i < kQueries; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < kKeys; ++j) flat[i * kKeys + j] = acc[i][j];
  }
  const __m512 sums = _mm512_mul_ps(avx512::reduce_each(flat), _mm512_set1_ps(scale));
#pragma GCC unroll 4
  for (int i = 0; i < kQueries; ++i) {
    avx512::store_lanes(scores + i * score_stride, sums, i * kKeys, kKeys);
  }
}

using ScoreBlock = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float, float*,
                            int64_t);
template <int kQueries>
constexpr std::array<ScoreBlock, kBlock + 1> score_blocks() {
  return {nullptr, &score_block<kQueries, 1>, &score_block<kQueries, 2>, &score_block<kQueries, 3>,
          &score_block<kQueries, 4>};
}
constexpr std::array<std::array<ScoreBlock, kBlock + 1>, kBlock + 1> kScoreBlocks = {
    std::array<ScoreBlock, kBlock + 1>{}, score_blocks<1>(), score_blocks<2>(), score_blocks<3>(),
    score_blocks<4>()};

// Rows [0, n_keys) of `values` added to out's 64 columns from c0: from zero when `start`, else
// continuing the sums already there (an fp32 store and load change no bit, so splitting the
// rows into runs changes no result).
template <int kQueries>
void value_block(const float* p, int64_t p_stride, const float* values, int64_t value_stride,
                 int64_t n_keys, int64_t c0, int64_t dim, bool start, float* out,
                 int64_t out_stride) {
  __mmask16 masks[4];
  for (int v = 0; v < 4; ++v) {
    masks[v] = lane_mask(dim - c0 - 16 * v);
  }
  __m512 acc[kQueries][4];
#pragma GCC unroll 4
  for (int i = 0; i < kQueries; ++i) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      acc[i][k] = start ? _mm512_setzero_ps()
                        : _mm512_maskz_loadu_ps(masks[k], out + i * out_stride + c0 + 16 * k);
    }
  }
  for (int64_t s = 0; s < n_keys; ++s) {
    const float* row = values + s * value_stride + c0;
    __m512 v[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) v[k] = _mm512_maskz_loadu_ps(masks[k], row + 16 * k);
#pragma GCC unroll 4
    for (int i = 0; i < kQueries; ++i) {
      const __m512 weight = _mm512_set1_ps(p[i * p_stride + s]);
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) acc[i][k] = _mm512_fmadd_ps(weight, v[k], acc[i][k]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < kQueries; ++i) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      _mm512_mask_storeu_ps(out + i * out_stride + c0 + 16 * k, masks[k], acc[i][k]);
    }
  }
}

using ValueBlock = void (*)(const float*, int64_t, const float*, int64_t, int64_t, int64_t, int64_t,
                            bool, float*, int64_t);
constexpr std::array<ValueBlock, kBlock + 1> kValueBlocks = {
    nullptr, &value_block<1>, &value_block<2>, &value_block<3>, &value_block<4>};

// e^x for x ≤ 0: x = n ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor series to r^6
// (relative error below 2^-22), times 2^n by vscalefps (which gives 0 far below the range).
inline __m512 exp_nonpositive(__m512 x) {
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(0x1.715476p+0f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // ln 2 in two parts: n · ln2_hi is exact for |n| < 2^9, and both products are fused.
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e400p-1f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  for (const float c : {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f}) {
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
  }
  return _mm512_scalef_ps(p, n);
}

}  // namespace

float exp_sum_avx512(float* values, int64_t n, float* shift) {
  const __m512 lowest = _mm512_set1_ps(-INFINITY);
  __m512 top = _mm512_set1_ps(*shift);
  for (int64_t i = 0; i < n; i += 16) {
    top = _mm512_max_ps(top, _mm512_mask_loadu_ps(lowest, lane_mask(n - i), values + i));
  }
  *shift = _mm512_reduce_max_ps(top);
  const __m512 max = _mm512_set1_ps(*shift);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = lane_mask(n - i);
    const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, values + i), max));
    _mm512_mask_storeu_ps(values + i, mask, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(mask, e));
  }
  return avx512::reduce(sum);
}

// Cache rows per run: the run (up to 64 × 576 floats, 147 KB for DeepSeek-V3) stays in L2 while
// every block of heads reads it, so the cache streams from memory once per call however many
// heads the call has, not once per block of 4 heads.
constexpr int64_t kKeysPerRun = 64;

void attention_scores_avx512(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                             int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
                             float* scores, int64_t score_stride) {
  for (int64_t run = 0; run < n_keys; run += kKeysPerRun) {
    const int64_t run_end = std::min(n_keys, run + kKeysPerRun);
    for (int64_t i = 0; i < queries; i += kBlock) {
      const auto& blocks =
          kScoreBlocks[static_cast<size_t>(std::min<int64_t>(kBlock, queries - i))];
      for (int64_t s = run; s < run_end; s += kBlock) {
        blocks[static_cast<size_t>(std::min<int64_t>(kBlock, run_end - s))](
            q + i * q_stride, q_stride, keys + s * key_stride, key_stride, dim, scale,
            scores + i * score_stride + s, score_stride);
      }
    }
  }
}

void attention_values_avx512(const float* p, int64_t p_stride, int64_t queries, const float* values,
                             int64_t value_stride, int64_t n_keys, int64_t dim, float* out,
                             int64_t out_stride) {
  for (int64_t run = 0; run == 0 || run < n_keys; run += kKeysPerRun) {  // no rows: zeros
    const int64_t length = std::min(kKeysPerRun, n_keys - run);
    for (int64_t i = 0; i < queries; i += kBlock) {
      const ValueBlock block =
          kValueBlocks[static_cast<size_t>(std::min<int64_t>(kBlock, queries - i))];
      for (int64_t c0 = 0; c0 < dim; c0 += 64) {
        block(p + i * p_stride + run, p_stride, values + run * value_stride, value_stride, length,
              c0, dim, run == 0, out + i * out_stride, out_stride);
      }
    }
  }
}

}  // namespace nextn
