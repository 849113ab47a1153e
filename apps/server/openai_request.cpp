#include "server/openai_request.h"

#include <cmath>
#include <limits>
#include <string_view>

#include "core/error.h"
#include "server/api_error.h"

namespace nextn::server {
namespace {

using Json = nlohmann::ordered_json;

const char* type_name(const Json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

// The member `name`, or nullptr when it is absent or null (JSON null means "default").
const Json* member(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

double number(const Json& value, const std::string& param, double lo, double hi) {
  if (!value.is_number())
    invalid_param(param, "'{}' must be a number, not {}", param, type_name(value));
  const double x = value.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    invalid_param(param, "'{}' must be in [{}, {}], got {}", param, lo, hi, value.dump());
  }
  return x;
}

int64_t integer(const Json& value, const std::string& param, int64_t lo, int64_t hi) {
  if (!value.is_number_integer()) {
    invalid_param(param, "'{}' must be an integer, not {}", param, type_name(value));
  }
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(hi)) {
    invalid_param(param, "'{}' must be in [{}, {}], got {}", param, lo, hi, value.dump());
  }
  const int64_t x = value.get<int64_t>();
  if (x < lo || x > hi) invalid_param(param, "'{}' must be in [{}, {}], got {}", param, lo, hi, x);
  return x;
}

bool boolean(const Json& value, const std::string& param) {
  if (!value.is_boolean())
    invalid_param(param, "'{}' must be a boolean, not {}", param, type_name(value));
  return value.get<bool>();
}

const std::string& string(const Json& value, const std::string& param) {
  if (!value.is_string())
    invalid_param(param, "'{}' must be a string, not {}", param, type_name(value));
  return value.get_ref<const std::string&>();
}

// Fields nextn cannot honour: accepted only at their neutral value.
void refuse_unsupported(const Json& body) {
  for (const char* name : {"presence_penalty", "frequency_penalty"}) {
    if (const Json* v = member(body, name); v && number(*v, name, -2.0, 2.0) != 0.0) {
      invalid_param(name, "'{}' is not supported by nextn (only 0)", name);
    }
  }
  if (const Json* v = member(body, "repetition_penalty");
      v && number(*v, "repetition_penalty", 0.0, 100.0) != 1.0) {
    invalid_param("repetition_penalty", "'repetition_penalty' is not supported by nextn (only 1)");
  }
  if (const Json* v = member(body, "n"); v && integer(*v, "n", 1, 128) != 1) {
    invalid_param("n", "'n' must be 1: nextn returns one choice per request");
  }
  if (const Json* v = member(body, "best_of"); v && integer(*v, "best_of", 1, 128) != 1) {
    invalid_param("best_of", "'best_of' must be 1");
  }
  if (const Json* v = member(body, "logit_bias"); v && !(v->is_object() && v->empty())) {
    invalid_param("logit_bias", "'logit_bias' is not supported by nextn");
  }
  if (const Json* v = member(body, "echo"); v && boolean(*v, "echo")) {
    invalid_param("echo", "'echo' is not supported by nextn");
  }
  if (const Json* v = member(body, "suffix"); v && !string(*v, "suffix").empty()) {
    invalid_param("suffix", "'suffix' is not supported by nextn");
  }
  if (const Json* v = member(body, "response_format")) {
    const Json* type = v->is_object() ? member(*v, "type") : nullptr;
    if (!type || !type->is_string() || *type != "text") {
      invalid_param("response_format", "only {{\"type\": \"text\"}} is supported");
    }
  }
}

SamplingParams read_sampling(const Json& body, const RequestLimits& limits) {
  SamplingParams s = limits.default_sampling;
  if (const Json* v = member(body, "temperature"))
    s.temperature = static_cast<float>(number(*v, "temperature", 0.0, 2.0));
  if (const Json* v = member(body, "top_p")) {
    s.top_p = static_cast<float>(number(*v, "top_p", 0.0, 1.0));
    if (s.top_p <= 0.0f) invalid_param("top_p", "'top_p' must be in (0, 1], got {}", v->dump());
  }
  if (const Json* v = member(body, "top_k")) {
    const int64_t k = integer(*v, "top_k", -1, int64_t{1} << 31);
    s.top_k = k < 0 ? 0 : k;  // -1: off, as in vLLM
  }
  if (const Json* v = member(body, "min_p"))
    s.min_p = static_cast<float>(number(*v, "min_p", 0.0, 1.0));
  if (const Json* v = member(body, "seed")) {
    if (!v->is_number_integer())
      invalid_param("seed", "'seed' must be an integer, not {}", type_name(*v));
    s.seed =
        v->is_number_unsigned() ? v->get<uint64_t>() : static_cast<uint64_t>(v->get<int64_t>());
  }
  return s;
}

std::vector<std::string> read_stop(const Json& body) {
  std::vector<std::string> stop;
  const Json* v = member(body, "stop");
  if (!v) return stop;
  if (v->is_string()) {
    stop.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    if (v->size() > 16)
      invalid_param("stop", "'stop' may hold at most 16 strings, got {}", v->size());
    for (size_t i = 0; i < v->size(); ++i)
      stop.push_back(string((*v)[i], fmt::format("stop[{}]", i)));
  } else {
    invalid_param("stop", "'stop' must be a string or an array of strings, not {}", type_name(*v));
  }
  for (const std::string& s : stop) {
    if (s.empty()) invalid_param("stop", "'stop' strings must not be empty");
  }
  return stop;
}

SpeculationRequest fixed_speculation(int64_t k, const std::string& param,
                                     const RequestLimits& limits) {
  if (k > 0 && !limits.has_mtp) {
    invalid_param(
        param, "speculative decoding with {} tokens needs MTP layers, and this model has none", k);
  }
  if (k > limits.max_spec_tokens) {
    invalid_param(param, "'{}' must be at most {} (the server's --max-spec-tokens), got {}", param,
                  limits.max_spec_tokens, k);
  }
  return SpeculationRequest{.adaptive = false, .num_tokens = k};
}

// "auto" (adaptive up to the server's max; off without MTP layers), 0 (off), K, or an object
// {"num_tokens": K | "auto"}.
SpeculationRequest read_speculation(const Json& body, const RequestLimits& limits) {
  const SpeculationRequest automatic{.adaptive = limits.has_mtp,
                                     .num_tokens = limits.has_mtp ? limits.max_spec_tokens : 0};
  const Json* v = member(body, "speculative");
  if (!v) return automatic;
  const Json* count = v;
  std::string param = "speculative";
  if (v->is_object()) {
    count = member(*v, "num_tokens");
    param = "speculative.num_tokens";
    if (!count)
      invalid_param(param, "'speculative' needs 'num_tokens' (a count, 0 for off, or \"auto\")");
  }
  if (count->is_string()) {
    if (*count != "auto")
      invalid_param(param, "'{}' must be \"auto\" or a count, got {}", param, count->dump());
    return automatic;
  }
  if (!count->is_number_integer()) {
    invalid_param(param, "'{}' must be \"auto\", an integer or {{\"num_tokens\": K}}, not {}",
                  param, type_name(*count));
  }
  return fixed_speculation(integer(*count, param, 0, 1 << 20), param, limits);
}

std::vector<int32_t> completion_prompt(const Json& body, const TextModel& model) {
  const Json* v = member(body, "prompt");
  if (!v) invalid_param("prompt", "'prompt' is required");
  if (v->is_array() && v->size() == 1 && (*v)[0].is_string()) v = &(*v)[0];
  if (v->is_array() && v->size() == 1 && (*v)[0].is_array()) v = &(*v)[0];
  if (v->is_string()) {
    if (v->get_ref<const std::string&>().empty()) invalid_param("prompt", "'prompt' is empty");
    try {
      return model.encode_prompt(v->get<std::string>());
    } catch (const Error& e) {
      invalid_param("prompt", "{}", e.what());
    }
  }
  if (!v->is_array())
    invalid_param("prompt", "'prompt' must be a string or an array of token ids, not {}",
                  type_name(*v));
  std::vector<int32_t> ids;
  const int64_t vocab = model.config().vocab_size;
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& id = (*v)[i];
    if (id.is_string()) invalid_param("prompt", "'prompt': nextn serves one prompt per request");
    ids.push_back(static_cast<int32_t>(integer(id, fmt::format("prompt[{}]", i), 0, vocab - 1)));
  }
  return ids;
}

std::vector<int32_t> chat_prompt(const Json& body, const TextModel& model, bool& reasoning_open) {
  const Json* messages = member(body, "messages");
  if (!messages) invalid_param("messages", "'messages' is required");
  const Json normalized = normalize_messages(*messages);
  Json tools = nullptr;
  if (const Json* v = member(body, "tools")) {
    if (!v->is_array()) invalid_param("tools", "'tools' must be an array, not {}", type_name(*v));
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_object())
        invalid_param(fmt::format("tools[{}]", i), "each tool must be an object");
    }
    if (!v->empty()) tools = *v;
  }
  Json extra = Json::object();
  if (const Json* v = member(body, "chat_template_kwargs")) {
    if (!v->is_object())
      invalid_param("chat_template_kwargs", "'chat_template_kwargs' must be an object, not {}",
                    type_name(*v));
    extra = *v;
  }
  if (const Json* v = member(body, "enable_thinking"))
    extra["enable_thinking"] = boolean(*v, "enable_thinking");
  std::string rendered;
  try {
    rendered = model.render_chat(normalized, /*add_generation_prompt=*/true, tools, extra);
  } catch (const Error& e) {
    invalid_param("messages", "the chat template could not render these messages: {}", e.what());
  }
  reasoning_open = ends_in_open_think(rendered);
  return model.encode_chat(rendered);
}

}  // namespace

