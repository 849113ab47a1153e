// Scratch memory for one forward pass (DESIGN principle 4: the hot loop allocates nothing).
//
// take() hands out float buffers from blocks that are kept across reset(); blocks are only
// allocated while the arena has not yet seen the largest pass, so after the first pass of a
// given size a forward allocates nothing. Pointers stay valid until reset().
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace nextn {

class Arena {
 public:
  float* take(int64_t count) {
    const size_t n = round_up(static_cast<size_t>(std::max<int64_t>(count, 1)));
    while (block_ < blocks_.size()) {
      Block& block = blocks_[block_];
      if (block.used + n <= block.size) {
        float* p = block.data.get() + block.used;
        block.used += n;
        return p;
      }
      ++block_;
    }
    const size_t size = std::max(n, kMinBlockFloats);
    // Not zeroed (take() promises no contents): zeroing a 4 MiB block faulted in all of its
    // pages, about 1000 page faults and 3 ms in the first pass of each model, most of it for
    // pages a small pass never touches (the MTP layer's first pass on the default model took
    // 3.4 ms instead of 0.4).
    blocks_.push_back({std::make_unique_for_overwrite<float[]>(size), size, n});
    ++allocations_;
    return blocks_.back().data.get();
  }
  float* take_zeroed(int64_t count) {
    float* p = take(count);
    std::fill(p, p + count, 0.0f);
    return p;
  }
  void reset() {
    for (Block& block : blocks_) block.used = 0;
    block_ = 0;
  }
  // Blocks allocated so far: a test checks it stops growing.
  int64_t allocations() const { return allocations_; }

 private:
  static constexpr size_t kMinBlockFloats = size_t{1} << 20;
  static size_t round_up(size_t n) { return (n + 15) & ~size_t{15}; }  // 64-byte multiples
  struct Block {
    std::unique_ptr<float[]> data;
    size_t size = 0;
    size_t used = 0;
  };
  std::vector<Block> blocks_;
  size_t block_ = 0;
  int64_t allocations_ = 0;
};

}  // namespace nextn
