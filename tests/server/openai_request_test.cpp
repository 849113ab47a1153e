#include "server/openai_request.h"

#include <gtest/gtest.h>

#include "server/api_error.h"
#include "server_test_util.h"

namespace nextn::server {
namespace {

using Json = nlohmann::ordered_json;

RequestLimits limits() {
  return RequestLimits{.model_name = "tiny",
                       .context = 64,
                       .max_prompt_tokens = 40,
                       .max_tokens_limit = 50,
                       .max_spec_tokens = 8,
                       .has_mtp = true};
}

ApiRequest chat(Json body, RequestLimits l = limits()) {
  if (!body.contains("messages"))
    body["messages"] = Json::array({{{"role", "user"}, {"content", "hi"}}});
  return parse_request(Endpoint::kChat, body, testing::tiny_text_model(), l);
}

ApiRequest completion(Json body, RequestLimits l = limits()) {
  if (!body.contains("prompt")) body["prompt"] = "hello";
  return parse_request(Endpoint::kCompletions, body, testing::tiny_text_model(), l);
}

// The ApiError a parse throws (status 0 when it throws none).
template <typename F>
ApiError error_of(F&& f) {
  try {
    f();
  } catch (const ApiError& e) {
    return e;
  }
  return ApiError(0, "", "no error");
}

TEST(ParseBody, RefusesWhatIsNotAJsonObject) {
  for (const char* body : {"", "{", "[1,2]", "\"text\"", "nul", "{\"a\": }"}) {
    const ApiError e = error_of([&] { parse_body(body); });
    EXPECT_EQ(e.status(), 400) << body;
    EXPECT_EQ(e.type(), "invalid_request_error");
  }
  EXPECT_TRUE(parse_body("{\"a\": 1}").is_object());
}

TEST(ParseRequest, ReadsTheOpenAiFields) {
  const ApiRequest r = chat({{"model", "tiny"},
                             {"temperature", 0.5},
                             {"top_p", 0.9},
                             {"top_k", 5},
                             {"min_p", 0.1},
                             {"seed", 7},
                             {"stop", "x"},
                             {"max_tokens", 12},
                             {"stream", true},
                             {"stream_options", {{"include_usage", true}}},
                             {"logprobs", true},
                             {"top_logprobs", 3}});
  EXPECT_FLOAT_EQ(r.generation.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.generation.sampling.top_p, 0.9f);
  EXPECT_EQ(r.generation.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(r.generation.sampling.min_p, 0.1f);
  EXPECT_EQ(r.generation.sampling.seed, 7u);
  EXPECT_EQ(r.generation.stop, std::vector<std::string>{"x"});
  EXPECT_EQ(r.generation.max_tokens, 12);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.generation.top_logprobs, 3);
  EXPECT_FALSE(r.generation.prompt.empty());
}

TEST(ParseRequest, DefaultMaxTokensFillsTheContext) {
  const ApiRequest r = completion({});
  EXPECT_EQ(r.generation.max_tokens,
            std::min<int64_t>(50, 64 - static_cast<int64_t>(r.generation.prompt.size())));
  EXPECT_EQ(completion({{"max_completion_tokens", 9}, {"max_tokens", 3}}).generation.max_tokens, 9);
}

TEST(ParseRequest, WrongTypesAndRangesNameTheParameter) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"temperature", "hot"}}, "temperature"},
      {{{"temperature", 3}}, "temperature"},
      {{{"top_p", 0}}, "top_p"},
      {{{"top_k", 1.5}}, "top_k"},
      {{{"min_p", -1}}, "min_p"},
      {{{"seed", "x"}}, "seed"},
      {{{"max_tokens", 0}}, "max_tokens"},
      {{{"max_tokens", 51}}, "max_tokens"},
      {{{"max_tokens", "10"}}, "max_tokens"},
      {{{"max_completion_tokens", -1}}, "max_completion_tokens"},
      {{{"stream", 1}}, "stream"},
      {{{"stream_options", {{"include_usage", true}}}}, "stream_options"},
      {{{"stop", 3}}, "stop"},
      {{{"stop", Json::array({"a", 1})}}, "stop[1]"},
      {{{"stop", ""}}, "stop"},
      {{{"n", 2}}, "n"},
      {{{"presence_penalty", 0.5}}, "presence_penalty"},
      {{{"logit_bias", {{"1", 5}}}}, "logit_bias"},
      {{{"top_logprobs", 2}}, "top_logprobs"},
      {{{"logprobs", true}, {"top_logprobs", 21}}, "top_logprobs"},
      {{{"speculative", "fast"}}, "speculative"},
      {{{"speculative", {{"num_tokens", 9}}}}, "speculative.num_tokens"},
      {{{"speculative", {{"tokens", 2}}}}, "speculative.num_tokens"},
      {{{"speculative", -1}}, "speculative"},
      {{{"messages", "hi"}}, "messages"},
      {{{"messages", Json::array()}}, "messages"},
      {{{"messages", Json::array({{{"role", "king"}, {"content", "x"}}})}}, "messages[0].role"},
      {{{"messages", Json::array({{{"content", "x"}}})}}, "messages[0].role"},
      {{{"messages", Json::array({{{"role", "user"}, {"content", 5}}})}}, "messages[0].content"},
      {{{"messages", Json::array({{{"role", "user"}}})}}, "messages[0].content"},
      {{{"messages",
         Json::array({{{"role", "user"}, {"content", Json::array({{{"type", "image_url"}}})}}})}},
       "messages[0].content[0]"},
      {{{"tools", "x"}}, "tools"},
      {{{"chat_template_kwargs", 1}}, "chat_template_kwargs"},
      {{{"enable_thinking", "yes"}}, "enable_thinking"},
      {{{"messages", Json::array({{{"role", "user"}, {"content", std::string(300, '\x01')}}})}},
       "messages"},
  };
  for (const auto& [body, param] : cases) {
    const ApiError e = error_of([&] { chat(body); });
    EXPECT_EQ(e.status(), 400) << body.dump();
    EXPECT_EQ(e.param(), param) << body.dump() << ": " << e.what();
  }
}

