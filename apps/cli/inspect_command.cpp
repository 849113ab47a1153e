// `nextn inspect MODEL_DIR`: what a checkpoint holds and what loading it costs, from the config
// and the index alone when the weights are not there yet.
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "config/model_config.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "weights/load_plan.h"
#include "weights/memory_estimate.h"
#include "weights/tensor_table.h"

namespace nextn::cli {
namespace {

struct InspectArgs {
  std::string model_dir;
  bool json = false;
  bool share_copies = false;
  int64_t context = 4096;
  bool list_unused = false;
};

// Bytes in the unit that keeps three significant digits: a real release is hundreds of GB, a
// tiny test checkpoint a few hundred kB.
std::string gb(uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.2f} MB", b / 1e6);
  return fmt::format("{:.1f} kB", b / 1e3);
}

std::string layer_kinds(const ModelConfig& config, nlohmann::ordered_json& out) {
  int64_t dense = 0;
  int64_t moe = 0;
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    (config.is_moe_layer(layer) ? moe : dense) += 1;
  }
  out["dense"] = dense;
  out["moe"] = moe;
  out["mtp"] = config.num_nextn_predict_layers;
  std::string text = fmt::format("{} dense, {} MoE", dense, moe);
  if (config.num_nextn_predict_layers > 0) {
    text += fmt::format(", {} MTP (layer{} {}", config.num_nextn_predict_layers,
                        config.num_nextn_predict_layers > 1 ? "s" : "", config.num_hidden_layers);
    if (config.num_nextn_predict_layers > 1) text += fmt::format("-{}", config.total_layers() - 1);
    text += ")";
  }
  return text;
}

std::string attention_text(const ModelConfig& config) {
  if (const MlaConfig* mla = config.mla()) {
    return fmt::format("MLA, {} heads, q_lora {}, kv_lora {}, qk_nope {}, qk_rope {}, v {}",
                       config.num_attention_heads,
                       mla->q_lora_rank ? std::to_string(*mla->q_lora_rank) : "none",
                       mla->kv_lora_rank, mla->qk_nope_head_dim, mla->qk_rope_head_dim,
                       mla->v_head_dim);
  }
  const GqaConfig& gqa = *config.gqa();
  return fmt::format("GQA, {} heads / {} KV heads, head_dim {}, RoPE on {} dims, qk-norm {}, "
                     "bias {}",
                     config.num_attention_heads, gqa.num_key_value_heads, gqa.head_dim,
                     static_cast<int64_t>(static_cast<double>(gqa.head_dim) *
                                          gqa.partial_rotary_factor),
                     gqa.use_qk_norm ? "on" : "off", gqa.attention_bias ? "on" : "off");
}

std::string quantization_text(const QuantizationConfig& q) {
  using Method = QuantizationConfig::Method;
  using Strategy = QuantizationConfig::Strategy;
  switch (q.method) {
    case Method::kNone: return "none";
    case Method::kFp8Block:
      return fmt::format("fp8 e4m3, {}x{} blocks (weight_scale_inv)", q.block_rows, q.block_cols);
    case Method::kCompressedTensorsFp8:
      return fmt::format("compressed-tensors fp8 e4m3, {} scales (weight_scale), {} ignored",
                         q.strategy == Strategy::kBlock     ? "block"
                         : q.strategy == Strategy::kChannel ? "channel"
                                                            : "tensor",
                         q.ignore.size());
  }
  return "?";
}

