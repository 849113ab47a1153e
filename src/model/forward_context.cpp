#include "model/forward_context.h"

#include "kernels/kernels.h"

namespace nextn {

uint64_t weight_bytes(const WeightMatrix& w) {
  uint64_t bytes = static_cast<uint64_t>(w.rows * w.cols) * dtype_size(w.dtype);
  if (w.scales != nullptr) {
    const int64_t grid_rows = (w.rows + w.scale_block_rows - 1) / w.scale_block_rows + 1;
    bytes += static_cast<uint64_t>(grid_rows * w.scale_grid_cols) * sizeof(float);
  }
  return bytes;
}

void project(const ForwardContext& ctx, const WeightMatrix& w, const float* x, int64_t x_stride,
             int64_t tokens, float* y, int64_t y_stride) {
  matmul(w, x, x_stride, tokens, y, y_stride, ctx.pool);
  if (ctx.traffic != nullptr) ctx.traffic->bytes += weight_bytes(w);
}

}  // namespace nextn
