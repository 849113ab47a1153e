// AVX-512 matmul rows (compiled with -mavx512f -mavx512bw -mavx512vl -mfma -mf16c; used only
// when the CPU has them).
//
// A block of up to 4 weight rows × 4 tokens is computed together, 32 columns a step (FP8: 64):
// each weight is loaded and converted once for the block's tokens, each activation loaded once
// for its rows, and the 16 accumulators hide the FMA latency. Every output has one
// accumulator, so the operations per output are the same whatever the block shape, the batch
// or the thread count.
//
// Weight conversions, chosen so the cost per weight stays far below the memory time:
//   BF16  a 64-byte load holds 32 weights; (bits << 16) of each 32-bit lane is the even
//         column, (bits & 0xffff0000) the odd one. The activations are prepared in that
//         order (per 32 columns: the 16 even ones, then the 16 odd ones).
//   FP8   byte shuffles and shifts to fp32 × 2^-120 (decode_fp8 below), 64 columns a step;
//         the 128 × 128 block scales are folded into the activations once per scale row.
//   F16   vcvtph2ps; F32 as stored.
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_* in extract/shuffle): silence
// those two warnings for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "kernels/avx512_common.h"
#include "kernels/fma_chains.h"
#include "kernels/matmul_table.h"
#include "tensor/dtype.h"

namespace nextn {
namespace {

constexpr int kStep = 32;     // columns per step (two 16-lane vectors)
constexpr int kFp8Step = 64;  // FP8: columns per step (one 64-byte load, four vectors)
// Prepared activation rows of every dtype hold a whole number of FP8 steps.
constexpr int64_t padded(int64_t cols) {
  return (cols + kFp8Step - 1) / kFp8Step * kFp8Step;
}
constexpr int kRowBlock = 4;        // weight rows per block (batches)
constexpr int kTokenBlock = 4;      // tokens per block
constexpr int kVectorRowBlock = 8;  // weight rows per block for one token

using avx512::lane_mask;
using avx512::store_block;

struct Bf16 {
  static constexpr size_t kBytes = 2;
  template <bool kTail>
  static void load(const std::byte* row, int64_t c, int64_t remaining, __m512& a, __m512& b) {
    __m512i raw;
    if constexpr (kTail) {
      const auto mask = static_cast<__mmask32>(remaining >= 32 ? ~0u : (1u << remaining) - 1);
      raw = _mm512_maskz_loadu_epi16(mask, row + 2 * c);
    } else {
      raw = _mm512_loadu_si512(row + 2 * c);
    }
    a = _mm512_castsi512_ps(_mm512_slli_epi32(raw, 16));
    b = _mm512_castsi512_ps(
        _mm512_and_si512(raw, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
  }
};

struct F16 {
  static constexpr size_t kBytes = 2;
  template <bool kTail>
  static void load(const std::byte* row, int64_t c, int64_t remaining, __m512& a, __m512& b) {
    if constexpr (kTail) {
      a = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lane_mask(remaining), row + 2 * c));
      b = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lane_mask(remaining - 16), row + 2 * c + 32));
    } else {
      a = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c)));
      b = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c + 32)));
    }
  }
};

struct F32 {
  static constexpr size_t kBytes = 4;
  template <bool kTail>
  static void load(const std::byte* row, int64_t c, int64_t remaining, __m512& a, __m512& b) {
    const auto* values = reinterpret_cast<const float*>(row) + c;
    if constexpr (kTail) {
      a = _mm512_maskz_loadu_ps(lane_mask(remaining), values);
      b = _mm512_maskz_loadu_ps(lane_mask(remaining - 16), values + 16);
    } else {
      a = _mm512_loadu_ps(values);
      b = _mm512_loadu_ps(values + 16);
    }
  }
};

