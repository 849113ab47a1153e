// A checkpoint opened for text: the model, its tokenizer and its chat template, which is what
// `nextn generate --prompt`, `nextn chat` and the server need (DESIGN.md: engine/).
//
// The tokenizer is optional: a directory without tokenizer.json still serves token-id prompts,
// and the text methods then fail with a message that says what is missing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "config/generation_config.h"
#include "model/loaded_model.h"
#include "tokenizer/tokenizer.h"

namespace nextn {

class TextModel {
 public:
  static std::unique_ptr<TextModel> open(const std::filesystem::path& dir,
                                         const LoadOptions& options = {});

  const LoadedModel& model() const { return *model_; }
  const ModelConfig& config() const { return model_->config; }
  const std::optional<GenerationConfig>& generation_config() const { return generation_; }
  bool has_tokenizer() const { return tokenizer_.has_value(); }
  // Error when the directory has no tokenizer.json.
  const Tokenizer& tokenizer() const;
  // Error when there is no tokenizer or its config has no chat_template.
  const ChatTemplate& chat_template() const;

  // Plain-text prompt: BOS and EOS as tokenizer_config.json asks (add_bos_token, ...).
  std::vector<int32_t> encode_prompt(const std::string& text) const;
  // Renders `messages` (OpenAI-style objects with role and content) with the chat template, as
  // the HuggingFace tooling does: bos_token / eos_token from tokenizer_config.json, `tools`
  // when non-null, and `extra` variables (e.g. enable_thinking) merged over them.
  std::string render_chat(
      const nlohmann::ordered_json& messages, bool add_generation_prompt,
      const nlohmann::ordered_json& tools = nullptr,
      const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;
  // The rendered conversation as ids. The template writes BOS itself, so none is added.
  std::vector<int32_t> encode_chat(const std::string& rendered) const;

  // Tokens that end generation: config.json's and generation_config.json's eos ids, and the
  // tokenizer's eos token.
  std::vector<int32_t> stop_token_ids() const;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<LoadedModel> model_;
  std::optional<GenerationConfig> generation_;
  std::optional<Tokenizer> tokenizer_;
  std::optional<ChatTemplate> chat_template_;
};

}  // namespace nextn
