// Text out of the speculative decoder: accepted tokens are decoded as they arrive (never half
// a UTF-8 character), cut at the first stop string, and handed to a text sink.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spec/speculative_decoder.h"
#include "tokenizer/tokenizer.h"

namespace nextn {

enum class FinishReason {
  kStop,       // an eos token or a stop string
  kLength,     // max_tokens reached
  kInterrupt,  // the caller asked to stop (Ctrl-C, a client that went away)
};

const char* finish_reason_name(FinishReason reason);  // "stop", "length", "interrupt"

struct TextRequest {
  std::span<const int32_t> prompt;
  SamplingParams sampling;
  GenerationLimits limits;
  std::vector<std::string> stop_strings;
  // Checked between steps: set it (from a signal handler too) to end generation early.
  const std::atomic<bool>* interrupt = nullptr;
};

struct TextResult {
  std::vector<int32_t> tokens;  // every generated token (eos excluded)
  std::string text;             // what the sink received: decoded, cut before a stop string
  FinishReason finish = FinishReason::kLength;
};

// Receives each piece of text as it becomes final.
using TextSink = std::function<void(std::string_view)>;

TextResult generate_text(SpeculativeDecoder& decoder, const Tokenizer& tokenizer,
                         const TextRequest& request, const TextSink& sink = {});

}  // namespace nextn
