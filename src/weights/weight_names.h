// The mapping rules of SPEC §3, each implemented once: which layer a checkpoint name belongs to,
// how the tensors of an MTP layer are renamed, which names fuse, and which are skipped.
//
// Canonical (engine) names:
//   target   "embed_tokens.weight", "norm.weight", "lm_head.weight", "layers.{i}.<rest>"
//   MTP      "mtp.{k}.block.<rest>"        the MTP layer's transformer block   (rule 2)
//            "mtp.{k}.enorm.weight" ...    enorm, hnorm, eh_proj, shared_head.* (rule 2)
//            "mtp.embed_tokens.weight"     the one shared MTP embedding        (rules 2, 3)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/model_config.h"

namespace nextn {

// Rule 1. The decoder layer index in `hf_name`, or nullopt for a global name. DeepSeek names
// must start with "model.layers.{i}."; GLM names only need to contain "layers.{i}.".
std::optional<int64_t> layer_index_of(std::string_view hf_name, Family family);
// The part of the name after "layers.{i}." (the whole name for a global one).
std::string_view name_within_layer(std::string_view hf_name, Family family);

// Rule 1 with the model's sizes: the MTP layer k of a name in layer L + k, nullopt for target
// and global names. A layer index >= L + D is an Error naming the tensor.
std::optional<int64_t> mtp_index_of(std::string_view hf_name, const ModelConfig& config);

// Rule 2. What a name inside an MTP layer is.
enum class MtpRole { kBlock, kEmbedTokens, kEnorm, kHnorm, kEhProj, kSharedHead };
MtpRole mtp_role(std::string_view name_within_layer);

// Rules 1-2: the canonical name of a checkpoint name (see the header comment).
std::string canonical_name(std::string_view hf_name, const ModelConfig& config);

// Rule 4. Fusions are loading details: a name may join a fused matrix as one of its slices.
struct FusionSlot {
  std::string fused_name;  // canonical name of the fused matrix
  int slice = 0;           // position of this tensor in the fusion
  bool operator==(const FusionSlot&) const = default;
};
// Dense / shared-expert gate+up ("...mlp.gate_up_proj"), GLM q/k/v weights and biases
// ("...self_attn.qkv_proj"), DeepSeek q_a_proj + kv_a_proj_with_mqa ("...self_attn.
// fused_qkv_a_proj"), routed experts into one tensor per layer and projection
// ("...mlp.experts.gate_proj" with slice = expert). Routed expert gate/up never join the dense
// gate+up fusion.
std::optional<FusionSlot> fusion_slot(std::string_view canonical);

// Rule 5. Checkpoint names that are deliberately not loaded.
enum class SkipReason {
  kRotaryInvFreq,        // "rotary_emb.inv_freq": recomputed from the config
  kOrphanBias,           // a ".bias" the model has no place for (GPTQ leftovers)
  kOrphanWeightScale,    // a ".weight_scale" with no quantized weight beside it
  kLegacyKvScale,        // ".kv_scale": nextn keeps no k/v scale
  kExtraMtpEmbedding,    // embed_tokens of MTP layer k >= 1 (rule 3: only the first is loaded)
};
std::string_view skip_reason_text(SkipReason reason);
// Why `hf_name`, which no parameter of the model claims, may be skipped; nullopt when it is an
// unexpected tensor.
std::optional<SkipReason> skip_reason(std::string_view hf_name, const ModelConfig& config);
// Rule 5: the attention k-scale name a legacy "<attn>.kv_scale" maps to ("<attn>.attn.k_scale",
// the deprecated single scale served as the k scale); nullopt for other names. nextn keeps no
// such scale, so loading ignores both forms; the rename exists so the two spellings are one.
std::optional<std::string> remap_legacy_kv_scale(std::string_view hf_name);

}  // namespace nextn
