// AVX2 row combinations (KernelTable::combine of the avx2 table; compiled with -mavx2 -mfma
// -mf16c): y[t, c] = Σ_i coefficients[t, i] · w[first_row + i, c], MLA's absorbed queries.
//
// As the AVX-512 combiner: the rows go in blocks of kRowBlock; over a block, a chunk of
// columns × a few tokens stays in registers (8 accumulators: 8 groups of 8 columns for one
// token, 4 for two, 2 for three or four), taken from y and put back between blocks, so each
// weight is converted once for up to four tokens and the rows stream in order. Every output
// takes the same fused multiply-adds in row order from zero whatever the chunk, the tokens or
// the row length, so a token's result does not depend on the batch. A last group of fewer
// than 8 columns reads its weights from a zero-padded copy.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/avx2_common.h"
#include "kernels/matmul_table.h"
#include "kernels/row_prefetch.h"

namespace nextn {
namespace {

using avx2::lane_mask;

constexpr int kGroupColumns = 8;
constexpr int kMaxTokens = 4;
constexpr int64_t kRowBlock = 16;
// How far ahead the first pass over a block prefetches whole rows into L2 (the AVX-512
// combiner's measured best).
constexpr int64_t kPrefetchBytes = 8192;

template <int kTokens>
constexpr int groups_per_chunk() {
  return kTokens == 1 ? 8 : kTokens == 2 ? 4 : 2;
}

// The rows [first_row, first_row + count) of a row-major matrix of `row_bytes` rows.
struct Rows {
  const std::byte* first;
  int64_t row_bytes;
  int64_t count;
  int64_t lead = (kPrefetchBytes + row_bytes - 1) / row_bytes;

  const std::byte* row(int64_t i) const { return first + i * row_bytes; }
  void prefetch_first() const {
    row_prefetch::prefetch_first_rows(first, row_bytes, 0, count, lead);
  }
  void prefetch_ahead(int64_t i) const {  // row i + lead, whole (none past the last row)
    if (i + lead < count) row_prefetch::prefetch_first_rows(first, row_bytes, i + lead, count, 1);
  }
};

struct Bf16Rows : Rows {
  int64_t begin_rows(int64_t /*i*/, int64_t /*g0*/, int /*groups*/) const { return count; }
  __m256 weights(int64_t i, int /*g*/, int64_t c, int lanes) const {
    const std::byte* at = row(i) + 2 * c;
    __m128i raw;
    if (lanes == kGroupColumns) {
      raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    } else {
      alignas(16) std::array<std::byte, 16> copy{};
      std::memcpy(copy.data(), at, static_cast<size_t>(2 * lanes));
      raw = _mm_load_si128(reinterpret_cast<const __m128i*>(copy.data()));
    }
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
  }
};

// FP8 weights whose scale blocks hold whole groups of 8 columns (combine_rows checks): a run
// of rows in one scale row takes its groups' scales (× 2^8, the decoding's factor) once.
struct Fp8Rows : Rows {
  const WeightMatrix* w;
  int64_t first_row;
  std::array<float, 8> scale{};

