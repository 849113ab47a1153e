// FP8 matmul rows on AVX512-BF16 (compiled with -mavx512bf16; used only when the CPU has it).
// The other dtypes are the avx512 table's.
//
// Why: one token over FP8 weights is bound by the vector operations that turn codes into
// numbers, not by memory. The avx512 table's fp32 decoder spends 11 per 64 weights and then 4
// FMAs; here shifts and a bit-select make each code a bfloat16 (5 operations per 64 weights,
// Fp8 below), and vdpbf16ps multiplies 32 bfloat16 pairs per instruction.
//
// Activations carry 16 significant bits: each x (times its column's block scale) is split
// into hi = bf16(x) and lo = bf16(x - hi), and both meet the exact weight, so an activation is
// off by at most 2^-16 of itself (the fp32 kernels: 2^-24). Products of bfloat16 values are
// exact in fp32, and vdpbf16ps adds them in a fixed order with round-to-nearest. Every output
// has one accumulator and the same instruction sequence whatever the block shape, the batch or
// the thread count, so a row's result never depends on them.
//
// BF16 weights stay on the avx512 table's fp32 path: fed to vdpbf16ps as they lie, with the
// same split activations, they ran 13-25 % faster from cache but 25-45 % slower streaming from
// memory (kernels_bench, 65536 × 2048), whatever the prefetch distance or rows per block.
//
// GCC 12 warns inside its own AVX-512 headers, as in matmul_avx512.cpp.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/avx512_common.h"
#include "kernels/matmul_table.h"
#include "tensor/dtype.h"

namespace nextn {
namespace {

// Columns per step: one 64-byte load of FP8 codes. The split activations of a step and token
// take 4 × 64 bytes, as many as the 64 fp32 ones they replace.
constexpr int kStep = 64;

// Weights are decoded to bfloat16 × 2^-8, exactly: with that factor every e4m3 value, the
// subnormal ones included, is a normal bfloat16 (vdpbf16ps reads bfloat16 subnormals as zero).
// The split activations carry the 2^8 back.
constexpr float kActivationScale = 0x1p8f;

// 64 codes → two vectors of 32 bfloat16: `even` holds columns 0, 2, .., 62 (word j is column
// 2j), `odd` columns 1, 3, .., 63.
//
// A word of the loaded codes holds an even column's code in its low byte and an odd one's in
// its high byte. For a code S EEEE MMM in the high byte, an arithmetic shift right by 4 puts S
// at bit 15 and EEEE MMM at bits 10..4; keeping those and setting bits 13..11 makes the
// bfloat16 S 0111EEEE MMM0000, which is the value × 2^-8 for every exponent but zero (a
// subnormal or zero code would get an implicit leading one). The even code is moved to the
// high byte first. Codes with a zero exponent field (below 2^-6 of a block's largest magnitude
// / 448: in about 5 % of 8-row steps of quantized normal weights) are then replaced by a
// lookup of their mantissa in a 32-word table (vpermw), and their sign put back; the other
// codes keep the shifted bits.
struct Fp8 {
  using Raw = __m512i;

  __m512i keep = _mm512_set1_epi16(static_cast<short>(0x87f0));
  __m512i bias = _mm512_set1_epi16(0x3800);
  __m512i exponent = _mm512_set1_epi8(0x78);

  static Raw load(const std::byte* row, int64_t c) { return _mm512_loadu_si512(row + c); }

  // The codes whose exponent field is zero: the shifts alone are not exact for them.
  __mmask64 exceptional(Raw codes) const { return _mm512_testn_epi8_mask(codes, exponent); }

  // Exact for codes with a nonzero exponent field.
  void fast(Raw codes, __m512bh& even, __m512bh& odd) const {
    __m512i high_even, shifted_even, shifted_odd;
    shift(codes, high_even, shifted_even, shifted_odd);
    even = reinterpret_cast<__m512bh>(shifted_even);
    odd = reinterpret_cast<__m512bh>(shifted_odd);
  }

  // The first `remaining` codes of a step, the rest read as code 0 (+0).
  static Raw load_partial(const std::byte* row, int64_t c, int64_t remaining) {
    const __mmask64 mask = remaining >= 64 ? ~__mmask64{0} : (__mmask64{1} << remaining) - 1;
    return _mm512_maskz_loadu_epi8(mask, row + c);
  }

