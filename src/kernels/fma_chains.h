// The multiply-add peak loop behind KernelTable::fma_chains, for each instruction set's
// translation unit to instantiate with its own vector type (compiled with its own flags).
#pragma once

#include <cstdint>

namespace nextn {

// Twelve independent FMA chains held in registers (more than latency × throughput on current
// cores); returns the multiply-adds done.
template <typename Vector, typename Set, typename Fma>
double run_fma_chains(Set set, Fma fma) {
  constexpr int64_t kIterations = 20'000'000;
  const Vector a = set(1e-7f);
  const Vector b = set(0.999999f);
  Vector c0 = set(0.f), c1 = set(1.f), c2 = set(2.f), c3 = set(3.f), c4 = set(4.f), c5 = set(5.f);
  Vector c6 = set(6.f), c7 = set(7.f), c8 = set(8.f), c9 = set(9.f), c10 = set(10.f),
         c11 = set(11.f);
  for (int64_t i = 0; i < kIterations; ++i) {
    c0 = fma(c0, b, a), c1 = fma(c1, b, a), c2 = fma(c2, b, a), c3 = fma(c3, b, a);
    c4 = fma(c4, b, a), c5 = fma(c5, b, a), c6 = fma(c6, b, a), c7 = fma(c7, b, a);
    c8 = fma(c8, b, a), c9 = fma(c9, b, a), c10 = fma(c10, b, a), c11 = fma(c11, b, a);
    // Keeps the chains in registers and the loop from being folded away.
    __asm__ volatile(""
                     : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6),
                       "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));
  }
  return static_cast<double>(kIterations) * 12.0 *
         static_cast<double>(sizeof(Vector) / sizeof(float));
}

}  // namespace nextn
