#include "decoding_flags.h"

#include <charconv>
#include <cstdio>

#include <fmt/format.h>

#include "core/error.h"

namespace nextn::cli {

void add_decoding_flags(CLI::App* cmd, DecodingFlags& flags) {
  cmd->add_option("--temperature", flags.temperature,
                  "0 for greedy (default: generation_config.json, else 0)")
      ->check(CLI::Range(0.0f, 100.0f));
  cmd->add_option("--top-k", flags.top_k, "Keep the k most likely tokens (0: off)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--top-p", flags.top_p, "Nucleus sampling mass (1: off)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--min-p", flags.min_p, "Drop tokens below min-p × the top probability")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--seed", flags.seed, "Random seed (same seed, same text)");
  cmd->add_option("--spec-tokens", flags.spec_tokens,
                  "Drafts per step: auto (chosen per step for speed), or K (0: no speculation)");
  cmd->add_option("--max-spec-tokens", flags.max_spec_tokens, "The most drafts auto may choose")
      ->check(CLI::Range(int64_t{1}, int64_t{16}));
  cmd->add_option("--draft-sampling", flags.draft_sampling, "argmax or sample")
      ->check(CLI::IsMember({"argmax", "sample"}));
  cmd->add_option("--mtp-hidden", flags.mtp_hidden, "Recycled MTP state: post-norm or pre-norm")
      ->check(CLI::IsMember({"post-norm", "pre-norm"}));
  cmd->add_option("--mtp-pos0-mask", flags.mtp_pos0_mask, "Zero the MTP embedding at position 0")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--threads", flags.threads, "Threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
}

SamplingParams sampling_from(const DecodingFlags& flags,
                             const std::optional<GenerationConfig>& generation) {
  SamplingParams sampling;
  if (generation && generation->do_sample.value_or(true)) {
    sampling.temperature = static_cast<float>(generation->temperature.value_or(0.0));
    sampling.top_p = static_cast<float>(generation->top_p.value_or(1.0));
    sampling.top_k = generation->top_k.value_or(0);
  }
  if (flags.temperature) sampling.temperature = *flags.temperature;
  if (flags.top_p) sampling.top_p = *flags.top_p;
  if (flags.top_k) sampling.top_k = *flags.top_k;
  sampling.min_p = flags.min_p;
  sampling.seed = flags.seed;
  validate(sampling);
  return sampling;
}

nlohmann::ordered_json parse_chat_kwargs(const std::string& text) {
  if (text.empty()) return nlohmann::ordered_json::object();
  nlohmann::ordered_json kwargs;
  try {
    kwargs = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("--chat-kwargs: not valid JSON ({})", e.what());
  }
  if (!kwargs.is_object()) {
    fail("--chat-kwargs: expected a JSON object, e.g. '{{\"enable_thinking\": false}}'");
  }
  return kwargs;
}

bool speculation_requested(const DecodingFlags& flags) {
  return flags.spec_tokens != "0";
}

SpeculativeOptions speculation_from(const DecodingFlags& flags, const ModelConfig& config) {
  SpeculativeOptions options;
  if (flags.spec_tokens == "auto") {
    options.spec_tokens = config.num_nextn_predict_layers > 0 ? flags.max_spec_tokens : 0;
    options.adaptive = options.spec_tokens > 0;
  } else {
    int64_t count = -1;
    const auto& text = flags.spec_tokens;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc() || ptr != text.data() + text.size() || count < 0 || count > 64) {
      fail("--spec-tokens: '{}' is neither 'auto' nor a number of drafts in 0..64", text);
    }
    options.spec_tokens = count;
  }
  options.draft_sampling =
      flags.draft_sampling == "sample" ? DraftSampling::kSample : DraftSampling::kArgmax;
  options.mtp.recycle =
      flags.mtp_hidden == "pre-norm" ? MtpRecycle::kPreNorm : MtpRecycle::kPostNorm;
  options.mtp.pos0_mask = flags.mtp_pos0_mask == "on";
  return options;
}

void print_sampling(const SamplingParams& sampling) {
  std::fprintf(stderr, "sampling    temperature %g, top-k %lld, top-p %g, min-p %g, seed %llu\n",
               sampling.temperature, static_cast<long long>(sampling.top_k), sampling.top_p,
               sampling.min_p, static_cast<unsigned long long>(sampling.seed));
}

void print_stats(const SpecStats& s, const SpeculativeOptions& options) {
  std::fprintf(stderr, "prompt      %lld tokens, %.1f tokens/s\n",
               static_cast<long long>(s.prompt_tokens), s.prefill_tokens_per_second());
  std::fprintf(stderr, "generated   %lld tokens, %.1f tokens/s\n",
               static_cast<long long>(s.generated_tokens), s.decode_tokens_per_second());
  if (options.spec_tokens == 0) {
    std::fprintf(stderr, "speculation off (--spec-tokens 0)\n");
    return;
  }
  std::fprintf(stderr,
               "drafts      %lld steps of up to %lld tokens%s, %lld drafted, %lld accepted\n",
               static_cast<long long>(s.drafts), static_cast<long long>(options.spec_tokens),
               options.adaptive ? " (auto)" : "", static_cast<long long>(s.draft_tokens),
               static_cast<long long>(s.accepted_tokens));
  std::fprintf(stderr, "acceptance  rate %.3f, mean acceptance length %.3f\n", s.acceptance_rate(),
               s.mean_acceptance_length());
  std::string positions;
  for (double rate : s.per_position_acceptance()) positions += fmt::format(" {:.3f}", rate);
  std::fprintf(stderr, "per position%s\n", positions.c_str());
  std::fprintf(stderr,
               "time        target %.3f s, MTP %.3f s, verify %.3f s (%lld target passes, "
               "%lld MTP passes)\n",
               s.target_seconds, s.mtp_seconds, s.verify_seconds,
               static_cast<long long>(s.target_forwards), static_cast<long long>(s.mtp_forwards));
}

std::string stats_line(const SpecStats& s, const SpeculativeOptions& options) {
  std::string line =
      fmt::format("{} tokens, {:.1f} tokens/s", s.generated_tokens, s.decode_tokens_per_second());
  if (options.spec_tokens == 0) return line + ", speculation off";
  return line + fmt::format(", acceptance rate {:.3f}, mean acceptance length {:.2f}",
                            s.acceptance_rate(), s.mean_acceptance_length());
}

nlohmann::ordered_json stats_json(const SpecStats& s) {
  return {{"prompt_tokens", s.prompt_tokens},
          {"generated_tokens", s.generated_tokens},
          {"drafts", s.drafts},
          {"draft_tokens", s.draft_tokens},
          {"accepted_tokens", s.accepted_tokens},
          {"acceptance_rate", s.acceptance_rate()},
          {"mean_acceptance_length", s.mean_acceptance_length()},
          {"per_position", s.per_position_acceptance()},
          {"prefill_tokens_per_second", s.prefill_tokens_per_second()},
          {"decode_tokens_per_second", s.decode_tokens_per_second()},
          {"prefill_seconds", s.prefill_seconds},
          {"decode_seconds", s.decode_seconds},
          {"target_seconds", s.target_seconds},
          {"mtp_seconds", s.mtp_seconds},
          {"verify_seconds", s.verify_seconds},
          {"target_forwards", s.target_forwards},
          {"target_rows", s.target_rows},
          {"mtp_forwards", s.mtp_forwards},
          {"mtp_rows", s.mtp_rows},
          {"probes", s.probes},
          {"probe_mtp_rows", s.probe_mtp_rows}};
}

}  // namespace nextn::cli