template <typename Format, int kRows, int kTokens>
void block(const std::byte* const* rows, int64_t cols, const float* x, int64_t x_stride, float* y,
           int64_t y_stride) {
  // One accumulator per output, taking the first 16 columns of each step, then the other 16.
  __m512 acc[kRows][kTokens];
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) acc[i][t] = _mm512_setzero_ps();
  }
  const int64_t row_bytes = cols * static_cast<int64_t>(Format::kBytes);
  const int64_t lead_bytes = avx512::prefetch_lead_rows(kRows, row_bytes) * row_bytes;
  auto step = [&]<bool kTail>(int64_t c) {
    __m512 xa[kTokens], xb[kTokens];
    for (int t = 0; t < kTokens; ++t) {
      xa[t] = _mm512_load_ps(x + t * x_stride + c);
      xb[t] = _mm512_load_ps(x + t * x_stride + c + 16);
    }
    for (int i = 0; i < kRows; ++i) {
      if constexpr (kRows > 1) {
        // The rows of a block lie in different 4 KiB pages, where the hardware prefetcher
        // stops: fetch the same columns of the rows two blocks on, or 32 KiB for short rows,
        // into L2 (BF16 from DRAM, 2 tokens: 11.5 GB/s without, 14.4 one block ahead; now
        // 21.0–21.2 one block ahead and 21.9–22.4 two, 1 token 23 either way; short rows:
        // kPrefetchMinBytes). Prefetches never fault.
        const std::byte* ahead = rows[i] + c * static_cast<int64_t>(Format::kBytes) + lead_bytes;
        for (size_t line = 0; line < kStep * Format::kBytes; line += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(ahead + line), _MM_HINT_T1);
        }
      }
      __m512 a, b;
      Format::template load<kTail>(rows[i], c, cols - c, a, b);
      for (int t = 0; t < kTokens; ++t) {
        acc[i][t] = _mm512_fmadd_ps(a, xa[t], acc[i][t]);
        acc[i][t] = _mm512_fmadd_ps(b, xb[t], acc[i][t]);
      }
    }
  };
  const int64_t full = cols - cols % kStep;
  for (int64_t c = 0; c < full; c += kStep) step.template operator()<false>(c);
  if (full < cols) step.template operator()<true>(full);
  store_block<kRows, kTokens>(acc, nullptr, y, y_stride);
}

template <typename Format>
using Block = void (*)(const std::byte* const*, int64_t, const float*, int64_t, float*, int64_t);

template <typename Format, int kRows>
constexpr std::array<Block<Format>, kTokenBlock + 1> token_blocks() {
  return {nullptr, &block<Format, kRows, 1>, &block<Format, kRows, 2>, &block<Format, kRows, 3>,
          &block<Format, kRows, 4>};
}

template <typename Format>
constexpr std::array<std::array<Block<Format>, kTokenBlock + 1>, kRowBlock + 1> kBlocks = {
    std::array<Block<Format>, kTokenBlock + 1>{}, token_blocks<Format, 1>(),
    token_blocks<Format, 2>(), token_blocks<Format, 3>(), token_blocks<Format, 4>()};

template <typename Format>
void rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
          int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* /*scratch*/) {
  const std::byte* refs[kRowBlock];
  // Several rows at once even for one token (eight; four for batches and the last rows): with
  // the rows ahead prefetched into L2 (block()) this streams from DRAM faster than one row at a
  // time (four rows: 26 against 22.6 GB/s measured).
  int64_t r = row_begin;
  const int64_t row_bytes = w.cols * static_cast<int64_t>(Format::kBytes);
  avx512::prefetch_first_rows(
      w.data, row_bytes, row_begin, row_end,
      avx512::prefetch_lead_rows(tokens == 1 ? kVectorRowBlock : kRowBlock, row_bytes));
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

// FP8 (e4m3) weights, 64 columns a step: a 64-byte load holds 16 dwords of 4 codes; moving
// code k of a dword to its top byte (a byte shuffle; code 3 is there already), then
// arithmetic >> 4 and keeping the sign and bits 26..20 puts S at bit 31 and EEEEMMM where an
// fp32's exponent and mantissa start, which is the value × 2^-120, exactly, for normal and
// subnormal codes alike (the latter become fp32 subnormals; 0x7f, a NaN code quantizers never
// write, decodes as 480 × 2^-120). Vector v holds code v of each dword: column 4m + v of the
// step. To keep products and sums clear of the subnormal range, the activations are prepared
// × 2^64 and the scales × 2^56 (powers of two: no rounding changes).
constexpr float kFp8ActivationScale = 0x1p64f;
constexpr float kFp8ScaleScale = 0x1p56f;

constexpr int64_t fp8_column(int v, int m) {
  return 4 * m + v;
}

template <bool kTail>
inline void decode_fp8(const std::byte* data, int64_t remaining, __m512 (&out)[4]) {
  __m512i codes;
  if constexpr (kTail) {
    const __mmask64 mask = remaining >= 64 ? ~__mmask64{0} : (__mmask64{1} << remaining) - 1;
    codes = _mm512_maskz_loadu_epi8(mask, data);
  } else {
    codes = _mm512_loadu_si512(data);
  }
  const __m512i keep = _mm512_set1_epi32(static_cast<int>(0x87f00000u));
  auto place = [&](__m512i top) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_srai_epi32(top, 4), keep));
  };
  // Code k of each dword to its top byte, the rest zero: an in-lane byte shuffle, which runs
  // beside the shifts (shifts alone measured 22 G weights/s from L2, this 28).
  auto top = [&](int k) {
    auto index = [k](int j) {
      return static_cast<int>((static_cast<uint32_t>(4 * j + k) << 24) | 0x808080u);
    };
    return _mm512_shuffle_epi8(codes, _mm512_set4_epi32(index(3), index(2), index(1), index(0)));
  };
  out[0] = place(top(0));
  out[1] = place(top(1));
  out[2] = place(top(2));
  out[3] = place(codes);
}

