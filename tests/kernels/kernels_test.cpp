// Every kernel against its scalar twin (DESIGN principle 5): op × dtype × shape.
#include "kernels/kernels.h"

#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/matmul_table.h"
#include "kernels/ref/ref_kernels.h"

namespace nextn {
namespace {

struct Storage {  // backing bytes and scales of a test WeightMatrix
  std::vector<std::byte> bytes;
  std::vector<float> scales;
};

WeightMatrix random_matrix(DType dtype, int64_t rows, int64_t cols, int64_t block_rows,
                           int64_t block_cols, uint32_t seed, Storage& storage) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const size_t n = static_cast<size_t>(rows * cols);
  storage.bytes.resize(n * dtype_size(dtype) + 1);  // +1: misalign on purpose below
  std::byte* data = storage.bytes.data() + 1;
  for (size_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    switch (dtype) {
      case DType::kF32:
        std::memcpy(data + 4 * i, &v, 4);
        break;
      case DType::kBF16: {
        const uint16_t b = f32_to_bf16(v);
        std::memcpy(data + 2 * i, &b, 2);
        break;
      }
      case DType::kF16: {
        const uint16_t b = f32_to_f16(v);
        std::memcpy(data + 2 * i, &b, 2);
        break;
      }
      case DType::kF8E4M3:
        data[i] = static_cast<std::byte>(f32_to_fp8_e4m3(v * 400.0f));
        break;
    }
  }
  WeightMatrix w{.dtype = dtype, .rows = rows, .cols = cols, .data = data};
  if (dtype == DType::kF8E4M3) {
    w.scale_block_rows = block_rows;
    w.scale_block_cols = block_cols;
    w.scale_grid_cols = (cols + block_cols - 1) / block_cols;
    const int64_t grid_rows = (rows + block_rows - 1) / block_rows;
    storage.scales.resize(static_cast<size_t>(grid_rows * w.scale_grid_cols));
    for (float& s : storage.scales) s = 0.001f + 0.01f * std::fabs(dist(rng));
    w.scales = storage.scales.data();
  }
  return w;
}

std::vector<float> random_vector(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected,
                  float relative) {
  float max_ref = 0.0f;
  for (float v : expected) max_ref = std::fmax(max_ref, std::fabs(v));
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], relative * max_ref + 1e-7f) << "at " << i;
  }
}

struct MatmulCase {
  DType dtype;
  int64_t rows, cols, tokens, block_rows, block_cols;
};

class MatmulTest : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(MatmulTest, MatchesTheScalarTwin) {
  const MatmulCase c = GetParam();
  Storage storage;
  const WeightMatrix w = random_matrix(c.dtype, c.rows, c.cols, c.block_rows, c.block_cols,
                                       static_cast<uint32_t>(c.rows * 31 + c.cols), storage);
  const std::vector<float> x = random_vector(c.tokens * c.cols, 7);
  std::vector<float> expected(static_cast<size_t>(c.tokens * c.rows));
  ref::matmul(w, x.data(), c.tokens, expected.data());
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    std::vector<float> actual(expected.size());
    matmul(w, x.data(), c.cols, c.tokens, actual.data(), c.rows, pool);
    expect_close(actual, expected, 1e-5f);
  }
}

// Every kernel table this CPU can run (portable, AVX2, AVX-512) against the scalar twin, and a
// row's result is bit-identical whatever the batch it is in (1 token or 11).
TEST_P(MatmulTest, EveryKernelTableMatchesAndIsBatchInvariant) {
  const MatmulCase c = GetParam();
  Storage storage;
  const WeightMatrix w = random_matrix(c.dtype, c.rows, c.cols, c.block_rows, c.block_cols,
                                       static_cast<uint32_t>(c.rows * 17 + c.cols), storage);
  const int64_t tokens = 11;
  const std::vector<float> x = random_vector(tokens * c.cols, 3);
  std::vector<float> expected(static_cast<size_t>(tokens * c.rows));
  ref::matmul(w, x.data(), tokens, expected.data());
  int tables = 0;
  for (const KernelTable* table : available_kernels()) {
    if (table == nullptr) continue;
    ++tables;
    SCOPED_TRACE(std::string(table->name));
    ThreadPool pool(1);
    std::vector<float> batched(expected.size());
    matmul_with(*table, w, x.data(), c.cols, tokens, batched.data(), c.rows, pool);
    expect_close(batched, expected, 1e-5f);
    for (int64_t t = 0; t < tokens; ++t) {
      std::vector<float> single(static_cast<size_t>(c.rows));
      matmul_with(*table, w, x.data() + t * c.cols, c.cols, 1, single.data(), c.rows, pool);
      for (int64_t r = 0; r < c.rows; ++r) ASSERT_EQ(single[r], batched[t * c.rows + r]);
    }
  }
  EXPECT_GE(tables, 1);
}

