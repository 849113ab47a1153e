// Portable matmul rows: decode a weight row to fp32 once, then one dot product per token.
#include "kernels/kernels.h"
#include "kernels/matmul_table.h"

namespace nextn {
namespace {

void rows_portable(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
                   int64_t x_stride, int64_t tokens, float* y, int64_t y_stride, float* scratch) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    decode_row(w, r, scratch);
    for (int64_t t = 0; t < tokens; ++t)
      y[t * y_stride + r] = dot(scratch, x + t * x_stride, w.cols);
  }
}

// Scalar multiply-adds in twelve independent chains (KernelTable::fma_chains).
double scalar_chains() {
  constexpr int64_t kIterations = 20'000'000;
  float c[12];
  for (int k = 0; k < 12; ++k) c[k] = static_cast<float>(k);
  for (int64_t i = 0; i < kIterations; ++i) {
    for (float& v : c) v = v * 0.999999f + 1e-7f;
    __asm__ volatile("" : : "r"(c) : "memory");
  }
  return static_cast<double>(kIterations) * 12.0;
}

}  // namespace

const KernelTable& portable_kernel_table() {
  static const KernelTable table{
      .name = "portable",
      .rows = {&rows_portable, &rows_portable, &rows_portable, &rows_portable},
      .fma_chains = &scalar_chains,
      .attention_scores = &attention_scores_portable,
      .attention_values = &attention_values_portable,
      .exp_sum = &exp_sum_portable};
  return table;
}

}  // namespace nextn
