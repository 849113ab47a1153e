// Response formatting: reasoning split, SSE framing, error objects, token bytes, /metrics.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "server/api_error.h"
#include "server/metrics.h"
#include "server/openai_response.h"
#include "server/reasoning.h"
#include "server/server_impl.h"
#include "server/sse.h"
#include "server_test_util.h"

namespace nextn::server {
namespace {

SplitText split_all(bool open, const std::vector<std::string>& pieces) {
  ReasoningSplitter splitter(open);
  SplitText all;
  auto take = [&](const SplitText& t) {
    all.reasoning += t.reasoning;
    all.content += t.content;
  };
  for (const auto& piece : pieces) take(splitter.push(piece));
  take(splitter.finish());
  return all;
}

TEST(Reasoning, SplitsAtTheTagsWhereverTheUpdatesBreak) {
  const std::string text = "<think>step 1, step 2</think>The answer.";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    for (size_t cut2 = cut; cut2 <= text.size(); cut2 += 3) {
      const SplitText s =
          split_all(false, {text.substr(0, cut), text.substr(cut, cut2 - cut), text.substr(cut2)});
      EXPECT_EQ(s.reasoning, "step 1, step 2") << cut << " " << cut2;
      EXPECT_EQ(s.content, "The answer.") << cut << " " << cut2;
    }
  }
}

TEST(Reasoning, OpenPromptStartsInReasoning) {
  SplitText s = split_all(true, {"thinking</th", "ink>\n\nhello"});
  EXPECT_EQ(s.reasoning, "thinking");
  EXPECT_EQ(s.content, "\n\nhello");
  s = split_all(true, {"never closed </thi"});
  EXPECT_EQ(s.reasoning, "never closed </thi");
  EXPECT_EQ(s.content, "");
}

TEST(Reasoning, PlainRepliesAreContent) {
  EXPECT_EQ(split_all(false, {"<th", "ey>"}).content, "<they>");
  EXPECT_EQ(split_all(false, {"hello <think>x</think>"}).content, "hello <think>x</think>");
  EXPECT_EQ(split_all(false, {"  "}).content, "  ");
  EXPECT_EQ(split_all(false, {"\n<think>a</think>b"}).reasoning, "a");
}

TEST(Sse, FramesEventsAndParsesThemBack) {
  const nlohmann::ordered_json data = {{"a", "line\nbreak"}, {"b", 1}};
  const std::string event = sse_event(data);
  EXPECT_EQ(event, "data: {\"a\":\"line\\nbreak\",\"b\":1}\n\n");
  const auto lines = sse_data_lines(event + kSseKeepAlive + sse_event({{"c", 2}}) + kSseDone);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["a"], "line\nbreak");
  EXPECT_EQ(lines[2], "[DONE]");
  // Invalid UTF-8 in a string is replaced, never thrown on.
  EXPECT_NO_THROW(sse_event({{"t", std::string("\xff\xfe")}}));
}

TEST(ApiErrorBody, HasTheOpenAiShape) {
  const auto body =
      nlohmann::json::parse(error_body(ApiError(400, "invalid_request_error", "bad n", "n")));
  EXPECT_EQ(body["error"]["message"], "bad n");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["param"], "n");
  EXPECT_TRUE(body["error"]["code"].is_null());
  const auto e404 = nlohmann::json::parse(error_body(404, "", "x", "model", "model_not_found"));
  EXPECT_EQ(e404["error"]["code"], "model_not_found");
  EXPECT_EQ(e404["error"]["type"], "not_found_error");
}

TEST(TokenBytes, MapsByteLevelPiecesBackToBytes) {
  const Tokenizer& tok = testing::tiny_text_model().tokenizer();
  std::string all;
  const std::string text = "Hello, world \xe2\x82\xac!";
  const std::vector<int32_t> ids = tok.encode(text);
  for (int32_t id : ids) all += token_bytes(tok, id);
  EXPECT_EQ(all, text);
  // A special token is its content.
  ASSERT_TRUE(tok.eos_id());
  EXPECT_EQ(token_bytes(tok, *tok.eos_id()), *tok.config().eos_token);
}

