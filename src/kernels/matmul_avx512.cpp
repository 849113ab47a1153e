// AVX-512 matmul rows (compiled with -mavx512f -mavx512bw -mavx512vl -mfma -mf16c; used only
// when the CPU has them).
//
// A block of up to 4 weight rows × 2 tokens is computed together, 32 columns a step: each
// weight is loaded and converted once for both tokens, and the 16 accumulators hide the FMA
// latency. Every output has two accumulators, one for the first 16 columns of each step and
// one for the other 16, summed at the end, so the operations per output are the same whatever
// the block shape or the batch (the shape is chosen per call, by the token count).
//
// Weight conversions, chosen so the cost per weight stays far below the memory time:
//   BF16  a 64-byte load holds 32 weights; (bits << 16) of each 32-bit lane is the even
//         column, (bits & 0xffff0000) the odd one. The activations are prepared in that
//         order (per 32 columns: the 16 even ones, then the 16 odd ones).
//   FP8   e4m3 → fp16 by bit placement (sign-extend to 16 bits, << 7, keep the sign and the
//         7 magnitude bits), which is the value × 2^-8 exactly for normal and subnormal codes;
//         vcvtph2ps widens it. Where the scale blocks span whole steps (DeepSeek's 128 × 128)
//         a block's products are summed first and scaled once (block_fp8); otherwise each
//         weight is multiplied by its column's expanded scale × 2^8.
//         (The NaN codes 0x7f / 0xff decode as ±480; quantizers never write them.)
//   F16   vcvtph2ps; F32 as stored.
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_* in extract/shuffle): silence
// those two warnings for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/matmul_table.h"

namespace nextn {
namespace {

constexpr int kStep = 32;      // columns per step (two 16-lane vectors)
constexpr int kRowBlock = 4;    // weight rows per block (batches)
constexpr int kTokenBlock = 2;  // tokens per block

// A fixed-order horizontal sum (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized).
inline float reduce(__m512 v) {
  const __m256 low = _mm512_castps512_ps256(v);
  const __m256 high = _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 sum8 = _mm256_add_ps(low, high);
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
}

inline __mmask16 lane_mask(int64_t remaining) {
  if (remaining >= 16) return static_cast<__mmask16>(0xffff);
  return remaining <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << remaining) - 1);
}

// One weight row of a block: its bytes and, for FP8, its expanded scales (one per column).
struct RowRef {
  const std::byte* data;
  const float* scales;  // FP8, any block shape: one scale (× 2^8) per column
  const float* grid;    // FP8, blocks of whole steps: the row's scale_grid_cols block scales
};

struct Bf16 {
  static constexpr size_t kBytes = 2;
  template <bool kTail>
  static void load(const RowRef& row, int64_t c, int64_t remaining, __m512& a, __m512& b) {
    __m512i raw;
    if constexpr (kTail) {
      const auto mask = static_cast<__mmask32>(remaining >= 32 ? ~0u : (1u << remaining) - 1);
      raw = _mm512_maskz_loadu_epi16(mask, row.data + 2 * c);
    } else {
      raw = _mm512_loadu_si512(row.data + 2 * c);
    }
    a = _mm512_castsi512_ps(_mm512_slli_epi32(raw, 16));
    b = _mm512_castsi512_ps(_mm512_and_si512(raw, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
  }
};

struct F16 {
  static constexpr size_t kBytes = 2;
  template <bool kTail>
  static void load(const RowRef& row, int64_t c, int64_t remaining, __m512& a, __m512& b) {
    if constexpr (kTail) {
      a = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lane_mask(remaining), row.data + 2 * c));
      b = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lane_mask(remaining - 16), row.data + 2 * c + 32));
    } else {
      a = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row.data + 2 * c)));
      b = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row.data + 2 * c + 32)));
    }
  }
};

struct F32 {
  static constexpr size_t kBytes = 4;
  template <bool kTail>
  static void load(const RowRef& row, int64_t c, int64_t remaining, __m512& a, __m512& b) {
    const auto* values = reinterpret_cast<const float*>(row.data) + c;
    if constexpr (kTail) {
      a = _mm512_maskz_loadu_ps(lane_mask(remaining), values);
      b = _mm512_maskz_loadu_ps(lane_mask(remaining - 16), values + 16);
    } else {
      a = _mm512_loadu_ps(values);
      b = _mm512_loadu_ps(values + 16);
    }
  }
};

