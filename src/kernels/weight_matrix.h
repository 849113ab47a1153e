// A projection weight [rows = out, cols = in] as it lies in the mapped file, with its FP8 scales.
//
// Scales follow one rule for every FP8 layout (SPEC §2): the value of element (r, c) is
// w[r, c] × scales[(r / scale_block_rows) × scale_grid_cols + c / scale_block_cols]. DeepSeek
// block FP8 uses 128 × 128 blocks (partial at the edges); compressed-tensors "channel" is a
// 1 × cols block, "tensor" one block over everything.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace nextn {

struct WeightMatrix {
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const std::byte* data = nullptr;  // row 0 of this view
  // FP8 only. Scales are indexed by absolute row (first_row + r), so a view of some rows of a
  // larger matrix (one attention head of kv_b_proj) finds its blocks' scales.
  const float* scales = nullptr;
  int64_t first_row = 0;
  int64_t scale_block_rows = 1;
  int64_t scale_block_cols = 1;
  int64_t scale_grid_cols = 1;

  // FP8: the scale row (row of the scale grid) that row r of this view uses.
  int64_t scale_row_of(int64_t r) const { return (first_row + r) / scale_block_rows; }
  // FP8: the scale_grid_cols scales of row r.
  const float* scales_of_row(int64_t r) const { return scales + scale_row_of(r) * scale_grid_cols; }
  // FP8: the first row of this view past r in another scale row.
  int64_t next_scale_row_start(int64_t r) const {
    return (scale_row_of(r) + 1) * scale_block_rows - first_row;
  }
  // FP8: one scale per row (a block spans every column: compressed-tensors channel or
  // tensor), which kernels apply to a row's outputs rather than to the activations.
  bool one_scale_per_row() const { return scale_block_cols >= cols; }
  // FP8: scale row `scale_row` expanded to one scale per column, times `factor`, into
  // out[0, cols).
  void expand_scale_row(int64_t scale_row, float factor, float* out) const {
    const float* grid = scales + scale_row * scale_grid_cols;
    for (int64_t c = 0, b = 0; c < cols; c += scale_block_cols, ++b) {
      std::fill(out + c, out + std::min(cols, c + scale_block_cols), grid[b] * factor);
    }
  }

  // Rows [begin, begin + count) of this matrix, sharing its scales.
  WeightMatrix row_slice(int64_t begin, int64_t count) const {
    WeightMatrix view = *this;
    view.rows = count;
    view.first_row = first_row + begin;
    view.data = data + static_cast<size_t>(begin * cols) * dtype_size(dtype);
    return view;
  }
};

}  // namespace nextn
