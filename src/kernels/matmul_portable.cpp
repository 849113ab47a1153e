// Portable matmul rows: decode a weight row to fp32 once, then one dot product per token.
#include "kernels/kernels.h"
#include "kernels/matmul_table.h"

namespace nextn {
namespace {

void rows_portable(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
                   int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    decode_row(w, r, scratch);
    for (int64_t t = 0; t < tokens; ++t) y[t * y_stride + r] = dot(scratch, x + t * x_stride, w.cols);
  }
}

}  // namespace

const KernelTable& portable_kernel_table() {
  static const KernelTable table{
      .name = "portable", .rows = {&rows_portable, &rows_portable, &rows_portable, &rows_portable}};
  return table;
}

}  // namespace nextn
