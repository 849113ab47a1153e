// Software prefetch of weight rows into L2, shared by the SIMD row kernels (AVX2 and AVX-512).
// Internal linkage, as avx512_common.h explains: each kernel file is compiled for its own
// instruction set. _mm_prefetch is SSE, so every table's file can include this.
#pragma once

#include <xmmintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace nextn::row_prefetch {

// How many blocks ahead of the one they multiply the row kernels' block loops prefetch rows
// into L2 (each row of a block lies in its own 4 KiB page, where the hardware prefetcher stops).
constexpr int64_t kPrefetchBlocks = 2;

// The fp32-path blocks (BF16, F16, F32 weights) prefetch at least this many bytes ahead: with
// two blocks, short rows would be prefetched only 16 KiB ahead. An expert's BF16 down
// projection (2048 × 512) then streamed × 1.04–1.17 faster (four alternating rounds of
// kernels_bench BM_MatmulSequence; one long matrix unchanged). The FP8 rows of the avx512bf16
// table, bound by their decoding, did not gain from it (× 0.85–1.0) and keep two blocks.
constexpr int64_t kPrefetchMinBytes = 32768;

// Rows ahead of a block's first row that an fp32-path block loop prefetches.
static inline int64_t prefetch_lead_rows(int64_t rows_per_block, int64_t row_bytes) {
  return std::max(kPrefetchBlocks * rows_per_block,
                  (kPrefetchMinBytes + row_bytes - 1) / row_bytes);
}

// The first `lead_rows` rows of [row_begin, row_end) of a row-major matrix (`row_bytes` each)
// requested into L2: a block loop that prefetches `lead_rows` rows ahead never covers them, so
// they would otherwise arrive by demand misses only.
static inline void prefetch_first_rows(const std::byte* data, int64_t row_bytes, int64_t row_begin,
                                       int64_t row_end, int64_t lead_rows) {
  const std::byte* begin = data + row_begin * row_bytes;
  const int64_t bytes = std::min(lead_rows, row_end - row_begin) * row_bytes;
  for (int64_t line = 0; line < bytes; line += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(begin + line), _MM_HINT_T1);
  }
}

}  // namespace nextn::row_prefetch