  // Exact for every code.
  void exact(Raw codes, __m512bh& even, __m512bh& odd) const {
    __m512i high_even, shifted_even, shifted_odd;
    shift(codes, high_even, shifted_even, shifted_odd);
    // bfloat16 of m × 2^-9 × 2^-8 for mantissa m = 0..7 of a zero-exponent code; vpermw reads
    // the low 5 bits of each index word, which for such a code are 0 0 M M M.
    const __m512i subnormal =
        _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                         0x3860, 0x3840, 0x3820, 0x3800, 0x37c0, 0x3780, 0x3700, 0);
    const __m512i sign = _mm512_set1_epi16(static_cast<short>(0x8000));
    const __mmask32 zero_odd = _mm512_testn_epi16_mask(codes, _mm512_set1_epi16(0x7800));
    const __mmask32 zero_even = _mm512_testn_epi16_mask(codes, _mm512_set1_epi16(0x0078));
    // Looked-up magnitudes where the exponent is zero, then each code's sign or'ed back in
    // (the shifted words have it already).
    odd = reinterpret_cast<__m512bh>(_mm512_ternarylogic_epi32(
        _mm512_mask_permutexvar_epi16(shifted_odd, zero_odd, _mm512_srli_epi16(codes, 8),
                                      subnormal),
        codes, sign, 0xf8));  // A | (B & C)
    even = reinterpret_cast<__m512bh>(_mm512_ternarylogic_epi32(
        _mm512_mask_permutexvar_epi16(shifted_even, zero_even, codes, subnormal), high_even, sign,
        0xf8));
  }

 private:
  // The shifted bfloat16 of the even and odd codes, and the codes moved to the high bytes.
  void shift(__m512i codes, __m512i& high_even, __m512i& even, __m512i& odd) const {
    auto place = [&](__m512i high_byte_codes) {  // (code >> 4 & keep) | bias
      return _mm512_ternarylogic_epi32(_mm512_srai_epi16(high_byte_codes, 4), keep, bias, 0xea);
    };
    high_even = _mm512_slli_epi16(codes, 8);
    even = place(high_even);
    odd = place(codes);
  }
};

// What the activations of a scale row are multiplied by before the split (already × 2^8):
// one factor per column, or one per step (block scales whose blocks hold whole steps, as
// DeepSeek's 128 × 128 do: no per-column expansion), or one for all.
struct SplitScales {
  const float* per_column = nullptr;
  const float* per_step = nullptr;
  float all = 1.0f;
};

// Splits x[t, c] · scale(c) into the layout the blocks read, for `tokens` rows of `cols`
// columns, x_stride floats apart, into rows of `stride` (a multiple of kStep) zero-padded: per
// step and token the hi parts of the even columns, of the odd ones, then their lo parts (the
// order Fp8 decodes the codes in).
void split_activations(const float* x, int64_t x_stride, int64_t cols, const SplitScales& scales,
                       int64_t tokens, int64_t stride, std::byte* out) {
  const __m512i even_index =
      _mm512_set_epi16(62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32, 30, 28, 26,
                       24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd_index = _mm512_add_epi16(even_index, _mm512_set1_epi16(1));
  for (int64_t t = 0; t < tokens; ++t) {
    const float* in = x + t * x_stride;
    std::byte* row = out + t * stride * 4;
    for (int64_t c = 0; c < stride; c += kStep) {
      const __m512 step_scale =
          _mm512_set1_ps(scales.per_step != nullptr ? scales.per_step[c / kStep] : scales.all);
      __m256i hi[4], lo[4];
      for (int q = 0; q < 4; ++q) {
        const int64_t left = cols - c - 16 * q;
        const auto lanes = static_cast<__mmask16>(left >= 16  ? 0xffff
                                                  : left <= 0 ? 0
                                                              : (1u << left) - 1);
        const __m512 scale = scales.per_column != nullptr
                                 ? _mm512_maskz_loadu_ps(lanes, scales.per_column + c + 16 * q)
                                 : step_scale;
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, in + c + 16 * q), scale);
        hi[q] = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
        const __m512 hi_value =
            _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(hi[q]), 16));
        lo[q] = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_sub_ps(v, hi_value)));
      }
      auto store = [&](const __m256i(&part)[4], int at) {
        const __m512i first = _mm512_inserti64x4(_mm512_castsi256_si512(part[0]), part[1], 1);
        const __m512i second = _mm512_inserti64x4(_mm512_castsi256_si512(part[2]), part[3], 1);
        std::byte* step = row + 4 * c;
        _mm512_store_si512(step + 64 * at, _mm512_permutex2var_epi16(first, even_index, second));
        _mm512_store_si512(step + 64 * (at + 1),
                           _mm512_permutex2var_epi16(first, odd_index, second));
      };
      store(hi, 0);
      store(lo, 2);
    }
  }
}

