// The machine's memory read bandwidth and multiply-add peak, measured (DESIGN principle 7: speed is
// reported against the speed of light of this machine, not against a datasheet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/thread_pool.h"

namespace nextn {

// A buffer of `bytes`, its pages faulted in once, read with every thread of the pool. On a
// shared machine the bandwidth moves by up to 2x within a run, so a measurement can probe it
// again right beside each of its steps and be compared with what the machine gave then.
class ReadProbe {
 public:
  ReadProbe(ThreadPool& pool, size_t bytes);
  // Bytes per second of one read of the whole buffer.
  double pass();
  // The best of `passes` passes.
  double best_of(int passes);

 private:
  ThreadPool& pool_;
  size_t count_;
  std::unique_ptr<uint64_t[]> buffer_;
};

// Bytes per second reading a `bytes`-long buffer with every thread of the pool (best of
// `repeats` passes, after one pass that faults the pages in).
double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int repeats = 5);

// fp32 multiply-adds per second with every thread of the pool: independent FMA chains in
// registers, in the widest vectors the active kernel table uses. The ceiling of any matmul
// here (prefill is reported against it).
double measure_fma_peak(ThreadPool& pool);

}  // namespace nextn
