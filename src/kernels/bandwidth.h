// The machine's memory read bandwidth, measured (DESIGN principle 7: speed is reported against
// the speed of light of this machine, not against a datasheet).
#pragma once

#include <cstddef>

#include "core/thread_pool.h"

namespace nextn {

// Bytes per second reading a `bytes`-long buffer with every thread of the pool (best of
// `repeats` passes, after one pass that faults the pages in).
double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int repeats = 5);

}  // namespace nextn
