#include "chat/chat_template.h"

#include "chat/evaluator.h"
#include "chat/parser.h"
#include "chat/utf8.h"
#include "core/error.h"

namespace nextn {
namespace {

// Offsets are 32-bit; no real template comes near this.
constexpr size_t kMaxSourceBytes = 16u << 20;

}  // namespace

struct ChatTemplate::Impl {
  std::string name;
  std::string source;  // kept for line:column in runtime errors
  chat::Block program;

  [[noreturn]] void rethrow(const chat::TemplateError& e) const {
    if (e.offset == chat::kNoOffset) throw Error(fmt::format("{}: {}", name, e.message));
    const size_t offset = std::min<size_t>(e.offset, source.size());
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
      if (source[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    // Columns count characters, not bytes, so they match what an editor shows.
    const std::string_view prefix(source.data() + line_start, offset - line_start);
    const size_t column = chat::code_point_starts(prefix).size();
    throw Error(fmt::format("{} line {}:{}: {}", name, line, column, e.message));
  }
};

ChatTemplate ChatTemplate::parse(std::string_view source, std::string name) {
  auto impl = std::make_shared<Impl>();
  impl->name = std::move(name);
  if (source.size() > kMaxSourceBytes) {
    fail("{}: template of {} bytes is larger than the limit of {}", impl->name, source.size(),
         kMaxSourceBytes);
  }
  impl->source.assign(source);
  try {
    impl->program = chat::parse_template(impl->source);
  } catch (const chat::TemplateError& e) {
    impl->rethrow(e);
  }
  return ChatTemplate(std::move(impl));
}

std::string ChatTemplate::render(const nlohmann::ordered_json& context,
                                 const RenderLimits& limits) const {
  if (!context.is_object()) {
    fail("{}: the render context must be a JSON object, got {}", impl_->name, context.type_name());
  }
  try {
    const chat::Value variables = chat::from_json(context);
    chat::Evaluator evaluator(chat::EvalLimits{
        .max_steps = limits.max_steps, .max_bytes = limits.max_bytes, .max_depth = limits.max_depth});
    return evaluator.render(impl_->program, variables);
  } catch (const chat::TemplateError& e) {
    impl_->rethrow(e);
  }
}

const std::string& ChatTemplate::name() const { return impl_->name; }

}  // namespace nextn
