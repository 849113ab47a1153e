#include "engine/text_model.h"

#include <algorithm>

#include "core/error.h"

namespace nextn {

std::unique_ptr<TextModel> TextModel::open(const std::filesystem::path& dir,
                                           const LoadOptions& options) {
  auto text = std::make_unique<TextModel>();
  text->dir_ = dir;
  text->model_ = LoadedModel::open(dir, options);
  text->generation_ = load_generation_config(dir);
  if (std::filesystem::exists(dir / "tokenizer.json")) {
    text->tokenizer_.emplace(Tokenizer::load(dir));
    // Parse the template at start-up, so a template nextn cannot render fails before any
    // generation (with the template's line and column), not in the middle of a chat.
    if (const auto& source = text->tokenizer_->config().chat_template) {
      text->chat_template_.emplace(ChatTemplate::parse(
          *source, (dir / "tokenizer_config.json").string() + " chat_template"));
    }
    const int64_t vocab = text->tokenizer_->vocab_size();
    if (vocab > text->model_->config.vocab_size) {
      fail("{}: the tokenizer has ids up to {}, beyond the model's vocab_size {} (config.json)",
           (dir / "tokenizer.json").string(), vocab - 1, text->model_->config.vocab_size);
    }
  }
  return text;
}

const Tokenizer& TextModel::tokenizer() const {
  if (!tokenizer_) {
    fail(
        "{} has no tokenizer.json: text prompts need the checkpoint's tokenizer "
        "(use --prompt-tokens for token ids)",
        dir_.string());
  }
  return *tokenizer_;
}

const ChatTemplate& TextModel::chat_template() const {
  tokenizer();  // no tokenizer at all is the error to report first
  if (!chat_template_) {
    fail(
        "{} has no chat_template (tokenizer_config.json or chat_template.jinja): chat needs "
        "the model's template",
        dir_.string());
  }
  return *chat_template_;
}

std::vector<int32_t> TextModel::encode_prompt(const std::string& text) const {
  return tokenizer().encode(text, /*add_special_tokens=*/true);
}

std::string TextModel::render_chat(const nlohmann::ordered_json& messages,
                                   bool add_generation_prompt, const nlohmann::ordered_json& tools,
                                   const nlohmann::ordered_json& extra) const {
  const ChatTemplate& chat = chat_template();
  const TokenizerConfig& tc = tokenizer().config();
  nlohmann::ordered_json context = {{"messages", messages},
                                    {"add_generation_prompt", add_generation_prompt},
                                    {"bos_token", tc.bos_token.value_or("")},
                                    {"eos_token", tc.eos_token.value_or("")}};
  if (!tools.is_null()) context["tools"] = tools;
  for (const auto& [key, value] : extra.items()) context[key] = value;
  return chat.render(context);
}

std::vector<int32_t> TextModel::encode_chat(const std::string& rendered) const {
  return tokenizer().encode(rendered, /*add_special_tokens=*/false);
}

std::vector<int32_t> TextModel::stop_token_ids() const {
  std::vector<int32_t> ids;
  auto add = [&](int64_t id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(static_cast<int32_t>(id));
  };
  for (int64_t id : config().eos_token_ids) add(id);
  if (generation_) {
    for (int64_t id : generation_->eos_token_ids) add(id);
  }
  if (tokenizer_) {
    if (auto eos = tokenizer_->eos_id()) add(*eos);
  }
  return ids;
}

}  // namespace nextn
