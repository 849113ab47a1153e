// The avx512bf16 table's FP8 rows (src/kernels/matmul_avx512_bf16.cpp): every code decodes
// exactly on both decoder paths, the two paths give the same bits, and the split activations
// stay within their stated precision (2^-16 of each activation).
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/thread_pool.h"
#include "kernels/matmul_table.h"
#include "kernels/ref/ref_kernels.h"
#include "tensor/dtype.h"

namespace nextn {
namespace {

const KernelTable* bf16_table() {
  const KernelTable* table = available_kernels()[3];
  return table != nullptr && table->name == "avx512bf16" ? table : nullptr;
}

struct Fp8Matrix {
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  WeightMatrix view(int64_t rows, int64_t cols, int64_t block) const {
    return view(rows, cols, block, block);
  }
  WeightMatrix view(int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols) const {
    return WeightMatrix{.dtype = DType::kF8E4M3,
                        .rows = rows,
                        .cols = cols,
                        .data = reinterpret_cast<const std::byte*>(codes.data()),
                        .scales = scales.data(),
                        .scale_block_rows = block_rows,
                        .scale_block_cols = block_cols,
                        .scale_grid_cols = (cols + block_cols - 1) / block_cols};
  }
};

// Codes as a quantizer writes them: normal weights, 448 at about 4 sigma.
Fp8Matrix quantized(int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols,
                    uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, kFp8E4M3Max / 4.0f);
  Fp8Matrix m;
  m.codes.resize(static_cast<size_t>(rows * cols));
  for (auto& code : m.codes) code = f32_to_fp8_e4m3(normal(rng));
  const int64_t grid =
      ((rows + block_rows - 1) / block_rows) * ((cols + block_cols - 1) / block_cols);
  std::uniform_real_distribution<float> scale(0.001f, 0.01f);
  for (int64_t i = 0; i < grid; ++i) m.scales.push_back(scale(rng));
  return m;
}
Fp8Matrix quantized(int64_t rows, int64_t cols, int64_t block, uint32_t seed) {
  return quantized(rows, cols, block, block, seed);
}

std::vector<float> run(const KernelTable& table, const WeightMatrix& w, const std::vector<float>& x,
                       int64_t tokens, int threads = 1) {
  ThreadPool pool(threads);
  std::vector<float> y(static_cast<size_t>(tokens * w.rows));
  matmul_with(table, w, x.data(), w.cols, tokens, y.data(), w.rows, pool);
  return y;
}

TEST(Fp8Bf16Kernel, EveryCodeDecodesExactlyOnBothPaths) {
  const KernelTable* table = bf16_table();
  if (table == nullptr) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  // Row r holds one code at columns 0 and 1 (an even and an odd column, which the decoder
  // treats apart) and 1.0 (0x38, a normal code) in the rest of the step; token t's x is 1 at
  // column t and 0 elsewhere, so y[t, r] is that code's value times the scale. A code with a
  // zero exponent field sends its step to the exact decoder (its mantissa looked up), any
  // other to the shifts alone.
  std::vector<int> codes;
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7f) != 0x7f) codes.push_back(code);  // 0x7f / 0xff are NaN
  }
  const auto rows = static_cast<int64_t>(codes.size());
  const int64_t cols = 64;
  Fp8Matrix m;
  m.codes.assign(static_cast<size_t>(rows * cols), 0x38);
  for (int64_t r = 0; r < rows; ++r) {
    m.codes[static_cast<size_t>(r * cols)] = static_cast<uint8_t>(codes[r]);
    m.codes[static_cast<size_t>(r * cols + 1)] = static_cast<uint8_t>(codes[r]);
  }
  const int64_t block = 64;  // 64 × 64 blocks: one scale per row of a block, on the outputs
  m.scales.assign(static_cast<size_t>((rows + block - 1) / block), 0.5f);
  const WeightMatrix w = m.view(rows, cols, block);
  std::vector<float> x(static_cast<size_t>(2 * cols), 0.0f);
  x[0] = 1.0f;                     // token 0: column 0
  x[cols + 1] = 1.0f;              // token 1: column 1
  for (int64_t tokens : {1, 2}) {  // one token and two take different block shapes
    const std::vector<float> y = run(*table, w, x, tokens);
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        const auto code = static_cast<uint8_t>(codes[r]);
        EXPECT_EQ(y[t * rows + r], fp8_e4m3_to_f32(code) * 0.5f)
            << "code 0x" << std::hex << int{code} << " in column " << t;
      }
    }
  }
}

