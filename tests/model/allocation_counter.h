// Counts calls to the global operator new in this test binary (not under the sanitizers,
// which bring their own), so a test can assert that a hot loop allocates nothing.
#pragma once

#include <cstdint>

namespace nextn::testing {
int64_t allocation_count();
}
