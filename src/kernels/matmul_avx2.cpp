// AVX2 + FMA matmul rows (compiled with -mavx2 -mfma -mf16c; used when the CPU has them and
// no AVX-512), built as the AVX-512 table is, within AVX2's sixteen 8-lane registers.
//
// A block of weight rows × tokens is computed together, 16 columns a step (FP8: 32): each
// weight is loaded and converted once for the block's tokens, each activation loaded once for
// its rows, and the block's accumulators hide the FMA latency (eight rows for one token; four
// rows × two tokens for batches, the token pairs of a longer batch re-reading the block's rows
// from L1). Every output has one accumulator and one fixed horizontal sum, so the operations
// per output are the same whatever the block shape, the batch or the thread count. A row's
// last partial step reads its weights from a zero-padded copy (AVX2 has no masked 16- or 8-bit
// loads), against activations that are zero past the last column, so it too is the same step.
//
// Weight conversions:
//   BF16  a 32-byte load holds 16 weights; (bits << 16) of each 32-bit lane is the even
//         column, (bits & 0xffff0000) the odd one. The activations are prepared in that order
//         (per 16 columns: the 8 even ones, then the 8 odd ones).
//   FP8   shifts to fp32 × 2^-120 (decode_fp8 below), 32 columns a step; the 128 × 128 block
//         scales are folded into the activations once per scale row.
//   F16   vcvtph2ps; F32 as stored.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/avx2_common.h"
#include "kernels/fma_chains.h"
#include "kernels/matmul_table.h"
#include "kernels/row_prefetch.h"
#include "tensor/dtype.h"

namespace nextn {
namespace {

using avx2::lane_mask;

constexpr int kStep = 16;     // columns per step (two 8-lane vectors)
constexpr int kFp8Step = 32;  // FP8: columns per step (one 32-byte load, four vectors)
// Prepared activation rows of every dtype hold a whole number of FP8 steps.
constexpr int64_t padded(int64_t cols) {
  return (cols + kFp8Step - 1) / kFp8Step * kFp8Step;
}
constexpr int kRowBlock = 4;        // weight rows per block (batches)
constexpr int kTokenBlock = 2;      // tokens per block
constexpr int kVectorRowBlock = 8;  // weight rows per block for one token

// The last partial steps of a block's rows, each copied to a zero-padded whole step.
template <int kRows>
struct TailSteps {
  alignas(32) std::byte bytes[kRows][64] = {};  // a step: F32 16 × 4 bytes, others 32
  TailSteps(const std::byte* const* rows, int64_t offset, int64_t count) {
    for (int i = 0; i < kRows; ++i)
      std::memcpy(bytes[i], rows[i] + offset, static_cast<size_t>(count));
  }
};

struct Bf16 {
  static constexpr size_t kBytes = 2;
  static void convert(const std::byte* at, __m256& a, __m256& b) {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
    a = _mm256_castsi256_ps(_mm256_slli_epi32(raw, 16));
    b = _mm256_castsi256_ps(
        _mm256_and_si256(raw, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
  }
};

struct F16 {
  static constexpr size_t kBytes = 2;
  static void convert(const std::byte* at, __m256& a, __m256& b) {
    a = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)));
    b = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 16)));
  }
};

struct F32 {
  static constexpr size_t kBytes = 4;
  static void convert(const std::byte* at, __m256& a, __m256& b) {
    a = _mm256_loadu_ps(reinterpret_cast<const float*>(at));
    b = _mm256_loadu_ps(reinterpret_cast<const float*>(at) + 8);
  }
};