  int64_t begin_rows(int64_t i, int64_t g0, int groups) {
    const int64_t r = first_row + i;
    const float* grid = w->scales_of_row(r);
    for (int g = 0; g < groups; ++g) {
      scale[static_cast<size_t>(g)] = grid[kGroupColumns * (g0 + g) / w->scale_block_cols] * 0x1p8f;
    }
    return std::min(count, w->next_scale_row_start(r) - first_row);
  }
  __m256 weights(int64_t i, int g, int64_t c, int lanes) const {
    int64_t eight = 0;
    std::memcpy(&eight, row(i) + c, static_cast<size_t>(lanes));
    // e4m3 → fp16 (the value × 2^-8) by sign extension and a shift, then widened.
    const __m128i half =
        _mm_and_si128(_mm_slli_epi16(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(eight)), 7),
                      _mm_set1_epi16(static_cast<short>(0xbf80)));
    return _mm256_mul_ps(_mm256_cvtph_ps(half), _mm256_set1_ps(scale[static_cast<size_t>(g)]));
  }
};

// Columns [8 · g0, 8 · (g0 + kGroups)) of rows [i0, i1), the last group `last_lanes` wide,
// the sums started from zero (`first`) or from y.
template <int kGroups, int kTokens, typename Format>
void combine_pass(Format& format, int64_t i0, int64_t i1, int64_t g0, int last_lanes, bool first,
                  const float* coefficients, int64_t coefficient_stride, bool prefetch, float* y,
                  int64_t y_stride) {
  const __m256i last = lane_mask(last_lanes);
  const __m256i all = lane_mask(kGroupColumns);
  __m256 acc[kGroups][kTokens];
  for (int t = 0; t < kTokens; ++t) {
    const float* in = y + t * y_stride + kGroupColumns * g0;
#pragma GCC unroll 8
    for (int g = 0; g < kGroups; ++g) {
      acc[g][t] = first ? _mm256_setzero_ps()
                        : _mm256_maskload_ps(in + kGroupColumns * g, g == kGroups - 1 ? last : all);
    }
  }
  for (int64_t i = i0; i < i1;) {
    const int64_t run_end = std::min(i1, format.begin_rows(i, g0, kGroups));
    for (; i < run_end; ++i) {
      if (prefetch) format.prefetch_ahead(i);
      __m256 coefficient[kTokens];
      for (int t = 0; t < kTokens; ++t) {
        coefficient[t] = _mm256_broadcast_ss(coefficients + t * coefficient_stride + i);
      }
#pragma GCC unroll 8
      for (int g = 0; g < kGroups; ++g) {
        const __m256 w = format.weights(i, g, kGroupColumns * (g0 + g),
                                        g == kGroups - 1 ? last_lanes : kGroupColumns);
        for (int t = 0; t < kTokens; ++t) acc[g][t] = _mm256_fmadd_ps(w, coefficient[t], acc[g][t]);
      }
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    float* out = y + t * y_stride + kGroupColumns * g0;
#pragma GCC unroll 8
    for (int g = 0; g < kGroups; ++g) {
      _mm256_maskstore_ps(out + kGroupColumns * g, g == kGroups - 1 ? last : all, acc[g][t]);
    }
  }
}

// Rows [i0, i1) into every column for kTokens tokens: whole chunks, then the groups left one
// at a time.
template <int kTokens, typename Format>
void combine_block(Format& format, int64_t cols, int64_t i0, int64_t i1, bool first,
                   const float* coefficients, int64_t coefficient_stride, bool prefetch, float* y,
                   int64_t y_stride) {
  constexpr int kGroups = groups_per_chunk<kTokens>();
  const int64_t groups = (cols + kGroupColumns - 1) / kGroupColumns;
  const auto tail = static_cast<int>(cols - kGroupColumns * (groups - 1));
  int64_t g0 = 0;
  for (; g0 + kGroups <= groups; g0 += kGroups) {
    combine_pass<kGroups, kTokens>(format, i0, i1, g0,
                                   g0 + kGroups == groups ? tail : kGroupColumns, first,
                                   coefficients, coefficient_stride, prefetch, y, y_stride);
    prefetch = false;
  }
  for (; g0 < groups; ++g0) {
    combine_pass<1, kTokens>(format, i0, i1, g0, g0 + 1 == groups ? tail : kGroupColumns, first,
                             coefficients, coefficient_stride, prefetch, y, y_stride);
    prefetch = false;
  }
}

template <typename Format>
void combine(Format& format, int64_t cols, int64_t count, const float* coefficients,
             int64_t coefficient_stride, int64_t tokens, float* y, int64_t y_stride) {
  format.prefetch_first();
  for (int64_t i0 = 0; i0 < count; i0 += kRowBlock) {
    const int64_t i1 = std::min(count, i0 + kRowBlock);
    for (int64_t t = 0; t < tokens; t += kMaxTokens) {
      const float* c = coefficients + t * coefficient_stride;
      float* out = y + t * y_stride;
      const bool first = i0 == 0;
      const bool prefetch = t == 0;  // later token blocks find the rows in L1
      auto run = [&]<int kTokens>() {
        combine_block<kTokens>(format, cols, i0, i1, first, c, coefficient_stride, prefetch, out,
                               y_stride);
      };
      switch (std::min<int64_t>(kMaxTokens, tokens - t)) {
        case 1:
          run.template operator()<1>();
          break;
        case 2:
          run.template operator()<2>();
          break;
        case 3:
          run.template operator()<3>();
          break;
        default:
          run.template operator()<4>();
          break;
      }
    }
  }
}

}  // namespace

void combine_bf16_avx2(const WeightMatrix& w, int64_t first_row, int64_t count,
                       const float* coefficients, int64_t coefficient_stride, int64_t tokens,
                       float* y, int64_t y_stride) {
  const int64_t row_bytes = w.cols * 2;
  Bf16Rows format{
      {.first = w.data + first_row * row_bytes, .row_bytes = row_bytes, .count = count}};
  combine(format, w.cols, count, coefficients, coefficient_stride, tokens, y, y_stride);
}

void combine_fp8_avx2(const WeightMatrix& w, int64_t first_row, int64_t count,
                      const float* coefficients, int64_t coefficient_stride, int64_t tokens,
                      float* y, int64_t y_stride) {
  Fp8Rows format{
      {.first = w.data + first_row * w.cols, .row_bytes = w.cols, .count = count}, &w, first_row};
  combine(format, w.cols, count, coefficients, coefficient_stride, tokens, y, y_stride);
}

}  // namespace nextn