TEST(KernelTable, TheActiveTableIsTheBestAvailable) {
  const auto available = available_kernels();
  const KernelTable* best = nullptr;
  for (const KernelTable* table : available) {
    if (table != nullptr) best = table;
  }
  EXPECT_EQ(&active_kernels(), best);
}

INSTANTIATE_TEST_SUITE_P(
    DtypesAndShapes, MatmulTest,
    ::testing::Values(
        MatmulCase{DType::kF32, 17, 33, 1, 1, 1}, MatmulCase{DType::kF32, 64, 128, 5, 1, 1},
        MatmulCase{DType::kBF16, 1, 1, 1, 1, 1}, MatmulCase{DType::kBF16, 48, 72, 3, 1, 1},
        MatmulCase{DType::kBF16, 300, 257, 9, 1, 1}, MatmulCase{DType::kF16, 40, 24, 2, 1, 1},
        // FP8 block with partial edge blocks, channel (1 × cols), tensor.
        MatmulCase{DType::kF8E4M3, 48, 72, 4, 32, 32},
        MatmulCase{DType::kF8E4M3, 130, 260, 2, 128, 128},
        // 128 × 128 scale blocks (folded into the activations once per scale
        // row) with a partial last block, and one scale per row (on the outputs).
        MatmulCase{DType::kF8E4M3, 257, 384 + 40, 5, 128, 128},
        MatmulCase{DType::kF8E4M3, 37, 192, 5, 1, 192},
        MatmulCase{DType::kF8E4M3, 40, 24, 3, 1, 24},
        MatmulCase{DType::kF8E4M3, 40, 24, 1, 40, 24}));

TEST(Matmul, RowSliceUsesTheAbsoluteRowsScales) {
  Storage storage;
  const WeightMatrix w = random_matrix(DType::kF8E4M3, 96, 40, 32, 16, 3, storage);
  const std::vector<float> x = random_vector(40, 9);
  std::vector<float> full(96);
  ref::matmul(w, x.data(), 1, full.data());
  ThreadPool pool(2);
  const WeightMatrix slice = w.row_slice(40, 30);  // crosses a block boundary at row 64
  std::vector<float> part(30);
  matmul(slice, x.data(), 40, 1, part.data(), 30, pool);
  // Within the precision of the least precise table (avx512bf16: activations carry 2^-16 of
  // themselves) of the sum of the products' magnitudes; a wrong scale is off by far more.
  for (int r = 0; r < 30; ++r) {
    double magnitude = 0.0;
    for (int c = 0; c < 40; ++c)
      magnitude += std::fabs(double{ref::weight_at(w, 40 + r, c)} * x[c]);
    EXPECT_NEAR(part[r], full[40 + r], 0x1p-15 * magnitude + 1e-7) << "row " << r;
  }
}

TEST(Matmul, StridedInputsAndOutputs) {
  Storage storage;
  const WeightMatrix w = random_matrix(DType::kBF16, 12, 10, 1, 1, 5, storage);
  const std::vector<float> x = random_vector(3 * 16, 11);  // rows 16 apart, 10 used
  ThreadPool pool(2);
  std::vector<float> y(3 * 20, -7.0f);  // rows 20 apart
  matmul(w, x.data(), 16, 3, y.data(), 20, pool);
  for (int t = 0; t < 3; ++t) {
    std::vector<float> row_x(x.begin() + t * 16, x.begin() + t * 16 + 10);
    std::vector<float> expected(12);
    ref::matmul(w, row_x.data(), 1, expected.data());
    for (int r = 0; r < 12; ++r) EXPECT_NEAR(y[t * 20 + r], expected[r], 1e-5f);
    for (int r = 12; r < 20; ++r) EXPECT_EQ(y[t * 20 + r], -7.0f);  // untouched
  }
}

TEST(RmsNorm, MatchesTheScalarTwin) {
  for (int64_t dim : {1, 7, 64, 1000}) {
    const std::vector<float> x = random_vector(3 * dim, 1);
    const std::vector<float> weight = random_vector(dim, 2);
    std::vector<float> expected(x.size());
    std::vector<float> actual(x.size());
    ref::rms_norm(x.data(), weight.data(), 3, dim, 1e-6f, expected.data());
    rms_norm(x.data(), weight.data(), 3, dim, dim, 1e-6f, actual.data());
    expect_close(actual, expected, 1e-6f);
    // In place gives the same.
    std::vector<float> in_place = x;
    rms_norm(in_place.data(), weight.data(), 3, dim, dim, 1e-6f, in_place.data());
    expect_close(in_place, expected, 1e-6f);
  }
}

