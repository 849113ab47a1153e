// A small, portable random generator: the same seed gives the same stream on every machine, so
// the same seed gives the same text (SPEC §6).
#pragma once

#include <cstdint>

namespace nextn {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}
  // splitmix64
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), 24 random bits: exact in float.
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }

 private:
  uint64_t state_;
};

}  // namespace nextn
