// The attention kernels and softmax of every kernel table against double sums, and the
// property the engine's greedy identity needs: a score or an output does not depend on the
// block of heads or cache rows it is computed with.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/matmul_table.h"

namespace nextn {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

struct Shape {
  int64_t queries, n_keys, dim;
};
// Block edges of the SIMD kernels (4 heads, 4 rows, 16 / 64 columns) and the models' widths:
// MLA 576 (DeepSeek-V3) and 80 (the trained tiny model), GQA head dims 128 and 64.
constexpr Shape kShapes[] = {{1, 1, 5},    {3, 7, 16},    {4, 4, 80},  {5, 9, 17},
                             {8, 13, 576}, {12, 33, 128}, {16, 2, 64}, {7, 70, 200}};

TEST(AttentionKernels, ScoresAndValuesMatchDoubleSums) {
  for (const KernelTable* table : available_kernels()) {
    if (table == nullptr) continue;
    for (const Shape& s : kShapes) {
      const int64_t q_stride = s.dim + 3;  // strides wider than the rows, as in the caches
      const int64_t key_stride = s.dim + 21;
      const auto q = random_floats(static_cast<size_t>(s.queries * q_stride), 1);
      const auto keys = random_floats(static_cast<size_t>(s.n_keys * key_stride), 2);
      const int64_t score_stride = s.n_keys + 1;
      std::vector<float> scores(static_cast<size_t>(s.queries * score_stride), -7.0f);
      table->attention_scores(q.data(), q_stride, s.queries, keys.data(), key_stride, s.n_keys,
                              s.dim, 0.125f, scores.data(), score_stride);
      for (int64_t i = 0; i < s.queries; ++i) {
        for (int64_t k = 0; k < s.n_keys; ++k) {
          double exact = 0.0, magnitude = 0.0;
          for (int64_t c = 0; c < s.dim; ++c) {
            const double term = static_cast<double>(q[i * q_stride + c]) * keys[k * key_stride + c];
            exact += term;
            magnitude += std::fabs(term);
          }
          ASSERT_NEAR(scores[i * score_stride + k], 0.125 * exact, 0.125 * magnitude * 1e-6)
              << table->name << " " << s.queries << "×" << s.n_keys << "×" << s.dim;
        }
        EXPECT_EQ(scores[i * score_stride + s.n_keys], -7.0f) << "wrote past n_keys";
      }

      const auto p = random_floats(static_cast<size_t>(s.queries * score_stride), 3);
      const int64_t out_stride = s.dim + 5;
      std::vector<float> out(static_cast<size_t>(s.queries * out_stride), -7.0f);
      table->attention_values(p.data(), score_stride, s.queries, keys.data(), key_stride, s.n_keys,
                              s.dim, out.data(), out_stride);
      for (int64_t i = 0; i < s.queries; ++i) {
        for (int64_t c = 0; c < s.dim; ++c) {
          double exact = 0.0, magnitude = 0.0;
          for (int64_t k = 0; k < s.n_keys; ++k) {
            const double term =
                static_cast<double>(p[i * score_stride + k]) * keys[k * key_stride + c];
            exact += term;
            magnitude += std::fabs(term);
          }
          ASSERT_NEAR(out[i * out_stride + c], exact, magnitude * 1e-6)
              << table->name << " " << s.queries << "×" << s.n_keys << "×" << s.dim;
        }
        for (int64_t c = s.dim; c < out_stride; ++c) {
          EXPECT_EQ(out[i * out_stride + c], -7.0f) << "wrote past dim";
        }
      }
    }
  }
}

TEST(AttentionKernels, ABlockChangesNoBitOfAScoreOrAnOutput) {
  // More rows than a run of the SIMD kernels (64), so the runs start at other rows below.
  const int64_t queries = 7, n_keys = 150, dim = 80;
  const auto q = random_floats(queries * dim, 4);
  const auto keys = random_floats(n_keys * dim, 5);
  const auto p = random_floats(queries * n_keys, 6);
  for (const KernelTable* table : available_kernels()) {
    if (table == nullptr) continue;
    std::vector<float> scores(queries * n_keys), out(queries * dim);
    table->attention_scores(q.data(), dim, queries, keys.data(), dim, n_keys, dim, 0.3f,
                            scores.data(), n_keys);
    table->attention_values(p.data(), n_keys, queries, keys.data(), dim, n_keys, dim, out.data(),
                            dim);
    for (int64_t i = 0; i < queries; ++i) {
      // One head alone, against the keys from row 37 on (other row blocks and runs).
      float alone[n_keys];
      table->attention_scores(q.data() + i * dim, dim, 1, keys.data() + 37 * dim, dim, n_keys - 37,
                              dim, 0.3f, alone, n_keys);
      for (int64_t k = 37; k < n_keys; ++k) {
        EXPECT_EQ(alone[k - 37], scores[i * n_keys + k]) << table->name << " head " << i;
      }
      float single[dim];
      table->attention_values(p.data() + i * n_keys, n_keys, 1, keys.data(), dim, n_keys, dim,
                              single, dim);
      for (int64_t c = 0; c < dim; ++c) {
        EXPECT_EQ(single[c], out[i * dim + c]) << table->name << " head " << i;
      }
    }
  }
}

TEST(AttentionKernels, ExpSumMatchesDoubleExponentialsAndTheirSum) {
  for (const KernelTable* table : available_kernels()) {
    if (table == nullptr) continue;
    for (int64_t n : {1, 5, 16, 17, 200}) {
      // The plain max (shift −∞), and a floor above every value, as a later chunk of attend
      // meets when an earlier chunk held the max.
      for (const float floor : {-INFINITY, 70.0f}) {
        auto values = random_floats(static_cast<size_t>(n), 7);
        // Spread over the range the exponential meets: far below the max (underflow to 0
        // included) and near it.
        for (int64_t i = 0; i < n; ++i) values[i] = values[i] * 60.0f - static_cast<float>(i % 3);
        std::vector<double> exact(values.begin(), values.end());
        double max = floor, sum = 0.0;
        for (double v : exact) max = std::max(max, v);
        std::vector<double> below(exact.size());  // x − max, whose fp32 rounding e^x inherits
        for (size_t i = 0; i < exact.size(); ++i) {
          below[i] = max - exact[i];
          sum += (exact[i] = std::exp(exact[i] - max));
        }
        float shift = floor;
        const float got_sum = table->exp_sum(values.data(), n, &shift);
        ASSERT_EQ(shift, static_cast<float>(max)) << table->name << " n " << n;
        ASSERT_NEAR(got_sum, sum, sum * 1e-5 + 1e-37) << table->name << " n " << n;
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_NEAR(values[i], exact[i], exact[i] * (2e-6 + below[i] * 0x1p-23) + 1e-37)
              << table->name << " n " << n << " i " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace nextn
