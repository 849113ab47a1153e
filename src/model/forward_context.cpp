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
  count_traffic(ctx, w, tokens);
}

void count_traffic(const ForwardContext& ctx, const WeightMatrix& w, int64_t tokens) {
  if (ctx.traffic == nullptr) return;
  ctx.traffic->bytes += weight_bytes(w);
  ctx.traffic->multiply_adds += static_cast<uint64_t>(w.rows * w.cols * tokens);
}

void project_rows(const ForwardContext& ctx, const WeightMatrix& w, const float* x,
                  int64_t x_stride, std::span<const int64_t> rows, float* y, int64_t y_stride) {
  if (rows.empty()) return;
  const auto count = static_cast<int64_t>(rows.size());
  const float* input = x + rows.front() * x_stride;
  if (rows.back() - rows.front() + 1 != count) {
    float* gathered = ctx.arena.take(count * x_stride);
    for (int64_t i = 0; i < count; ++i) {
      std::copy(x + rows[i] * x_stride, x + (rows[i] + 1) * x_stride, gathered + i * x_stride);
    }
    input = gathered;
  }
  project(ctx, w, input, x_stride, count, y, y_stride);
}

}  // namespace nextn