struct Fp8 {
  static constexpr size_t kBytes = 1;
  // 16 codes → their values × 2^-8 (exact).
  static __m512 widen(__m128i bytes) {
    const __m256i sign_extended = _mm256_cvtepi8_epi16(bytes);
    const __m256i half = _mm256_and_si256(_mm256_slli_epi16(sign_extended, 7),
                                          _mm256_set1_epi16(static_cast<short>(0xbf80)));
    return _mm512_cvtph_ps(half);
  }
  template <bool kTail>
  static void load_unscaled(const RowRef& row, int64_t c, int64_t remaining, __m512& a,
                            __m512& b) {
    __m128i low, high;
    if constexpr (kTail) {
      low = _mm_maskz_loadu_epi8(lane_mask(remaining), row.data + c);
      high = _mm_maskz_loadu_epi8(lane_mask(remaining - 16), row.data + c + 16);
    } else {
      low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row.data + c));
      high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row.data + c + 16));
    }
    a = widen(low);
    b = widen(high);
  }
  // With the expanded per-column scales (any block shape).
  template <bool kTail>
  static void load(const RowRef& row, int64_t c, int64_t remaining, __m512& a, __m512& b) {
    load_unscaled<kTail>(row, c, remaining, a, b);
    a = _mm512_mul_ps(a, _mm512_loadu_ps(row.scales + c));
    b = _mm512_mul_ps(b, _mm512_loadu_ps(row.scales + c + 16));
  }
};

template <typename Format, int kRows, int kTokens>
void block(const RowRef* rows, int64_t cols, const float* x, int64_t x_stride, float* y,
           int64_t y_stride) {
  // Two accumulators per output: the first 16 and the last 16 columns of each step.
  __m512 even[kRows][kTokens], odd[kRows][kTokens];
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) even[i][t] = odd[i][t] = _mm512_setzero_ps();
  }
  auto step = [&]<bool kTail>(int64_t c) {
    for (int i = 0; i < kRows; ++i) {
      if constexpr (kRows > 1) {
        // The rows of a block lie in different 4 KiB pages, where the hardware prefetcher
        // stops: fetch the same columns of the next block's rows into L2 one block ahead
        // (measured 11.5 → 14.4 GB/s for 2 tokens from DRAM). Prefetches never fault.
        const std::byte* ahead =
            rows[i].data + (c + kRows * cols) * static_cast<int64_t>(Format::kBytes);
        for (size_t line = 0; line < kStep * Format::kBytes; line += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(ahead + line), _MM_HINT_T1);
        }
      }
      __m512 a, b;
      Format::template load<kTail>(rows[i], c, cols - c, a, b);
      for (int t = 0; t < kTokens; ++t) {
        even[i][t] = _mm512_fmadd_ps(a, _mm512_loadu_ps(x + t * x_stride + c), even[i][t]);
        odd[i][t] = _mm512_fmadd_ps(b, _mm512_loadu_ps(x + t * x_stride + c + 16), odd[i][t]);
      }
    }
  };
  const int64_t full = cols - cols % kStep;
  for (int64_t c = 0; c < full; c += kStep) step.template operator()<false>(c);
  if (full < cols) step.template operator()<true>(full);
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) y[t * y_stride + i] = reduce(_mm512_add_ps(even[i][t], odd[i][t]));
  }
}

template <typename Format>
using Block = void (*)(const RowRef*, int64_t, const float*, int64_t, float*, int64_t);

template <typename Format, int kRows>
constexpr std::array<Block<Format>, kTokenBlock + 1> token_blocks() {
  return {nullptr, &block<Format, kRows, 1>, &block<Format, kRows, 2>};
}

template <typename Format>
constexpr std::array<std::array<Block<Format>, kTokenBlock + 1>, kRowBlock + 1> kBlocks = {
    std::array<Block<Format>, kTokenBlock + 1>{}, token_blocks<Format, 1>(),
    token_blocks<Format, 2>(), token_blocks<Format, 3>(), token_blocks<Format, 4>()};

