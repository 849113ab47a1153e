// Scalar twins of the kernels (DESIGN principle 5): the plainest correct code, element by
// element, used only by tests to check the fast kernels.
#pragma once

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace nextn::ref {

// The dequantized value of element (r, c).
float weight_at(const WeightMatrix& w, int64_t r, int64_t c);
// y[t, r] = Σ_c w[r, c] · x[t, c] for t < tokens (row strides = w.cols and w.rows).
void matmul(const WeightMatrix& w, const float* x, int64_t tokens, float* y);
// y[t] = weight ⊙ x[t] / sqrt(mean(x[t]²) + eps).
void rms_norm(const float* x, const float* weight, int64_t tokens, int64_t dim, float eps,
              float* y);

}  // namespace nextn::ref
