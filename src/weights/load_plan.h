// Which checkpoint tensor feeds each parameter, in a given load mode (SPEC §3 rules 3, 5, 6).
//
// A plan needs only tensor names, so it works on a directory that has config.json and the index
// but no weights (`nextn inspect` on a checkpoint not yet downloaded).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/model_config.h"
#include "weights/tensor_table.h"
#include "weights/weight_names.h"

namespace nextn {

enum class LoadMode {
  kFull,        // target and MTP layers
  kTargetOnly,  // ignores the MTP layers
  kMtpOnly,     // what the MTP layers need, plus the embedding and head they share
};
std::string_view load_mode_name(LoadMode mode);  // "full", "target-only", "mtp-only"
std::optional<LoadMode> parse_load_mode(std::string_view name);

struct LoadOptions {
  LoadMode mode = LoadMode::kFull;
  // Rule 3: the MTP layer's own embedding / head are copies of the target's; when set, the
  // target's are used even where the copies exist, saving 2 × V × H of memory.
  bool share_target_copies = false;
};

struct PlannedTensor {
  const TensorSpec* spec = nullptr;
  std::string source;   // the checkpoint name that feeds it
  bool shared = false;  // source is the target tensor standing in for an MTP copy
};

struct LoadPlan {
  std::vector<PlannedTensor> tensors;  // one per parameter of the mode, in table order
  std::vector<std::string> missing;    // parameters with no source (hf names)
  std::vector<std::pair<std::string, SkipReason>> skipped;  // rule 5
  std::vector<std::string> other_part;  // MTP tensors in a target-only load, and vice versa
  std::vector<std::string> unused;      // checkpoint tensors nothing claims (debug listing)

  // Distinct source tensors, in table order; a shared source is counted once.
  std::vector<std::string> distinct_sources() const;
};

// `checkpoint_names` must be sorted. Throws Error (rule 1) for a name in a layer >= L + D.
LoadPlan plan_load(const std::vector<TensorSpec>& table,
                   const std::vector<std::string>& checkpoint_names, const ModelConfig& config,
                   const LoadOptions& options);

// "missing N tensor(s) in DIR: a, b, ... (and M more)" for an Error message.
std::string describe_missing(const LoadPlan& plan, std::string_view where, size_t max_listed = 20);

}  // namespace nextn