using avx512::store_block;

// One step of a block: the weights of step `c` of each row (decoded), times every token. Each
// output takes its four products in the same order (hi × even, hi × odd, lo × even, lo × odd)
// whatever the shape; only the interleaving of outputs differs. Four tokens run the first
// product of every output, then the second, and so on (measured 44.7 against 37.7 GMAC/s in
// cache); one or two tokens run each output's four in a row (29.4 / 39.3 against 26.6 / 35.2).
template <int kRows, int kTokens>
[[gnu::always_inline]] inline void multiply_step(const __m512bh (&even)[kRows],
                                                 const __m512bh (&odd)[kRows], const std::byte* x,
                                                 int64_t x_stride, int64_t c,
                                                 __m512 (&acc)[kRows][kTokens]) {
  auto product = [&](int i, int t, int k) {
    const std::byte* part = x + 4 * (t * x_stride + c) + 64 * k;
    acc[i][t] = _mm512_dpbf16_ps(acc[i][t], k % 2 == 0 ? even[i] : odd[i],
                                 reinterpret_cast<__m512bh>(_mm512_load_si512(part)));
  };
  if constexpr (kTokens >= 3) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
#pragma GCC unroll 8
        for (int i = 0; i < kRows; ++i) product(i, t, k);
      }
    }
  } else {
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) product(i, t, k);
      }
    }
  }
}

// kRows weight rows × kTokens tokens; `x` in the split layout, x_stride floats per token.
// A step runs the fast decoder when every row's codes have a nonzero exponent field, the
// exact one otherwise and for a partial last step. Both give the same bits for the codes they
// share, so results do not depend on which ran.
template <int kRows, int kTokens>
void block(const std::byte* const* rows, int64_t cols, const std::byte* x, int64_t x_stride,
           const float* out_scale, float* y, int64_t y_stride) {
  const Fp8 format;
  __m512 acc[kRows][kTokens];
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) acc[i][t] = _mm512_setzero_ps();
  }
  // The rows of a block lie in different 4 KiB pages, where the hardware prefetcher stops:
  // fetch the step's line of the rows two blocks ahead into L2 (one token from DRAM: 20.3 GB/s
  // one block ahead, 22.8 two).
  auto prefetch = [&](int64_t c) {
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) {
      _mm_prefetch(
          reinterpret_cast<const char*>(rows[i] + c + avx512::kPrefetchBlocks * kRows * cols),
          _MM_HINT_T1);
    }
  };
  const int64_t full = cols - cols % kStep;
  for (int64_t c = 0; c < full; c += kStep) {
    Fp8::Raw raw[kRows];
    __mmask64 exceptional = 0;
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) {
      raw[i] = Fp8::load(rows[i], c);
      exceptional |= format.exceptional(raw[i]);
    }
    prefetch(c);
    __m512bh first[kRows], second[kRows];
    if (exceptional != 0) [[unlikely]] {
#pragma GCC unroll 8
      for (int i = 0; i < kRows; ++i) format.exact(raw[i], first[i], second[i]);
    } else {
#pragma GCC unroll 8
      for (int i = 0; i < kRows; ++i) format.fast(raw[i], first[i], second[i]);
    }
    multiply_step<kRows, kTokens>(first, second, x, x_stride, c, acc);
  }
  if (full < cols) {  // a partial last step: past the last column, codes read as 0
    __m512bh first[kRows], second[kRows];
    for (int i = 0; i < kRows; ++i) {
      format.exact(Fp8::load_partial(rows[i], full, cols - full), first[i], second[i]);
    }
    multiply_step<kRows, kTokens>(first, second, x, x_stride, full, acc);
  }
  store_block<kRows, kTokens>(acc, out_scale, y, y_stride);
}

// Block shapes, by the batch: one token takes 8 rows (eight accumulators, each a chain of four
// vdpbf16ps per step, keep the unit busy); more take 4 rows × 4 tokens (2 rows × 8 tokens
// measured 25% slower).
constexpr int kMaxRows = 8;
constexpr int kTokenBlock = 4;

struct BlockShape {
  int rows, tokens;
};
BlockShape block_shape(int64_t tokens) {
  if (tokens == 1) return {8, 1};
  return {4, kTokenBlock};
}

