#include "tiny/tiny_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/generation_config.h"
#include "tiny/tiny_tokenizer.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "weights/tensor_table.h"

namespace nextn {
namespace {

// splitmix64: a tiny, portable generator, so a seed gives the same checkpoint on every machine.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() {  // [-1, 1)
    return static_cast<float>(static_cast<double>(next() >> 11) * 0x1.0p-53 * 2.0 - 1.0);
  }

 private:
  uint64_t state_;
};

uint64_t hash_name(const std::string& name) {  // FNV-1a: per-tensor streams, order-independent
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Values in the ranges a trained model has: norms near 1, projections ~ U(-1,1)/sqrt(in).
std::vector<float> random_values(const TensorSpec& spec, uint64_t seed) {
  Rng rng(seed ^ hash_name(spec.hf_name));
  std::vector<float> values(static_cast<size_t>(spec.numel()));
  float scale = 1.0f;
  float offset = 0.0f;
  switch (spec.role) {
    case TensorRole::kNorm: scale = 0.2f; offset = 1.0f; break;
    case TensorRole::kRouterBias: scale = 0.05f; break;
    case TensorRole::kBias: scale = 0.1f; break;
    case TensorRole::kEmbedding: scale = 1.0f; break;
    default:
      scale = 1.0f / std::sqrt(static_cast<float>(spec.shape.back()));
      break;
  }
  for (float& v : values) v = offset + scale * rng.uniform();
  return values;
}

template <typename T>
std::vector<std::byte> as_bytes(const std::vector<T>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::vector<std::byte> encode(const std::vector<float>& values, DType dtype) {
  switch (dtype) {
    case DType::kF32: return as_bytes(values);
    case DType::kBF16: {
      std::vector<uint16_t> out(values.size());
      std::transform(values.begin(), values.end(), out.begin(), f32_to_bf16);
      return as_bytes(out);
    }
    case DType::kF16: {
      std::vector<uint16_t> out(values.size());
      std::transform(values.begin(), values.end(), out.begin(), f32_to_f16);
      return as_bytes(out);
    }
    case DType::kF8E4M3: {
      std::vector<uint8_t> out(values.size());
      std::transform(values.begin(), values.end(), out.begin(), f32_to_fp8_e4m3);
      return as_bytes(out);
    }
  }
  return {};
}

// FP8 quantization of an [out, in] weight: each scale group (block, row, or whole tensor)
// gets scale = amax / 448 and stores round(w / scale); value = fp8 × scale (SPEC §2).
struct Quantized {
  std::vector<std::byte> weight;
  std::vector<float> scales;
};

Quantized quantize_fp8(const std::vector<float>& w, int64_t out, int64_t in,
                       const QuantizationConfig& q) {
  using Strategy = QuantizationConfig::Strategy;
  int64_t block_rows = out;
  int64_t block_cols = in;
  if (q.strategy == Strategy::kBlock) {
    block_rows = q.block_rows;
    block_cols = q.block_cols;
  } else if (q.strategy == Strategy::kChannel) {
    block_rows = 1;
  }
  const int64_t grid_rows = (out + block_rows - 1) / block_rows;
  const int64_t grid_cols = (in + block_cols - 1) / block_cols;
  Quantized result;
  result.scales.assign(static_cast<size_t>(grid_rows * grid_cols), 0.0f);
  std::vector<uint8_t> codes(w.size());
  for (int64_t br = 0; br < grid_rows; ++br) {
    for (int64_t bc = 0; bc < grid_cols; ++bc) {
      const int64_t r_end = std::min(out, (br + 1) * block_rows);
      const int64_t c_end = std::min(in, (bc + 1) * block_cols);
      float amax = 0.0f;
      for (int64_t r = br * block_rows; r < r_end; ++r) {
        for (int64_t c = bc * block_cols; c < c_end; ++c) {
          amax = std::max(amax, std::fabs(w[static_cast<size_t>(r * in + c)]));
        }
      }
      const float scale = amax > 0.0f ? amax / kFp8E4M3Max : 1.0f;
      result.scales[static_cast<size_t>(br * grid_cols + bc)] = scale;
      for (int64_t r = br * block_rows; r < r_end; ++r) {
        for (int64_t c = bc * block_cols; c < c_end; ++c) {
          const size_t i = static_cast<size_t>(r * in + c);
          codes[i] = f32_to_fp8_e4m3(w[i] / scale);
        }
      }
    }
  }
  result.weight = as_bytes(codes);
  return result;
}

// TinyOptions::predictable: see its comment.
void make_predictable(const TensorSpec& spec, const ModelConfig& config, uint64_t seed,
                      std::vector<float>& values) {
  constexpr float kResidualScale = 0.3f;
  const std::string& name = spec.hf_name;
  const bool writes_residual = name.ends_with("o_proj.weight") || name.ends_with("down_proj.weight");
  if (writes_residual) {
    for (float& v : values) v *= kResidualScale;
  } else if (name.ends_with("eh_proj.weight")) {  // [H, 2H]: identity on the embedding half
    const int64_t H = config.hidden_size;
    for (int64_t r = 0; r < H; ++r) {
      for (int64_t c = 0; c < 2 * H; ++c) {
        float& v = values[static_cast<size_t>(r * 2 * H + c)];
        v = c < H ? (r == c ? 1.0f : 0.0f) : v * kResidualScale;
      }
    }
  } else if (name.ends_with("enorm.weight")) {
    std::fill(values.begin(), values.end(), 1.0f);
  } else if (name.ends_with("shared_head.norm.weight")) {
    values = random_values({.hf_name = "model.norm.weight", .shape = spec.shape,
                            .role = TensorRole::kNorm},
                           seed);
  }
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) fail("cannot write {}", path.string());
}

// The tensors of a checkpoint, grouped into shard files: contiguous runs of the table, as the
// HuggingFace writer fills shards in order.
std::vector<std::string> shard_names(int shards) {
  std::vector<std::string> names;
  if (shards <= 1) return {std::string(kSingleFileName)};
  for (int i = 1; i <= shards; ++i) {
    names.push_back(fmt::format("model-{:05d}-of-{:05d}.safetensors", i, shards));
  }
  return names;
}

size_t shard_of(size_t index, size_t count, int shards) {
  return shards <= 1 ? 0 : index * static_cast<size_t>(shards) / count;
}

void write_index(const std::filesystem::path& dir, const std::vector<std::string>& tensor_names,
                 const std::vector<std::string>& tensor_files, uint64_t total_size) {
  // nlohmann::json keeps an object's keys in a std::map: "metadata" before "weight_map", and
  // the weight map in name order, with a logarithmic insert (an ordered_json insert is a
  // linear search, quadratic over DeepSeek-V3's 91,991 names).
  nlohmann::json index;
  index["metadata"] = {{"total_size", total_size}};
  nlohmann::json& weight_map = index["weight_map"] = nlohmann::json::object();
  for (size_t i = 0; i < tensor_names.size(); ++i) weight_map[tensor_names[i]] = tensor_files[i];
  write_text(dir / kIndexFileName, index.dump(2) + "\n");
}

// The table of what a checkpoint stores: the model's parameters, with the MTP layers' own
// copies dropped or, for MTP layers after the first, added (rule 3 loads only the first).
std::vector<TensorSpec> stored_tensors(const ModelConfig& config, bool mtp_copies) {
  std::vector<TensorSpec> stored;
  for (TensorSpec& spec : build_tensor_table(config)) {
    if (spec.shared_with && !mtp_copies) continue;
    stored.push_back(std::move(spec));
  }
  if (mtp_copies) {
    const TensorSpec embed = stored.front();  // model.embed_tokens.weight
    for (int64_t k = 1; k < config.num_nextn_predict_layers; ++k) {
      TensorSpec copy = embed;
      copy.hf_name =
          fmt::format("model.layers.{}.embed_tokens.weight", config.num_hidden_layers + k);
      copy.name = copy.hf_name;
      copy.part = ModelPart::kMtp;
      stored.push_back(std::move(copy));
    }
  }
  return stored;
}

}  // namespace

