// Turns a request's updates into what the client receives: stream chunks as SSE events, or
// one response body at the end. Chat replies are split into reasoning_content and content
// (reasoning.h); logprobs are formatted for the endpoint.
#pragma once

#include <string>

#include "engine/engine.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/reasoning.h"

namespace nextn::server {

class ResponseAssembler {
 public:
  ResponseAssembler(const ApiRequest& request, const Tokenizer& tokenizer, ResponseHeader header);

  // Streaming: the events that open the stream (chat: the assistant role), those for one
  // update (empty when it produced nothing to send yet), and those that close it.
  std::string open_events();
  std::string update_events(const GenerationUpdate& update);
  std::string close_events(const GenerationResult& result);

  // Whole response: add every update, then the body.
  void add(const GenerationUpdate& update);
  Json body(const GenerationResult& result);

 private:
  Json delta_of(const SplitText& text) const;
  Json take_logprobs(const GenerationUpdate& update);

  Endpoint endpoint_;
  bool include_usage_;
  bool logprobs_;
  const Tokenizer& tokenizer_;
  ResponseHeader header_;
  ReasoningSplitter splitter_;
  CompletionLogprobs completion_logprobs_;
  Json chat_logprobs_ = Json::array();
  std::string content_;
  std::string reasoning_;
  bool had_reasoning_ = false;
};

}  // namespace nextn::server
