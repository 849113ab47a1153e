// What every block of a forward pass shares: the config, RoPE tables, the thread pool and the
// scratch arena. Passed in, never global (DESIGN principle 8).
#pragma once

#include "config/model_config.h"
#include "core/arena.h"
#include "core/thread_pool.h"
#include "model/rope.h"

namespace nextn {

struct ForwardOptions {
  // MLA: attend in the compressed space (cache [c_kv | k_rope], fold W_UK into the query and
  // W_UV into the output). false: expand keys and values per head from the cache (the naive
  // form; the same function, kept as the test twin).
  bool absorbed_mla = true;
};

struct ForwardContext {
  const ModelConfig& config;
  const Rope& rope;
  double softmax_scale;
  ThreadPool& pool;
  Arena& arena;
  ForwardOptions options;
};

}  // namespace nextn
