// Feeds arbitrary text to the chat-template engine: parse, then render. The input is a
// template, optionally followed by a NUL byte and a JSON render context (otherwise a fixed
// conversation is used). Bad input must end in nextn::Error; a crash, a hang, a sanitizer
// report or any other exception is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "core/error.h"

namespace {

const nlohmann::ordered_json& default_context() {
  static const nlohmann::ordered_json context = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi <think>x</think> é😀"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}},
        {"type": "function", "function": {"name": "g", "arguments": {"k": [1, 2.5, true, null]}}}]},
      {"role": "tool", "content": "ok"},
      {"role": "user", "content": [{"type": "text", "text": "part"}]}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true,
    "enable_thinking": false,
    "bos_token": "<s>",
    "eos_token": "</s>"
  })");
  return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string_view source = input.substr(0, split);
  nlohmann::ordered_json context = default_context();
  if (split != std::string_view::npos) {
    auto parsed = nlohmann::ordered_json::parse(input.substr(split + 1), nullptr, false);
    if (parsed.is_object()) context = std::move(parsed);
  }
  try {
    const auto tmpl = nextn::ChatTemplate::parse(source, "fuzz");
    // Small bounds keep every input fast; the bounds themselves are what is being tested.
    (void)tmpl.render(context, {.max_steps = 200'000, .max_bytes = 1u << 20, .max_depth = 400});
  } catch (const nextn::Error&) {
    // Rejected cleanly.
  }
  return 0;
}
