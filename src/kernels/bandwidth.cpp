#include "kernels/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

#include "kernels/matmul_table.h"

namespace nextn {

double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int repeats) {
  const size_t count = bytes / sizeof(uint64_t);
  const auto buffer = std::make_unique<uint64_t[]>(count);
  for (size_t i = 0; i < count; ++i) buffer[i] = i;  // fault the pages in
  volatile uint64_t sink = 0;
  double best = 0.0;
  const int64_t chunks = pool.size() * 16;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
      // Eight independent sums: the loop is bound by memory, not by the adds.
      uint64_t sums[8] = {};
      const size_t first = count * static_cast<size_t>(begin) / static_cast<size_t>(chunks);
      const size_t last = count * static_cast<size_t>(end) / static_cast<size_t>(chunks);
      size_t i = first;
      for (; i + 8 <= last; i += 8) {
        for (int lane = 0; lane < 8; ++lane) sums[lane] += buffer[i + lane];
      }
      uint64_t total = 0;
      for (uint64_t s : sums) total += s;
      sink = sink + total;
    });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(count * sizeof(uint64_t)) / seconds);
  }
  return best;
}

double measure_fma_peak(ThreadPool& pool) {
  double (*chains)() = active_kernels().fma_chains;
  const double per_run = chains();  // also the warm-up: clocks settle
  const auto start = std::chrono::steady_clock::now();
  pool.parallel_for(pool.size(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) chains();
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return per_run * static_cast<double>(pool.size()) / seconds;
}

}  // namespace nextn
