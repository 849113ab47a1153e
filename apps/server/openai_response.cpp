#include "server/openai_response.h"

#include <atomic>
#include <chrono>
#include <random>

#include <fmt/format.h>

namespace nextn::server {
namespace {

// GPT-2's byte-level alphabet backwards: code point → byte, or -1.
int byte_of_code_point(uint32_t cp) {
  auto printable = [](uint32_t b) {
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  };
  if (cp < 256) return printable(cp) ? static_cast<int>(cp) : -1;
  uint32_t n = 256;  // the unprintable bytes, in order, took code points 256, 257, ...
  for (uint32_t b = 0; b < 256; ++b) {
    if (printable(b)) continue;
    if (n == cp) return static_cast<int>(b);
    ++n;
  }
  return -1;
}

// Decodes `piece` (UTF-8) through the byte-level alphabet; nullopt when it is not in it.
std::optional<std::string> byte_level_bytes(const std::string& piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    const auto c = static_cast<unsigned char>(piece[i]);
    uint32_t cp = 0;
    size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 0x6 && i + 1 < piece.size()) {
      cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(piece[i + 1]) & 0x3fu);
      len = 2;
    } else {
      return std::nullopt;  // three-byte and longer code points are outside the alphabet
    }
    const int b = byte_of_code_point(cp);
    if (b < 0) return std::nullopt;
    out += static_cast<char>(b);
    i += len;
  }
  return out;
}

std::string random_suffix() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t base = std::random_device{}();
  return fmt::format("{:016x}", base ^ (counter.fetch_add(1) * 0x9e3779b97f4a7c15ull));
}

Json bytes_array(const std::string& bytes) {
  Json out = Json::array();
  for (char c : bytes) out.push_back(static_cast<int>(static_cast<unsigned char>(c)));
  return out;
}

Json logprob_entry(const Tokenizer& tokenizer, int32_t id, float logprob) {
  return Json{{"token", token_text(tokenizer, id)},
              {"logprob", logprob},
              {"bytes", bytes_array(token_bytes(tokenizer, id))}};
}

}  // namespace

ResponseHeader make_header(Endpoint endpoint, const std::string& model) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return ResponseHeader{
      .endpoint = endpoint,
      .id = (endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-") + random_suffix(),
      .created = std::chrono::duration_cast<std::chrono::seconds>(now).count(),
      .model = model};
}

const char* finish_reason_text(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kInterrupt:
      return "abort";
  }
  return "stop";
}

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens) {
  return Json{{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}};
}

Json spec_json(const SpecStats& stats) {
  return Json{{"drafts", stats.drafts},
              {"draft_tokens", stats.draft_tokens},
              {"accepted_tokens", stats.accepted_tokens},
              {"accepted_per_position", stats.accepted_at},
              {"acceptance_rate", stats.acceptance_rate()},
              {"mean_acceptance_length", stats.mean_acceptance_length()}};
}

std::string token_bytes(const Tokenizer& tokenizer, int32_t id) {
  std::string piece;
  try {
    piece = tokenizer.piece(id);
  } catch (const std::exception&) {
    return {};  // a padded vocab row with no token
  }
  if (tokenizer.is_special(id)) return piece;
  return byte_level_bytes(piece).value_or(piece);
}

std::string token_text(const Tokenizer& tokenizer, int32_t id) {
  const int32_t ids[] = {id};
  return tokenizer.decode(ids);
}

Json chat_logprobs_entries(const Tokenizer& tokenizer, std::span<const TokenLogprob> logprobs) {
  Json entries = Json::array();
  for (const TokenLogprob& lp : logprobs) {
    Json entry = logprob_entry(tokenizer, lp.id, lp.logprob);
    Json top = Json::array();
    for (const auto& [id, value] : lp.top) top.push_back(logprob_entry(tokenizer, id, value));
    entry["top_logprobs"] = std::move(top);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Json CompletionLogprobs::empty() {
  return Json{{"tokens", Json::array()},
              {"token_logprobs", Json::array()},
              {"top_logprobs", Json::array()},
              {"text_offset", Json::array()}};
}

void CompletionLogprobs::add(const Tokenizer& tokenizer, std::span<const TokenLogprob> logprobs) {
  for (const TokenLogprob& lp : logprobs) {
    json_["tokens"].push_back(token_text(tokenizer, lp.id));
    json_["token_logprobs"].push_back(lp.logprob);
    Json top = Json::object();
    for (const auto& [id, value] : lp.top) top[token_text(tokenizer, id)] = value;
    json_["top_logprobs"].push_back(std::move(top));
    json_["text_offset"].push_back(offset_);
    offset_ += static_cast<int64_t>(token_bytes(tokenizer, lp.id).size());
  }
}

Json CompletionLogprobs::take() {
  Json out = std::move(json_);
  json_ = empty();
  return out;
}

Json completion_body(const ResponseHeader& header, const ChoiceText& text, FinishReason finish,
                     const Json& logprobs, const GenerationResult& result) {
  const bool chat = header.endpoint == Endpoint::kChat;
  Json choice = {{"index", 0}};
  if (chat) {
    Json message = {{"role", "assistant"}, {"content", text.content}};
    if (text.reasoning) message["reasoning_content"] = *text.reasoning;
    choice["message"] = std::move(message);
  } else {
    choice["text"] = text.content;
  }
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = finish_reason_text(finish);
  return Json{{"id", header.id},
              {"object", chat ? "chat.completion" : "text_completion"},
              {"created", header.created},
              {"model", header.model},
              {"choices", Json::array({std::move(choice)})},
              {"usage", usage_json(result.prompt_tokens, result.completion_tokens)},
              {"nextn", {{"spec", spec_json(result.stats)}, {"seconds", result.seconds}}}};
}

Json chunk_body(const ResponseHeader& header, const Json& delta, const Json& logprobs,
                std::optional<FinishReason> finish, bool include_usage) {
  const bool chat = header.endpoint == Endpoint::kChat;
  Json choice = {{"index", 0}};
  if (chat) {
    choice["delta"] = delta;
  } else {
    choice["text"] = delta.value("text", "");
  }
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = finish ? Json(finish_reason_text(*finish)) : Json(nullptr);
  Json chunk = {{"id", header.id},
                {"object", chat ? "chat.completion.chunk" : "text_completion"},
                {"created", header.created},
                {"model", header.model},
                {"choices", Json::array({std::move(choice)})}};
  if (include_usage) chunk["usage"] = nullptr;
  return chunk;
}

Json usage_chunk(const ResponseHeader& header, const GenerationResult& result) {
  const bool chat = header.endpoint == Endpoint::kChat;
  return Json{{"id", header.id},
              {"object", chat ? "chat.completion.chunk" : "text_completion"},
              {"created", header.created},
              {"model", header.model},
              {"choices", Json::array()},
              {"usage", usage_json(result.prompt_tokens, result.completion_tokens)},
              {"nextn", {{"spec", spec_json(result.stats)}, {"seconds", result.seconds}}}};
}

}  // namespace nextn::server