TEST(CompletionLogprobsFormat, OffsetsCountBytes) {
  const Tokenizer& tok = testing::tiny_text_model().tokenizer();
  const std::vector<int32_t> ids = tok.encode("ab cd");
  std::vector<TokenLogprob> lps;
  for (int32_t id : ids) lps.push_back({.id = id, .logprob = -1.0f, .top = {{id, -1.0f}}});
  CompletionLogprobs lp;
  lp.add(tok, lps);
  const auto json = lp.take();
  ASSERT_EQ(json["tokens"].size(), ids.size());
  EXPECT_EQ(json["text_offset"][0], 0);
  int64_t offset = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(json["text_offset"][i], offset);
    offset += static_cast<int64_t>(token_bytes(tok, ids[i]).size());
  }
  EXPECT_TRUE(lp.take()["tokens"].empty());
}

// A strict reader of the Prometheus text format 0.0.4: every sample's metric has HELP and
// TYPE lines before it, names and labels are well formed, values are numbers.
std::map<std::string, double> parse_prometheus(const std::string& text) {
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  const std::regex type(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9.e+-]+|\+Inf|NaN))");
  std::map<std::string, std::string> types;
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) continue;
    if (std::regex_match(line, m, type)) {
      EXPECT_FALSE(types.count(m[1])) << "TYPE twice: " << line;
      types[m[1]] = m[2];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not a sample: " << line;
      continue;
    }
    std::string family = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (!types.count(family) && family.size() > s.size() && family.ends_with(s)) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    EXPECT_TRUE(types.count(family)) << "no TYPE before " << line;
    samples[line.substr(0, line.rfind(' '))] = std::stod(line.substr(line.rfind(' ') + 1));
  }
  return samples;
}

TEST(Metrics, RendersTheTextFormat) {
  ServerMetrics metrics;
  metrics.record_request("/v1/chat/completions", 200);
  metrics.record_request("/v1/chat/completions", 200);
  metrics.record_request("other", 404);
  metrics.record_latency("/v1/chat/completions", 0.3);
  metrics.record_latency("/v1/chat/completions", 100.0);
  EngineMetrics engine;
  engine.spec_drafts = 5;
  engine.spec_draft_tokens = 15;
  engine.spec_accepted_tokens = 9;
  engine.spec_accepted_per_position = {4, 3, 2};
  engine.generation_tokens = 30;
  const auto samples = parse_prometheus(metrics.render(engine));
  EXPECT_EQ(
      samples.at("nextn:http_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"), 2);
  EXPECT_EQ(
      samples.at(
          "nextn:e2e_request_latency_seconds_bucket{endpoint=\"/v1/chat/completions\",le=\"0.5\"}"),
      1);
  EXPECT_EQ(samples.at("nextn:e2e_request_latency_seconds_bucket{endpoint=\"/v1/chat/"
                       "completions\",le=\"+Inf\"}"),
            2);
  EXPECT_EQ(
      samples.at("nextn:e2e_request_latency_seconds_count{endpoint=\"/v1/chat/completions\"}"), 2);
  EXPECT_EQ(samples.at("nextn:spec_decode_num_drafts_total"), 5);
  EXPECT_EQ(samples.at("nextn:spec_decode_num_draft_tokens_total"), 15);
  EXPECT_EQ(samples.at("nextn:spec_decode_num_accepted_tokens_total"), 9);
  EXPECT_EQ(samples.at("nextn:spec_decode_num_accepted_tokens_per_pos_total{position=\"2\"}"), 2);
  EXPECT_EQ(samples.at("nextn:generation_tokens_total"), 30);
  EXPECT_EQ(escape_label("a\"b\\c\n"), "a\\\"b\\\\c\\n");
}

TEST(LogLine, TextAndJson) {
  RequestRecord record{.method = "POST", .path = "/v1/completions", .status = 200, .seconds = 1.5};
  record.result =
      GenerationResult{.finish = FinishReason::kLength, .prompt_tokens = 3, .completion_tokens = 8};
  record.result->stats.drafts = 2;
  record.result->stats.draft_tokens = 6;
  record.result->stats.accepted_tokens = 3;
  EXPECT_EQ(format_log_line(record, LogFormat::kText),
            "POST /v1/completions 200 1.500s prompt=3 completion=8 finish=length accept=0.50 "
            "mean_len=2.50");
  const auto json = nlohmann::json::parse(format_log_line(record, LogFormat::kJson));
  EXPECT_EQ(json["status"], 200);
  EXPECT_EQ(json["completion_tokens"], 8);
  EXPECT_DOUBLE_EQ(json["mean_acceptance_length"], 2.5);
  EXPECT_EQ(endpoint_label("/v1/models/x"), "/v1/models/{id}");
  EXPECT_EQ(endpoint_label("/../etc"), "other");
}

}  // namespace
}  // namespace nextn::server
