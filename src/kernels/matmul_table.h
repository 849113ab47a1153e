// The matmul kernel table (DESIGN principle 10): CPU features × weight dtype → a row kernel,
// chosen once at start-up. matmul() prepares the activations once per call (the column order
// and padding the table's kernels read), splits the output rows over the pool and calls the
// entry for the weight's dtype; nothing inside a kernel asks the dtype again.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/weight_matrix.h"

namespace nextn {

// y[t, r] = Σ_c w[r, c] · x[t, c] for rows [row_begin, row_end) and every token, with x as the
// table's `prepare` left it (or as given when it has none). Each output is computed by the
// same sequence of operations whatever `tokens` and the row range are, so a row's result does
// not depend on the batch it is in (greedy speculative output relies on that).
// `scratch` holds at least matmul_scratch_floats(w.cols) floats.
using RowKernel = void (*)(const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                           const float* x, int64_t x_stride, int64_t tokens, float* y,
                           int64_t y_stride, float* scratch);

// Copies `tokens` rows of x (x_stride apart, `cols` used) into `out`, rows
// prepared_stride(cols) apart, reordered and zero-padded as the kernels of a dtype read them.
using InputPrep = void (*)(const float* x, int64_t x_stride, int64_t tokens, int64_t cols,
                           float* out);

// y[t · y_stride + c] = Σ_i coefficients[t · coefficient_stride + i] · w[first_row + i, c] for
// t < tokens and every column c (y overwritten): combinations of rows, the transposed product
// MLA's absorbed queries need. Each output's operations do not depend on `tokens`.
using RowCombiner = void (*)(const WeightMatrix& w, int64_t first_row, int64_t count,
                             const float* coefficients, int64_t coefficient_stride, int64_t tokens,
                             float* y, int64_t y_stride);

// scores[i · score_stride + s] = scale · Σ_{c < dim} q[i · q_stride + c] · keys[s · key_stride + c]
// for i < queries, s < n_keys: the scores of query heads that read the same cache rows. Each
// score is computed by the same operations whatever `queries` and `n_keys` are.
using AttentionScores = void (*)(const float* q, int64_t q_stride, int64_t queries,
                                 const float* keys, int64_t key_stride, int64_t n_keys, int64_t dim,
                                 float scale, float* scores, int64_t score_stride);
// out[i · out_stride + c] = Σ_{s < n_keys} p[i · p_stride + s] · values[s · value_stride + c] for
// i < queries, c < dim (out overwritten), summed in ascending s whatever `queries` is.
using AttentionValues = void (*)(const float* p, int64_t p_stride, int64_t queries,
                                 const float* values, int64_t value_stride, int64_t n_keys,
                                 int64_t dim, float* out, int64_t out_stride);
struct KernelTable {
  std::string_view name;               // "portable", "avx2", "avx512", "avx512bf16"
  std::array<RowKernel, 4> rows{};     // indexed by DType
  std::array<InputPrep, 4> prepare{};  // nullptr: the kernels read x as given
  int64_t column_padding = 1;          // prepared rows hold a multiple of this many floats
  // Runs independent FMA chains in registers, in this table's vectors, and returns the
  // multiply-adds done: the compute ceiling `nextn bench` reports against.
  double (*fma_chains)() = nullptr;
  std::array<RowCombiner, 4> combine{};  // nullptr: decode each row, then axpy
  AttentionScores attention_scores = nullptr;
  AttentionValues attention_values = nullptr;
  // values[i] = e^(values[i] − m) in place for m = max(*shift, max_i values[i]), which it
  // writes to *shift; returns Σ_i values[i] (the new ones). Pass *shift = −∞ for the plain max.
  float (*exp_sum)(float* values, int64_t n, float* shift) = nullptr;

  RowCombiner combiner_for(DType dtype) const { return combine[static_cast<size_t>(dtype)]; }

