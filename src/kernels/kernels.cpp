#include "kernels/kernels.h"

#include "kernels/matmul_table.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

namespace nextn {
namespace {

const std::array<float, 256>& fp8_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> values{};
    for (int i = 0; i < 256; ++i) values[i] = fp8_e4m3_to_f32(static_cast<uint8_t>(i));
    return values;
  }();
  return table;
}

void decode_f32(const std::byte* row, int64_t cols, float* out) {
  std::memcpy(out, row, static_cast<size_t>(cols) * 4);
}

void decode_bf16(const std::byte* row, int64_t cols, float* out) {
  for (int64_t c = 0; c < cols; ++c) {
    uint16_t bits;
    std::memcpy(&bits, row + 2 * c, 2);
    out[c] = std::bit_cast<float>(uint32_t{bits} << 16);
  }
}

void decode_f16(const std::byte* row, int64_t cols, float* out) {
  for (int64_t c = 0; c < cols; ++c) {
    uint16_t bits;
    std::memcpy(&bits, row + 2 * c, 2);
    out[c] = f16_to_f32(bits);
  }
}

// One scale per block of scale_block_cols columns along the row.
void decode_fp8(const WeightMatrix& w, int64_t r, const std::byte* row, float* out) {
  const std::array<float, 256>& table = fp8_table();
  const float* scales = w.scales_of_row(r);
  for (int64_t block = 0; block * w.scale_block_cols < w.cols; ++block) {
    const float scale = scales[block];
    const int64_t begin = block * w.scale_block_cols;
    const int64_t end = std::min(w.cols, begin + w.scale_block_cols);
    for (int64_t c = begin; c < end; ++c) {
      out[c] = table[static_cast<uint8_t>(row[c])] * scale;
    }
  }
}

}  // namespace

void decode_row(const WeightMatrix& w, int64_t r, float* out) {
  const std::byte* row = w.data + static_cast<size_t>(r * w.cols) * dtype_size(w.dtype);
  switch (w.dtype) {
    case DType::kF32:
      decode_f32(row, w.cols, out);
      return;
    case DType::kBF16:
      decode_bf16(row, w.cols, out);
      return;
    case DType::kF16:
      decode_f16(row, w.cols, out);
      return;
    case DType::kF8E4M3:
      decode_fp8(w, r, row, out);
      return;
  }
}

size_t matmul_scratch_floats(int64_t cols) {
  // A decoded row (portable), or an FP8 scale row in two orders (avx512), padded.
  return static_cast<size_t>(4 * (cols + 64));
}

namespace {

struct Input {
  const float* x;
  int64_t stride;
};

// x as the table's kernels read it: prepared once per call on the calling thread, into a
// 64-byte aligned buffer of that thread that only grows (no allocation per pass).
Input prepared_input(const KernelTable& table, const WeightMatrix& w, const float* x,
                     int64_t x_stride, int64_t tokens) {
  const InputPrep prepare = table.prepare_for(w.dtype);
  if (prepare == nullptr) return {x, x_stride};
  const int64_t stride = table.prepared_stride(w.cols);
  float* aligned =
      aligned_floats(kernel_thread_buffers().prepared, static_cast<size_t>(tokens * stride));
  prepare(x, x_stride, tokens, w.cols, aligned);
  return {aligned, stride};
}

}  // namespace

KernelThreadBuffers& kernel_thread_buffers() {
  thread_local KernelThreadBuffers buffers;
  return buffers;
}

void reserve_kernel_buffers(ThreadPool& pool, int64_t cols, int64_t tokens) {
  const auto floats = static_cast<size_t>(tokens * active_kernels().prepared_stride(cols));
  pool.on_every_thread([floats] {
    KernelThreadBuffers& buffers = kernel_thread_buffers();
    aligned_floats(buffers.prepared, floats);
    aligned_floats(buffers.activations, floats);
  });
}