// A block of rows × tokens over FP8 weights, in 64-column steps; one accumulator per output,
// multiplied by `out_scale` at the end. The block scales are folded into the activations
// instead (rows_fp8), so the inner loop multiplies nothing but weights by activations.
template <int kRows, int kTokens>
void block_fp8(const std::byte* const* rows, int64_t cols, const float* x, int64_t x_stride,
               const float* out_scale, float* y, int64_t y_stride) {
  __m512 acc[kRows][kTokens];
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) acc[i][t] = _mm512_setzero_ps();
  }
  auto step = [&]<bool kTail>(int64_t c) {
    __m512 xs[kTokens][4];
    for (int t = 0; t < kTokens; ++t) {
      for (int v = 0; v < 4; ++v) xs[t][v] = _mm512_load_ps(x + t * x_stride + c + 16 * v);
    }
    for (int i = 0; i < kRows; ++i) {
      if constexpr (kRows > 1) {  // as in block(), but one block ahead
        _mm_prefetch(reinterpret_cast<const char*>(rows[i] + c + kRows * cols), _MM_HINT_T1);
      }
      __m512 w[4];
      decode_fp8<kTail>(rows[i] + c, cols - c, w);
      for (int t = 0; t < kTokens; ++t) {
        for (int v = 0; v < 4; ++v) acc[i][t] = _mm512_fmadd_ps(w[v], xs[t][v], acc[i][t]);
      }
    }
  };
  const int64_t full = cols - cols % kFp8Step;
  for (int64_t c = 0; c < full; c += kFp8Step) step.template operator()<false>(c);
  if (full < cols) step.template operator()<true>(full);
  store_block<kRows, kTokens>(acc, out_scale, y, y_stride);
}

constexpr int kFp8RowBlock = 4;

using Fp8Block = void (*)(const std::byte* const*, int64_t, const float*, int64_t, const float*,
                          float*, int64_t);
constexpr std::array<std::array<Fp8Block, kTokenBlock + 1>, kFp8RowBlock + 1> kFp8Blocks = {
    std::array<Fp8Block, kTokenBlock + 1>{},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<1, 1>, &block_fp8<1, 2>,
                                          &block_fp8<1, 3>, &block_fp8<1, 4>},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<2, 1>, &block_fp8<2, 2>,
                                          &block_fp8<2, 3>, &block_fp8<2, 4>},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<3, 1>, &block_fp8<3, 2>,
                                          &block_fp8<3, 3>, &block_fp8<3, 4>},
    std::array<Fp8Block, kTokenBlock + 1>{nullptr, &block_fp8<4, 1>, &block_fp8<4, 2>,
                                          &block_fp8<4, 3>, &block_fp8<4, 4>}};