// The horizontal sums of up to 8 vectors at once: lane k is ((v0 + v1) + (v2 + v3)) + ((v4 +
// v5) + (v6 + v7)) of vector k's lanes, the same additions whatever kCount is (lanes of
// different vectors are never added together; missing vectors are zero).
template <int kCount>
inline __m256 reduce_each(const __m256* v) {
  static_assert(kCount >= 1 && kCount <= 8);
  __m256 in[8];
  for (int k = 0; k < 8; ++k) in[k] = k < kCount ? v[k] : _mm256_setzero_ps();
  // hadd(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7].
  const __m256 h01 = _mm256_hadd_ps(in[0], in[1]);
  const __m256 h23 = _mm256_hadd_ps(in[2], in[3]);
  const __m256 q0 = _mm256_hadd_ps(h01, h23);  // sums of lanes 0-3 of v0..v3, then of 4-7
  if constexpr (kCount <= 4) {
    const __m128 sums = _mm_add_ps(_mm256_castps256_ps128(q0), _mm256_extractf128_ps(q0, 1));
    return _mm256_castps128_ps256(sums);
  } else {
    const __m256 h45 = _mm256_hadd_ps(in[4], in[5]);
    const __m256 h67 = _mm256_hadd_ps(in[6], in[7]);
    const __m256 q1 = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
                         _mm256_permute2f128_ps(q0, q1, 0x31));
  }
}

// A block's outputs: y[t · y_stride + i] = the sum of acc[i][t], times out_scale[i] when given.
template <int kRows, int kTokens>
inline void store_block(const __m256 (&acc)[kRows][kTokens], const float* out_scale, float* y,
                        int64_t y_stride) {
  static_assert(kRows * kTokens <= 8);
  __m256 flat[kRows * kTokens];
  for (int t = 0; t < kTokens; ++t) {
    for (int i = 0; i < kRows; ++i) flat[t * kRows + i] = acc[i][t];
  }
  alignas(32) float sums[8];
  _mm256_store_ps(sums, reduce_each<kRows * kTokens>(flat));
  for (int t = 0; t < kTokens; ++t) {
    for (int i = 0; i < kRows; ++i) {
      const float sum = sums[t * kRows + i];
      y[t * y_stride + i] = out_scale != nullptr ? sum * out_scale[i] : sum;
    }
  }
}

template <typename Format, int kRows, int kTokens>
void block(const std::byte* const* rows, int64_t cols, const float* x, int64_t x_stride, float* y,
           int64_t y_stride) {
  // One accumulator per output, taking the first 8 columns of each step, then the other 8.
  __m256 acc[kRows][kTokens];
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) acc[i][t] = _mm256_setzero_ps();
  }
  const int64_t row_bytes = cols * static_cast<int64_t>(Format::kBytes);
  const int64_t lead_bytes = row_prefetch::prefetch_lead_rows(kRows, row_bytes) * row_bytes;
  auto step = [&](int64_t c, auto weights_at) {
    __m256 xa[kTokens], xb[kTokens];
    for (int t = 0; t < kTokens; ++t) {
      xa[t] = _mm256_load_ps(x + t * x_stride + c);
      xb[t] = _mm256_load_ps(x + t * x_stride + c + 8);
    }
    // As the AVX-512 blocks: the rows of a block lie in different 4 KiB pages, where the
    // hardware prefetcher stops, so the same columns of rows further on go to L2, a line a
    // row at each step that starts one (a BF16 step is half a line).
    const int64_t offset = c * static_cast<int64_t>(Format::kBytes);
    const bool new_line = kRows > 1 && offset % 64 == 0;
    for (int i = 0; i < kRows; ++i) {
      if (new_line) {
        _mm_prefetch(reinterpret_cast<const char*>(rows[i] + offset + lead_bytes), _MM_HINT_T1);
      }
      __m256 a, b;
      Format::convert(weights_at(i), a, b);
      for (int t = 0; t < kTokens; ++t) {
        acc[i][t] = _mm256_fmadd_ps(a, xa[t], acc[i][t]);
        acc[i][t] = _mm256_fmadd_ps(b, xb[t], acc[i][t]);
      }
    }
  };
  const int64_t full = cols - cols % kStep;
  for (int64_t c = 0; c < full; c += kStep) {
    step(c, [&](int i) { return rows[i] + c * static_cast<int64_t>(Format::kBytes); });
  }
  if (full < cols) {
    const int64_t bytes = static_cast<int64_t>(Format::kBytes);
    const TailSteps<kRows> tail(rows, full * bytes, (cols - full) * bytes);
    step(full, [&](int i) { return tail.bytes[i]; });
  }
  store_block<kRows, kTokens>(acc, nullptr, y, y_stride);
}

