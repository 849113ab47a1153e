// The CPU kernels of the forward pass. Activations and accumulation are fp32; weights are used
// where they lie (BF16, F16, F32, FP8 with scales) and converted inside the kernel (SPEC §4).
// Each has a scalar twin in kernels/ref/ and a test against it.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/weight_matrix.h"

namespace nextn {

// out[c] = value of w at (r, c) for every column c. The dtype is resolved once per call.
void decode_row(const WeightMatrix& w, int64_t r, float* out);

// y[t, r] = Σ_c w[r, c] · x[t, c] for t < tokens, r < w.rows. Rows of x are x_stride floats
// apart, rows of y y_stride apart. Each weight is read from memory once for all tokens; the
// pool splits the output rows.
void matmul(const WeightMatrix& w, const float* x, int64_t x_stride, int64_t tokens, float* y,
            int64_t y_stride, ThreadPool& pool);

// matmul on the calling thread alone, for the body of a parallel_for that splits other work
// over the threads (MoE experts). `scratch` holds matmul_scratch_floats(w.cols) floats. Same
// results as matmul.
void matmul_serial(const WeightMatrix& w, const float* x, int64_t x_stride, int64_t tokens,
                   float* y, int64_t y_stride, float* scratch);

// y[t · y_stride + c] = Σ_i coefficients[t · coefficient_stride + i] · w[first_row + i, c] for
// t < tokens and every column (y overwritten), on the calling thread: the rows are read once
// for all tokens. `scratch` holds w.cols floats. A token's result does not depend on `tokens`.
void combine_rows(const WeightMatrix& w, int64_t first_row, int64_t count,
                  const float* coefficients, int64_t coefficient_stride, int64_t tokens, float* y,
                  int64_t y_stride, float* scratch);

// The per-thread scratch (ThreadPool::Scratch::kRow) matmul needs for a matrix of `cols`
// columns: what a model reserves up front for its widest matrix.
size_t matmul_scratch_floats(int64_t cols);

// Sizes every thread's kernel buffers (KernelThreadBuffers) for `tokens` rows of `cols`
// columns, so that passes up to that size allocate nothing whichever thread runs which part
// (MoE experts run whole on whichever thread claims them).
void reserve_kernel_buffers(ThreadPool& pool, int64_t cols, int64_t tokens);

// y[t] = weight ⊙ x[t] / sqrt(mean(x[t]²) + eps), rows `stride` apart in x and y (may alias).
void rms_norm(const float* x, const float* weight, int64_t tokens, int64_t dim, int64_t stride,
              float eps, float* y);

// Attention for query heads that share their cache rows (MLA: every head; GQA: a KV head's
// group), so each row is read once for a block of heads instead of once per head (the active
// table's AttentionScores and AttentionValues, matmul_table.h, with exp_sum between):
// out[i] = Σ_s softmax_s(scale · q_i · key_s) · value_s for `queries` heads over the same n_keys
// cache rows. The rows go in fixed chunks of 128 under a running max and sum (the softmax's
// division comes last), so each is read from memory once however long the context, and chunks
// gather into spans of kAttendSpan rows merged in order: a caller may compute the spans of one
// row on different threads (attend_span) and merge them itself (attend_merge,
// attend_normalize), with the same bits as attend. `scratch` holds
// attend_scratch_floats(queries, value_dim) floats.
void attend(const float* q, int64_t q_stride, int64_t queries, const float* keys,
            int64_t key_stride, int64_t key_dim, const float* values, int64_t value_stride,
            int64_t value_dim, int64_t n_keys, float scale, float* scratch, float* out,
            int64_t out_stride);
size_t attend_scratch_floats(int64_t queries, int64_t value_dim);
inline constexpr int64_t kAttendSpan = 1024;
// One span (n_keys ≤ kAttendSpan rows) unnormalised: out[i] = Σ_s e^(score_s − max[i]) value_s
// and sum[i] = Σ_s e^(score_s − max[i]), max[i] the span's largest score.
void attend_span(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                 int64_t key_stride, int64_t key_dim, const float* values, int64_t value_stride,
                 int64_t value_dim, int64_t n_keys, float scale, float* scratch, float* out,
                 int64_t out_stride, float* max, float* sum);
// Folds a later span's (part, part_max, part_sum) into the running (out, max, sum); `first`
// copies it. attend_normalize then divides each query's row by its sum.
void attend_merge(int64_t queries, int64_t value_dim, const float* part, int64_t part_stride,
                  const float* part_max, const float* part_sum, bool first, float* out,
                  int64_t out_stride, float* max, float* sum);
void attend_normalize(int64_t queries, int64_t value_dim, const float* sum, float* out,
                      int64_t out_stride);

float dot(const float* a, const float* b, int64_t n);
// y += a · x
void axpy(float a, const float* x, float* y, int64_t n);
inline float silu(float x);

}  // namespace nextn

#include <cmath>

inline float nextn::silu(float x) {
  return x / (1.0f + std::exp(-x));
}
