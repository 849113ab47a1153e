#include "server/response_assembler.h"

#include "server/sse.h"

namespace nextn::server {

ResponseAssembler::ResponseAssembler(const ApiRequest& request, const Tokenizer& tokenizer,
                                     ResponseHeader header)
    : endpoint_(request.endpoint),
      include_usage_(request.include_usage),
      logprobs_(request.logprobs),
      tokenizer_(tokenizer),
      header_(std::move(header)),
      splitter_(request.reasoning_open),
      had_reasoning_(request.reasoning_open) {}

Json ResponseAssembler::delta_of(const SplitText& text) const {
  if (endpoint_ == Endpoint::kCompletions) return Json{{"text", text.content}};
  Json delta = Json::object();
  if (!text.reasoning.empty()) delta["reasoning_content"] = text.reasoning;
  if (!text.content.empty()) delta["content"] = text.content;
  return delta;
}

// This update's logprobs in the endpoint's format.
Json ResponseAssembler::take_logprobs(const GenerationUpdate& update) {
  if (!logprobs_) return nullptr;
  if (endpoint_ == Endpoint::kCompletions) {
    completion_logprobs_.add(tokenizer_, update.logprobs);
    return completion_logprobs_.take();
  }
  return Json{{"content", chat_logprobs_entries(tokenizer_, update.logprobs)}};
}

std::string ResponseAssembler::open_events() {
  if (endpoint_ != Endpoint::kChat) return {};
  return sse_event(chunk_body(header_, Json{{"role", "assistant"}, {"content", ""}}, nullptr,
                              std::nullopt, include_usage_));
}

std::string ResponseAssembler::update_events(const GenerationUpdate& update) {
  const SplitText text = endpoint_ == Endpoint::kChat ? splitter_.push(update.text)
                                                      : SplitText{.content = update.text};
  const bool has_logprobs = logprobs_ && !update.logprobs.empty();
  if (text.empty() && !has_logprobs) return {};
  return sse_event(
      chunk_body(header_, delta_of(text), take_logprobs(update), std::nullopt, include_usage_));
}

std::string ResponseAssembler::close_events(const GenerationResult& result) {
  std::string out;
  const SplitText rest = endpoint_ == Endpoint::kChat ? splitter_.finish() : SplitText{};
  if (!rest.empty()) {
    out += sse_event(chunk_body(header_, delta_of(rest), nullptr, std::nullopt, include_usage_));
  }
  Json last =
      chunk_body(header_, endpoint_ == Endpoint::kChat ? Json::object() : Json{{"text", ""}},
                 nullptr, result.finish, include_usage_);
  last["nextn"] = {{"spec", spec_json(result.stats)}, {"seconds", result.seconds}};
  out += sse_event(last);
  if (include_usage_) out += sse_event(usage_chunk(header_, result));
  out += kSseDone;
  return out;
}

void ResponseAssembler::add(const GenerationUpdate& update) {
  if (endpoint_ == Endpoint::kChat) {
    const SplitText text = splitter_.push(update.text);
    reasoning_ += text.reasoning;
    content_ += text.content;
    if (!text.reasoning.empty()) had_reasoning_ = true;
    if (logprobs_) {
      for (auto& entry : chat_logprobs_entries(tokenizer_, update.logprobs))
        chat_logprobs_.push_back(entry);
    }
  } else {
    content_ += update.text;
    if (logprobs_) completion_logprobs_.add(tokenizer_, update.logprobs);
  }
}

Json ResponseAssembler::body(const GenerationResult& result) {
  if (endpoint_ == Endpoint::kChat) {
    const SplitText rest = splitter_.finish();
    reasoning_ += rest.reasoning;
    content_ += rest.content;
    if (!rest.reasoning.empty()) had_reasoning_ = true;
  }
  ChoiceText text{.content = content_};
  if (had_reasoning_) text.reasoning = reasoning_;
  Json logprobs = nullptr;
  if (logprobs_) {
    logprobs = endpoint_ == Endpoint::kChat ? Json{{"content", chat_logprobs_}}
                                            : completion_logprobs_.json();
  }
  return completion_body(header_, text, result.finish, logprobs, result);
}

}  // namespace nextn::server
