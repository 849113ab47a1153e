// `nextn make-tiny`: writes a tiny HuggingFace-format checkpoint with random weights, or the
// index of a real model's config (for planning and tests without the weights).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "commands.h"
#include "config/model_config.h"
#include "core/error.h"
#include "tiny/tiny_checkpoint.h"

namespace nextn::cli {
namespace {

struct MakeTinyArgs {
  std::string out;
  std::string family = "deepseek-v3";
  std::string fp8_strategy = "block";
  std::string qk_norm = "on";
  std::string from_config;
  TinyOptions options;
};

}  // namespace

Action add_make_tiny_command(CLI::App& app) {
  auto args = std::make_shared<MakeTinyArgs>();
  TinyOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "make-tiny", "Write a tiny checkpoint with random weights (or a real config's index)");
  cmd->add_option("--out", args->out, "Output directory")->required();
  cmd->add_option("--family", args->family, "deepseek-v3 or glm4-moe")
      ->check(CLI::IsMember({"deepseek-v3", "glm4-moe"}));
  cmd->add_option("--hidden", o.hidden, "Hidden size H")->check(CLI::Range(8, 1 << 16));
  cmd->add_option("--vocab", o.vocab, "Vocabulary size V")->check(CLI::Range(4, 1 << 20));
  cmd->add_option("--layers", o.layers, "Decoder layers L")->check(CLI::Range(1, 512));
  cmd->add_option("--first-dense", o.first_dense, "first_k_dense_replace")
      ->check(CLI::Range(0, 512));
  cmd->add_option("--heads", o.heads, "Attention heads")->check(CLI::Range(1, 256));
  cmd->add_option("--q-lora-rank", o.q_lora_rank, "DeepSeek q_lora_rank (0: no q LoRA)")
      ->check(CLI::Range(0, 1 << 16));
  cmd->add_option("--kv-lora-rank", o.kv_lora_rank, "DeepSeek kv_lora_rank")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--qk-nope-dim", o.qk_nope_head_dim, "DeepSeek qk_nope_head_dim")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--qk-rope-dim", o.qk_rope_head_dim, "DeepSeek qk_rope_head_dim (even)")
      ->check(CLI::Range(2, 4096));
  cmd->add_option("--v-head-dim", o.v_head_dim, "DeepSeek v_head_dim")->check(CLI::Range(1, 4096));
  cmd->add_option("--head-dim", o.head_dim, "GLM head_dim")->check(CLI::Range(2, 4096));
  cmd->add_option("--kv-heads", o.kv_heads, "GLM key/value heads (default: heads / 2)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--experts", o.experts, "Routed experts")->check(CLI::Range(1, 1024));
  cmd->add_option("--top-k", o.top_k, "Experts per token")->check(CLI::Range(1, 1024));
  cmd->add_option("--groups", o.groups, "Expert groups (n_group)")->check(CLI::Range(1, 64));
  cmd->add_option("--top-groups", o.top_groups, "Groups kept (topk_group)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--intermediate", o.intermediate, "Dense MLP width")
      ->check(CLI::Range(1, 1 << 18));
  cmd->add_option("--moe-intermediate", o.moe_intermediate, "Expert width")
      ->check(CLI::Range(1, 1 << 18));
  cmd->add_option("--mtp-layers", o.mtp_layers, "MTP layers D")->check(CLI::Range(0, 8));
  cmd->add_flag("!--no-mtp-copies", o.mtp_copies,
                "Leave out the MTP layers' own embed_tokens / shared_head.head (as GLM-4.6)");
  cmd->add_option("--qk-norm", args->qk_norm, "GLM use_qk_norm: on or off")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_flag("--yarn", o.yarn, "DeepSeek: YaRN rope scaling");
  cmd->add_flag("--fp8", o.fp8,
                "FP8 weights: block FP8 (DeepSeek) or compressed-tensors (GLM)");
  cmd->add_option("--fp8-strategy", args->fp8_strategy, "GLM FP8 scales: block, channel, tensor")
      ->check(CLI::IsMember({"block", "channel", "tensor"}));
  cmd->add_option("--fp8-block", o.fp8_block, "FP8 block size (rows and columns)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--shards", o.shards, "Number of safetensors shards (>1 writes an index)")
      ->check(CLI::Range(1, 10000));
  cmd->add_flag("--skip-extras", o.skip_extras,
                "Add tensors the loader must skip (inv_freq, orphan bias/scale, kv_scale)");
  cmd->add_flag("--predictable", o.predictable,
                "Near-bigram target whose MTP layer drafts well (for tests of acceptance)");
  cmd->add_flag("--tokenizer", o.tokenizer,
                "Also write a byte-level BPE tokenizer.json + tokenizer_config.json with a chat "
                "template (needs --vocab >= 260 for deepseek-v3, 262 for glm4-moe)");
  cmd->add_option("--seed", o.seed, "Random seed");
  cmd->add_option("--from-config", args->from_config,
                  "Write only config.json + index for this real config.json (no weights)");
  return [args]() {
    TinyOptions options = args->options;
    const std::filesystem::path out = args->out;
    if (!args->from_config.empty()) {
      const std::filesystem::path source = args->from_config;
      const ModelConfig config = parse_model_config(
          [&] {
            std::ifstream in(source, std::ios::binary);
            if (!in) fail("cannot read --from-config file {}", source.string());
            return std::string(std::istreambuf_iterator<char>(in), {});
          }(),
          source.string());
      std::filesystem::create_directories(out);
      std::filesystem::copy_file(source, out / "config.json",
                                 std::filesystem::copy_options::overwrite_existing);
      write_index_only(out, config, options.shards, options.mtp_copies);
      std::printf("wrote the index of %s to %s\n", source.string().c_str(), out.string().c_str());
      return 0;
    }
    options.family = args->family == "glm4-moe" ? Family::kGlm4Moe : Family::kDeepseekV3;
    options.qk_norm = args->qk_norm == "on";
    if (args->fp8_strategy == "channel") {
      options.fp8_strategy = QuantizationConfig::Strategy::kChannel;
    } else if (args->fp8_strategy == "tensor") {
      options.fp8_strategy = QuantizationConfig::Strategy::kTensor;
    }
    if (options.fp8_strategy != QuantizationConfig::Strategy::kBlock &&
        options.family == Family::kDeepseekV3) {
      fail("--fp8-strategy {}: DeepSeek FP8 checkpoints use 128x128 blocks only; "
           "channel and tensor scales are a compressed-tensors (GLM) feature",
           args->fp8_strategy);
    }
    write_tiny_checkpoint(out, options);
    std::printf("wrote a tiny %s checkpoint to %s\n", args->family.c_str(), out.string().c_str());
    return 0;
  };
}

}  // namespace nextn::cli
