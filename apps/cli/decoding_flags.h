// The sampling and speculation flags that `nextn generate` and `nextn chat` share, and the
// statistics both print.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "config/generation_config.h"
#include "config/model_config.h"
#include "sampling/sampling.h"
#include "spec/spec_stats.h"
#include "spec/speculative_decoder.h"

namespace nextn::cli {

struct DecodingFlags {
  std::optional<float> temperature;
  std::optional<int64_t> top_k;
  std::optional<float> top_p;
  float min_p = 0.0f;
  uint64_t seed = 0;
  std::string spec_tokens = "auto";
  int64_t max_spec_tokens = 8;
  std::string draft_sampling = "argmax";
  std::string mtp_hidden = "post-norm";
  std::string mtp_pos0_mask = "on";
  int threads = 0;
};

void add_decoding_flags(CLI::App* cmd, DecodingFlags& flags);

// Defaults follow generation_config.json, as vLLM does; flags override them.
SamplingParams sampling_from(const DecodingFlags& flags,
                             const std::optional<GenerationConfig>& generation);
// --spec-tokens: "auto" or a count; "auto" without MTP layers is plain decoding.
SpeculativeOptions speculation_from(const DecodingFlags& flags, const ModelConfig& config);
bool speculation_requested(const DecodingFlags& flags);
// --chat-kwargs: extra chat-template variables as a JSON object ('' gives an empty object).
nlohmann::ordered_json parse_chat_kwargs(const std::string& text);

// The statistics block on stderr after a generation.
void print_sampling(const SamplingParams& sampling);
void print_stats(const SpecStats& stats, const SpeculativeOptions& options);
// One line: tokens, speed and acceptance, as `nextn chat` shows after each reply.
std::string stats_line(const SpecStats& stats, const SpeculativeOptions& options);
nlohmann::ordered_json stats_json(const SpecStats& stats);

}  // namespace nextn::cli
