// What every block of a forward pass shares: the config, RoPE tables, the thread pool and the
// scratch arena. Passed in, never global (DESIGN principle 8).
#pragma once

#include <span>

#include "config/model_config.h"
#include "core/arena.h"
#include "core/thread_pool.h"
#include "kernels/weight_matrix.h"
#include "model/rope.h"

namespace nextn {

// MLA's two forms of the same function: absorbed (attend in the compressed space of the cache
// [c_kv | k_rope], W_UK folded into the query and W_UV into the output) and naive (keys and
// values expanded per head from the cache: the test twin; a test holds them equal).
enum class MlaForm { kAbsorbed, kNaive };

struct ForwardOptions {
  MlaForm mla = MlaForm::kAbsorbed;
  // The naive form expands keys and values for at most this many floats at a time (64 MB: a
  // group of heads at a time over long contexts); tests lower it to force small groups.
  int64_t naive_mla_expansion_floats = int64_t{1} << 24;
};

// What a pass read from the weights: the figure decoding speed is bounded by (DESIGN
// principle 7). Counted as the kernels are called, so it reflects the experts really chosen.
struct WeightTraffic {
  uint64_t bytes = 0;          // weight bytes read (FP8 scales included)
  uint64_t kv_bytes = 0;       // KV-cache bytes attended over
  uint64_t multiply_adds = 0;  // of the matmuls (rows × cols × tokens)
  int64_t experts_run = 0;     // routed experts run, summed over MoE layers (each once)
  int64_t moe_layers = 0;
};

struct ForwardContext {
  const ModelConfig& config;
  const Rope& rope;
  double softmax_scale;
  ThreadPool& pool;
  Arena& arena;
  ForwardOptions options;
  WeightTraffic* traffic = nullptr;
};

// Bytes of a weight matrix as stored, scales included.
uint64_t weight_bytes(const WeightMatrix& w);

// y = x · wᵀ for the listed rows of x (ascending; row r starts at x + r·x_stride), written
// consecutively into y. A contiguous run is read in place; other lists are gathered first.
void project_rows(const ForwardContext& ctx, const WeightMatrix& w, const float* x,
                  int64_t x_stride, std::span<const int64_t> rows, float* y, int64_t y_stride);

// Adds a matmul of w over `tokens` rows to ctx.traffic (when counting): its weight bytes and
// multiply-adds.
void count_traffic(const ForwardContext& ctx, const WeightMatrix& w, int64_t tokens);

// y = x · wᵀ for `tokens` rows (kernels/kernels.h matmul), counting the weight bytes read.
void project(const ForwardContext& ctx, const WeightMatrix& w, const float* x, int64_t x_stride,
             int64_t tokens, float* y, int64_t y_stride);

}  // namespace nextn
