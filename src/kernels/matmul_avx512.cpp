// AVX-512 matmul rows (compiled with -mavx512f -mavx512bw -mavx512vl -mfma; used only when the
// CPU has them). Weights are converted 16 columns at a time inside the kernel and multiplied
// into the accumulators of up to 4 tokens, so a weight row is read from memory once per 4.
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_* in extract/shuffle): silence
// those two warnings for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "kernels/matmul_table.h"

namespace nextn {
namespace {

constexpr int kLanes = 16;
constexpr int kTokenBlock = 4;  // 4 tokens × 4 chains = 16 accumulators

// A fixed-order horizontal sum (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized).
inline float reduce(__m512 v) {
  const __m256 low = _mm512_castps512_ps256(v);
  const __m256 high = _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 sum8 = _mm256_add_ps(low, high);
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
}

inline __mmask16 tail_mask(int64_t remaining) {
  return remaining >= kLanes ? static_cast<__mmask16>(0xffff)
                             : static_cast<__mmask16>((1u << remaining) - 1);
}

struct Bf16 {
  static __m512 load(const WeightMatrix&, const std::byte* row, int64_t, int64_t c,
                     __mmask16 mask) {
    const __m256i raw = _mm256_maskz_loadu_epi16(mask, row + 2 * c);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
  }
  static constexpr size_t kBytes = 2;
};

struct F16 {
  static __m512 load(const WeightMatrix&, const std::byte* row, int64_t, int64_t c, __mmask16 mask) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, row + 2 * c));
  }
  static constexpr size_t kBytes = 2;
};

struct F32 {
  static __m512 load(const WeightMatrix&, const std::byte* row, int64_t, int64_t c, __mmask16 mask) {
    return _mm512_maskz_loadu_ps(mask, row + 4 * c);
  }
  static constexpr size_t kBytes = 4;
};

// e4m3fn → fp32 without a table: put the 7 magnitude bits at the top of an fp32 mantissa and
// exponent ((b & 0x7f) << 20), which is the value × 2^-120 for normal and subnormal codes
// alike, then multiply by 2^120 and restore the sign. (The NaN codes 0x7f / 0xff decode as
// ±480; quantizers never write them.)
struct Fp8 {
  static __m512 load(const WeightMatrix& w, const std::byte* row, int64_t r, int64_t c,
                     __mmask16 mask) {
    const __m128i raw = _mm_maskz_loadu_epi8(mask, row + c);
    const __m512i bytes = _mm512_cvtepu8_epi32(raw);
    const __m512i magnitude = _mm512_slli_epi32(_mm512_and_si512(bytes, _mm512_set1_epi32(0x7f)), 20);
    const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(bytes, _mm512_set1_epi32(0x80)), 24);
    __m512 value = _mm512_mul_ps(_mm512_castsi512_ps(magnitude), _mm512_set1_ps(0x1p120f));
    value = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(value), sign));
    return _mm512_mul_ps(value, scales(w, r, c));
  }
  // The 16 columns' block scales: one broadcast when they share a block.
  static __m512 scales(const WeightMatrix& w, int64_t r, int64_t c) {
    const float* grid = w.scales + ((w.first_row + r) / w.scale_block_rows) * w.scale_grid_cols;
    const int64_t first = c / w.scale_block_cols;
    const int64_t last = std::min(c + kLanes - 1, w.cols - 1) / w.scale_block_cols;
    if (first == last) return _mm512_set1_ps(grid[first]);
    alignas(64) float lanes[kLanes];
    for (int lane = 0; lane < kLanes; ++lane) {
      lanes[lane] = grid[std::min(c + lane, w.cols - 1) / w.scale_block_cols];
    }
    return _mm512_load_ps(lanes);
  }
  static constexpr size_t kBytes = 1;
};

// Four independent accumulator chains per token (chunk k of 16 columns goes to chain k % 4),
// so the FMA latency is hidden; the chains are summed in a fixed order at the end. The order
// of operations per output does not depend on kTokens.
template <typename Format, int kTokens>
void row_block(const WeightMatrix& w, int64_t r, const std::byte* row, const float* x,
               int64_t x_stride, float* y, int64_t y_stride) {
  constexpr int kChains = 4;
  __m512 acc[kTokens][kChains];
  for (int t = 0; t < kTokens; ++t) {
    for (int k = 0; k < kChains; ++k) acc[t][k] = _mm512_setzero_ps();
  }
  int64_t c = 0;
  for (; c + kChains * kLanes <= w.cols; c += kChains * kLanes) {
    for (int k = 0; k < kChains; ++k) {
      const int64_t column = c + k * kLanes;
      const __m512 weights = Format::load(w, row, r, column, static_cast<__mmask16>(0xffff));
      for (int t = 0; t < kTokens; ++t) {
        acc[t][k] = _mm512_fmadd_ps(weights, _mm512_loadu_ps(x + t * x_stride + column), acc[t][k]);
      }
    }
  }
  for (int k = 0; c < w.cols; c += kLanes, ++k) {  // the last < 64 columns
    const __mmask16 mask = tail_mask(w.cols - c);
    const __m512 weights = Format::load(w, row, r, c, mask);
    for (int t = 0; t < kTokens; ++t) {
      acc[t][k] = _mm512_fmadd_ps(weights, _mm512_maskz_loadu_ps(mask, x + t * x_stride + c), acc[t][k]);
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]),
                                     _mm512_add_ps(acc[t][2], acc[t][3]));
    y[t * y_stride + r] = reduce(sum);
  }
}

template <typename Format>
void rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
          int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* /*scratch*/) {
  using Block = void (*)(const WeightMatrix&, int64_t, const std::byte*, const float*, int64_t,
                         float*, int64_t);
  static constexpr Block kBlocks[kTokenBlock + 1] = {
      nullptr, &row_block<Format, 1>, &row_block<Format, 2>, &row_block<Format, 3>,
      &row_block<Format, 4>};
  for (int64_t r = row_begin; r < row_end; ++r) {
    const std::byte* row = w.data + static_cast<size_t>(r * w.cols) * Format::kBytes;
    for (int64_t t = 0; t < tokens; t += kTokenBlock) {
      const int64_t n = std::min<int64_t>(kTokenBlock, tokens - t);
      kBlocks[n](w, r, row, x + t * x_stride, x_stride, y + t * y_stride, y_stride);
    }
  }
}

}  // namespace

const KernelTable& avx512_kernel_table() {
  // Indexed by DType: kF32, kBF16, kF16, kF8E4M3.
  static const KernelTable table{.name = "avx512",
                                 .rows = {&rows<F32>, &rows<Bf16>, &rows<F16>, &rows<Fp8>}};
  return table;
}

}  // namespace nextn
