// A tensor as it lies in a mapped checkpoint file: no copy, no conversion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace nextn {

struct TensorView {
  std::string name;
  std::string file;  // the file it lies in, for error messages
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::span<const std::byte> data;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

}  // namespace nextn
