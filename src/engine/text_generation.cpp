#include "engine/text_generation.h"

#include "engine/stop_strings.h"

namespace nextn {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kInterrupt:
      return "interrupt";
  }
  return "unknown";
}

TextResult generate_text(SpeculativeDecoder& decoder, const Tokenizer& tokenizer,
                         const TextRequest& request, const TextSink& sink) {
  TextResult result;
  StreamingDecoder stream(tokenizer, /*skip_special_tokens=*/false);
  StopStringFilter stops(request.stop_strings);
  bool interrupted = false;
  auto emit = [&](const std::string& text) {
    if (text.empty()) return;
    result.text += text;
    if (sink) sink(text);
  };
  const TokenSink on_tokens = [&](std::span<const int32_t> tokens) {
    std::string text;
    for (int32_t id : tokens) text += stream.push(id);
    emit(stops.push(text));
    if (stops.stopped()) return false;
    if (request.interrupt != nullptr && request.interrupt->load(std::memory_order_relaxed)) {
      interrupted = true;
      return false;
    }
    return true;
  };
  result.tokens = decoder.generate(request.prompt, request.sampling, request.limits, on_tokens);
  if (!stops.stopped()) emit(stops.push(stream.flush()));
  emit(stops.flush());
  if (stops.stopped()) {
    result.finish = FinishReason::kStop;
  } else if (interrupted) {
    result.finish = FinishReason::kInterrupt;
  } else if (static_cast<int64_t>(result.tokens.size()) < request.limits.max_tokens) {
    result.finish = FinishReason::kStop;  // an eos token
  } else {
    result.finish = FinishReason::kLength;
  }
  return result;
}

}  // namespace nextn
