#include "kernels/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

#include "kernels/matmul_table.h"

namespace nextn {

ReadProbe::ReadProbe(ThreadPool& pool, size_t bytes)
    : pool_(pool), count_(bytes / sizeof(uint64_t)), buffer_(std::make_unique<uint64_t[]>(count_)) {
  for (size_t i = 0; i < count_; ++i) buffer_[i] = i;  // fault the pages in
}

double ReadProbe::pass() {
  volatile uint64_t sink = 0;
  const int64_t chunks = pool_.size() * 16;
  const uint64_t* buffer = buffer_.get();
  const size_t count = count_;
  const auto start = std::chrono::steady_clock::now();
  pool_.parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
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
  return static_cast<double>(count * sizeof(uint64_t)) / seconds;
}

double ReadProbe::best_of(int passes) {
  double best = 0.0;
  for (int r = 0; r < passes; ++r) best = std::max(best, pass());
  return best;
}

double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int repeats) {
  return ReadProbe(pool, bytes).best_of(repeats);
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
