#include "weights/weight_set.h"

#include <set>

#include "core/error.h"

namespace nextn {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

bool same_shape(const std::vector<int64_t>& actual, const std::vector<int64_t>& expected) {
  if (actual == expected) return true;
  // A per-tensor scale may be stored as a scalar or as [1].
  auto is_scalar = [](const std::vector<int64_t>& s) {
    return s.empty() || (s.size() == 1 && s[0] == 1);
  };
  return is_scalar(actual) && is_scalar(expected);
}

}  // namespace

void check_tensor_against_spec(const TensorView& tensor, const TensorSpec& spec) {
  if (!same_shape(tensor.shape, spec.shape)) {
    fail("{}: tensor '{}': shape {} contradicts config.json, which implies {}", tensor.file,
         tensor.name, shape_text(tensor.shape), shape_text(spec.shape));
  }
  const bool want_fp8 = spec.dtype == DType::kF8E4M3;
  const bool is_fp8 = tensor.dtype == DType::kF8E4M3;
  if (want_fp8 != is_fp8) {
    fail("{}: tensor '{}': dtype {} contradicts config.json, which implies {} ({})", tensor.file,
         tensor.name, dtype_name(tensor.dtype), dtype_name(spec.dtype),
         want_fp8 ? "quantization_config quantizes this weight"
                  : "quantization_config leaves this tensor unquantized");
  }
}

WeightSet WeightSet::load(const Checkpoint& checkpoint, const ModelConfig& config,
                          const LoadOptions& options) {
  WeightSet weights;
  weights.table_ = build_tensor_table(config);
  weights.mode_ = options.mode;
  weights.plan_ = plan_load(weights.table_, checkpoint.tensor_names(), config, options);
  if (!weights.plan_.missing.empty()) {
    throw Error(describe_missing(weights.plan_, checkpoint.dir().string()));
  }
  std::set<std::string> counted;
  for (const PlannedTensor& planned : weights.plan_.tensors) {
    TensorView view = checkpoint.tensor(planned.source);
    check_tensor_against_spec(view, *planned.spec);
    if (counted.insert(planned.source).second) weights.mapped_bytes_ += view.data.size();
    weights.views_.emplace(planned.spec->name, std::move(view));
  }
  return weights;
}

const TensorView* WeightSet::find(std::string_view canonical) const {
  auto it = views_.find(canonical);
  return it == views_.end() ? nullptr : &it->second;
}

const TensorView& WeightSet::get(std::string_view canonical) const {
  if (const TensorView* view = find(canonical)) return *view;
  fail("parameter '{}' is not part of this load (load mode {})", canonical,
       load_mode_name(mode_));
}

}  // namespace nextn