TEST(ParseRequest, CompletionPromptsAndLogprobs) {
  EXPECT_EQ(completion({{"prompt", Json::array({3, 4, 5})}}).generation.prompt,
            (std::vector<int32_t>{3, 4, 5}));
  EXPECT_EQ(completion({{"prompt", Json::array({"hello"})}}).generation.prompt,
            completion({}).generation.prompt);
  EXPECT_EQ(completion({{"logprobs", 2}}).generation.top_logprobs, 2);
  EXPECT_EQ(completion({}).generation.top_logprobs, -1);
  for (const auto& [body, param] : std::vector<std::pair<Json, std::string>>{
           {{{"prompt", 5}}, "prompt"},
           {{{"prompt", ""}}, "prompt"},
           {{{"prompt", Json::array({"a", "b"})}}, "prompt"},
           {{{"prompt", Json::array({1, 300})}}, "prompt[1]"},
           {{{"prompt", Json::array({-1})}}, "prompt[0]"},
           {{{"logprobs", true}}, "logprobs"},
           {{{"echo", true}}, "echo"},
           {{{"prompt", Json::array({1, 2, 3})}, {"max_tokens", 50}, {"speculative", 0}}, ""}}) {
    const ApiError e = error_of([&] { completion(body); });
    if (param.empty()) {
      EXPECT_EQ(e.status(), 0) << body.dump() << ": " << e.what();
    } else {
      EXPECT_EQ(e.status(), 400) << body.dump();
      EXPECT_EQ(e.param(), param) << body.dump() << ": " << e.what();
    }
  }
  // The prompt and max_tokens must fit the context together.
  EXPECT_EQ(
      error_of([&] {
        completion({{"prompt", Json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})},
                    {"max_tokens", 50}});
      }).param(),
      "max_tokens");
}

TEST(ParseRequest, UnknownModelIs404) {
  const ApiError e = error_of([&] { chat({{"model", "gpt-4"}}); });
  EXPECT_EQ(e.status(), 404);
  EXPECT_EQ(e.code(), "model_not_found");
  EXPECT_EQ(e.param(), "model");
}

TEST(ParseRequest, Speculation) {
  auto spec = [](Json value, RequestLimits l = limits()) {
    return chat({{"speculative", value}}, l).generation.speculation;
  };
  EXPECT_TRUE(spec("auto").adaptive);
  EXPECT_EQ(spec("auto").num_tokens, 8);
  EXPECT_FALSE(spec(0).adaptive);
  EXPECT_EQ(spec(0).num_tokens, 0);
  EXPECT_EQ(spec({{"num_tokens", 0}}).num_tokens, 0);
  EXPECT_FALSE(spec({{"num_tokens", 3}}).adaptive);
  EXPECT_EQ(spec({{"num_tokens", 3}}).num_tokens, 3);
  EXPECT_EQ(spec(2).num_tokens, 2);
  EXPECT_TRUE(chat({}).generation.speculation.adaptive);
  // Without MTP layers: auto and 0 are plain decoding, a fixed K is refused.
  RequestLimits no_mtp = limits();
  no_mtp.has_mtp = false;
  EXPECT_EQ(spec("auto", no_mtp).num_tokens, 0);
  EXPECT_EQ(spec(0, no_mtp).num_tokens, 0);
  EXPECT_EQ(error_of([&] { spec({{"num_tokens", 3}}, no_mtp); }).param(), "speculative.num_tokens");
}

TEST(NormalizeMessages, JoinsTextPartsAndMapsDeveloper) {
  const Json out = normalize_messages(Json::array(
      {{{"role", "developer"}, {"content", "be brief"}},
       {{"role", "user"},
        {"content",
         Json::array({{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}})}},
       {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", Json::array()}}}));
  EXPECT_EQ(out[0]["role"], "system");
  EXPECT_EQ(out[1]["content"], "a\nb");
  EXPECT_EQ(out[2]["content"], "");
}

TEST(ChatTemplateArguments, EnableThinkingReachesTheTemplate) {
  // The tiny template ignores it; the request must still parse with it in both places.
  EXPECT_NO_THROW(
      chat({{"enable_thinking", false}, {"chat_template_kwargs", {{"enable_thinking", true}}}}));
}

TEST(EndsInOpenThink, SeesATrailingTag) {
  EXPECT_TRUE(ends_in_open_think("<|assistant|><think>"));
  EXPECT_TRUE(ends_in_open_think("<think>\n"));
  EXPECT_FALSE(ends_in_open_think("<think></think>"));
  EXPECT_FALSE(ends_in_open_think("think>"));
  EXPECT_FALSE(ends_in_open_think(""));
}

}  // namespace
}  // namespace nextn::server
