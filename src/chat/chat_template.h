// Chat templates: the Jinja `chat_template` of a checkpoint's tokenizer_config.json, rendered
// into the prompt text the model was trained on.
//
// The engine implements the Jinja subset the supported models' templates use (DeepSeek-V3,
// V3.1, GLM-4.5, GLM-4.6) and renders them byte for byte like the reference renderer the
// goldens come from (@huggingface/jinja, with the trim_blocks / lstrip_blocks setup that
// Python transformers also uses); tests/data/chat/ holds those goldens. Anything outside the
// subset fails with a nextn::Error naming the template, the line:column and the feature:
//
//   tokenizer_config.json chat_template line 12:5: unknown filter 'wordcount'
//
// A parsed template is immutable: render() may run concurrently from many threads, and
// copies share the parsed form.
//
//   const auto tmpl = nextn::ChatTemplate::parse(source, "tokenizer_config.json chat_template");
//   std::string prompt = tmpl.render({{"messages", messages}, {"add_generation_prompt", true},
//                                     {"bos_token", "<｜begin▁of▁sentence｜>"}});
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nextn {

// Bounds on one render, so that no template (or hostile input) runs forever, exhausts memory
// or the stack. Exceeding one throws nextn::Error saying which.
struct RenderLimits {
  uint64_t max_steps = 20'000'000;  // statements and expressions evaluated, items iterated
  size_t max_bytes = 64u << 20;     // the output, and any one string or list built on the way
  int max_depth = 400;              // nested evaluation: blocks, expressions, macro calls
};

class ChatTemplate {
 public:
  // Parses once; throws nextn::Error naming `name` and line:column on a syntax error or an
  // unsupported feature (unknown filter or test, {% include %}, {% raw %}, ...).
  static ChatTemplate parse(std::string_view source, std::string name = "chat template");

  // `context` must be a JSON object; each member becomes a template variable: messages,
  // tools, add_generation_prompt, bos_token, eos_token, enable_thinking, thinking, or any
  // other. JSON null is none; objects keep their key order. Throws nextn::Error (with
  // line:column) on a runtime error, including the template's own raise_exception(...).
  std::string render(const nlohmann::ordered_json& context, const RenderLimits& limits = {}) const;

  const std::string& name() const;

 private:
  struct Impl;
  explicit ChatTemplate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace nextn