void matmul_with(const KernelTable& table, const WeightMatrix& w, const float* x, int64_t x_stride,
                 int64_t tokens, float* y, int64_t y_stride, ThreadPool& pool) {
  // Rows per task: enough work to amortize claiming a chunk, small enough to balance; whole
  // row blocks of the kernels.
  int64_t grain = std::max<int64_t>(4, 16384 / std::max<int64_t>(1, w.cols)) / 4 * 4;
  if (tokens == 1 && pool.size() > 1) {
    // One token is bound by memory: two long contiguous ranges per thread keep each thread's
    // prefetchers on few streams (bench decode on two threads, against 8-row tasks dealt in
    // turn: BF16 +5%, FP8 +9%, medians of paired rounds).
    const int64_t share = (w.rows + 2 * pool.size() - 1) / (2 * pool.size());
    grain = std::max(grain, (share + 7) / 8 * 8);
  }
  if (w.dtype == DType::kF8E4M3) {
    // FP8 kernels prepare the activations once per task and scale row (avx512: scales folded
    // in; avx512bf16: split into two bfloat16 parts): tasks of whole scale rows, or with one
    // scale per row (channel, tensor), of at least 64 rows (1024 × 4096, one token, two
    // threads on avx512bf16: 26.7 GMAC/s with 4-row tasks, 60.0 with 64).
    const int64_t unit = w.one_scale_per_row() ? 64 : w.scale_block_rows;
    if (unit > 1 && w.rows >= 2 * unit * pool.size()) grain = (grain + unit - 1) / unit * unit;
  }
  const RowKernel kernel = table.for_dtype(w.dtype);  // resolved once per call
  const Input in = prepared_input(table, w, x, x_stride, tokens);
  const size_t scratch_floats = matmul_scratch_floats(w.cols);
  pool.parallel_for(w.rows, grain, [&](int64_t begin, int64_t end) {
    float* scratch = pool.scratch(ThreadPool::Scratch::kRow, scratch_floats);
    kernel(w, begin, end, in.x, in.stride, tokens, y, y_stride, scratch);
  });
}

void matmul_serial(const WeightMatrix& w, const float* x, int64_t x_stride, int64_t tokens,
                   float* y, int64_t y_stride, float* scratch) {
  const KernelTable& table = active_kernels();
  const Input in = prepared_input(table, w, x, x_stride, tokens);
  table.for_dtype(w.dtype)(w, 0, w.rows, in.x, in.stride, tokens, y, y_stride, scratch);
}

void combine_rows(const WeightMatrix& w, int64_t first_row, int64_t count,
                  const float* coefficients, int64_t coefficient_stride, int64_t tokens, float* y,
                  int64_t y_stride, float* scratch) {
  combine_rows_with(active_kernels(), w, first_row, count, coefficients, coefficient_stride, tokens,
                    y, y_stride, scratch);
}

void combine_rows_with(const KernelTable& table, const WeightMatrix& w, int64_t first_row,
                       int64_t count, const float* coefficients, int64_t coefficient_stride,
                       int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  const RowCombiner combine = table.combiner_for(w.dtype);
  // The SIMD FP8 combiners take one scale per group of 16 columns (AVX-512) or 8 (AVX2).
  const bool groups_share_a_scale =
      w.dtype != DType::kF8E4M3 || w.scale_block_cols % 16 == 0 || w.one_scale_per_row();
  if (combine != nullptr && groups_share_a_scale) {
    combine(w, first_row, count, coefficients, coefficient_stride, tokens, y, y_stride);
    return;
  }
  for (int64_t t = 0; t < tokens; ++t) std::fill(y + t * y_stride, y + t * y_stride + w.cols, 0.0f);
  for (int64_t i = 0; i < count; ++i) {
    decode_row(w, first_row + i, scratch);
    for (int64_t t = 0; t < tokens; ++t) {
      axpy(coefficients[t * coefficient_stride + i], scratch, y + t * y_stride, w.cols);
    }
  }
}

void matmul(const WeightMatrix& w, const float* x, int64_t x_stride, int64_t tokens, float* y,
            int64_t y_stride, ThreadPool& pool) {
  matmul_with(active_kernels(), w, x, x_stride, tokens, y, y_stride, pool);
}

void rms_norm(const float* x, const float* weight, int64_t tokens, int64_t dim, int64_t stride,
              float eps, float* y) {
  for (int64_t t = 0; t < tokens; ++t) {
    const float* in = x + t * stride;
    float* out = y + t * stride;
    const float mean_square = dot(in, in, dim) / static_cast<float>(dim);
    const float inverse = 1.0f / std::sqrt(mean_square + eps);
    for (int64_t i = 0; i < dim; ++i) out[i] = weight[i] * (in[i] * inverse);
  }
}

float dot(const float* a, const float* b, int64_t n) {
  // Eight independent partial sums: lets the compiler vectorize without -ffast-math, and keeps
  // the rounding error of long sums down.
  float partial[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int lane = 0; lane < 8; ++lane) partial[lane] += a[i + lane] * b[i + lane];
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (float p : partial) sum += p;
  return sum;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace nextn
