// The KV cache of one sequence (SPEC §5, DESIGN principle 9): per attention layer, one row of
// `width` floats per position, allocated up front for `capacity` positions. Rollback after a
// rejected draft is truncate(n): the rows past n are simply overwritten by the next forward.
//
// What a row holds is the attention's business: MLA keeps [c_kv | roped k_rope]
// (kv_lora_rank + qk_rope_head_dim values), GQA keeps [K | V] of the KV heads.
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"

namespace nextn {

class KvCache {
 public:
  KvCache() = default;
  KvCache(int64_t layers, int64_t capacity, int64_t width)
      : layers_(layers),
        capacity_(capacity),
        width_(width),
        data_(static_cast<size_t>(layers * capacity * width), 0.0f) {}

  KvCache(KvCache&&) noexcept = default;
  KvCache& operator=(KvCache&&) noexcept = default;
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;
  KvCache clone() const {  // explicit, for tests that compare caches
    KvCache copy(layers_, capacity_, width_);
    copy.data_ = data_;
    copy.size_ = size_;
    return copy;
  }

  int64_t size() const { return size_; }  // positions [0, size) are valid
  int64_t capacity() const { return capacity_; }
  int64_t width() const { return width_; }
  int64_t layers() const { return layers_; }

  // Keeps positions [0, n); n beyond the current size changes nothing.
  void truncate(int64_t n) {
    if (n < size_) size_ = n < 0 ? 0 : n;
  }

  // Checks that `tokens` new positions fit after the current ones.
  void reserve_append(int64_t tokens) const {
    if (size_ + tokens > capacity_) {
      fail("KV cache full: {} positions cached + {} new > capacity {} (raise the context size)",
           size_, tokens, capacity_);
    }
  }
  // Marks `tokens` positions written by the layers as valid.
  void commit(int64_t tokens) { size_ += tokens; }

  float* row(int64_t layer, int64_t position) {
    return data_.data() + static_cast<size_t>((layer * capacity_ + position) * width_);
  }
  const float* row(int64_t layer, int64_t position) const {
    return data_.data() + static_cast<size_t>((layer * capacity_ + position) * width_);
  }

 private:
  int64_t layers_ = 0;
  int64_t capacity_ = 0;
  int64_t width_ = 0;
  int64_t size_ = 0;
  std::vector<float> data_;
};

}  // namespace nextn