// attend takes the cache rows in chunks under a running max and sum: against a double
// softmax-weighted sum for contexts of one chunk, a chunk's edge and several chunks (large
// scores, so the running max moves), MLA's shape (keys 576 wide, values their first 512) and
// GQA's (separate keys and values); and a head's bits alone equal its bits in a block of heads.
TEST(Attend, MatchesADoubleSoftmaxOverChunksAndIsTheSameForAHeadAlone) {
  struct Case {
    int64_t queries, key_dim, value_dim, value_offset, n_keys;
  };
  const Case cases[] = {{1, 576, 512, 0, 1},     {8, 576, 512, 0, 127},  {8, 576, 512, 0, 128},
                        {5, 576, 512, 0, 129},   {16, 576, 512, 0, 700}, {3, 128, 128, 128, 1},
                        {4, 128, 128, 128, 257}, {12, 64, 64, 64, 1000}};
  for (const Case& c : cases) {
    const int64_t row = c.value_offset + std::max(c.key_dim, c.value_dim);  // a cache row
    std::vector<float> q = random_vector(c.queries * c.key_dim, 11);
    std::vector<float> cache = random_vector(c.n_keys * row, 12);
    // Later rows score higher, so the max moves from chunk to chunk.
    for (int64_t s = 0; s < c.n_keys; ++s) {
      for (int64_t j = 0; j < c.key_dim; ++j)
        cache[s * row + j] *= 1.0f + 0.01f * static_cast<float>(s);
    }
    const float* values = cache.data() + c.value_offset;
    const float scale = 0.5f;
    std::vector<float> scratch(attend_scratch_floats(c.queries, c.value_dim));
    std::vector<float> out(c.queries * c.value_dim);
    attend(q.data(), c.key_dim, c.queries, cache.data(), row, c.key_dim, values, row, c.value_dim,
           c.n_keys, scale, scratch.data(), out.data(), c.value_dim);
    for (int64_t i = 0; i < c.queries; ++i) {
      std::vector<double> p(c.n_keys);
      double max = -INFINITY, sum = 0;
      for (int64_t s = 0; s < c.n_keys; ++s) {
        double dot_product = 0;
        for (int64_t j = 0; j < c.key_dim; ++j) {
          dot_product += static_cast<double>(q[i * c.key_dim + j]) * cache[s * row + j];
        }
        p[s] = scale * dot_product;
        max = std::max(max, p[s]);
      }
      for (double& v : p) sum += (v = std::exp(v - max));
      for (int64_t col = 0; col < c.value_dim; ++col) {
        double want = 0;
        for (int64_t s = 0; s < c.n_keys; ++s) want += p[s] / sum * values[s * row + col];
        ASSERT_NEAR(out[i * c.value_dim + col], want, 2e-5 + 2e-5 * std::abs(want))
            << "queries " << c.queries << " keys " << c.n_keys << " head " << i << " col " << col;
      }
      std::vector<float> alone(c.value_dim);
      attend(q.data() + i * c.key_dim, c.key_dim, 1, cache.data(), row, c.key_dim, values, row,
             c.value_dim, c.n_keys, scale, scratch.data(), alone.data(), c.value_dim);
      for (int64_t col = 0; col < c.value_dim; ++col) {
        ASSERT_EQ(alone[col], out[i * c.value_dim + col]) << "head " << i << " col " << col;
      }
    }
  }
}

TEST(Dot, MatchesDoubleAccumulation) {
  for (int64_t n : {0, 1, 7, 8, 9, 1025}) {
    const std::vector<float> a = random_vector(n, 5);
    const std::vector<float> b = random_vector(n, 6);
    double expected = 0;
    for (int64_t i = 0; i < n; ++i) expected += double{a[i]} * b[i];
    EXPECT_NEAR(dot(a.data(), b.data(), n), expected, 1e-5 * (1 + std::sqrt(double(n))));
  }
}

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 5, 1000}) {
    for (int64_t grain : {1, 3, 64}) {
      std::vector<int> hits(static_cast<size_t>(n), 0);
      pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[i]++;  // disjoint chunks: no race
      });
      for (int h : hits) ASSERT_EQ(h, 1);
    }
  }
}

// Once on each thread, even when the workers are asleep or slow to start: what sizing the
// thread_local kernel buffers relies on.
TEST(ThreadPool, OnEveryThreadRunsOnceOnEachThread) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 20; ++round) {
      std::mutex mutex;
      std::set<std::thread::id> seen;
      int calls = 0;
      pool.on_every_thread([&] {
        std::lock_guard lock(mutex);
        seen.insert(std::this_thread::get_id());
        ++calls;
      });
      ASSERT_EQ(calls, threads);
      ASSERT_EQ(seen.size(), static_cast<size_t>(threads));
    }
  }
}