TEST(Fp8Bf16Kernel, AZeroExponentCodeInOneRowChangesNoBitOfTheOthers) {
  const KernelTable* table = bf16_table();
  if (table == nullptr) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  const int64_t rows = 24, cols = 320;
  Fp8Matrix clean = quantized(rows, cols, 128, 5);
  for (auto& code : clean.codes) {
    if ((code & 0x78) == 0) code |= 0x08;  // no zero exponent field anywhere
  }
  Fp8Matrix dirty = clean;
  // Subnormal, zero and negative zero codes in row 3, in the middle of its second step, and in
  // row 17 at its first column: their blocks' steps take the exact decoder.
  dirty.codes[3 * cols + 70] = 0x01;
  dirty.codes[3 * cols + 71] = 0x80;
  dirty.codes[3 * cols + 72] = 0x00;
  dirty.codes[3 * cols + 100] = 0x87;
  dirty.codes[17 * cols] = 0x05;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t tokens : {1, 2, 4, 6}) {
    SCOPED_TRACE(tokens);
    std::vector<float> x(static_cast<size_t>(tokens * cols));
    for (float& v : x) v = dist(rng);
    const std::vector<float> a = run(*table, clean.view(rows, cols, 128), x, tokens);
    const std::vector<float> b = run(*table, dirty.view(rows, cols, 128), x, tokens);
    std::vector<float> expected(b.size());
    ref::matmul(dirty.view(rows, cols, 128), x.data(), tokens, expected.data());
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        const size_t i = static_cast<size_t>(t * rows + r);
        if (r == 3 || r == 17) {
          EXPECT_NEAR(b[i], expected[i], 1e-4f * std::fabs(expected[i]) + 1e-5f) << "row " << r;
        } else {
          EXPECT_EQ(a[i], b[i]) << "row " << r;
        }
      }
    }
  }
}

TEST(Fp8Bf16Kernel, SplitActivationsStayWithinTwoToTheMinusSixteen) {
  const KernelTable* table = bf16_table();
  if (table == nullptr) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  const int64_t rows = 64, cols = 1000, tokens = 3;
  const Fp8Matrix m = quantized(rows, cols, 128, 11);
  const WeightMatrix w = m.view(rows, cols, 128);
  std::mt19937 rng(4);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(tokens * cols));
  for (float& v : x) v = dist(rng);
  const std::vector<float> y = run(*table, w, x, tokens);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double exact = 0.0, magnitude = 0.0;
      for (int64_t c = 0; c < cols; ++c) {
        const double product = double{ref::weight_at(w, r, c)} * double{x[t * cols + c]};
        exact += product;
        magnitude += std::fabs(product);
      }
      // Each activation within 2^-16 of itself; fp32 sums add about cols × 2^-24 more.
      const double bound = (0x1p-16 + static_cast<double>(cols) * 0x1p-24) * magnitude;
      EXPECT_LE(std::fabs(y[t * rows + r] - exact), bound) << "row " << r << " token " << t;
    }
  }
}

// Bit for bit: a row's result whatever the thread count (the pool's chunks start at other rows)
// and in a row slice (a view whose first row is not a scale block's), for scales per 64-column
// step (128 × 128), per column (16 × 24), and one per row (channel).
TEST(Fp8Bf16Kernel, ThreadsAndRowSlicesChangeNoBit) {
  const KernelTable* table = bf16_table();
  if (table == nullptr) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  struct Layout {
    int64_t block_rows, block_cols;
  };
  const int64_t rows = 1030, cols = 320, tokens = 5;
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(tokens * cols));
  for (float& v : x) v = dist(rng);
  for (const Layout layout : {Layout{128, 128}, Layout{16, 24}, Layout{1, cols}}) {
    SCOPED_TRACE(::testing::Message() << layout.block_rows << " x " << layout.block_cols);
    const Fp8Matrix m = quantized(rows, cols, layout.block_rows, layout.block_cols, 8);
    const WeightMatrix w = m.view(rows, cols, layout.block_rows, layout.block_cols);
    const std::vector<float> whole = run(*table, w, x, tokens);
    for (int threads : {2, 3}) {
      EXPECT_EQ(run(*table, w, x, tokens, threads), whole) << threads << " threads";
    }
    const int64_t first = 37, count = 500;
    const std::vector<float> part = run(*table, w.row_slice(first, count), x, tokens, 2);
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < count; ++r) {
        ASSERT_EQ(part[t * count + r], whole[t * rows + first + r]) << "row " << first + r;
      }
    }
  }
}

}  // namespace
}  // namespace nextn