  RowKernel for_dtype(DType dtype) const { return rows[static_cast<size_t>(dtype)]; }
  InputPrep prepare_for(DType dtype) const { return prepare[static_cast<size_t>(dtype)]; }
  int64_t prepared_stride(int64_t cols) const {
    return (cols + column_padding - 1) / column_padding * column_padding;
  }
};

// `floats` floats of `storage` starting at a 64-byte boundary (so no vector load of them splits
// a cache line), growing it if needed: for the kernels' thread_local buffers, which after the
// first pass of a size never allocate.
inline float* aligned_floats(std::vector<float>& storage, size_t floats) {
  if (storage.size() < floats + 16) storage.resize(floats + 16);
  const auto address = reinterpret_cast<uintptr_t>(storage.data());
  return storage.data() + ((64 - address % 64) % 64) / sizeof(float);
}

// The kernels' per-thread activation buffers: matmul's prepared input (of the thread that
// calls matmul or matmul_serial) and the FP8 rows' scaled or split activations (of the thread
// that runs the rows). Grown on first use, or ahead by reserve_kernel_buffers (kernels.h).
struct KernelThreadBuffers {
  std::vector<float> prepared;
  std::vector<float> activations;
};
KernelThreadBuffers& kernel_thread_buffers();

// The best table this CPU runs, chosen on first use.
const KernelTable& active_kernels();
// Every table this CPU can run (portable first), for the tests that compare them.
std::array<const KernelTable*, 4> available_kernels();

// matmul (kernels/kernels.h) with a given table: what matmul does with active_kernels().
void matmul_with(const KernelTable& table, const WeightMatrix& w, const float* x, int64_t x_stride,
                 int64_t tokens, float* y, int64_t y_stride, ThreadPool& pool);

// combine_rows (kernels/kernels.h) with a given table.
void combine_rows_with(const KernelTable& table, const WeightMatrix& w, int64_t first_row,
                       int64_t count, const float* coefficients, int64_t coefficient_stride,
                       int64_t tokens, float* y, int64_t y_stride, float* scratch);

// The tables, defined in their own translation units (compiled for their instruction sets).
const KernelTable& portable_kernel_table();
const KernelTable& avx2_kernel_table();
const KernelTable& avx512_kernel_table();
// The attention kernels and exp_sum of the portable table (attention.cpp).
void attention_scores_portable(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                               int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
                               float* scores, int64_t score_stride);
void attention_values_portable(const float* p, int64_t p_stride, int64_t queries,
                               const float* values, int64_t value_stride, int64_t n_keys,
                               int64_t dim, float* out, int64_t out_stride);
float exp_sum_portable(float* values, int64_t n, float* shift);
// The AVX2 row combiners (combine_avx2.cpp), entries of the avx2 table.
void combine_bf16_avx2(const WeightMatrix& w, int64_t first_row, int64_t count,
                       const float* coefficients, int64_t coefficient_stride, int64_t tokens,
                       float* y, int64_t y_stride);
void combine_fp8_avx2(const WeightMatrix& w, int64_t first_row, int64_t count,
                      const float* coefficients, int64_t coefficient_stride, int64_t tokens,
                      float* y, int64_t y_stride);
// The AVX2 attention kernels (attention_avx2.cpp), entries of the avx2 table.
void attention_scores_avx2(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                           int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
                           float* scores, int64_t score_stride);
void attention_values_avx2(const float* p, int64_t p_stride, int64_t queries, const float* values,
                           int64_t value_stride, int64_t n_keys, int64_t dim, float* out,
                           int64_t out_stride);
float exp_sum_avx2(float* values, int64_t n, float* shift);
// The AVX-512 attention kernels (attention_avx512.cpp), entries of both AVX-512 tables.
void attention_scores_avx512(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                             int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
                             float* scores, int64_t score_stride);
void attention_values_avx512(const float* p, int64_t p_stride, int64_t queries, const float* values,
                             int64_t value_stride, int64_t n_keys, int64_t dim, float* out,
                             int64_t out_stride);
float exp_sum_avx512(float* values, int64_t n, float* shift);
// avx512 with FP8 rows on vdpbf16ps (AVX512-BF16).
const KernelTable& avx512_bf16_kernel_table();

}  // namespace nextn
