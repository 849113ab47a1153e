// Attention over the sequences' KV caches (SPEC §4): DeepSeek MLA and GLM GQA.
//
// Both take the normed input rows x [T, H]; row t writes its cache row into slot rows[t].slot
// of layer `cache_layer` of its sequence's cache rows[t].kv, attends causally within that
// sequence (slots 0 .. rows[t].slot), and writes out[t]. RoPE uses rows[t].position: the
// target's slots are its positions, an MTP layer's draft rows may sit at later positions than
// their slots. The rows of one pass may belong to several sequences (continuous batching); the
// rows of one sequence are consecutive and in slot order. The caller commits the slots.
#pragma once

#include <cstdint>

#include "kv/kv_cache.h"
#include "model/forward_context.h"
#include "model/model_weights.h"

namespace nextn {

// Where one row of a pass lives: its sequence's cache, the slot it writes, its RoPE position.
struct RowPlace {
  KvCache* kv = nullptr;
  int64_t slot = 0;
  int64_t position = 0;
};

struct AttentionArgs {
  const float* x = nullptr;        // [T, H]
  int64_t tokens = 0;              // T
  const RowPlace* rows = nullptr;  // [T]
  int64_t cache_layer = 0;
  float* out = nullptr;  // [T, H]
};

// Query heads per attention task, out of `sharing` heads that read the same cache rows (MLA:
// all `heads`; GQA: a KV head's group): a task streams the rows it reads once, so tasks are as
// large as the threads allow, ceil(heads / threads) rounded up to the kernels' blocks of 4
// (DeepSeek-V3 on two threads: 64 heads a task). A task's scratch is
// attend_scratch_floats(that many, the value width), whatever the context.
int64_t heads_per_attention_task(int64_t sharing, int64_t heads, int64_t threads);

// The most cache slots any row of the pass attends to.
int64_t max_attended(const AttentionArgs& args);

void mla_attention(const MlaWeights& w, const ForwardContext& ctx, const AttentionArgs& args);
void gqa_attention(const GqaWeights& w, const ForwardContext& ctx, const AttentionArgs& args);

// Cache row width of one layer: MLA kv_lora + qk_rope, GQA 2 × kv_heads × head_dim.
int64_t kv_cache_width(const ModelConfig& config);

// Sizes every pool thread's attention scratch, so that decode steps never allocate (DESIGN
// principle 4). It does not grow with the context: attend takes the cache in fixed chunks.
void reserve_attention_scratch(const ModelConfig& config, ThreadPool& pool);

}  // namespace nextn