Json parse_body(const std::string& body) {
  Json json;
  try {
    json = Json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw ApiError(400, "invalid_request_error",
                   fmt::format("the request body is not valid JSON: {}", e.what()));
  }
  if (!json.is_object()) {
    throw ApiError(400, "invalid_request_error",
                   fmt::format("the request body must be a JSON object, not {}", type_name(json)));
  }
  return json;
}

Json normalize_messages(const Json& messages) {
  if (!messages.is_array())
    invalid_param("messages", "'messages' must be an array, not {}", type_name(messages));
  if (messages.empty()) invalid_param("messages", "'messages' must not be empty");
  Json out = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string at = fmt::format("messages[{}]", i);
    const Json& m = messages[i];
    if (!m.is_object()) invalid_param(at, "'{}' must be an object, not {}", at, type_name(m));
    const Json* role = member(m, "role");
    if (!role) invalid_param(at + ".role", "'{}.role' is required", at);
    std::string r = string(*role, at + ".role");
    if (r == "developer") r = "system";  // the templates know system only
    if (r != "system" && r != "user" && r != "assistant" && r != "tool") {
      invalid_param(at + ".role",
                    "'{}.role' must be system, developer, user, assistant or tool, got '{}'", at,
                    r);
    }
    Json copy = m;
    copy["role"] = r;
    const Json* content = member(m, "content");
    if (!content) {
      if (r == "system" || r == "user")
        invalid_param(at + ".content", "'{}.content' is required", at);
      copy["content"] = "";
    } else if (content->is_array()) {
      std::string text;
      for (size_t j = 0; j < content->size(); ++j) {
        const std::string part_at = fmt::format("{}.content[{}]", at, j);
        const Json& part = (*content)[j];
        const Json* type = part.is_object() ? member(part, "type") : nullptr;
        if (!type || !type->is_string() || *type != "text") {
          invalid_param(
              part_at, "'{}' must be {{\"type\": \"text\", \"text\": ...}}: nextn serves text only",
              part_at);
        }
        const Json* t = member(part, "text");
        if (!t) invalid_param(part_at + ".text", "'{}.text' is required", part_at);
        if (j > 0) text += '\n';
        text += string(*t, part_at + ".text");
      }
      copy["content"] = text;
    } else if (!content->is_string()) {
      invalid_param(at + ".content",
                    "'{}.content' must be a string or an array of text parts, not {}", at,
                    type_name(*content));
    }
    if (const Json* calls = member(m, "tool_calls"); calls && !calls->is_array()) {
      invalid_param(at + ".tool_calls", "'{}.tool_calls' must be an array", at);
    }
    for (const char* name : {"name", "tool_call_id", "reasoning_content"}) {
      if (const Json* v = member(m, name)) string(*v, fmt::format("{}.{}", at, name));
    }
    out.push_back(std::move(copy));
  }
  return out;
}