// FP8 scales expanded to one per column (× 2^8, see above; zero past the last column), for up
// to kRowBlock scale rows at once, kept while consecutive rows share them. Rows come in
// ascending order, so a hit is always the newest slot, and the round-robin refills of the rest
// of a block never overwrite a slot the block still uses.
class ExpandedScales {
 public:
  ExpandedScales(const WeightMatrix& w, float* scratch)
      : w_(w), stride_(w.cols + 2 * kStep), scratch_(scratch) {
    keys_.fill(-1);
  }
  const float* for_row(int64_t r) {
    const int64_t key = (w_.first_row + r) / w_.scale_block_rows;
    for (int slot = 0; slot < kRowBlock; ++slot) {
      if (keys_[slot] == key) return scratch_ + slot * stride_;
    }
    const int slot = next_;
    next_ = (next_ + 1) % kRowBlock;
    keys_[slot] = key;
    float* out = scratch_ + slot * stride_;
    const float* grid = w_.scales + key * w_.scale_grid_cols;
    for (int64_t c = 0; c < w_.cols; c += w_.scale_block_cols) {
      const float scale = grid[c / w_.scale_block_cols] * 0x1p8f;
      std::fill(out + c, out + std::min(w_.cols, c + w_.scale_block_cols), scale);
    }
    std::fill(out + w_.cols, out + stride_, 0.0f);
    return out;
  }

 private:
  const WeightMatrix& w_;
  int64_t stride_;
  float* scratch_;
  std::array<int64_t, kRowBlock> keys_{};
  int next_ = 0;
};

template <typename Format>
void rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
          int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  constexpr bool kScaled = std::is_same_v<Format, Fp8>;
  ExpandedScales scales(w, scratch);
  RowRef refs[kRowBlock];
  // One token is bound by memory: one row at a time keeps a single sequential stream, which
  // the prefetchers follow best (four interleaved rows measured 25% slower from DRAM). A batch
  // is bound by the multiply-adds: 4 rows × 2 tokens reuse every load for several outputs.
  const int64_t row_block = tokens == 1 ? 1 : kRowBlock;
  for (int64_t r = row_begin; r < row_end; r += row_block) {
    const int64_t n_rows = std::min<int64_t>(row_block, row_end - r);
    for (int64_t i = 0; i < n_rows; ++i) {
      refs[i] = {.data = w.data + static_cast<size_t>((r + i) * w.cols) * Format::kBytes,
                 .scales = kScaled ? scales.for_row(r + i) : nullptr,
                 .grid = nullptr};
    }
    for (int64_t t = 0; t < tokens; t += kTokenBlock) {
      const int64_t n_tokens = std::min<int64_t>(kTokenBlock, tokens - t);
      kBlocks<Format>[n_rows][n_tokens](refs, w.cols, x + t * x_stride, x_stride,
                                         y + t * y_stride + r, y_stride);
    }
  }
}

// FP8 whose scale blocks span whole steps (DeepSeek's 128 × 128, or one block per row): the
// unscaled products of a block are summed apart, then multiplied by the block's scale into
// the output's accumulator, so a weight costs no multiply of its own.
template <int kRows, int kTokens>
void block_fp8(const RowRef* rows, int64_t cols, int64_t block_cols, const float* x,
               int64_t x_stride, float* y, int64_t y_stride) {
  __m512 acc[kRows][kTokens];
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) acc[i][t] = _mm512_setzero_ps();
  }
  for (int64_t begin = 0, b = 0; begin < cols; begin += block_cols, ++b) {
    const int64_t end = std::min(cols, begin + block_cols);
    __m512 even[kRows][kTokens], odd[kRows][kTokens];
    for (int i = 0; i < kRows; ++i) {
      for (int t = 0; t < kTokens; ++t) even[i][t] = odd[i][t] = _mm512_setzero_ps();
    }
    auto step = [&]<bool kTail>(int64_t c) {
      for (int i = 0; i < kRows; ++i) {
        if constexpr (kRows > 1) {  // as in block()
          _mm_prefetch(reinterpret_cast<const char*>(rows[i].data + c + kRows * cols), _MM_HINT_T1);
        }
        __m512 lo, hi;
        Fp8::load_unscaled<kTail>(rows[i], c, cols - c, lo, hi);
        for (int t = 0; t < kTokens; ++t) {
          even[i][t] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(x + t * x_stride + c), even[i][t]);
          odd[i][t] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + t * x_stride + c + 16), odd[i][t]);
        }
      }
    };
    int64_t c = begin;
    for (; c + kStep <= end; c += kStep) step.template operator()<false>(c);
    if (c < end) step.template operator()<true>(c);  // only in the last block
    for (int i = 0; i < kRows; ++i) {
      const __m512 scale = _mm512_set1_ps(rows[i].grid[b] * 0x1p8f);
      for (int t = 0; t < kTokens; ++t) {
        acc[i][t] = _mm512_fmadd_ps(even[i][t], scale, acc[i][t]);
        acc[i][t] = _mm512_fmadd_ps(odd[i][t], scale, acc[i][t]);
      }
    }
  }
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) y[t * y_stride + i] = reduce(acc[i][t]);
  }
}

