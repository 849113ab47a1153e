#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace nextn {

double yarn_mscale(double factor, double m) {
  return factor <= 1.0 ? 1.0 : 0.1 * m * std::log(factor) + 1.0;
}

namespace {

// SPEC §4 YaRN: blend the interpolated (ω/f) and extrapolated (ω) frequencies with a linear
// ramp between the dimensions that complete β_fast and β_slow turns over the original length.
std::vector<double> yarn_inv_freq(const std::vector<double>& base, const RopeScaling& yarn,
                                  double theta, int64_t dim) {
  const double d = static_cast<double>(dim);
  auto correction_dim = [&](double rotations) {
    return d * std::log(static_cast<double>(yarn.original_max_position_embeddings) /
                        (2.0 * std::numbers::pi * rotations)) /
           (2.0 * std::log(theta));
  };
  const double low = std::max(0.0, std::floor(correction_dim(yarn.beta_fast)));
  double high = std::min(d - 1.0, std::ceil(correction_dim(yarn.beta_slow)));
  if (high == low) high += 0.001;  // avoid a zero-width ramp
  std::vector<double> inv_freq(base.size());
  for (size_t i = 0; i < base.size(); ++i) {
    const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
    inv_freq[i] = base[i] / yarn.factor * ramp + base[i] * (1.0 - ramp);
  }
  return inv_freq;
}

}  // namespace

Rope::Rope(const ModelConfig& config) {
  if (const MlaConfig* mla = config.mla()) {
    rotary_dim_ = mla->qk_rope_head_dim;
    interleaved_ = true;
  } else {
    const GqaConfig& gqa = *config.gqa();
    rotary_dim_ = static_cast<int64_t>(static_cast<double>(gqa.head_dim) *
                                       gqa.partial_rotary_factor);
    interleaved_ = false;
    if (config.rope_scaling.type != RopeScaling::Type::kNone) {
      fail("config.json: rope_scaling: YaRN is supported for DeepseekV3ForCausalLM only");
    }
  }
  const double d = static_cast<double>(rotary_dim_);
  for (int64_t i = 0; i < rotary_dim_ / 2; ++i) {
    inv_freq_.push_back(std::pow(config.rope_theta, -2.0 * static_cast<double>(i) / d));
  }
  if (config.rope_scaling.type == RopeScaling::Type::kYarn) {
    const RopeScaling& yarn = config.rope_scaling;
    inv_freq_ = yarn_inv_freq(inv_freq_, yarn, config.rope_theta, rotary_dim_);
    cos_sin_scale_ =
        yarn_mscale(yarn.factor, yarn.mscale) / yarn_mscale(yarn.factor, yarn.mscale_all_dim);
  }
}

void Rope::angles(int64_t position, float* cos, float* sin) const {
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    const double angle = static_cast<double>(position) * inv_freq_[i];
    cos[i] = static_cast<float>(std::cos(angle) * cos_sin_scale_);
    sin[i] = static_cast<float>(std::sin(angle) * cos_sin_scale_);
  }
}

void Rope::rotate(float* x, const float* cos, const float* sin) const {
  const int64_t half = rotary_dim_ / 2;
  for (int64_t i = 0; i < half; ++i) {
    float& a = interleaved_ ? x[2 * i] : x[i];
    float& b = interleaved_ ? x[2 * i + 1] : x[i + half];
    const float a0 = a;
    const float b0 = b;
    a = a0 * cos[i] - b0 * sin[i];
    b = a0 * sin[i] + b0 * cos[i];
  }
}

double attention_softmax_scale(const ModelConfig& config) {
  const double head = static_cast<double>(config.qk_head_dim());
  double scale = 1.0 / std::sqrt(head);
  if (config.mla() != nullptr && config.rope_scaling.type == RopeScaling::Type::kYarn) {
    const double m = yarn_mscale(config.rope_scaling.factor, config.rope_scaling.mscale_all_dim);
    scale *= m * m;
  }
  return scale;
}

}  // namespace nextn