ModelConfig tiny_config(const TinyOptions& options) {
  ModelConfig config;
  config.family = options.family;
  config.hidden_size = options.hidden;
  config.vocab_size = options.vocab;
  config.num_hidden_layers = options.layers;
  config.num_nextn_predict_layers = options.mtp_layers;
  config.num_attention_heads = options.heads;
  config.intermediate_size = options.intermediate;
  config.max_position_embeddings = 4096;
  config.torch_dtype = "bfloat16";
  config.bos_token_id = 0;
  config.eos_token_ids = {1};
  config.moe = MoeConfig{.n_routed_experts = options.experts,
                         .n_shared_experts = 1,
                         .num_experts_per_tok = options.top_k,
                         .moe_intermediate_size = options.moe_intermediate,
                         .n_group = options.groups,
                         .topk_group = options.top_groups,
                         .norm_topk_prob = true,
                         .routed_scaling_factor = 2.5,
                         .first_k_dense_replace = options.first_dense,
                         .moe_layer_freq = 1};
  if (options.family == Family::kDeepseekV3) {
    config.architecture = "DeepseekV3ForCausalLM";
    config.model_type = "deepseek_v3";
    config.rms_norm_eps = 1e-6;
    config.rope_theta = 10000.0;
    config.attention = MlaConfig{.q_lora_rank = options.q_lora_rank > 0
                                                    ? std::optional<int64_t>(options.q_lora_rank)
                                                    : std::nullopt,
                                 .kv_lora_rank = options.kv_lora_rank,
                                 .qk_nope_head_dim = options.qk_nope_head_dim,
                                 .qk_rope_head_dim = options.qk_rope_head_dim,
                                 .v_head_dim = options.v_head_dim};
    if (options.yarn) {
      config.rope_scaling = RopeScaling{.type = RopeScaling::Type::kYarn,
                                        .factor = 40.0,
                                        .original_max_position_embeddings = 64,
                                        .beta_fast = 32.0,
                                        .beta_slow = 1.0,
                                        .mscale = 1.0,
                                        .mscale_all_dim = 1.0};
    }
  } else {
    config.architecture = "Glm4MoeForCausalLM";
    config.model_type = "glm4_moe";
    config.rms_norm_eps = 1e-5;
    config.rope_theta = 1000000.0;
    const int64_t kv_heads =
        options.kv_heads > 0 ? options.kv_heads : std::max<int64_t>(1, options.heads / 2);
    config.attention = GqaConfig{.num_key_value_heads = kv_heads,
                                 .head_dim = options.head_dim,
                                 .partial_rotary_factor = 0.5,
                                 .use_qk_norm = options.qk_norm,
                                 .attention_bias = true};
  }
  if (options.fp8) {
    QuantizationConfig& q = config.quantization;
    q.block_rows = q.block_cols = options.fp8_block;
    if (options.family == Family::kDeepseekV3) {
      q.method = QuantizationConfig::Method::kFp8Block;
      q.strategy = QuantizationConfig::Strategy::kBlock;
    } else {
      q.method = QuantizationConfig::Method::kCompressedTensorsFp8;
      q.strategy = options.fp8_strategy;
      q.ignore = {"lm_head"};
    }
  }
  return config;
}

