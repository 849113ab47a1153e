#include "kernels/matmul_table.h"

#include <cstdlib>
#include <string>

namespace nextn {
namespace {

// The FP8 decoder's byte lookups need AVX512-VBMI (Ice Lake, Zen 4 and later); older
// AVX-512 CPUs run the AVX2 table.
bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi");
}
bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

}  // namespace

const KernelTable& active_kernels() {
  static const KernelTable& table = []() -> const KernelTable& {
    if (cpu_has_avx512()) return avx512_kernel_table();
    if (cpu_has_avx2()) return avx2_kernel_table();
    return portable_kernel_table();
  }();
  return table;
}

std::array<const KernelTable*, 3> available_kernels() {
  return {&portable_kernel_table(), cpu_has_avx2() ? &avx2_kernel_table() : nullptr,
          cpu_has_avx512() ? &avx512_kernel_table() : nullptr};
}

}  // namespace nextn
