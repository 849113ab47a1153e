// The model's parameters as views into the mapped checkpoint, keyed by canonical name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/model_config.h"
#include "io/checkpoint.h"
#include "weights/load_plan.h"
#include "weights/tensor_table.h"

namespace nextn {

class WeightSet {
 public:
  // Plans the load, fails with the list of missing tensors (rule 6), then checks every source
  // tensor against its spec: shape equal to the config's, FP8 exactly where the config
  // quantizes (any of F32/BF16/F16 elsewhere). Errors name the file and the tensor.
  static WeightSet load(const Checkpoint& checkpoint, const ModelConfig& config,
                        const LoadOptions& options);

  // The named parameter; throws Error when it is not part of this load.
  const TensorView& get(std::string_view canonical) const;
  const TensorView* find(std::string_view canonical) const;
  size_t size() const { return views_.size(); }
  const LoadPlan& plan() const { return plan_; }
  const std::vector<TensorSpec>& table() const { return table_; }
  // Bytes of the distinct mapped tensors this load uses.
  uint64_t mapped_bytes() const { return mapped_bytes_; }

 private:
  std::vector<TensorSpec> table_;
  LoadMode mode_ = LoadMode::kFull;
  LoadPlan plan_;
  std::map<std::string, TensorView, std::less<>> views_;
  uint64_t mapped_bytes_ = 0;
};

// Checks one tensor against its spec; throws Error naming file and tensor on a mismatch.
void check_tensor_against_spec(const TensorView& tensor, const TensorSpec& spec);

}  // namespace nextn