// After reserve_kernel_buffers, a matmul_serial of that size allocates nothing on any thread:
// each thread's buffers already hold a prepared token.
TEST(ThreadPool, ReservedKernelBuffersCoverADecodeStepOnEveryThread) {
  ThreadPool pool(3);
  reserve_kernel_buffers(pool, 512, 1);
  std::mutex mutex;
  std::set<size_t> sizes;
  pool.on_every_thread([&] {
    std::lock_guard lock(mutex);
    sizes.insert(kernel_thread_buffers().prepared.size());
    sizes.insert(kernel_thread_buffers().activations.size());
  });
  ASSERT_FALSE(sizes.empty());
  EXPECT_GE(*sizes.begin(), static_cast<size_t>(active_kernels().prepared_stride(512)));
}

// combine_rows (MLA's transposed product) against a double sum of decoded rows, for every
// dtype and FP8 block shape (16-column groups sharing a scale take the SIMD path, others not),
// for one token and for batches that fill and overflow a pass's token block; and each token of
// a batch bit for bit as combined alone (verify and decode must agree).
TEST(CombineRows, MatchesADoubleSumOfDecodedRowsForEveryToken) {
  for (const MatmulCase c :
       {MatmulCase{DType::kF32, 40, 72, 1, 1, 1}, MatmulCase{DType::kBF16, 40, 200, 1, 1, 1},
        MatmulCase{DType::kBF16, 70, 600, 1, 1, 1}, MatmulCase{DType::kBF16, 40, 203, 1, 1, 1},
        MatmulCase{DType::kF16, 40, 72, 1, 1, 1}, MatmulCase{DType::kF8E4M3, 300, 260, 1, 128, 128},
        MatmulCase{DType::kF8E4M3, 300, 512, 1, 128, 128},
        MatmulCase{DType::kF8E4M3, 40, 72, 1, 32, 32},
        MatmulCase{DType::kF8E4M3, 40, 72, 1, 24, 24},
        MatmulCase{DType::kF8E4M3, 40, 72, 1, 1, 72}}) {
    SCOPED_TRACE(::testing::Message()
                 << "dtype " << static_cast<int>(c.dtype) << ", cols " << c.cols);
    Storage storage;
    const WeightMatrix w = random_matrix(c.dtype, c.rows, c.cols, c.block_rows, c.block_cols,
                                         static_cast<uint32_t>(c.rows + c.cols), storage);
    const int64_t first = c.rows / 3;
    const int64_t count = c.rows / 2;
    for (const KernelTable* table : available_kernels()) {
      if (table == nullptr) continue;
      SCOPED_TRACE(std::string(table->name));
      for (const int64_t tokens : {int64_t{1}, int64_t{3}, int64_t{6}}) {
        SCOPED_TRACE(::testing::Message() << tokens << " tokens");
        // Rows of coefficients and of y wider than they need be: the strides are honoured.
        const int64_t coefficient_stride = count + 3;
        const int64_t y_stride = c.cols + 5;
        const std::vector<float> coefficients =
            random_vector(tokens * coefficient_stride, static_cast<uint32_t>(5 + tokens));
        std::vector<float> y(static_cast<size_t>(tokens * y_stride), -1.0f);
        std::vector<float> scratch(static_cast<size_t>(c.cols));
        combine_rows_with(*table, w, first, count, coefficients.data(), coefficient_stride, tokens,
                          y.data(), y_stride, scratch.data());
        std::vector<float> row(static_cast<size_t>(c.cols));
        std::vector<float> alone(static_cast<size_t>(c.cols));
        for (int64_t t = 0; t < tokens; ++t) {
          const float* coefficient = coefficients.data() + t * coefficient_stride;
          std::vector<double> expected(static_cast<size_t>(c.cols), 0.0);
          for (int64_t i = 0; i < count; ++i) {
            decode_row(w, first + i, row.data());
            for (int64_t col = 0; col < c.cols; ++col) {
              expected[col] += double{coefficient[i]} * row[col];
            }
          }
          double max_ref = 0;
          for (double v : expected) max_ref = std::max(max_ref, std::fabs(v));
          combine_rows_with(*table, w, first, count, coefficient, count, 1, alone.data(), c.cols,
                            scratch.data());
          const float* got = y.data() + t * y_stride;
          for (int64_t col = 0; col < c.cols; ++col) {
            ASSERT_NEAR(got[col], expected[col], 1e-5 * max_ref + 1e-7)
                << "token " << t << ", column " << col;
            ASSERT_EQ(got[col], alone[col]) << "token " << t << ", column " << col;
          }
          for (int64_t col = c.cols; col < y_stride; ++col) {  // past the columns: untouched
            ASSERT_EQ(got[col], -1.0f) << "token " << t << ", column " << col;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace nextn
