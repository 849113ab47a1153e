// OpenAI response bodies: chat completions and their stream chunks, text completions and
// theirs, usage, both logprobs formats, and nextn's per-request speculative statistics (the
// `nextn` extension field: {"spec": {"drafts", "draft_tokens", "accepted_tokens", ...}}).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "server/openai_request.h"
#include "tokenizer/tokenizer.h"

namespace nextn::server {

using Json = nlohmann::ordered_json;

// What every body and chunk of one response shares.
struct ResponseHeader {
  Endpoint endpoint = Endpoint::kChat;
  std::string id;  // "chatcmpl-…" / "cmpl-…"
  int64_t created = 0;
  std::string model;
};

ResponseHeader make_header(Endpoint endpoint, const std::string& model);

// "stop", "length"; a cancelled request (the server stopping) is "abort", as in vLLM.
const char* finish_reason_text(FinishReason reason);

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens);
Json spec_json(const SpecStats& stats);

// The raw bytes of a token (byte-level BPE pieces mapped back to bytes; added tokens as
// written), and its text (invalid UTF-8 repaired with U+FFFD).
std::string token_bytes(const Tokenizer& tokenizer, int32_t id);
std::string token_text(const Tokenizer& tokenizer, int32_t id);

// Chat: the entries of choices[0].logprobs.content for these tokens.
Json chat_logprobs_entries(const Tokenizer& tokenizer, std::span<const TokenLogprob> logprobs);

// Completions: {tokens, token_logprobs, top_logprobs, text_offset}, appended to as tokens
// arrive; text_offset counts bytes from the start of the completion.
class CompletionLogprobs {
 public:
  void add(const Tokenizer& tokenizer, std::span<const TokenLogprob> logprobs);
  Json take();  // the accumulated object, then starts over (one per stream chunk)
  const Json& json() const { return json_; }

 private:
  Json json_ = empty();
  int64_t offset_ = 0;
  static Json empty();
};

struct ChoiceText {
  std::string content;
  std::optional<std::string> reasoning;  // chat: reasoning_content, when the reply had any
};

// Whole responses.
Json completion_body(const ResponseHeader& header, const ChoiceText& text, FinishReason finish,
                     const Json& logprobs, const GenerationResult& result);

// One stream chunk: for chat, `delta` is the delta object; for completions, delta["text"]
// is the text. `finish` set: the chunk that ends the choice.
Json chunk_body(const ResponseHeader& header, const Json& delta, const Json& logprobs,
                std::optional<FinishReason> finish, bool include_usage);
// The last chunk with stream_options.include_usage: no choices, the usage (and nextn stats).
Json usage_chunk(const ResponseHeader& header, const GenerationResult& result);

}  // namespace nextn::server
