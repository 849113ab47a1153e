// Attention over cache rows shared by a block of query heads, and softmax: the dispatch to the
// active table, and the portable loops of the tables without SIMD versions.
#include "kernels/kernels.h"
#include "kernels/matmul_table.h"

#include <algorithm>
#include <cmath>

namespace nextn {

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

void softmax_portable(float* values, int64_t n) {
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, values[i]);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    values[i] = std::exp(values[i] - max);
    sum += values[i];
  }
  const float inverse = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) values[i] *= inverse;
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

void attend(const float* q, int64_t q_stride, int64_t queries, const float* keys,
            int64_t key_stride, int64_t key_dim, const float* values, int64_t value_stride,
            int64_t value_dim, int64_t n_keys, float scale, float* scores, float* out,
            int64_t out_stride) {
  attention_scores(q, q_stride, queries, keys, key_stride, n_keys, key_dim, scale, scores, n_keys);
  for (int64_t i = 0; i < queries; ++i) softmax(scores + i * n_keys, n_keys);
  attention_values(scores, n_keys, queries, values, value_stride, n_keys, value_dim, out,
                   out_stride);
}

void softmax(float* values, int64_t n) {
  active_kernels().softmax(values, n);
}

}  // namespace nextn