template <typename Format>
using Block = void (*)(const std::byte* const*, int64_t, const float*, int64_t, float*, int64_t);

template <typename Format, int kRows>
constexpr std::array<Block<Format>, kTokenBlock + 1> token_blocks() {
  return {nullptr, &block<Format, kRows, 1>, &block<Format, kRows, 2>};
}

template <typename Format>
constexpr std::array<std::array<Block<Format>, kTokenBlock + 1>, kRowBlock + 1> kBlocks = {
    std::array<Block<Format>, kTokenBlock + 1>{}, token_blocks<Format, 1>(),
    token_blocks<Format, 2>(), token_blocks<Format, 3>(), token_blocks<Format, 4>()};

template <typename Format>
void rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
          int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* /*scratch*/) {
  const std::byte* refs[kRowBlock];
  int64_t r = row_begin;
  const int64_t row_bytes = w.cols * static_cast<int64_t>(Format::kBytes);
  row_prefetch::prefetch_first_rows(
      w.data, row_bytes, row_begin, row_end,
      row_prefetch::prefetch_lead_rows(tokens == 1 ? kVectorRowBlock : kRowBlock, row_bytes));
  if (tokens == 1) {
    const std::byte* wide[kVectorRowBlock];
    for (; r + kVectorRowBlock <= row_end; r += kVectorRowBlock) {
      for (int64_t i = 0; i < kVectorRowBlock; ++i) {
        wide[i] = w.data + static_cast<size_t>((r + i) * w.cols) * Format::kBytes;
      }
      block<Format, kVectorRowBlock, 1>(wide, w.cols, x, x_stride, y + r, y_stride);
    }
  }
  for (; r < row_end; r += kRowBlock) {
    const int64_t n_rows = std::min<int64_t>(kRowBlock, row_end - r);
    for (int64_t i = 0; i < n_rows; ++i) {
      refs[i] = w.data + static_cast<size_t>((r + i) * w.cols) * Format::kBytes;
    }
    for (int64_t t = 0; t < tokens; t += kTokenBlock) {
      const int64_t n_tokens = std::min<int64_t>(kTokenBlock, tokens - t);
      kBlocks<Format>[n_rows][n_tokens](refs, w.cols, x + t * x_stride, x_stride,
                                        y + t * y_stride + r, y_stride);
    }
  }
}

// FP8 (e4m3) weights, 32 columns a step: a 32-byte load holds 8 dwords of 4 codes; shifting
// code k of a dword to its top byte (code 3 is there already), then arithmetic >> 4 and
// keeping the sign and bits 26..20 puts S at bit 31 and EEEEMMM where an fp32's exponent and
// mantissa start, which is the value × 2^-120, exactly, for normal and subnormal codes alike
// (the AVX-512 table's decoding, with shifts for its byte shuffle). Vector v holds code v of
// each dword: column 4m + v of the step. The activations are prepared × 2^64 and the scales
// × 2^56 (powers of two: no rounding changes) to keep products and sums clear of subnormals.
constexpr float kFp8ActivationScale = 0x1p64f;
constexpr float kFp8ScaleScale = 0x1p56f;

constexpr int64_t fp8_column(int v, int m) {
  return 4 * m + v;
}

inline void decode_fp8(const std::byte* data, __m256 (&out)[4]) {
  const __m256i codes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data));
  const __m256i keep = _mm256_set1_epi32(static_cast<int>(0x87f00000u));
  auto place = [&](__m256i top) {
    return _mm256_castsi256_ps(_mm256_and_si256(_mm256_srai_epi32(top, 4), keep));
  };
  out[0] = place(_mm256_slli_epi32(codes, 24));
  out[1] = place(_mm256_slli_epi32(codes, 16));
  out[2] = place(_mm256_slli_epi32(codes, 8));
  out[3] = place(codes);
}