int run_inspect(const InspectArgs& args) {
  const ModelConfig config = load_model_config(args.model_dir);
  const Checkpoint checkpoint = Checkpoint::open(args.model_dir);
  const bool weights = checkpoint.weights_present();
  const std::vector<TensorSpec> table = build_tensor_table(config);
  nlohmann::ordered_json report;
  std::string text;
  auto line = [&](std::string_view key, const std::string& value) {
    text += fmt::format("{:<14}{}\n", key, value);
  };

  report["model"] = args.model_dir;
  report["family"] = family_name(config.family);
  report["architecture"] = config.architecture;
  line("model", args.model_dir);
  line("family", fmt::format("{} ({})", family_name(config.family), config.architecture));
  report["hidden_size"] = config.hidden_size;
  report["vocab_size"] = config.vocab_size;
  report["num_hidden_layers"] = config.num_hidden_layers;
  report["num_nextn_predict_layers"] = config.num_nextn_predict_layers;
  line("sizes", fmt::format("H {}, V {}, L {}, D {}, dense MLP {}", config.hidden_size,
                            config.vocab_size, config.num_hidden_layers,
                            config.num_nextn_predict_layers, config.intermediate_size));
  line("attention", attention_text(config));
  const MoeConfig& moe = config.moe;
  line("moe", fmt::format("{} routed experts (top-{}, {} groups keep {}) + {} shared, width {}, "
                          "scaling {}, norm_topk_prob {}",
                          moe.n_routed_experts, moe.num_experts_per_tok, moe.n_group,
                          moe.topk_group, moe.n_shared_experts, moe.moe_intermediate_size,
                          moe.routed_scaling_factor, moe.norm_topk_prob ? "on" : "off"));
  nlohmann::ordered_json kinds;
  line("layers", layer_kinds(config, kinds));
  report["layers"] = kinds;
  line("quantization", quantization_text(config.quantization));

  // Tensors by dtype: from the headers when the weights are here, else from the config.
  std::map<std::string, std::string> dtype_of_spec;
  for (const TensorSpec& spec : table) dtype_of_spec[spec.hf_name] = dtype_name(spec.dtype);
  std::map<std::string, int64_t> by_dtype;
  for (const std::string& name : checkpoint.tensor_names()) {
    std::string dtype = "unknown";
    if (weights) {
      dtype = dtype_name(checkpoint.entry(name).dtype);
    } else if (auto it = dtype_of_spec.find(name); it != dtype_of_spec.end()) {
      dtype = it->second;
    }
    by_dtype[dtype] += 1;
  }
  report["weights_present"] = weights;
  report["files"] = checkpoint.files().size();
  report["tensors"] = checkpoint.tensor_names().size();
  report["tensors_by_dtype"] = by_dtype;
  if (checkpoint.index_total_size()) report["index_total_size"] = *checkpoint.index_total_size();
  std::string dtypes;
  for (const auto& [dtype, count] : by_dtype) {
    dtypes += fmt::format("{}{} {}", dtypes.empty() ? "" : ", ", count, dtype);
  }
  line("weights", fmt::format("{} ({} file(s), {} tensors{})",
                              weights ? "present" : "not present: sizes estimated from config.json",
                              checkpoint.files().size(), checkpoint.tensor_names().size(),
                              checkpoint.index_total_size()
                                  ? fmt::format(", index total_size {}",
                                                gb(*checkpoint.index_total_size()))
                                  : ""));
  line("dtypes", dtypes + (weights ? "" : " (as config.json implies)"));

  const LoadOptions full{.mode = LoadMode::kFull, .share_target_copies = args.share_copies};
  const LoadPlan full_plan = plan_load(table, checkpoint.tensor_names(), config, full);
  // MTP tensors: the layer's own ones, and those the target lends it (rule 3).
  nlohmann::ordered_json mtp;
  int64_t mtp_block = 0;
  std::vector<std::string> own;
  std::vector<std::string> shared;
  for (const PlannedTensor& planned : full_plan.tensors) {
    if (planned.spec->part != ModelPart::kMtp) continue;
    if (planned.spec->name.find(".block.") != std::string::npos) {
      ++mtp_block;
    } else if (planned.shared) {
      shared.push_back(fmt::format("{} <- {}", planned.spec->hf_name, planned.source));
    } else {
      own.push_back(planned.spec->hf_name);
    }
  }
  mtp["block_tensors"] = mtp_block;
  mtp["own"] = own;
  mtp["shared"] = shared;
  report["mtp"] = mtp;
  if (config.num_nextn_predict_layers > 0) {
    line("mtp block", fmt::format("{} tensors", mtp_block));
    line("mtp own", fmt::format("{}", fmt::join(own, ", ")));
    line("mtp shared", shared.empty() ? "none" : fmt::format("{}", fmt::join(shared, ", ")));
  }

  text += fmt::format("{:<14}{:<13}{:>9}{:>14}{:>16}{:>14}{:>16}\n", "load mode", "", "tensors",
                      "bytes", "resident@ctx", "target step", "mtp step");
  nlohmann::ordered_json modes = nlohmann::ordered_json::object();
  std::vector<std::string> problems;
  for (LoadMode mode : {LoadMode::kFull, LoadMode::kTargetOnly, LoadMode::kMtpOnly}) {
    if (mode != LoadMode::kTargetOnly && config.num_nextn_predict_layers == 0) continue;
    const LoadOptions options{.mode = mode, .share_target_copies = args.share_copies};
    const LoadPlan plan = plan_load(table, checkpoint.tensor_names(), config, options);
    const MemoryEstimate estimate =
        estimate_memory(plan, config, mode, weights ? &checkpoint : nullptr);
    const uint64_t resident = estimate.resident_bytes(static_cast<uint64_t>(args.context));
    text += fmt::format("  {:<25}{:>9}{:>14}{:>16}{:>14}{:>16}\n", load_mode_name(mode),
                        plan.distinct_sources().size(), gb(estimate.weight_bytes), gb(resident),
                        gb(estimate.target_step_bytes), gb(estimate.mtp_step_bytes));
    modes[std::string(load_mode_name(mode))] = {
        {"tensors", plan.distinct_sources().size()},
        {"weight_bytes", estimate.weight_bytes},
        {"resident_bytes", resident},
        {"target_step_bytes", estimate.target_step_bytes},
        {"mtp_step_bytes", estimate.mtp_step_bytes},
        {"kv_bytes_per_token", estimate.kv_bytes_per_token},
        {"missing", plan.missing},
    };
    if (!plan.missing.empty()) {
      problems.push_back(describe_missing(plan, fmt::format("load mode {}", load_mode_name(mode))));
    }
  }
  report["context_tokens"] = args.context;
  report["load_modes"] = modes;
  const LoadMode widest = config.num_nextn_predict_layers > 0 ? LoadMode::kFull
                                                               : LoadMode::kTargetOnly;
  line("kv cache",
       fmt::format("{} bytes per token over all layers ({} mode, fp32), context {} tokens",
                   modes[std::string(load_mode_name(widest))]["kv_bytes_per_token"].get<uint64_t>(),
                   load_mode_name(widest), args.context));
  std::map<std::string, int64_t> skipped;
  for (const auto& [name, reason] : full_plan.skipped) skipped[std::string(skip_reason_text(reason))]++;
  report["skipped"] = skipped;
  report["unused"] = full_plan.unused;
  for (const auto& [reason, count] : skipped) line("skipped", fmt::format("{} x {}", count, reason));
  if (!full_plan.unused.empty()) {
    line("unused", fmt::format("{} tensor(s) no parameter claims{}", full_plan.unused.size(),
                               args.list_unused ? ":" : " (--list-unused shows them)"));
    if (args.list_unused) {
      for (const std::string& name : full_plan.unused) text += fmt::format("  {}\n", name);
    }
  }
  report["coverage_problems"] = problems;
  if (problems.empty()) {
    line("coverage", "ok: every parameter has exactly one source");
  } else {
    for (const std::string& problem : problems) line("coverage", problem);
  }
  if (args.json) {
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    std::fputs(text.c_str(), stdout);
  }
  return problems.empty() ? 0 : 3;
}

}  // namespace

Action add_inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show what a checkpoint holds and what loading it costs (weights optional)");
  cmd->add_option("model_dir", args->model_dir, "Checkpoint directory (config.json + index)")
      ->required();
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->add_flag("--share-target-copies", args->share_copies,
                "Use the target's embedding/head for the MTP layers even when they have copies");
  cmd->add_option("--ctx", args->context, "Context length for the resident-memory estimate")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_flag("--list-unused", args->list_unused, "List checkpoint tensors nothing uses");
  return [args]() { return run_inspect(*args); };
}

}  // namespace nextn::cli