// Scales: with one scale per row (a block spanning every column: compressed-tensors channel
// or tensor) it multiplies each output; otherwise the activations are multiplied by their
// column's scale once per scale row (every 128 rows for DeepSeek: a small cost), and a block
// of rows never straddles two scale rows.
void rows_fp8(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
              int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  const bool one_per_row = w.one_scale_per_row();
  float* scaled = one_per_row ? nullptr
                              : aligned_floats(kernel_thread_buffers().activations,
                                               static_cast<size_t>(tokens * x_stride));
  int64_t scaled_key = -1;
  const std::byte* refs[kFp8RowBlock];
  float out_scale[kFp8RowBlock];
  for (int64_t r = row_begin; r < row_end;) {
    const int64_t key = w.scale_row_of(r);
    // One scale per row multiplies the outputs: blocks need not stop at scale rows.
    const int64_t n_rows = std::min({int64_t{kFp8RowBlock}, row_end - r,
                                     one_per_row ? row_end - r : w.next_scale_row_start(r) - r});
    const float* input = x;
    if (!one_per_row) {
      if (key != scaled_key) {
        scaled_key = key;
        // The scales in the activations' prepared order, then one multiply per activation.
        float* natural = scratch;
        float* permuted = scratch + padded(w.cols);
        w.expand_scale_row(key, kFp8ScaleScale, natural);
        std::fill(natural + w.cols, natural + padded(w.cols), 0.0f);
        for (int64_t step = 0; step < padded(w.cols); step += kFp8Step) {
          for (int v = 0; v < 4; ++v) {
            for (int m = 0; m < 16; ++m)
              permuted[step + 16 * v + m] = natural[step + fp8_column(v, m)];
          }
        }
        for (int64_t t = 0; t < tokens; ++t) {
          const float* in = x + t * x_stride;
          float* out = scaled + t * x_stride;
          for (int64_t p = 0; p < x_stride; p += 16) {
            _mm512_store_ps(out + p,
                            _mm512_mul_ps(_mm512_load_ps(in + p), _mm512_loadu_ps(permuted + p)));
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

// Copies activations into the order a kernel reads its weights in: position p of each step
// of kStepCols columns takes column kColumnOf(p) of that step, times `scale`; columns past the
// last are zero.
template <int64_t kStepCols, int64_t (*kColumnOf)(int64_t)>
void prepare_reordered(const float* x, int64_t x_stride, int64_t tokens, int64_t cols, float scale,
                       float* out) {
  const int64_t stride = padded(cols);
  for (int64_t t = 0; t < tokens; ++t) {
    const float* in = x + t * x_stride;
    float* row = out + t * stride;
    for (int64_t step = 0; step < stride; step += kStepCols) {
      for (int64_t p = 0; p < kStepCols; ++p) {
        const int64_t c = step + kColumnOf(p);
        row[step + p] = c < cols ? in[c] * scale : 0.0f;
      }
    }
  }
}

constexpr int64_t fp8_position_column(int64_t p) {
  return fp8_column(static_cast<int>(p / 16), static_cast<int>(p % 16));
}

// Activations for FP8 weights: per 64 columns, in fp8_column order, × 2^64.
void prepare_fp8_order(const float* x, int64_t x_stride, int64_t tokens, int64_t cols, float* out) {
  prepare_reordered<kFp8Step, &fp8_position_column>(x, x_stride, tokens, cols, kFp8ActivationScale,
                                                    out);
}

// Row combinations (KernelTable::combine): y[t, c] = Σ_i coefficients[t, i] · w[first_row + i, c].
// The rows go in blocks of kCombineRowBlock; over a block, a chunk of columns × a few tokens
// stays in registers (16 accumulators: 16 groups of 16 columns for one token, 8 for two, 4 for
// three or four), taken from y and put back between blocks. So each weight is converted once
// for up to four tokens, a running sum goes through memory once per block rather than once
// per row, and the rows stream in order a block at a time. Every output takes the same fused
// multiply-adds in row order from zero whatever the chunk, the tokens or the row length, so a
// token's result does not depend on the batch.
constexpr int kCombineTokens = 4;
constexpr int64_t kCombineRowBlock = 16;
// How far ahead the first pass over a block prefetches whole rows into L2: 8 KiB (BM_CombineRows
// Sequence, one token from memory: 4 KiB 11.9-14.1 GB/s, 8 KiB 14.3-14.7, 16 KiB 13.6-13.9,
// 32 KiB 12.3-14.2, none 9.7-9.9, in alternating runs).
constexpr int64_t kCombinePrefetchBytes = 8192;

template <int kTokens>
constexpr int combine_groups() {
  return kTokens == 1 ? 16 : kTokens == 2 ? 8 : 4;
}

// Columns [16 · g0, 16 · (g0 + kGroups)) of rows [i0, i1), the last group masked by `last`,
// the sums started from zero (`first`) or from y. `format.weights(i, g, c, mask)` converts 16
// weights of row i from column c (group g of the chunk); `format.begin_rows(i, g0, kGroups)`
// is called where a run of rows sharing FP8 scales starts and returns where it ends.
template <int kGroups, int kTokens, typename Format>
void combine_pass(Format& format, int64_t i0, int64_t i1, int64_t g0, __mmask16 last, bool first,
                  const float* coefficients, int64_t coefficient_stride, bool prefetch, float* y,
                  int64_t y_stride) {
  __m512 acc[kGroups][kTokens];
  for (int t = 0; t < kTokens; ++t) {
    const float* in = y + t * y_stride + 16 * g0;
    for (int g = 0; g < kGroups; ++g) {
      acc[g][t] = first ? _mm512_setzero_ps()
                        : _mm512_maskz_loadu_ps(g == kGroups - 1 ? last : 0xffff, in + 16 * g);
    }
  }
  for (int64_t i = i0; i < i1;) {
    const int64_t run_end = std::min(i1, format.begin_rows(i, g0, kGroups));
    for (; i < run_end; ++i) {
      if (prefetch) format.prefetch_ahead(i);
      __m512 coefficient[kTokens];
      for (int t = 0; t < kTokens; ++t) {
        coefficient[t] = _mm512_set1_ps(coefficients[t * coefficient_stride + i]);
      }
#pragma GCC unroll 16
      for (int g = 0; g < kGroups; ++g) {
        const __m512 w = format.weights(i, g, 16 * (g0 + g), g == kGroups - 1 ? last : 0xffff);
        for (int t = 0; t < kTokens; ++t) acc[g][t] = _mm512_fmadd_ps(w, coefficient[t], acc[g][t]);
      }
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    float* out = y + t * y_stride + 16 * g0;
    for (int g = 0; g < kGroups - 1; ++g) _mm512_storeu_ps(out + 16 * g, acc[g][t]);
    _mm512_mask_storeu_ps(out + 16 * (kGroups - 1), last, acc[kGroups - 1][t]);
  }
}

// Rows [i0, i1) into every column for kTokens tokens: whole chunks of
// combine_groups<kTokens>() groups, then the groups left one at a time.
template <int kTokens, typename Format>
void combine_block(Format& format, int64_t cols, int64_t i0, int64_t i1, bool first,
                   const float* coefficients, int64_t coefficient_stride, bool prefetch, float* y,
                   int64_t y_stride) {
  constexpr int kGroups = combine_groups<kTokens>();
  const int64_t groups = (cols + 15) / 16;
  const __mmask16 tail = lane_mask(cols - 16 * (groups - 1));
  int64_t g0 = 0;
  for (; g0 + kGroups <= groups; g0 += kGroups) {
    combine_pass<kGroups, kTokens>(format, i0, i1, g0, g0 + kGroups == groups ? tail : 0xffff,
                                   first, coefficients, coefficient_stride, prefetch, y, y_stride);
    prefetch = false;
  }
  for (; g0 < groups; ++g0) {
    combine_pass<1, kTokens>(format, i0, i1, g0, g0 + 1 == groups ? tail : 0xffff, first,
                             coefficients, coefficient_stride, prefetch, y, y_stride);
    prefetch = false;
  }
}

template <typename Format>
void combine(Format& format, int64_t cols, int64_t count, const float* coefficients,
             int64_t coefficient_stride, int64_t tokens, float* y, int64_t y_stride) {
  format.prefetch_first();
  for (int64_t i0 = 0; i0 < count; i0 += kCombineRowBlock) {
    const int64_t i1 = std::min(count, i0 + kCombineRowBlock);
    for (int64_t t = 0; t < tokens; t += kCombineTokens) {
      const float* c = coefficients + t * coefficient_stride;
      float* out = y + t * y_stride;
      const bool first = i0 == 0;
      const bool prefetch = t == 0;  // later token blocks find the rows in L1
      auto run = [&]<int kTokens>() {
        combine_block<kTokens>(format, cols, i0, i1, first, c, coefficient_stride, prefetch, out,
                               y_stride);
      };
      switch (std::min<int64_t>(kCombineTokens, tokens - t)) {
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

// The rows [first_row, first_row + count) of a row-major matrix of `row_bytes` rows, with
// the prefetch of the combining passes.
struct CombineRows {
  const std::byte* first;
  int64_t row_bytes;
  int64_t count;
  int64_t lead = (kCombinePrefetchBytes + row_bytes - 1) / row_bytes;

  const std::byte* row(int64_t i) const { return first + i * row_bytes; }
  void prefetch_first() const { avx512::prefetch_first_rows(first, row_bytes, 0, count, lead); }
  // Row i + lead, whole (none past the last row).
  void prefetch_ahead(int64_t i) const {
    if (i + lead < count) avx512::prefetch_first_rows(first, row_bytes, i + lead, count, 1);
  }
};

struct Bf16Combine : CombineRows {
  int64_t begin_rows(int64_t /*i*/, int64_t /*g0*/, int /*groups*/) const { return count; }
  __m512 weights(int64_t i, int /*g*/, int64_t c, __mmask16 mask) const {
    const __m256i raw = _mm256_maskz_loadu_epi16(mask, row(i) + 2 * c);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
  }
};

// FP8 weights whose scale blocks hold whole groups of 16 columns (combine_rows checks): a run
// of rows in one scale row takes its groups' scales (× 2^8, the decoding's factor) once.
struct Fp8Combine : CombineRows {
  const WeightMatrix* w;
  int64_t first_row;
  std::array<float, 16> scale{};

  int64_t begin_rows(int64_t i, int64_t g0, int groups) {
    const int64_t r = first_row + i;
    const float* grid = w->scales_of_row(r);
    for (int g = 0; g < groups; ++g) {
      scale[static_cast<size_t>(g)] = grid[16 * (g0 + g) / w->scale_block_cols] * 0x1p8f;
    }
    return std::min(count, w->next_scale_row_start(r) - first_row);
  }
  __m512 weights(int64_t i, int g, int64_t c, __mmask16 mask) const {
    // e4m3 → fp16 (the value × 2^-8) by sign extension and a shift, then widened.
    const __m128i codes = _mm_maskz_loadu_epi8(mask, row(i) + c);
    const __m256i half = _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(codes), 7),
                                          _mm256_set1_epi16(static_cast<short>(0xbf80)));
    return _mm512_mul_ps(_mm512_cvtph_ps(half), _mm512_set1_ps(scale[static_cast<size_t>(g)]));
  }
};

void combine_bf16(const WeightMatrix& w, int64_t first_row, int64_t count,
                  const float* coefficients, int64_t coefficient_stride, int64_t tokens, float* y,
                  int64_t y_stride) {
  const int64_t row_bytes = w.cols * 2;
  Bf16Combine format{
      {.first = w.data + first_row * row_bytes, .row_bytes = row_bytes, .count = count}};
  combine(format, w.cols, count, coefficients, coefficient_stride, tokens, y, y_stride);
}

void combine_fp8(const WeightMatrix& w, int64_t first_row, int64_t count, const float* coefficients,
                 int64_t coefficient_stride, int64_t tokens, float* y, int64_t y_stride) {
  Fp8Combine format{
      {.first = w.data + first_row * w.cols, .row_bytes = w.cols, .count = count}, &w, first_row};
  combine(format, w.cols, count, coefficients, coefficient_stride, tokens, y, y_stride);
}

// Activations for BF16 weights: per 32 columns, the 16 even columns then the 16 odd ones.
// In vectors: two masked loads (zero past the last column) and two two-source permutations a
// step. Done element by element it took 8-10% of a pass of the default model, whose matrices
// are narrow enough that preparing x weighs as much as a few rows of multiply-adds.
void prepare_pairs(const float* x, int64_t x_stride, int64_t tokens, int64_t cols, float* out) {
  static_assert(kStep == 32);
  const int64_t stride = padded(cols);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t t = 0; t < tokens; ++t) {
    const float* in = x + t * x_stride;
    float* row = out + t * stride;
    for (int64_t step = 0; step < stride; step += kStep) {
      const __m512 low = _mm512_maskz_loadu_ps(lane_mask(cols - step), in + step);
      const __m512 high = _mm512_maskz_loadu_ps(lane_mask(cols - step - 16), in + step + 16);
      _mm512_store_ps(row + step, _mm512_permutex2var_ps(low, even, high));
      _mm512_store_ps(row + step + 16, _mm512_permutex2var_ps(low, odd, high));
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
  return run_fma_chains<__m512>([](float v) { return _mm512_set1_ps(v); },
                                [](auto x, auto y, auto z) { return _mm512_fmadd_ps(x, y, z); });
}

}  // namespace

const KernelTable& avx512_kernel_table() {
  // Indexed by DType: kF32, kBF16, kF16, kF8E4M3.
  static const KernelTable table{
      .name = "avx512",
      .rows = {&rows<F32>, &rows<Bf16>, &rows<F16>, &rows_fp8},
      .prepare = {&prepare_padded, &prepare_pairs, &prepare_padded, &prepare_fp8_order},
      .column_padding = kFp8Step,
      .fma_chains = &fma_chains,
      .combine = {nullptr, &combine_bf16, nullptr, &combine_fp8},
      .attention_scores = &attention_scores_avx512,
      .attention_values = &attention_values_avx512,
      .exp_sum = &exp_sum_avx512};
  return table;
}

}  // namespace nextn
