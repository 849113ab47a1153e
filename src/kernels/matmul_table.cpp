#include "kernels/matmul_table.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace nextn {
namespace {

bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}
// vdpbf16ps: the avx512bf16 table's FP8 rows.
bool cpu_has_avx512_bf16() {
  return cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
}
bool cpu_has_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

}  // namespace

const KernelTable& active_kernels() {
  static const KernelTable& table = []() -> const KernelTable& {
    // NEXTN_KERNELS=<name> picks a table by name, for side-by-side measurements of two tables.
    if (const char* wanted = std::getenv("NEXTN_KERNELS"); wanted != nullptr && *wanted != 0) {
      std::string names;
      for (const KernelTable* candidate : available_kernels()) {
        if (candidate == nullptr) continue;
        if (candidate->name == wanted) return *candidate;
        names += (names.empty() ? "" : ", ") + std::string(candidate->name);
      }
      fail("NEXTN_KERNELS={}: not a kernel table this CPU runs (it runs: {})", wanted, names);
    }
    if (cpu_has_avx512_bf16()) return avx512_bf16_kernel_table();
    if (cpu_has_avx512()) return avx512_kernel_table();
    if (cpu_has_avx2()) return avx2_kernel_table();
    return portable_kernel_table();
  }();
  return table;
}

std::array<const KernelTable*, 4> available_kernels() {
  return {&portable_kernel_table(), cpu_has_avx2() ? &avx2_kernel_table() : nullptr,
          cpu_has_avx512() ? &avx512_kernel_table() : nullptr,
          cpu_has_avx512_bf16() ? &avx512_bf16_kernel_table() : nullptr};
}

}  // namespace nextn
