#include "config/model_config.h"

#include <cmath>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "config/json_fields.h"
#include "core/error.h"

namespace nextn {
namespace {

using config_json::ObjectReader;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kDeepseekArchitecture = "DeepseekV3ForCausalLM";
constexpr std::string_view kGlmArchitecture = "Glm4MoeForCausalLM";
// Defaults of the transformers config classes (DeepseekV3Config, Glm4MoeConfig), used when a
// config leaves the field out.
constexpr double kDefaultRopeTheta = 10000.0;
constexpr double kDeepseekDefaultEps = 1e-6;
constexpr double kGlmDefaultEps = 1e-5;
constexpr double kGlmDefaultPartialRotaryFactor = 0.5;
constexpr int64_t kDefaultSharedExperts = 1;
// What make-tiny writes for fields the engine does not read, so the output looks like a release.
constexpr double kInitializerRange = 0.02;
constexpr std::string_view kHiddenAct = "silu";

Family parse_family(const ObjectReader& root, std::string& architecture) {
  const json* list = root.find("architectures");
  if (list == nullptr) root.fail_missing("architectures", "a list of class names");
  if (!list->is_array() || list->empty() || !(*list)[0].is_string()) {
    root.fail_expected("architectures", "a non-empty list of class names", *list);
  }
  architecture = (*list)[0].get<std::string>();
  if (architecture == kDeepseekArchitecture) return Family::kDeepseekV3;
  if (architecture == kGlmArchitecture) return Family::kGlm4Moe;
  root.fail_field("architectures",
                  fmt::format("unsupported architecture \"{}\"; supported: {}, {}", architecture,
                              kDeepseekArchitecture, kGlmArchitecture));
}

// The rope block: `rope_parameters` (transformers >= 5) or `rope_scaling` (older), null or
// absent meaning plain RoPE. Returns the reader of whichever object is present, if any.
std::optional<ObjectReader> rope_block(const ObjectReader& root) {
  for (std::string_view key : {"rope_parameters", "rope_scaling"}) {
    const json* block = root.find(key);
    if (block == nullptr) continue;
    if (!block->is_object()) root.fail_expected(key, "an object or null", *block);
    return ObjectReader(*block, root.file_label(), std::string(key) + ".");
  }
  return std::nullopt;
}

RopeScaling parse_rope_scaling(const std::optional<ObjectReader>& block) {
  RopeScaling rope;
  if (!block) return rope;
  // `type` is the old spelling, `rope_type` the new; a re-saved config may carry both.
  std::optional<std::string> type = block->optional_string("rope_type");
  if (std::optional<std::string> old_type = block->optional_string("type")) {
    if (type && *type != *old_type) {
      block->fail_field("type",
                        fmt::format("\"{}\" contradicts rope_type \"{}\"", *old_type, *type));
    }
    type = old_type;
  }
  const std::string_view type_key = block->has("rope_type") ? "rope_type" : "type";
  if (!type || *type == "default") return rope;
  if (*type != "yarn") {
    block->fail_field(type_key, fmt::format("unsupported RoPE type \"{}\"; supported: default, "
                                            "yarn",
                                            *type));
  }
  rope.type = RopeScaling::Type::kYarn;
  rope.factor = block->required_number("factor");
  if (rope.factor < 1.0) block->fail_expected("factor", "a number >= 1", rope.factor);
  rope.original_max_position_embeddings =
      block->required_int("original_max_position_embeddings", 1);
  rope.beta_fast = block->optional_number("beta_fast", rope.beta_fast);
  rope.beta_slow = block->optional_number("beta_slow", rope.beta_slow);
  rope.mscale = block->optional_number("mscale", rope.mscale);
  rope.mscale_all_dim = block->optional_number("mscale_all_dim", rope.mscale_all_dim);
  // SPEC §4: the YaRN ramp runs from corr(beta_fast) up to corr(beta_slow).
  if (!(rope.beta_slow > 0.0 && rope.beta_fast > rope.beta_slow)) {
    block->fail_field("beta_fast", fmt::format("must exceed beta_slow > 0, got beta_fast {} and "
                                               "beta_slow {}",
                                               rope.beta_fast, rope.beta_slow));
  }
  return rope;
}

MlaConfig parse_mla(const ObjectReader& root) {
  // q_lora_rank must be spelled out: null is a real choice (a plain q_proj), so a missing key
  // is more likely a broken config than a request for it.
  if (!root.json().contains("q_lora_rank")) root.fail_missing("q_lora_rank", "an integer or null");
  MlaConfig mla{.q_lora_rank = root.nullable_int("q_lora_rank", 1),
                .kv_lora_rank = root.required_int("kv_lora_rank", 1),
                .qk_nope_head_dim = root.required_int("qk_nope_head_dim", 1),
                .qk_rope_head_dim = root.required_int("qk_rope_head_dim", 1),
                .v_head_dim = root.required_int("v_head_dim", 1)};
  // Interleaved RoPE rotates channel pairs (SPEC §4).
  if (mla.qk_rope_head_dim % 2 != 0) {
    root.fail_expected("qk_rope_head_dim", "an even integer", mla.qk_rope_head_dim);
  }
  // A `head_dim` key in a re-saved DeepSeek config (transformers writes qk_rope_head_dim there)
  // is not the MLA head size, which is always qk_nope + qk_rope (SPEC §1); it is ignored.
  return mla;
}

GqaConfig parse_gqa(const ObjectReader& root, const std::optional<ObjectReader>& rope,
                    int64_t hidden_size, int64_t num_heads) {
  GqaConfig gqa;
  gqa.num_key_value_heads = root.required_int("num_key_value_heads", 1);
  if (num_heads % gqa.num_key_value_heads != 0) {
    root.fail_field("num_key_value_heads", fmt::format("{} does not divide num_attention_heads {}",
                                                       gqa.num_key_value_heads, num_heads));
  }
  if (root.has("head_dim")) {
    gqa.head_dim = root.required_int("head_dim", 1);
  } else {
    // GLM's head_dim (128) is not hidden / heads (5120 / 96); only a config without the key
    // falls back to the quotient.
    if (hidden_size % num_heads != 0) {
      root.fail_missing("head_dim", fmt::format("an integer; hidden_size {} is not a multiple of "
                                                "num_attention_heads {}",
                                                hidden_size, num_heads));
    }
    gqa.head_dim = hidden_size / num_heads;
  }
  // Newer transformers move partial_rotary_factor into rope_parameters.
  std::string_view factor_key = "partial_rotary_factor";
  if (root.has(factor_key)) {
    gqa.partial_rotary_factor = root.optional_number(factor_key, kGlmDefaultPartialRotaryFactor);
  } else if (rope && rope->has(factor_key)) {
    gqa.partial_rotary_factor = rope->optional_number(factor_key, kGlmDefaultPartialRotaryFactor);
  } else {
    gqa.partial_rotary_factor = kGlmDefaultPartialRotaryFactor;
  }
  if (!(gqa.partial_rotary_factor > 0.0 && gqa.partial_rotary_factor <= 1.0)) {
    root.fail_expected(factor_key, "a number in (0, 1]", gqa.partial_rotary_factor);
  }
  // NeoX RoPE pairs channel j with j + r/2, so the rotary width r must be an even integer.
  const double rotary = static_cast<double>(gqa.head_dim) * gqa.partial_rotary_factor;
  if (rotary != std::floor(rotary) || static_cast<int64_t>(rotary) % 2 != 0) {
    root.fail_field(factor_key, fmt::format("head_dim {} x partial_rotary_factor {} = {} is not an "
                                            "even integer (the rotary width)",
                                            gqa.head_dim, gqa.partial_rotary_factor, rotary));
  }
  gqa.use_qk_norm = root.optional_bool("use_qk_norm", false);
  gqa.attention_bias = root.optional_bool("attention_bias", false);
  return gqa;
}

MoeConfig parse_moe(const ObjectReader& root, Family family, int64_t num_layers) {
  MoeConfig moe;
  moe.n_routed_experts = root.required_int("n_routed_experts", 1);
  moe.n_shared_experts = root.optional_int("n_shared_experts", kDefaultSharedExperts, 0);
  moe.num_experts_per_tok = root.required_int("num_experts_per_tok", 1);
  moe.moe_intermediate_size = root.required_int("moe_intermediate_size", 1);
  moe.n_group = root.optional_int("n_group", 1, 1);
  moe.topk_group = root.optional_int("topk_group", 1, 1);
  moe.norm_topk_prob = root.optional_bool("norm_topk_prob", moe.norm_topk_prob);
  moe.routed_scaling_factor = root.optional_number("routed_scaling_factor", 1.0);
  moe.first_k_dense_replace = root.optional_int("first_k_dense_replace", 0, 0);
  // GLM has no moe_layer_freq: every layer from first_k_dense_replace on is MoE.
  if (family == Family::kDeepseekV3) moe.moe_layer_freq = root.optional_int("moe_layer_freq", 1, 1);

  if (!(moe.routed_scaling_factor > 0.0)) {
    root.fail_expected("routed_scaling_factor", "a positive number", moe.routed_scaling_factor);
  }
  // SPEC §4 describes only the noaux_tc router with sigmoid scores.
  if (std::optional<std::string> method = root.optional_string("topk_method");
      method && *method != "noaux_tc") {
    root.fail_field("topk_method", fmt::format("unsupported \"{}\"; supported: noaux_tc", *method));
  }
  if (std::optional<std::string> scoring = root.optional_string("scoring_func");
      scoring && *scoring != "sigmoid") {
    root.fail_field("scoring_func",
                    fmt::format("unsupported \"{}\"; supported: sigmoid", *scoring));
  }
  if (moe.num_experts_per_tok > moe.n_routed_experts) {
    root.fail_field("num_experts_per_tok",
                    fmt::format("{} exceeds n_routed_experts {}", moe.num_experts_per_tok,
                                moe.n_routed_experts));
  }
  if (moe.n_routed_experts % moe.n_group != 0) {
    root.fail_field("n_group", fmt::format("{} does not divide n_routed_experts {}", moe.n_group,
                                           moe.n_routed_experts));
  }
  if (moe.topk_group > moe.n_group) {
    root.fail_field("topk_group",
                    fmt::format("{} exceeds n_group {}", moe.topk_group, moe.n_group));
  }
  const int64_t reachable = moe.topk_group * (moe.n_routed_experts / moe.n_group);
  if (moe.num_experts_per_tok > reachable) {
    root.fail_field("num_experts_per_tok",
                    fmt::format("{} exceeds the {} experts in the topk_group {} groups kept "
                                "(n_routed_experts {} / n_group {})",
                                moe.num_experts_per_tok, reachable, moe.topk_group,
                                moe.n_routed_experts, moe.n_group));
  }
  if (moe.first_k_dense_replace > num_layers) {
    root.fail_field("first_k_dense_replace", fmt::format("{} exceeds num_hidden_layers {}",
                                                         moe.first_k_dense_replace, num_layers));
  }
  return moe;
}

QuantizationConfig parse_fp8_block(const ObjectReader& q) {
  QuantizationConfig quant;
  quant.method = QuantizationConfig::Method::kFp8Block;
  quant.strategy = QuantizationConfig::Strategy::kBlock;
  if (std::optional<std::string> fmt_name = q.optional_string("fmt");
      fmt_name && *fmt_name != "e4m3") {
    q.fail_field("fmt", fmt::format("unsupported \"{}\"; supported: e4m3", *fmt_name));
  }
  // Static activation scales would need input scale tensors the loader does not read.
  if (std::optional<std::string> scheme = q.optional_string("activation_scheme");
      scheme && *scheme != "dynamic") {
    q.fail_field("activation_scheme",
                 fmt::format("unsupported \"{}\"; supported: dynamic", *scheme));
  }
  const std::vector<int64_t> block = q.int_list("weight_block_size", 2, 1);
  quant.block_rows = block[0];
  quant.block_cols = block[1];
  return quant;
}

QuantizationConfig parse_compressed_tensors(const ObjectReader& q) {
  using Strategy = QuantizationConfig::Strategy;
  QuantizationConfig quant;
  quant.method = QuantizationConfig::Method::kCompressedTensorsFp8;
  const ObjectReader groups = q.required_object("config_groups");
  if (groups.json().empty()) q.fail_expected("config_groups", "at least one group", groups.json());
  // One scale layout for the whole checkpoint: the loader reads every weight_scale the same way.
  std::optional<QuantizationConfig> first;
  for (const auto& [name, group_value] : groups.json().items()) {
    if (!group_value.is_object()) groups.fail_expected(name, "an object", group_value);
    const ObjectReader group(group_value, q.file_label(), groups.path(name) + ".");
    const ObjectReader weights = group.required_object("weights");
    const int64_t bits = weights.required_int("num_bits", 1);
    if (bits != 8)
      weights.fail_field("num_bits", fmt::format("unsupported {}; supported: 8", bits));
    const std::string type = weights.required_string("type");
    if (type != "float") {
      weights.fail_field("type",
                         fmt::format("unsupported \"{}\"; supported: float (FP8 e4m3)", type));
    }
    QuantizationConfig current = quant;
    const std::string strategy = weights.required_string("strategy");
    if (strategy == "channel") {
      current.strategy = Strategy::kChannel;
    } else if (strategy == "tensor") {
      current.strategy = Strategy::kTensor;
    } else if (strategy == "block") {
      current.strategy = Strategy::kBlock;
      const std::vector<int64_t> block = weights.int_list("block_structure", 2, 1);
      current.block_rows = block[0];
      current.block_cols = block[1];
    } else {
      weights.fail_field("strategy", fmt::format("unsupported \"{}\"; supported: channel, block, "
                                                 "tensor",
                                                 strategy));
    }
    if (first && (first->strategy != current.strategy || first->block_rows != current.block_rows ||
                  first->block_cols != current.block_cols)) {
      weights.fail_field("strategy",
                         "differs from another config group's; one weight scale "
                         "layout per checkpoint is supported");
    }
    first = current;
  }
  quant = *first;
  quant.ignore = q.string_list("ignore");
  return quant;
}

QuantizationConfig parse_quantization(const ObjectReader& root) {
  const json* block = root.find("quantization_config");
  if (block == nullptr) return {};
  if (!block->is_object()) root.fail_expected("quantization_config", "an object", *block);
  const ObjectReader q(*block, root.file_label(), "quantization_config.");
  const std::string method = q.required_string("quant_method");
  if (method == "fp8") return parse_fp8_block(q);
  if (method == "compressed-tensors") return parse_compressed_tensors(q);
  q.fail_field("quant_method",
               fmt::format("unsupported \"{}\"; supported: fp8, compressed-tensors", method));
}

// Writes the eos id the way HF does: a number for one id, a list for several.
void put_eos(ordered_json& out, const std::vector<int64_t>& eos) {
  if (eos.size() == 1) {
    out["eos_token_id"] = eos[0];
  } else if (!eos.empty()) {
    out["eos_token_id"] = eos;
  }
}

ordered_json rope_json(const RopeScaling& rope, std::string_view type_key) {
  if (rope.type == RopeScaling::Type::kNone) return nullptr;
  ordered_json out;
  out["beta_fast"] = rope.beta_fast;
  out["beta_slow"] = rope.beta_slow;
  out["factor"] = rope.factor;
  out["mscale"] = rope.mscale;
  out["mscale_all_dim"] = rope.mscale_all_dim;
  out["original_max_position_embeddings"] = rope.original_max_position_embeddings;
  out[std::string(type_key)] = "yarn";
  return out;
}

// The shape of the real releases: DeepSeek's `fp8` block (V3/R1) and the compressed-tensors
// block of the GLM FP8 releases (llm-compressor output, channel scales, dynamic per-token
// activations).
ordered_json quantization_json(const QuantizationConfig& q) {
  using Method = QuantizationConfig::Method;
  using Strategy = QuantizationConfig::Strategy;
  ordered_json out;
  if (q.method == Method::kFp8Block) {
    out["activation_scheme"] = "dynamic";
    out["fmt"] = "e4m3";
    out["quant_method"] = "fp8";
    out["weight_block_size"] = {q.block_rows, q.block_cols};
    return out;
  }
  const bool block = q.strategy == Strategy::kBlock;
  ordered_json activations;
  activations["actorder"] = nullptr;
  activations["block_structure"] = nullptr;
  activations["dynamic"] = true;
  activations["group_size"] = block ? ordered_json(q.block_cols) : ordered_json(nullptr);
  activations["num_bits"] = 8;
  activations["observer"] = nullptr;
  activations["observer_kwargs"] = ordered_json::object();
  activations["strategy"] = block ? "group" : "token";
  activations["symmetric"] = true;
  activations["type"] = "float";
  ordered_json weights;
  weights["actorder"] = nullptr;
  weights["block_structure"] =
      block ? ordered_json{q.block_rows, q.block_cols} : ordered_json(nullptr);
  weights["dynamic"] = false;
  weights["group_size"] = nullptr;
  weights["num_bits"] = 8;
  weights["observer"] = "minmax";
  weights["observer_kwargs"] = ordered_json::object();
  weights["strategy"] = q.strategy == Strategy::kChannel ? "channel" : block ? "block" : "tensor";
  weights["symmetric"] = true;
  weights["type"] = "float";
  ordered_json group;
  group["input_activations"] = activations;
  group["output_activations"] = nullptr;
  group["targets"] = {"Linear"};
  group["weights"] = weights;
  out["config_groups"] = {{"group_0", group}};
  out["format"] = "float-quantized";
  out["global_compression_ratio"] = nullptr;
  out["ignore"] = q.ignore;
  out["kv_cache_scheme"] = nullptr;
  out["quant_method"] = "compressed-tensors";
  out["quantization_status"] = "compressed";
  return out;
}

// DeepSeek's config.json lists its keys alphabetically.
ordered_json deepseek_json(const ModelConfig& c, const MlaConfig& mla) {
  ordered_json out;
  out["architectures"] = {kDeepseekArchitecture};
  out["attention_bias"] = false;
  out["attention_dropout"] = 0.0;
  out["bos_token_id"] = c.bos_token_id ? ordered_json(*c.bos_token_id) : ordered_json(nullptr);
  put_eos(out, c.eos_token_ids);
  out["first_k_dense_replace"] = c.moe.first_k_dense_replace;
  out["hidden_act"] = kHiddenAct;
  out["hidden_size"] = c.hidden_size;
  out["initializer_range"] = kInitializerRange;
  out["intermediate_size"] = c.intermediate_size;
  out["kv_lora_rank"] = mla.kv_lora_rank;
  out["max_position_embeddings"] = c.max_position_embeddings;
  out["model_type"] = c.model_type.empty() ? family_name(c.family) : c.model_type;
  out["moe_intermediate_size"] = c.moe.moe_intermediate_size;
  out["moe_layer_freq"] = c.moe.moe_layer_freq;
  out["n_group"] = c.moe.n_group;
  out["n_routed_experts"] = c.moe.n_routed_experts;
  out["n_shared_experts"] = c.moe.n_shared_experts;
  out["norm_topk_prob"] = c.moe.norm_topk_prob;
  out["num_attention_heads"] = c.num_attention_heads;
  out["num_experts_per_tok"] = c.moe.num_experts_per_tok;
  out["num_hidden_layers"] = c.num_hidden_layers;
  out["num_key_value_heads"] = c.num_attention_heads;  // MLA: one latent, heads == kv heads
  out["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
  out["q_lora_rank"] = mla.q_lora_rank ? ordered_json(*mla.q_lora_rank) : ordered_json(nullptr);
  out["qk_nope_head_dim"] = mla.qk_nope_head_dim;
  out["qk_rope_head_dim"] = mla.qk_rope_head_dim;
  if (c.quantization.method != QuantizationConfig::Method::kNone) {
    out["quantization_config"] = quantization_json(c.quantization);
  }
  out["rms_norm_eps"] = c.rms_norm_eps;
  out["rope_scaling"] = rope_json(c.rope_scaling, "type");
  out["rope_theta"] = c.rope_theta;
  out["routed_scaling_factor"] = c.moe.routed_scaling_factor;
  out["scoring_func"] = "sigmoid";
  out["tie_word_embeddings"] = c.tie_word_embeddings;
  out["topk_group"] = c.moe.topk_group;
  out["topk_method"] = "noaux_tc";
  out["torch_dtype"] = c.torch_dtype;
  out["use_cache"] = true;
  out["v_head_dim"] = mla.v_head_dim;
  out["vocab_size"] = c.vocab_size;
  return out;
}

// GLM's config.json keeps the order of zai-org's files (GLM-4.5 … 4.7), quantization last.
ordered_json glm_json(const ModelConfig& c, const GqaConfig& gqa) {
  ordered_json out;
  out["architectures"] = {kGlmArchitecture};
  out["attention_bias"] = gqa.attention_bias;
  out["attention_dropout"] = 0.0;
  if (c.bos_token_id) out["bos_token_id"] = *c.bos_token_id;
  put_eos(out, c.eos_token_ids);
  out["head_dim"] = gqa.head_dim;
  out["hidden_act"] = kHiddenAct;
  out["hidden_size"] = c.hidden_size;
  out["partial_rotary_factor"] = gqa.partial_rotary_factor;
  out["initializer_range"] = kInitializerRange;
  out["intermediate_size"] = c.intermediate_size;
  out["max_position_embeddings"] = c.max_position_embeddings;
  out["model_type"] = c.model_type.empty() ? family_name(c.family) : c.model_type;
  out["moe_intermediate_size"] = c.moe.moe_intermediate_size;
  out["norm_topk_prob"] = c.moe.norm_topk_prob;
  out["num_attention_heads"] = c.num_attention_heads;
  out["n_group"] = c.moe.n_group;
  out["topk_group"] = c.moe.topk_group;
  out["n_routed_experts"] = c.moe.n_routed_experts;
  out["n_shared_experts"] = c.moe.n_shared_experts;
  out["routed_scaling_factor"] = c.moe.routed_scaling_factor;
  out["num_experts_per_tok"] = c.moe.num_experts_per_tok;
  out["first_k_dense_replace"] = c.moe.first_k_dense_replace;
  out["num_hidden_layers"] = c.num_hidden_layers;
  out["num_key_value_heads"] = gqa.num_key_value_heads;
  out["rms_norm_eps"] = c.rms_norm_eps;
  out["rope_scaling"] = rope_json(c.rope_scaling, "rope_type");
  out["rope_theta"] = c.rope_theta;
  out["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
  out["tie_word_embeddings"] = c.tie_word_embeddings;
  out["torch_dtype"] = c.torch_dtype;
  out["use_cache"] = true;
  out["use_qk_norm"] = gqa.use_qk_norm;
  out["vocab_size"] = c.vocab_size;
  if (c.quantization.method != QuantizationConfig::Method::kNone) {
    out["quantization_config"] = quantization_json(c.quantization);
  }
  return out;
}

}  // namespace

std::string_view family_name(Family family) {
  return family == Family::kDeepseekV3 ? "deepseek_v3" : "glm4_moe";
}

bool ModelConfig::is_moe_layer(int64_t layer) const {
  if (is_mtp_layer(layer)) return true;
  if (layer < moe.first_k_dense_replace) return false;
  if (family == Family::kDeepseekV3) return layer % moe.moe_layer_freq == 0;
  return true;
}

int64_t ModelConfig::qk_head_dim() const {
  if (const MlaConfig* m = mla()) return m->qk_nope_head_dim + m->qk_rope_head_dim;
  return gqa()->head_dim;
}

ModelConfig parse_model_config(std::string_view json_text, std::string_view file_label) {
  const json root_json = config_json::parse_object(json_text, file_label);
  const ObjectReader root(root_json, file_label);
  ModelConfig c;
  c.family = parse_family(root, c.architecture);
  c.model_type = root.optional_string("model_type").value_or(std::string(family_name(c.family)));

  c.hidden_size = root.required_int("hidden_size", 1);
  c.vocab_size = root.required_int("vocab_size", 1);
  c.num_hidden_layers = root.required_int("num_hidden_layers", 1);
  c.num_nextn_predict_layers = root.optional_int("num_nextn_predict_layers", 0, 0);
  c.num_attention_heads = root.required_int("num_attention_heads", 1);
  c.intermediate_size = root.required_int("intermediate_size", 1);
  c.max_position_embeddings = root.required_int("max_position_embeddings", 1);
  c.rms_norm_eps = root.optional_number(
      "rms_norm_eps", c.family == Family::kDeepseekV3 ? kDeepseekDefaultEps : kGlmDefaultEps);
  if (!(c.rms_norm_eps > 0.0))
    root.fail_expected("rms_norm_eps", "a positive number", c.rms_norm_eps);

  const std::optional<ObjectReader> rope = rope_block(root);
  // transformers >= 5 keeps rope_theta inside rope_parameters; it wins over a stale top level.
  c.rope_theta = root.optional_number("rope_theta", kDefaultRopeTheta);
  if (rope && rope->has("rope_theta")) c.rope_theta = rope->optional_number("rope_theta", 0.0);
  if (!(c.rope_theta > 0.0)) root.fail_expected("rope_theta", "a positive number", c.rope_theta);
  c.rope_scaling = parse_rope_scaling(rope);

  c.tie_word_embeddings = root.optional_bool("tie_word_embeddings", false);
  if (c.tie_word_embeddings) {
    // SPEC §4: the model has its own lm_head, and the MTP layers share it by name.
    root.fail_field("tie_word_embeddings",
                    "true is not supported; both families have an "
                    "untied lm_head");
  }
  std::optional<std::string> dtype = root.optional_string("torch_dtype");
  if (!dtype) dtype = root.optional_string("dtype");
  c.torch_dtype = dtype.value_or("bfloat16");

  if (c.family == Family::kDeepseekV3) {
    c.attention = parse_mla(root);
  } else {
    c.attention = parse_gqa(root, rope, c.hidden_size, c.num_attention_heads);
  }
  c.moe = parse_moe(root, c.family, c.num_hidden_layers);
  c.quantization = parse_quantization(root);

  if (const json* bos = root.find("bos_token_id")) {
    if (!bos->is_number()) root.fail_expected("bos_token_id", "a token id", *bos);
    c.bos_token_id = root.optional_int("bos_token_id", 0, 0);
  }
  c.eos_token_ids = root.token_ids("eos_token_id");
  for (int64_t id : c.eos_token_ids) {
    if (id >= c.vocab_size) {
      root.fail_field("eos_token_id", fmt::format("{} is outside vocab_size {}", id, c.vocab_size));
    }
  }
  if (c.bos_token_id && *c.bos_token_id >= c.vocab_size) {
    root.fail_field("bos_token_id",
                    fmt::format("{} is outside vocab_size {}", *c.bos_token_id, c.vocab_size));
  }
  return c;
}

ModelConfig load_model_config(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "config.json";
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail("{}: cannot open (is {} a HuggingFace model directory?)", path.string(), dir.string());
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) fail("{}: read failed", path.string());
  return parse_model_config(text, path.string());
}

std::string model_config_to_json(const ModelConfig& config) {
  const bool deepseek = config.family == Family::kDeepseekV3;
  if (deepseek ? config.mla() == nullptr : config.gqa() == nullptr) {
    fail("model_config_to_json: a {} config needs {} attention", family_name(config.family),
         deepseek ? "MLA" : "GQA");
  }
  const ordered_json out =
      deepseek ? deepseek_json(config, *config.mla()) : glm_json(config, *config.gqa());
  return out.dump(2) + "\n";
}

}  // namespace nextn
