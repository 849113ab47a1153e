// Plain-array entry points to the AVX-512 helpers (avx512_sums_probe.cpp). Call only on a CPU
// with AVX-512F.
#pragma once

#include <cstdint>
#include <utility>

namespace nextn::test {

// `count` (1..16) vectors of 16 floats: each[0 .. 16) from reduce_each, one_by_one[k] =
// reduce(vector k).
void avx512_sums(int count, const float* vectors, float* each, float* one_by_one);

// store_block<4, 4> of acc[i][t] = vectors[16 · (4i + t) ..], into y (4 tokens, y_stride apart).
void avx512_block_store(const float* vectors, const float* out_scale, float* y, int64_t y_stride);

}  // namespace nextn::test
