// Tiny checkpoints for tests: complete HuggingFace-format directories with random weights and
// the real tensor names of either family, written from the same tensor table the loader reads.
#pragma once

#include <cstdint>
#include <filesystem>

#include "config/model_config.h"

namespace nextn {

struct TinyOptions {
  Family family = Family::kDeepseekV3;
  // Sizes (defaults: a few hundred kB). Attention sizes follow from these.
  int64_t hidden = 72;
  int64_t vocab = 256;
  int64_t layers = 3;             // L, the first of which is dense
  int64_t first_dense = 1;        // first_k_dense_replace
  int64_t heads = 4;
  // Attention sizes. DeepSeek MLA: q_lora_rank (0 = no q LoRA), kv_lora_rank, and the per-head
  // nope / rope / value widths; GLM GQA: head_dim and KV heads (0 = heads / 2).
  int64_t q_lora_rank = 48;
  int64_t kv_lora_rank = 40;
  int64_t qk_nope_head_dim = 16;
  int64_t qk_rope_head_dim = 8;
  int64_t v_head_dim = 16;
  int64_t head_dim = 16;
  int64_t kv_heads = 0;
  int64_t experts = 8;
  int64_t top_k = 2;
  int64_t groups = 4;             // n_group (real GLM uses 1; tiny ones exercise groups)
  int64_t top_groups = 2;         // topk_group
  int64_t intermediate = 96;      // dense MLP width
  int64_t moe_intermediate = 40;  // routed and shared expert width
  int64_t mtp_layers = 1;         // D
  bool mtp_copies = true;         // MTP layers carry their own embed_tokens / shared_head.head
  bool qk_norm = true;            // GLM use_qk_norm
  bool yarn = false;              // DeepSeek: YaRN rope_scaling
  // FP8 weights: DeepSeek-style block FP8 (weight_scale_inv) or, for GLM, compressed-tensors
  // (weight_scale) with the given strategy.
  bool fp8 = false;
  QuantizationConfig::Strategy fp8_strategy = QuantizationConfig::Strategy::kBlock;
  int64_t fp8_block = 128;
  int shards = 1;                 // > 1: shards listed by model.safetensors.index.json
  // Adds tensors the loader must skip (SPEC §3 rule 5): rotary inv_freq, an orphan bias, an
  // orphan weight_scale, a legacy kv_scale.
  bool skip_extras = false;
  // A model whose MTP layer is a good drafter, for tests of the accept paths: every projection
  // that writes into the residual stream is scaled by 0.3, so the target is close to a bigram
  // model (logits ≈ lm_head(norm(embed(t)))), and the MTP layer is built to compute that same
  // bigram of its input token (eh_proj ≈ [I | 0], enorm = 1, shared_head.norm = model.norm).
  bool predictable = false;
  // Also write a byte-level BPE tokenizer.json and tokenizer_config.json with a chat template
  // (tiny/tiny_tokenizer.h); needs vocab >= the specials + 256.
  bool tokenizer = false;
  uint64_t seed = 0;
};

// The config a tiny checkpoint is written with.
ModelConfig tiny_config(const TinyOptions& options);

// Writes config.json, generation_config.json and the weights into `dir` (created if needed).
void write_tiny_checkpoint(const std::filesystem::path& dir, const TinyOptions& options);

// Writes a model.safetensors.index.json naming every tensor the config implies (no weights), as
// the real release would, into a directory that holds (or will hold) that config.json: for
// tests on real-model configs. `mtp_copies` false drops the MTP layer's embed_tokens and
// shared_head.head (GLM-4.6).
void write_index_only(const std::filesystem::path& dir, const ModelConfig& config, int shards,
                      bool mtp_copies);

}  // namespace nextn
