#include "weights/weight_names.h"

#include <array>
#include <charconv>

#include "core/error.h"

namespace nextn {
namespace {

constexpr std::string_view kLayersPrefix = "model.layers.";
constexpr std::string_view kLayersMarker = "layers.";

bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }
bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Parses "{digits}." at `pos`; returns the index and the position after the dot.
std::optional<std::pair<int64_t, size_t>> parse_index_at(std::string_view s, size_t pos) {
  int64_t value = 0;
  const char* begin = s.data() + pos;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin || ptr == end || *ptr != '.') return std::nullopt;
  return std::pair{value, static_cast<size_t>(ptr - s.data()) + 1};
}

// Where "layers.{i}." is in the name: (index, offset of the rest).
std::optional<std::pair<int64_t, size_t>> find_layer(std::string_view name, Family family) {
  if (family == Family::kDeepseekV3) {
    if (!name.starts_with(kLayersPrefix)) return std::nullopt;
    return parse_index_at(name, kLayersPrefix.size());
  }
  // GLM: the first "layers.{digits}." anywhere in the name.
  for (size_t pos = name.find(kLayersMarker); pos != std::string_view::npos;
       pos = name.find(kLayersMarker, pos + 1)) {
    const bool at_word_start = pos == 0 || name[pos - 1] == '.';
    if (!at_word_start) continue;
    if (auto parsed = parse_index_at(name, pos + kLayersMarker.size())) return parsed;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> layer_index_of(std::string_view hf_name, Family family) {
  if (auto found = find_layer(hf_name, family)) return found->first;
  return std::nullopt;
}

std::string_view name_within_layer(std::string_view hf_name, Family family) {
  if (auto found = find_layer(hf_name, family)) return hf_name.substr(found->second);
  return hf_name;
}

std::optional<int64_t> mtp_index_of(std::string_view hf_name, const ModelConfig& config) {
  const auto layer = layer_index_of(hf_name, config.family);
  if (!layer || *layer < config.num_hidden_layers) return std::nullopt;
  if (*layer >= config.total_layers()) {
    fail("tensor '{}': layer {} does not exist: the model has {} decoder layers and {} MTP "
         "layer(s) (num_hidden_layers + num_nextn_predict_layers = {})",
         hf_name, *layer, config.num_hidden_layers, config.num_nextn_predict_layers,
         config.total_layers());
  }
  return *layer - config.num_hidden_layers;
}

MtpRole mtp_role(std::string_view name_within_layer) {
  // Order matters only for readability: the five markers never overlap.
  if (contains(name_within_layer, "embed_tokens")) return MtpRole::kEmbedTokens;
  if (contains(name_within_layer, "enorm")) return MtpRole::kEnorm;
  if (contains(name_within_layer, "hnorm")) return MtpRole::kHnorm;
  if (contains(name_within_layer, "eh_proj")) return MtpRole::kEhProj;
  if (contains(name_within_layer, "shared_head")) return MtpRole::kSharedHead;
  return MtpRole::kBlock;
}

std::string canonical_name(std::string_view hf_name, const ModelConfig& config) {
  const auto layer = layer_index_of(hf_name, config.family);
  if (!layer) {
    // Global tensors drop the "model." prefix; lm_head has none.
    if (hf_name.starts_with("model.")) return std::string(hf_name.substr(6));
    return std::string(hf_name);
  }
  const std::string_view rest = name_within_layer(hf_name, config.family);
  const auto mtp = mtp_index_of(hf_name, config);
  if (!mtp) return fmt::format("layers.{}.{}", *layer, rest);
  switch (mtp_role(rest)) {
    case MtpRole::kBlock: return fmt::format("mtp.{}.block.{}", *mtp, rest);
    case MtpRole::kEmbedTokens: return fmt::format("mtp.{}", rest);  // lifted to the top level
    default: return fmt::format("mtp.{}.{}", *mtp, rest);
  }
}

std::optional<FusionSlot> fusion_slot(std::string_view canonical) {
  // Routed experts first: "<prefix>mlp.experts.{e}.{gate,up,down}_proj.weight" must never be
  // taken for the dense gate/up below, whose names share the "gate_proj" suffix.
  if (auto at = canonical.find("mlp.experts."); at != std::string_view::npos) {
    const size_t index_pos = at + std::string_view("mlp.experts.").size();
    auto parsed = parse_index_at(canonical, index_pos);
    if (!parsed) return std::nullopt;
    const std::string_view projection = canonical.substr(parsed->second);
    return FusionSlot{.fused_name = fmt::format("{}mlp.experts.{}", canonical.substr(0, at),
                                                projection),
                      .slice = static_cast<int>(parsed->first)};
  }
  struct Rule {
    std::string_view suffix;
    std::string_view fused_suffix;
    int slice;
  };
  static constexpr std::array<Rule, 10> kRules{{
      {"mlp.gate_proj.weight", "mlp.gate_up_proj.weight", 0},
      {"mlp.up_proj.weight", "mlp.gate_up_proj.weight", 1},
      {"mlp.shared_experts.gate_proj.weight", "mlp.shared_experts.gate_up_proj.weight", 0},
      {"mlp.shared_experts.up_proj.weight", "mlp.shared_experts.gate_up_proj.weight", 1},
      {"self_attn.q_proj.weight", "self_attn.qkv_proj.weight", 0},
      {"self_attn.k_proj.weight", "self_attn.qkv_proj.weight", 1},
      {"self_attn.v_proj.weight", "self_attn.qkv_proj.weight", 2},
      {"self_attn.q_proj.bias", "self_attn.qkv_proj.bias", 0},
      {"self_attn.k_proj.bias", "self_attn.qkv_proj.bias", 1},
      {"self_attn.v_proj.bias", "self_attn.qkv_proj.bias", 2},
  }};
  for (const Rule& rule : kRules) {
    // Whole-component suffix match: "mlp.gate_proj.weight" cannot match
    // "mlp.shared_experts.gate_proj.weight" or "mlp.experts.3.gate_proj.weight".
    if (!ends_with(canonical, rule.suffix)) continue;
    const std::string_view prefix = canonical.substr(0, canonical.size() - rule.suffix.size());
    if (!prefix.empty() && prefix.back() != '.') continue;
    return FusionSlot{.fused_name = fmt::format("{}{}", prefix, rule.fused_suffix),
                      .slice = rule.slice};
  }
  if (ends_with(canonical, "self_attn.q_a_proj.weight") ||
      ends_with(canonical, "self_attn.kv_a_proj_with_mqa.weight")) {
    const bool is_q = ends_with(canonical, "q_a_proj.weight");
    const size_t at = canonical.rfind("self_attn.");
    return FusionSlot{
        .fused_name = fmt::format("{}self_attn.fused_qkv_a_proj.weight", canonical.substr(0, at)),
        .slice = is_q ? 0 : 1};
  }
  return std::nullopt;
}

std::string_view skip_reason_text(SkipReason reason) {
  switch (reason) {
    case SkipReason::kRotaryInvFreq: return "rotary inv_freq buffer (recomputed from config)";
    case SkipReason::kOrphanBias: return "bias the model has no place for";
    case SkipReason::kOrphanWeightScale: return "weight_scale with no quantized weight";
    case SkipReason::kLegacyKvScale: return "legacy kv_scale (nextn keeps no k/v scale)";
    case SkipReason::kExtraMtpEmbedding: return "embed_tokens of an MTP layer after the first";
  }
  return "?";
}

std::optional<SkipReason> skip_reason(std::string_view hf_name, const ModelConfig& config) {
  if (ends_with(hf_name, "rotary_emb.inv_freq")) return SkipReason::kRotaryInvFreq;
  if (ends_with(hf_name, ".kv_scale") || ends_with(hf_name, ".k_scale") ||
      ends_with(hf_name, ".v_scale")) {
    return SkipReason::kLegacyKvScale;
  }
  // The callers only ask about names no parameter claims, so any bias or weight_scale here is
  // an orphan by construction.
  if (ends_with(hf_name, ".bias")) return SkipReason::kOrphanBias;
  if (ends_with(hf_name, ".weight_scale")) return SkipReason::kOrphanWeightScale;
  if (auto mtp = mtp_index_of(hf_name, config); mtp && *mtp > 0 &&
      mtp_role(name_within_layer(hf_name, config.family)) == MtpRole::kEmbedTokens) {
    return SkipReason::kExtraMtpEmbedding;
  }
  return std::nullopt;
}

std::optional<std::string> remap_legacy_kv_scale(std::string_view hf_name) {
  constexpr std::string_view kLegacy = ".kv_scale";
  if (!ends_with(hf_name, kLegacy)) return std::nullopt;
  return fmt::format("{}.attn.k_scale", hf_name.substr(0, hf_name.size() - kLegacy.size()));
}

}  // namespace nextn
