// A checkpoint directory opened for inference: config, mapped files, checked tensors, and the
// kernels' view of them. Heavy and move-only; everything else borrows from it.
#pragma once

#include <filesystem>
#include <memory>

#include "config/model_config.h"
#include "io/checkpoint.h"
#include "model/model_weights.h"
#include "weights/weight_set.h"

namespace nextn {

struct LoadedModel {
  ModelConfig config;
  Checkpoint checkpoint;
  WeightSet weights;
  std::unique_ptr<ModelWeights> bound;

  static std::unique_ptr<LoadedModel> open(const std::filesystem::path& dir,
                                           const LoadOptions& options = {});
};

}  // namespace nextn
