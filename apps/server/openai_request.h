// OpenAI request bodies → engine requests. Every field is type- and range-checked here, and a
// bad one is an ApiError (400) that names it, before anything reaches the engine.
//
// Supported: model, messages (chat) / prompt (completions: a string, one-string array or token
// ids), stream, stream_options.include_usage, max_tokens / max_completion_tokens, temperature,
// top_p, top_k, min_p, seed, stop, n = 1, logprobs / top_logprobs, ignore_eos, tools,
// chat_template_kwargs, enable_thinking, and nextn's `speculative` ("auto", 0, K, or
// {"num_tokens": K}). Unknown fields are ignored, as vLLM does; fields whose non-default values
// nextn cannot honour (presence_penalty, logit_bias, echo, ...) are refused rather than ignored.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "engine/text_model.h"

namespace nextn::server {

enum class Endpoint { kChat, kCompletions };

// What the server allows and defaults to (serve flags and the checkpoint).
struct RequestLimits {
  std::string model_name;  // the one served model id
  int64_t context = 4096;  // prompt + max_tokens
  int64_t max_prompt_tokens = 4096;
  int64_t max_tokens_limit = 4096;  // the largest max_tokens accepted
  int64_t max_spec_tokens = 8;      // "auto" adapts up to this; a fixed K may not exceed it
  int64_t max_top_logprobs = 20;
  bool has_mtp = true;              // the checkpoint has MTP layers (and they are loaded)
  SamplingParams default_sampling;  // generation_config.json's values
};

struct ApiRequest {
  Endpoint endpoint = Endpoint::kChat;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;       // per-token logprobs in the response
  std::string model;
  GenerationRequest generation;
  // Chat: the rendered prompt ends inside a <think> block, so the output starts as reasoning.
  bool reasoning_open = false;
};

// The JSON object of a request body; 400 naming the problem when it is not one.
nlohmann::ordered_json parse_body(const std::string& body);

// Reads and checks every field, renders the chat (or encodes the prompt) with `model`.
ApiRequest parse_request(Endpoint endpoint, const nlohmann::ordered_json& body,
                         const TextModel& model, const RequestLimits& limits);

// The messages as the chat template expects them: content parts joined into one string,
// roles and fields checked (400 naming messages[i].field).
nlohmann::ordered_json normalize_messages(const nlohmann::ordered_json& messages);

// The sampling defaults generation_config.json gives (greedy when it says do_sample false).
SamplingParams default_sampling(const std::optional<GenerationConfig>& generation);

// True when `text` (the rendered prompt) ends in an open <think> tag, trailing spaces aside.
bool ends_in_open_think(const std::string& text);

}  // namespace nextn::server