// A block of rows × tokens over FP8 weights, in 32-column steps; one accumulator per output,
// multiplied by `out_scale` at the end.
template <int kRows, int kTokens>
void block_fp8(const std::byte* const* rows, int64_t cols, const float* x, int64_t x_stride,
               const float* out_scale, float* y, int64_t y_stride) {
  __m256 acc[kRows][kTokens];
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) acc[i][t] = _mm256_setzero_ps();
  }
  auto step = [&](int64_t c, auto codes_at) {
    __m256 xs[kTokens][4];
    for (int t = 0; t < kTokens; ++t) {
      for (int v = 0; v < 4; ++v) xs[t][v] = _mm256_load_ps(x + t * x_stride + c + 8 * v);
    }
    for (int i = 0; i < kRows; ++i) {
      if constexpr (kRows > 1) {  // as in block(), one block ahead
        _mm_prefetch(reinterpret_cast<const char*>(rows[i] + c + kRows * cols), _MM_HINT_T1);
      }
      __m256 w[4];
      decode_fp8(codes_at(i), w);
      for (int t = 0; t < kTokens; ++t) {
        for (int v = 0; v < 4; ++v) acc[i][t] = _mm256_fmadd_ps(w[v], xs[t][v], acc[i][t]);
      }
    }
  };
  const int64_t full = cols - cols % kFp8Step;
  for (int64_t c = 0; c < full; c += kFp8Step) {
    step(c, [&](int i) { return rows[i] + c; });
  }
  if (full < cols) {
    const TailSteps<kRows> tail(rows, full, cols - full);
    step(full, [&](int i) { return tail.bytes[i]; });
  }
  store_block<kRows, kTokens>(acc, out_scale, y, y_stride);
}

using Fp8Block = void (*)(const std::byte* const*, int64_t, const float*, int64_t, const float*,
                          float*, int64_t);
constexpr std::array<std::array<Fp8Block, kTokenBlock + 1>, kRowBlock + 1> kFp8Blocks = {
    std::array<Fp8Block, kTokenBlock + 1>{},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<1, 1>, &block_fp8<1, 2>},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<2, 1>, &block_fp8<2, 2>},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<3, 1>, &block_fp8<3, 2>},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<4, 1>, &block_fp8<4, 2>}};

// Scales as the AVX-512 table takes them: with one scale per row it multiplies each output;
// otherwise the activations are multiplied by their column's scale once per scale row, and a
// block of rows never straddles two scale rows.
void rows_fp8(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
              int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  const bool one_per_row = w.one_scale_per_row();
  float* scaled = one_per_row ? nullptr
                              : aligned_floats(kernel_thread_buffers().activations,
                                               static_cast<size_t>(tokens * x_stride));
  int64_t scaled_key = -1;
  const std::byte* refs[kRowBlock];
  float out_scale[kRowBlock];
  for (int64_t r = row_begin; r < row_end;) {
    const int64_t key = w.scale_row_of(r);
    const int64_t n_rows = std::min({int64_t{kRowBlock}, row_end - r,
                                     one_per_row ? row_end - r : w.next_scale_row_start(r) - r});
    const float* input = x;
    if (!one_per_row) {
      if (key != scaled_key) {
        scaled_key = key;
        float* natural = scratch;
        float* permuted = scratch + padded(w.cols);
        w.expand_scale_row(key, kFp8ScaleScale, natural);
        std::fill(natural + w.cols, natural + padded(w.cols), 0.0f);
        for (int64_t step = 0; step < padded(w.cols); step += kFp8Step) {
          for (int v = 0; v < 4; ++v) {
            for (int m = 0; m < 8; ++m)
              permuted[step + 8 * v + m] = natural[step + fp8_column(v, m)];
          }
        }
        for (int64_t t = 0; t < tokens; ++t) {
          const float* in = x + t * x_stride;
          float* out = scaled + t * x_stride;
          for (int64_t p = 0; p < x_stride; p += 8) {
            _mm256_store_ps(out + p,
                            _mm256_mul_ps(_mm256_load_ps(in + p), _mm256_loadu_ps(permuted + p)));
          }
        }
      }
      input = scaled;
    }
    for (int64_t i = 0; i < n_rows; ++i) {
      refs[i] = w.data + static_cast<size_t>((r + i) * w.cols);
      out_scale[i] = one_per_row ? w.scales_of_row(r + i)[0] * kFp8ScaleScale : 1.0f;
    }
    for (int64_t t = 0; t < tokens; t += kTokenBlock) {
      const int64_t n_tokens = std::min<int64_t>(kTokenBlock, tokens - t);
      kFp8Blocks[n_rows][n_tokens](refs, w.cols, input + t * x_stride, x_stride, out_scale,
                                   y + t * y_stride + r, y_stride);
    }
    r += n_rows;
  }
}