SamplingParams default_sampling(const std::optional<GenerationConfig>& generation) {
  SamplingParams s;
  if (generation && generation->do_sample.value_or(true)) {
    s.temperature = static_cast<float>(generation->temperature.value_or(0.0));
    s.top_p = static_cast<float>(generation->top_p.value_or(1.0));
    s.top_k = generation->top_k.value_or(0);
  }
  return s;
}

bool ends_in_open_think(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return false;
  constexpr std::string_view kOpen = "<think>";
  return end + 1 >= kOpen.size() &&
         std::string_view(text).substr(end + 1 - kOpen.size(), kOpen.size()) == kOpen;
}

ApiRequest parse_request(Endpoint endpoint, const Json& body, const TextModel& model,
                         const RequestLimits& limits) {
  ApiRequest req;
  req.endpoint = endpoint;
  req.model = limits.model_name;
  if (const Json* v = member(body, "model")) {
    req.model = string(*v, "model");
    if (req.model != limits.model_name) {
      throw ApiError(404, "invalid_request_error",
                     fmt::format("The model '{}' does not exist: this server serves '{}'",
                                 req.model, limits.model_name),
                     "model", "model_not_found");
    }
  }
  refuse_unsupported(body);
  if (const Json* v = member(body, "stream")) req.stream = boolean(*v, "stream");
  if (const Json* v = member(body, "stream_options")) {
    if (!req.stream)
      invalid_param("stream_options", "'stream_options' is only allowed when 'stream' is true");
    if (!v->is_object())
      invalid_param("stream_options", "'stream_options' must be an object, not {}", type_name(*v));
    if (const Json* u = member(*v, "include_usage"))
      req.include_usage = boolean(*u, "stream_options.include_usage");
  }

  GenerationRequest& gen = req.generation;
  gen.sampling = read_sampling(body, limits);
  gen.stop = read_stop(body);
  gen.speculation = read_speculation(body, limits);
  if (const Json* v = member(body, "ignore_eos")) gen.ignore_eos = boolean(*v, "ignore_eos");

  if (endpoint == Endpoint::kChat) {
    const Json* top = member(body, "top_logprobs");
    if (const Json* v = member(body, "logprobs")) req.logprobs = boolean(*v, "logprobs");
    if (top && !req.logprobs)
      invalid_param("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    if (req.logprobs)
      gen.top_logprobs = top ? integer(*top, "top_logprobs", 0, limits.max_top_logprobs) : 0;
  } else if (const Json* v = member(body, "logprobs")) {
    req.logprobs = true;
    gen.top_logprobs = integer(*v, "logprobs", 0, limits.max_top_logprobs);
  }

  std::string max_param;
  int64_t max_tokens = -1;
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {  // the newer name wins
    if (const Json* v = member(body, name)) {
      max_tokens = integer(*v, name, 1, std::numeric_limits<int64_t>::max());
      max_param = name;
      if (max_tokens > limits.max_tokens_limit) {
        invalid_param(name, "'{}' is {}, over this server's limit of {} (--max-tokens-limit)", name,
                      max_tokens, limits.max_tokens_limit);
      }
    }
  }

  const char* prompt_param = endpoint == Endpoint::kChat ? "messages" : "prompt";
  try {
    gen.prompt = endpoint == Endpoint::kChat ? chat_prompt(body, model, req.reasoning_open)
                                             : completion_prompt(body, model);
  } catch (const ApiError&) {
    throw;
  } catch (const Error& e) {
    invalid_param(prompt_param, "{}", e.what());
  }
  const auto prompt_tokens = static_cast<int64_t>(gen.prompt.size());
  if (prompt_tokens == 0) invalid_param(prompt_param, "the prompt has no tokens");
  if (prompt_tokens > limits.max_prompt_tokens) {
    invalid_param(prompt_param,
                  "the prompt is {} tokens, over this server's limit of {} (--max-prompt-tokens)",
                  prompt_tokens, limits.max_prompt_tokens);
  }
  const int64_t room = limits.context - prompt_tokens;
  if (room < 1) {
    invalid_param(prompt_param,
                  "the prompt is {} tokens and leaves no room in the {}-token context",
                  prompt_tokens, limits.context);
  }
  if (max_tokens < 0) {
    max_tokens = std::min(limits.max_tokens_limit, room);
  } else if (max_tokens > room) {
    invalid_param(max_param,
                  "this model's context is {} tokens: the prompt is {} and '{}' asks for {} more",
                  limits.context, prompt_tokens, max_param, max_tokens);
  }
  gen.max_tokens = max_tokens;
  return req;
}

}  // namespace nextn::server