using Block = void (*)(const std::byte* const*, int64_t, const std::byte*, int64_t, const float*,
                       float*, int64_t);

template <int kRows, size_t... kTokens>
constexpr std::array<Block, kTokenBlock + 1> token_blocks(std::index_sequence<kTokens...>) {
  return {nullptr, &block<kRows, static_cast<int>(kTokens + 1)>...};
}

template <size_t... kRows>
constexpr auto make_blocks(std::index_sequence<kRows...>) {
  return std::array<std::array<Block, kTokenBlock + 1>, kMaxRows + 1>{
      std::array<Block, kTokenBlock + 1>{},
      token_blocks<static_cast<int>(kRows + 1)>(std::make_index_sequence<kTokenBlock>{})...};
}

constexpr auto kBlocks = make_blocks(std::make_index_sequence<kMaxRows>{});

// Rows [r, r + n_rows) for every token, in blocks of the batch's shape.
void run_blocks(const WeightMatrix& w, int64_t r, int64_t n_rows, const std::byte* split,
                int64_t x_stride, int64_t tokens, const float* out_scale, float* y,
                int64_t y_stride) {
  const BlockShape shape = block_shape(tokens);
  const std::byte* refs[kMaxRows];
  for (int64_t i = 0; i < n_rows; ++i) {
    refs[i] = w.data + static_cast<size_t>((r + i) * w.cols);
  }
  for (int64_t t = 0; t < tokens; t += shape.tokens) {
    const int64_t n_tokens = std::min<int64_t>(shape.tokens, tokens - t);
    kBlocks[n_rows][n_tokens](refs, w.cols, split + 4 * t * x_stride, x_stride, out_scale,
                              y + t * y_stride + r, y_stride);
  }
}

// As the avx512 table's rows_fp8: one scale per row (channel or tensor) multiplies the outputs;
// block scales are folded into the activations once per scale row, and a block of rows never
// straddles two. `x` is as given, zero-padded to x_stride columns.
void rows_fp8(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
              int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  const bool one_per_row = w.one_scale_per_row();
  auto* split = reinterpret_cast<std::byte*>(
      aligned_floats(kernel_thread_buffers().activations, static_cast<size_t>(tokens * x_stride)));
  auto split_with = [&](const SplitScales& scales) {
    split_activations(x, x_stride, w.cols, scales, tokens, x_stride, split);
  };
  if (one_per_row) split_with({.all = kActivationScale});
  int64_t split_key = -1;
  const int rows_per_block = block_shape(tokens).rows;
  avx512::prefetch_first_rows(w.data, w.cols, row_begin, row_end,
                              avx512::kPrefetchBlocks * rows_per_block);
  float out_scale[kMaxRows];
  for (int64_t r = row_begin; r < row_end;) {
    const int64_t key = w.scale_row_of(r);
    const int64_t n_rows = std::min({int64_t{rows_per_block}, row_end - r,
                                     one_per_row ? row_end - r : w.next_scale_row_start(r) - r});
    if (!one_per_row && key != split_key) {
      split_key = key;
      if (w.scale_block_cols % kStep == 0) {
        const float* grid = w.scales_of_row(r);
        const int64_t steps = (w.cols + kStep - 1) / kStep;
        for (int64_t step = 0; step < steps; ++step) {
          scratch[step] = grid[step * kStep / w.scale_block_cols] * kActivationScale;
        }
        split_with({.per_step = scratch});
      } else {
        w.expand_scale_row(key, kActivationScale, scratch);
        split_with({.per_column = scratch});
      }
    }
    for (int64_t i = 0; i < n_rows; ++i) {
      out_scale[i] = one_per_row ? w.scales_of_row(r + i)[0] : 1.0f;
    }
    run_blocks(w, r, n_rows, split, x_stride, tokens, out_scale, y, y_stride);
    r += n_rows;
  }
}

}  // namespace

const KernelTable& avx512_bf16_kernel_table() {
  static const KernelTable table = [] {
    KernelTable t = avx512_kernel_table();
    t.name = "avx512bf16";
    const auto fp8 = static_cast<size_t>(DType::kF8E4M3);
    t.rows[fp8] = &rows_fp8;
    // Natural column order, zero-padded to whole steps: the avx512 table's F32 preparation.
    t.prepare[fp8] = t.prepare[static_cast<size_t>(DType::kF32)];
    return t;
  }();
  return table;
}

}  // namespace nextn