// Activations for FP8 weights: per 32 columns, in fp8_column order, × 2^64; zero past the
// last column.
void prepare_fp8_order(const float* x, int64_t x_stride, int64_t tokens, int64_t cols, float* out) {
  const int64_t stride = padded(cols);
  for (int64_t t = 0; t < tokens; ++t) {
    const float* in = x + t * x_stride;
    float* row = out + t * stride;
    for (int64_t step = 0; step < stride; step += kFp8Step) {
      for (int v = 0; v < 4; ++v) {
        for (int m = 0; m < 8; ++m) {
          const int64_t c = step + fp8_column(v, m);
          row[step + 8 * v + m] = c < cols ? in[c] * kFp8ActivationScale : 0.0f;
        }
      }
    }
  }
}

// Activations for BF16 weights: per 16 columns, the 8 even columns then the 8 odd ones, zero
// past the last column.
void prepare_pairs(const float* x, int64_t x_stride, int64_t tokens, int64_t cols, float* out) {
  const int64_t stride = padded(cols);
  for (int64_t t = 0; t < tokens; ++t) {
    const float* in = x + t * x_stride;
    float* row = out + t * stride;
    for (int64_t step = 0; step < stride; step += kStep) {
      const __m256 low = _mm256_maskload_ps(in + step, lane_mask(cols - step));
      const __m256 high = _mm256_maskload_ps(in + step + 8, lane_mask(cols - step - 8));
      // shuffle: [l0 l2 h0 h2 | l4 l6 h4 h6]; the 64-bit permutation puts l's before h's.
      const __m256 even = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0));
      const __m256 odd = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(3, 1, 3, 1));
      _mm256_store_ps(row + step, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even),
                                                                         _MM_SHUFFLE(3, 1, 2, 0))));
      _mm256_store_ps(row + step + 8, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                          _mm256_castps_pd(odd), _MM_SHUFFLE(3, 1, 2, 0))));
    }
  }
}

// Activations for the other dtypes: as given, zero-padded to whole steps.
void prepare_padded(const float* x, int64_t x_stride, int64_t tokens, int64_t cols, float* out) {
  const int64_t stride = padded(cols);
  for (int64_t t = 0; t < tokens; ++t) {
    std::memcpy(out + t * stride, x + t * x_stride, static_cast<size_t>(cols) * sizeof(float));
    std::fill(out + t * stride + cols, out + (t + 1) * stride, 0.0f);
  }
}

// KernelTable::fma_chains in this table's vectors.
double fma_chains() {
  return run_fma_chains<__m256>([](float v) { return _mm256_set1_ps(v); },
                                [](auto x, auto y, auto z) { return _mm256_fmadd_ps(x, y, z); });
}

}  // namespace

const KernelTable& avx2_kernel_table() {
  // Indexed by DType: kF32, kBF16, kF16, kF8E4M3.
  static const KernelTable table{
      .name = "avx2",
      .rows = {&rows<F32>, &rows<Bf16>, &rows<F16>, &rows_fp8},
      .prepare = {&prepare_padded, &prepare_pairs, &prepare_padded, &prepare_fp8_order},
      .column_padding = kFp8Step,
      .fma_chains = &fma_chains,
      .combine = {nullptr, &combine_bf16_avx2, nullptr, &combine_fp8_avx2},
      .attention_scores = &attention_scores_avx2,
      .attention_values = &attention_values_avx2,
      .exp_sum = &exp_sum_avx2};
  return table;
}

}  // namespace nextn