void write_tiny_checkpoint(const std::filesystem::path& dir, const TinyOptions& options) {
  if (options.shards < 1) fail("make-tiny: --shards must be at least 1, got {}", options.shards);
  const ModelConfig config = tiny_config(options);
  const std::string config_json = model_config_to_json(config);
  // The parser's validation names the field a bad option broke (e.g. top-k > experts).
  parse_model_config(config_json, "make-tiny options");
  std::filesystem::create_directories(dir);
  write_text(dir / "config.json", config_json);
  GenerationConfig generation{.bos_token_id = config.bos_token_id,
                              .eos_token_ids = config.eos_token_ids,
                              .do_sample = true,
                              .temperature = 0.6,
                              .top_p = 0.95};
  write_text(dir / "generation_config.json", generation_config_to_json(generation));
  if (options.tokenizer) write_tiny_tokenizer(dir, options.family, config.vocab_size);

  const std::vector<TensorSpec> stored = stored_tensors(config, options.mtp_copies);
  // Values per weight name, so a scale is derived from its own weight and MTP copies equal the
  // tensors they copy (as in the real releases).
  std::map<std::string, std::vector<float>> weight_values;
  std::map<std::string, std::vector<float>> scale_values;
  auto values_of = [&](const TensorSpec& spec) -> std::vector<float> {
    if (spec.shared_with) return random_values({.hf_name = *spec.shared_with, .shape = spec.shape,
                                                .role = spec.role},
                                               options.seed);
    if (spec.role == TensorRole::kEmbedding && spec.layer >= 0) {  // extra MTP copies
      return random_values({.hf_name = "model.embed_tokens.weight", .shape = spec.shape,
                            .role = spec.role},
                           options.seed);
    }
    std::vector<float> values = random_values(spec, options.seed);
    if (options.predictable) make_predictable(spec, config, options.seed, values);
    return values;
  };

  std::vector<std::string> files = shard_names(options.shards);
  std::vector<SafetensorsWriter> writers(files.size());
  std::vector<std::string> tensor_names;
  std::vector<std::string> tensor_files;
  uint64_t total_size = 0;
  std::vector<float> pending_scales;
  for (size_t i = 0; i < stored.size(); ++i) {
    const TensorSpec& spec = stored[i];
    const size_t shard = shard_of(i, stored.size(), options.shards);
    std::vector<std::byte> bytes;
    if (spec.role == TensorRole::kLinearScale) {
      bytes = encode(pending_scales, DType::kF32);  // the weight just before it set these
    } else if (spec.dtype == DType::kF8E4M3) {
      Quantized q = quantize_fp8(values_of(spec), spec.shape[0], spec.shape[1],
                                 config.quantization);
      bytes = std::move(q.weight);
      pending_scales = std::move(q.scales);
    } else {
      bytes = encode(values_of(spec), spec.dtype);
    }
    total_size += bytes.size();
    writers[shard].add(spec.hf_name, spec.dtype, spec.shape, std::move(bytes));
    tensor_names.push_back(spec.hf_name);
    tensor_files.push_back(files[shard]);
  }
  if (options.skip_extras) {
    const std::string layer0 = "model.layers.0.";
    const std::vector<std::pair<std::string, std::vector<int64_t>>> extras = {
        {layer0 + "self_attn.rotary_emb.inv_freq", {4}},
        {layer0 + "mlp.down_proj.bias", {config.hidden_size}},
        {layer0 + "mlp.down_proj.weight_scale", {1}},
        {layer0 + "self_attn.kv_scale", {}},
    };
    for (const auto& [name, shape] : extras) {
      int64_t numel = 1;
      for (int64_t d : shape) numel *= d;
      std::vector<float> zeros(static_cast<size_t>(numel), 0.0f);
      writers.back().add(name, DType::kF32, shape, encode(zeros, DType::kF32));
      total_size += static_cast<uint64_t>(numel) * 4;
      tensor_names.push_back(name);
      tensor_files.push_back(files.back());
    }
  }
  for (size_t shard = 0; shard < files.size(); ++shard) writers[shard].write(dir / files[shard]);
  if (options.shards > 1) write_index(dir, tensor_names, tensor_files, total_size);
}

void write_index_only(const std::filesystem::path& dir, const ModelConfig& config, int shards,
                      bool mtp_copies) {
  if (shards < 1) fail("make-tiny: --shards must be at least 1, got {}", shards);
  std::filesystem::create_directories(dir);
  const std::vector<TensorSpec> stored = stored_tensors(config, mtp_copies);
  const std::vector<std::string> files = shard_names(std::max(shards, 2));
  std::vector<std::string> tensor_names;
  std::vector<std::string> tensor_files;
  uint64_t total_size = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    tensor_names.push_back(stored[i].hf_name);
    tensor_files.push_back(files[shard_of(i, stored.size(), std::max(shards, 2))]);
    total_size += stored[i].nbytes();
  }
  write_index(dir, tensor_names, tensor_files, total_size);
}

}  // namespace nextn
