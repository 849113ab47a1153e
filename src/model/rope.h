// Rotary position embeddings (SPEC §4): DeepSeek's interleaved RoPE with YaRN, GLM's NeoX RoPE
// on the first head_dim × partial_rotary_factor channels.
#pragma once

#include <cstdint>
#include <vector>

#include "config/model_config.h"

namespace nextn {

// YaRN's mscale(f, m) = 0.1·m·ln f + 1, and 1 when f <= 1.
double yarn_mscale(double factor, double m);

class Rope {
 public:
  explicit Rope(const ModelConfig& config);

  int64_t rotary_dim() const { return rotary_dim_; }
  const std::vector<double>& inv_freq() const { return inv_freq_; }
  // Multiplies cos and sin: mscale(f, mscale) / mscale(f, mscale_all_dim) under YaRN, else 1.
  double cos_sin_scale() const { return cos_sin_scale_; }

  // cos and sin (times cos_sin_scale) of position × inv_freq[i], rotary_dim / 2 of each:
  // computed once per position and shared by every head.
  void angles(int64_t position, float* cos, float* sin) const;
  // Rotates the first rotary_dim() values of x. Interleaved: pairs (2i, 2i+1) with frequency
  // i; NeoX: pairs (i, i + d/2).
  void rotate(float* x, const float* cos, const float* sin) const;

 private:
  int64_t rotary_dim_ = 0;
  bool interleaved_ = false;
  double cos_sin_scale_ = 1.0;
  std::vector<double> inv_freq_;
};

// The attention softmax scale: MLA (qk_nope + qk_rope)^-½ · mscale(f, mscale_all_dim)² under
// YaRN; GQA head_dim^-½.
double attention_softmax_scale(const ModelConfig& config);

}  // namespace nextn
