// Attention over cache rows shared by a block of query heads (attend: chunks of rows under a
// running softmax, on the active table's kernels), and the portable table's loops.
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
static_assert(kAttendSpan % kAttendChunk == 0);

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

size_t attend_scratch_floats(int64_t queries, int64_t value_dim) {
  // A chunk's scores and value sums, a span's sums, and per query three pairs of max and sum.
  return static_cast<size_t>(queries * (kAttendChunk + 2 * value_dim + 6));
}

void attend_merge(int64_t queries, int64_t value_dim, const float* part, int64_t part_stride,
                  const float* part_max, const float* part_sum, bool first, float* out,
                  int64_t out_stride, float* max, float* sum) {
  for (int64_t i = 0; i < queries; ++i) {
    float* o = out + i * out_stride;
    const float* p = part + i * part_stride;
    if (first) {
      std::copy(p, p + value_dim, o);
      max[i] = part_max[i];
      sum[i] = part_sum[i];
      continue;
    }
    // Both sides' sums are of e^(s − their own max): bring them to the larger.
    const float top = std::max(max[i], part_max[i]);
    const float keep = std::exp(max[i] - top);
    const float add = std::exp(part_max[i] - top);
    for (int64_t c = 0; c < value_dim; ++c) o[c] = o[c] * keep + p[c] * add;
    sum[i] = sum[i] * keep + part_sum[i] * add;
    max[i] = top;
  }
}

void attend_normalize(int64_t queries, int64_t value_dim, const float* sum, float* out,
                      int64_t out_stride) {
  for (int64_t i = 0; i < queries; ++i) {
    const float inverse = 1.0f / sum[i];
    float* o = out + i * out_stride;
    for (int64_t c = 0; c < value_dim; ++c) o[c] *= inverse;
  }
}

void attend_span(const float* q, int64_t q_stride, int64_t queries, const float* keys,
                 int64_t key_stride, int64_t key_dim, const float* values, int64_t value_stride,
                 int64_t value_dim, int64_t n_keys, float scale, float* scratch, float* out,
                 int64_t out_stride, float* max, float* sum) {
  const KernelTable& table = active_kernels();
  float* scores = scratch;                        // [queries, chunk]
  float* part = scores + queries * kAttendChunk;  // [queries, value_dim]
  float* part_max = part + queries * value_dim;   // [queries]
  float* part_sum = part_max + queries;           // [queries]
  for (int64_t first = 0; first < n_keys; first += kAttendChunk) {
    const int64_t n = std::min(kAttendChunk, n_keys - first);
    table.attention_scores(q, q_stride, queries, keys + first * key_stride, key_stride, n, key_dim,
                           scale, scores, n);
    for (int64_t i = 0; i < queries; ++i) {
      part_max[i] = -INFINITY;
      part_sum[i] = table.exp_sum(scores + i * n, n, &part_max[i]);
    }
    table.attention_values(scores, n, queries, values + first * value_stride, value_stride, n,
                           value_dim, part, value_dim);
    attend_merge(queries, value_dim, part, value_dim, part_max, part_sum, first == 0, out,
                 out_stride, max, sum);
  }
}

void attend(const float* q, int64_t q_stride, int64_t queries, const float* keys,
            int64_t key_stride, int64_t key_dim, const float* values, int64_t value_stride,
            int64_t value_dim, int64_t n_keys, float scale, float* scratch, float* out,
            int64_t out_stride) {
  if (n_keys <= 0) {
    for (int64_t i = 0; i < queries; ++i) std::fill_n(out + i * out_stride, value_dim, 0.0f);
    return;
  }
  // The span's sums, then per query the span's and the running max and sum.
  float* span = scratch + queries * (kAttendChunk + value_dim + 2);
  float* span_max = span + queries * value_dim;
  float* span_sum = span_max + queries;
  float* max = span_sum + queries;
  float* sum = max + queries;
  for (int64_t first = 0; first < n_keys; first += kAttendSpan) {
    attend_span(q, q_stride, queries, keys + first * key_stride, key_stride, key_dim,
                values + first * value_stride, value_stride, value_dim,
                std::min(kAttendSpan, n_keys - first), scale, scratch, span, value_dim, span_max,
                span_sum);
    attend_merge(queries, value_dim, span, value_dim, span_max, span_sum, first == 0, out,
                 out_stride, max, sum);
  }
  attend_normalize(queries, value_dim, sum, out, out_stride);
}

}  // namespace nextn