constexpr int kFp8RowBlock = 2;  // 2 rows × 2 tokens × (2 partial + 1) accumulators

using Fp8Block = void (*)(const RowRef*, int64_t, int64_t, const float*, int64_t, float*, int64_t);
constexpr std::array<std::array<Fp8Block, kTokenBlock + 1>, kFp8RowBlock + 1> kFp8Blocks = {
    std::array<Fp8Block, kTokenBlock + 1>{},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<1, 1>, &block_fp8<1, 2>},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<2, 1>, &block_fp8<2, 2>}};

void rows_fp8_blocks(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
                     int64_t x_stride, int64_t tokens, float* y, int64_t y_stride) {
  const int64_t row_block = kFp8RowBlock;
  RowRef refs[kFp8RowBlock];
  for (int64_t r = row_begin; r < row_end; r += row_block) {
    const int64_t n_rows = std::min<int64_t>(row_block, row_end - r);
    for (int64_t i = 0; i < n_rows; ++i) {
      refs[i] = {.data = w.data + static_cast<size_t>((r + i) * w.cols),
                 .scales = nullptr,
                 .grid = w.scales + ((w.first_row + r + i) / w.scale_block_rows) * w.scale_grid_cols};
    }
    for (int64_t t = 0; t < tokens; t += kTokenBlock) {
      const int64_t n_tokens = std::min<int64_t>(kTokenBlock, tokens - t);
      kFp8Blocks[n_rows][n_tokens](refs, w.cols, w.scale_block_cols, x + t * x_stride, x_stride,
                                   y + t * y_stride + r, y_stride);
    }
  }
}

void rows_fp8(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
              int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  if (w.scale_block_cols % kStep == 0) {
    rows_fp8_blocks(w, row_begin, row_end, x, x_stride, tokens, y, y_stride);
  } else {
    rows<Fp8>(w, row_begin, row_end, x, x_stride, tokens, y, y_stride, scratch);
  }
}

// Activations for BF16 weights: per 32 columns, the 16 even columns then the 16 odd ones.
void prepare_pairs(const float* x, int64_t x_stride, int64_t tokens, int64_t cols, float* out) {
  const int64_t stride = (cols + kStep - 1) / kStep * kStep;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* in = x + t * x_stride;
    float* row = out + t * stride;
    for (int64_t c = 0; c < stride; c += kStep) {
      for (int64_t i = 0; i < kStep / 2; ++i) {
        row[c + i] = c + 2 * i < cols ? in[c + 2 * i] : 0.0f;
        row[c + kStep / 2 + i] = c + 2 * i + 1 < cols ? in[c + 2 * i + 1] : 0.0f;
      }
    }
  }
}

// Activations for the other dtypes: as given, zero-padded to whole steps.
void prepare_padded(const float* x, int64_t x_stride, int64_t tokens, int64_t cols, float* out) {
  const int64_t stride = (cols + kStep - 1) / kStep * kStep;
  for (int64_t t = 0; t < tokens; ++t) {
    std::memcpy(out + t * stride, x + t * x_stride, static_cast<size_t>(cols) * sizeof(float));
    std::fill(out + t * stride + cols, out + (t + 1) * stride, 0.0f);
  }
}

}  // namespace

const KernelTable& avx512_kernel_table() {
  // Indexed by DType: kF32, kBF16, kF16, kF8E4M3.
  static const KernelTable table{
      .name = "avx512",
      .rows = {&rows<F32>, &rows<Bf16>, &rows<F16>, &rows_fp8},
      .prepare = {&prepare_padded, &prepare_pairs, &prepare_padded, &prepare_padded},
      .column_padding = kStep};
  return table;
}

}  // namespace nextn
