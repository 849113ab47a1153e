#include "weights/load_plan.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "core/error.h"

namespace nextn {

std::string_view load_mode_name(LoadMode mode) {
  switch (mode) {
    case LoadMode::kFull: return "full";
    case LoadMode::kTargetOnly: return "target-only";
    case LoadMode::kMtpOnly: return "mtp-only";
  }
  return "?";
}

std::optional<LoadMode> parse_load_mode(std::string_view name) {
  for (LoadMode mode : {LoadMode::kFull, LoadMode::kTargetOnly, LoadMode::kMtpOnly}) {
    if (name == load_mode_name(mode)) return mode;
  }
  return std::nullopt;
}

std::vector<std::string> LoadPlan::distinct_sources() const {
  std::vector<std::string> sources;
  std::set<std::string_view> seen;
  for (const PlannedTensor& planned : tensors) {
    if (seen.insert(planned.source).second) sources.push_back(planned.source);
  }
  return sources;
}

namespace {

bool in_mode(const TensorSpec& spec, LoadMode mode) {
  switch (mode) {
    case LoadMode::kFull: return true;
    case LoadMode::kTargetOnly: return spec.part == ModelPart::kTarget;
    case LoadMode::kMtpOnly: return spec.part == ModelPart::kMtp;
  }
  return false;
}

bool has_name(const std::vector<std::string>& sorted_names, const std::string& name) {
  return std::binary_search(sorted_names.begin(), sorted_names.end(), name);
}

}  // namespace

LoadPlan plan_load(const std::vector<TensorSpec>& table,
                   const std::vector<std::string>& checkpoint_names, const ModelConfig& config,
                   const LoadOptions& options) {
  LoadPlan plan;
  std::unordered_map<std::string_view, const TensorSpec*> claimed;
  claimed.reserve(table.size());
  for (const TensorSpec& spec : table) claimed.emplace(spec.hf_name, &spec);

  std::set<std::string_view> sources;
  for (const TensorSpec& spec : table) {
    if (!in_mode(spec, options.mode)) continue;
    const bool own_present = has_name(checkpoint_names, spec.hf_name);
    const bool shared_present = spec.shared_with && has_name(checkpoint_names, *spec.shared_with);
    const bool use_shared =
        shared_present && (!own_present || options.share_target_copies);
    if (!own_present && !use_shared) {
      plan.missing.push_back(spec.hf_name);
      continue;
    }
    const std::string& source = use_shared ? *spec.shared_with : spec.hf_name;
    plan.tensors.push_back({.spec = &spec, .source = source, .shared = use_shared});
    sources.insert(plan.tensors.back().source);
  }

  for (const std::string& name : checkpoint_names) {
    mtp_index_of(name, config);  // rule 1: a layer past the MTP layers is an error
    if (sources.contains(name)) continue;
    if (auto it = claimed.find(name); it != claimed.end()) {
      const TensorSpec& spec = *it->second;
      if (!in_mode(spec, options.mode)) {
        plan.other_part.push_back(name);
      } else {
        // A copy that the target's tensor replaced (share_target_copies): unused by choice.
        plan.unused.push_back(name);
      }
      continue;
    }
    if (auto reason = skip_reason(name, config)) {
      plan.skipped.emplace_back(name, *reason);
    } else {
      plan.unused.push_back(name);
    }
  }
  return plan;
}

std::string describe_missing(const LoadPlan& plan, std::string_view where, size_t max_listed) {
  std::string text = fmt::format("{} tensor(s) missing in {}:", plan.missing.size(), where);
  const size_t listed = std::min(max_listed, plan.missing.size());
  for (size_t i = 0; i < listed; ++i) text += fmt::format("\n  {}", plan.missing[i]);
  if (listed < plan.missing.size()) {
    text += fmt::format("\n  ... and {} more", plan.missing.size() - listed);
  }
  return text;
}

}  // namespace nextn
