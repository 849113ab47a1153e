#include "kernels/matmul_table.h"

#include <cstdlib>
#include <string>

namespace nextn {
namespace {

bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
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
