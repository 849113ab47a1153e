// Attention over cache rows shared by a block of query heads (attend: chunks of rows under a
// running softmax), the dispatch to the active table, and the portable loops of the tables
// without SIMD versions.
#include "kernels/kernels.h"
#include "kernels/matmul_table.h"

#include <algorithm>
#include <cmath>

namespace nextn {

namespace {

// Cache rows attend takes at a time. A chunk's scores pass reads its rows from memory and its
// values pass from L2 (128 rows of 576 floats, 295 KB, for DeepSeek-V3); scoring every row
// first and then summing the values read the cache twice from memory once it outgrew L2 (a
// 3072-token context took a third of a decode step). A constant, so a row's chunks, and with
// them its bits, never depend on the batch, the threads or the table.
constexpr int64_t kAttendChunk = 128;

}  // namespace

void attention_scores_portable(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                               int64_t key_stride, int64_t n_keys, int64_t dim, float scale,
                               float* scores, int64_t score_stride) {
  for (int64_t i = 0; i < queries; ++i) {
    for (int64_t s = 0; s < n_keys; ++s) {
      scores[i * score_stride + s] = scale * dot(q + i * q_stride, keys + s * key_stride, dim);
    }
  }
}

void attention_values_portable(const float* p, int64_t p_stride, int64_t queries,
                               const float* values, int64_t value_stride, int64_t n_keys,
                               int64_t dim, float* out, int64_t out_stride) {
  for (int64_t i = 0; i < queries; ++i) {
    float* o = out + i * out_stride;
    std::fill(o, o + dim, 0.0f);
    for (int64_t s = 0; s < n_keys; ++s)
      axpy(p[i * p_stride + s], values + s * value_stride, o, dim);
  }
}

float exp_sum_portable(float* values, int64_t n, float* shift) {
  float max = *shift;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, values[i]);
  *shift = max;
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    values[i] = std::exp(values[i] - max);
    sum += values[i];
  }
  return sum;
}

void attention_scores(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                      int64_t key_stride, int64_t n_keys, int64_t dim, float scale, float* scores,
                      int64_t score_stride) {
  active_kernels().attention_scores(q, q_stride, queries, keys, key_stride, n_keys, dim, scale,
                                    scores, score_stride);
}

void attention_values(const float* p, int64_t p_stride, int64_t queries, const float* values,
                      int64_t value_stride, int64_t n_keys, int64_t dim, float* out,
                      int64_t out_stride) {
  active_kernels().attention_values(p, p_stride, queries, values, value_stride, n_keys, dim, out,
                                    out_stride);
}

size_t attend_scratch_floats(int64_t queries, int64_t value_dim) {
  // A chunk's scores and value sums, and per query the running max, sum and rescale.
  return static_cast<size_t>(queries * (kAttendChunk + value_dim + 3));
}

void attend(const float* q, int64_t q_stride, int64_t queries, const float* keys,
            int64_t key_stride, int64_t key_dim, const float* values, int64_t value_stride,
            int64_t value_dim, int64_t n_keys, float scale, float* scratch, float* out,
            int64_t out_stride) {
  const KernelTable& table = active_kernels();
  float* scores = scratch;                          // [queries, chunk]
  float* part = scores + queries * kAttendChunk;    // [queries, value_dim]
  float* running_max = part + queries * value_dim;  // [queries]
  float* running_sum = running_max + queries;       // [queries]
  float* rescale = running_sum + queries;           // [queries]
  if (n_keys <= 0) {
    for (int64_t i = 0; i < queries; ++i) std::fill_n(out + i * out_stride, value_dim, 0.0f);
    return;
  }
  for (int64_t first = 0; first < n_keys; first += kAttendChunk) {
    const int64_t n = std::min(kAttendChunk, n_keys - first);
    table.attention_scores(q, q_stride, queries, keys + first * key_stride, key_stride, n, key_dim,
                           scale, scores, n);
    for (int64_t i = 0; i < queries; ++i) {
      float shift = first == 0 ? -INFINITY : running_max[i];
      const float sum = table.exp_sum(scores + i * n, n, &shift);
      if (first == 0) {
        running_sum[i] = sum;
      } else {
        // The sums so far are of e^(s - old max): bring them to the new max.
        rescale[i] = std::exp(running_max[i] - shift);
        running_sum[i] = running_sum[i] * rescale[i] + sum;
      }
      running_max[i] = shift;
    }
    if (first == 0) {
      table.attention_values(scores, n, queries, values, value_stride, n, value_dim, out,
                             out_stride);
      continue;
    }
    table.attention_values(scores, n, queries, values + first * value_stride, value_stride, n,
                           value_dim, part, value_dim);
    for (int64_t i = 0; i < queries; ++i) {
      float* o = out + i * out_stride;
      const float* p = part + i * value_dim;
      const float r = rescale[i];
      for (int64_t c = 0; c < value_dim; ++c) o[c] = o[c] * r + p[c];
    }
  }
  for (int64_t i = 0; i < queries; ++i) {
    const float inverse = 1.0f / running_sum[i];
    float* o = out + i * out_stride;
    for (int64_t c = 0; c < value_dim; ++c) o[c] *= inverse;
  }
}

}  // namespace nextn
