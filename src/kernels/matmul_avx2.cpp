// AVX2 + FMA matmul rows (compiled with -mavx2 -mfma -mf16c; used when the CPU has them and
// no AVX-512). 8 columns at a time into up to 8 token accumulators; the last cols % 8 columns
// are done in scalar code, the same way for every token count.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/fma_chains.h"
#include "kernels/matmul_table.h"
#include "tensor/dtype.h"

namespace nextn {
namespace {

constexpr int kLanes = 8;
constexpr int kTokenBlock = 8;

inline float reduce(__m256 v) {
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
}

struct Bf16 {
  static __m256 load(const float*, const std::byte* row, int64_t c) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
  }
  static float scalar(const float*, const std::byte* row, int64_t c) {
    uint16_t bits;
    std::memcpy(&bits, row + 2 * c, 2);
    return bf16_to_f32(bits);
  }
  static constexpr size_t kBytes = 2;
};

struct F16 {
  static __m256 load(const float*, const std::byte* row, int64_t c) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
  }
  static float scalar(const float*, const std::byte* row, int64_t c) {
    uint16_t bits;
    std::memcpy(&bits, row + 2 * c, 2);
    return f16_to_f32(bits);
  }
  static constexpr size_t kBytes = 2;
};

struct F32 {
  static __m256 load(const float*, const std::byte* row, int64_t c) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row + 4 * c));
  }
  static float scalar(const float*, const std::byte* row, int64_t c) {
    float v;
    std::memcpy(&v, row + 4 * c, 4);
    return v;
  }
  static constexpr size_t kBytes = 4;
};

// e4m3fn → fp32 by bit placement and a 2^120 rescale (as the portable decoder's table), times
// the column's scale from the row's expanded scales (one per column, see rows()).
struct Fp8 {
  static __m256 load(const float* scales, const std::byte* row, int64_t c) {
    int64_t eight;
    std::memcpy(&eight, row + c, 8);
    const __m256i bytes = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(eight));
    const __m256i magnitude =
        _mm256_slli_epi32(_mm256_and_si256(bytes, _mm256_set1_epi32(0x7f)), 20);
    const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(bytes, _mm256_set1_epi32(0x80)), 24);
    __m256 value = _mm256_mul_ps(_mm256_castsi256_ps(magnitude), _mm256_set1_ps(0x1p120f));
    value = _mm256_castsi256_ps(_mm256_or_si256(_mm256_castps_si256(value), sign));
    return _mm256_mul_ps(value, _mm256_loadu_ps(scales + c));
  }
  static float scalar(const float* scales, const std::byte* row, int64_t c) {
    return fp8_e4m3_to_f32(static_cast<uint8_t>(row[c])) * scales[c];
  }
  static constexpr size_t kBytes = 1;
};

template <typename Format, int kTokens>
void row_block(const WeightMatrix& w, int64_t r, const std::byte* row, const float* scales,
               const float* x, int64_t x_stride, float* y, int64_t y_stride) {
  __m256 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm256_setzero_ps();
  const int64_t vector_cols = w.cols - w.cols % kLanes;
  for (int64_t c = 0; c < vector_cols; c += kLanes) {
    const __m256 weights = Format::load(scales, row, c);
    for (int t = 0; t < kTokens; ++t) {
      acc[t] = _mm256_fmadd_ps(weights, _mm256_loadu_ps(x + t * x_stride + c), acc[t]);
    }
  }
  float tail[kTokens] = {};
  for (int64_t c = vector_cols; c < w.cols; ++c) {
    const float weight = Format::scalar(scales, row, c);
    for (int t = 0; t < kTokens; ++t) tail[t] += weight * x[t * x_stride + c];
  }
  for (int t = 0; t < kTokens; ++t) y[t * y_stride + r] = reduce(acc[t]) + tail[t];
}

template <typename Format>
void rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
          int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  using Block = void (*)(const WeightMatrix&, int64_t, const std::byte*, const float*, const float*,
                         int64_t, float*, int64_t);
  static constexpr Block kBlocks[kTokenBlock + 1] = {nullptr,
                                                     &row_block<Format, 1>,
                                                     &row_block<Format, 2>,
                                                     &row_block<Format, 3>,
                                                     &row_block<Format, 4>,
                                                     &row_block<Format, 5>,
                                                     &row_block<Format, 6>,
                                                     &row_block<Format, 7>,
                                                     &row_block<Format, 8>};
  // FP8: the scales of the current scale row, one per column, refilled when it changes (no
  // division per weight group).
  constexpr bool kScaled = std::is_same_v<Format, Fp8>;
  int64_t scale_row = -1;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const std::byte* row = w.data + static_cast<size_t>(r * w.cols) * Format::kBytes;
    if constexpr (kScaled) {
      if (w.scale_row_of(r) != scale_row) {
        scale_row = w.scale_row_of(r);
        w.expand_scale_row(scale_row, 1.0f, scratch);
      }
    }
    for (int64_t t = 0; t < tokens; t += kTokenBlock) {
      const int64_t n = std::min<int64_t>(kTokenBlock, tokens - t);
      kBlocks[n](w, r, row, scratch, x + t * x_stride, x_stride, y + t * y_stride, y_stride);
    }
  }
}

// KernelTable::fma_chains in this table's vectors.
double fma_chains() {
  return run_fma_chains<__m256>([](float v) { return _mm256_set1_ps(v); },
                                [](auto x, auto y, auto z) { return _mm256_fmadd_ps(x, y, z); });
}

}  // namespace

const KernelTable& avx2_kernel_table() {
  static const KernelTable table{.name = "avx2",
                                 .rows = {&rows<F32>, &rows<Bf16>, &rows<F16>, &rows<Fp8>},
                                 .fma_chains = &fma_chains,
                                 .attention_scores = &attention_scores_portable,
                                 .attention_values = &attention_values_portable,
                                 .exp_sum = &exp_sum_portable};
  return table;
}

}  // namespace nextn
