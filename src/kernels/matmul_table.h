// The matmul kernel table (DESIGN principle 10): CPU features × weight dtype → a row kernel,
// chosen once at start-up. matmul() splits the output rows over the pool and calls the entry
// for the weight's dtype; nothing inside a kernel asks the dtype again.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "kernels/weight_matrix.h"

namespace nextn {

// y[t, r] = Σ_c w[r, c] · x[t, c] for rows [row_begin, row_end) and every token. Each output
// is computed by the same sequence of operations whatever `tokens` is, so a row's result does
// not depend on the batch it is in (greedy speculative output relies on that).
// `scratch` holds at least w.cols floats.
using RowKernel = void (*)(const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                           const float* x, int64_t x_stride, int64_t tokens, float* y,
                           int64_t y_stride, float* scratch);

struct KernelTable {
  std::string_view name;  // "portable", "avx2", "avx512"
  std::array<RowKernel, 4> rows{};  // indexed by DType

  RowKernel for_dtype(DType dtype) const { return rows[static_cast<size_t>(dtype)]; }
};

// The best table this CPU runs, chosen on first use.
const KernelTable& active_kernels();
// Every table this CPU can run (portable first), for the tests that compare them.
std::array<const KernelTable*, 3> available_kernels();

// The tables, defined in their own translation units (compiled for their instruction sets).
const KernelTable& portable_kernel_table();
const KernelTable& avx2_kernel_table();
const KernelTable& avx512_kernel_table();

}  // namespace nextn
