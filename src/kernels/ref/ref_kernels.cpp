#include "kernels/ref/ref_kernels.h"

#include <cmath>
#include <cstring>

namespace nextn::ref {

float weight_at(const WeightMatrix& w, int64_t r, int64_t c) {
  const size_t index = static_cast<size_t>(r * w.cols + c);
  switch (w.dtype) {
    case DType::kF32: {
      float v;
      std::memcpy(&v, w.data + index * 4, 4);
      return v;
    }
    case DType::kBF16:
    case DType::kF16: {
      uint16_t bits;
      std::memcpy(&bits, w.data + index * 2, 2);
      return w.dtype == DType::kBF16 ? bf16_to_f32(bits) : f16_to_f32(bits);
    }
    case DType::kF8E4M3: {
      const int64_t absolute_row = w.first_row + r;
      const float scale = w.scales[(absolute_row / w.scale_block_rows) * w.scale_grid_cols +
                                   c / w.scale_block_cols];
      return fp8_e4m3_to_f32(static_cast<uint8_t>(w.data[index])) * scale;
    }
  }
  return 0.0f;
}

void matmul(const WeightMatrix& w, const float* x, int64_t tokens, float* y) {
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t r = 0; r < w.rows; ++r) {
      double sum = 0.0;
      for (int64_t c = 0; c < w.cols; ++c) sum += double{weight_at(w, r, c)} * x[t * w.cols + c];
      y[t * w.rows + r] = static_cast<float>(sum);
    }
  }
}

void rms_norm(const float* x, const float* weight, int64_t tokens, int64_t dim, float eps,
              float* y) {
  for (int64_t t = 0; t < tokens; ++t) {
    double sum_squares = 0.0;
    for (int64_t i = 0; i < dim; ++i) sum_squares += double{x[t * dim + i]} * x[t * dim + i];
    const double inverse = 1.0 / std::sqrt(sum_squares / static_cast<double>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) {
      y[t * dim + i] = static_cast<float>(weight[i] * (x[t * dim + i] * inverse));
    }
  }
}

}  // namespace nextn::ref
