// Renders every golden of tests/data/chat/ (written by tools/goldens/make_chat_goldens.mjs
// with the reference renderer) and compares byte for byte.
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "core/error.h"

namespace nextn {
namespace {

using Json = nlohmann::ordered_json;

const std::string kDataDir = NEXTN_TEST_DATA_DIR;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json read_json(const std::string& path) { return Json::parse(read_file(path)); }

// "first difference at byte N" with a little of both strings around it.
std::string describe_difference(const std::string& expected, const std::string& actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  const size_t from = i < 40 ? 0 : i - 40;
  return "first difference at byte " + std::to_string(i) + " (expected " +
         std::to_string(expected.size()) + " bytes, got " + std::to_string(actual.size()) +
         ")\n  expected: ..." + Json(expected.substr(from, 80)).dump() + "\n  actual:   ..." +
         Json(actual.substr(from, 80)).dump();
}

std::string test_name(std::string s) {
  for (char& c : s) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

// ---- conversations x templates x variable sets ----

struct TemplateCase {
  std::string name;
  Json golden;
};

std::vector<TemplateCase> template_cases() {
  std::vector<TemplateCase> cases;
  const Json goldens = read_json(kDataDir + "/chat/template_goldens.json");
  std::map<std::string, int> seen;
  for (const Json& g : goldens) {
    const std::string base = g["template"].get<std::string>() + "_" + g["conversation"].get<std::string>();
    cases.push_back({test_name(base + "_" + std::to_string(seen[base]++)), g});
  }
  return cases;
}

const ChatTemplate& template_named(const std::string& name) {
  static std::map<std::string, ChatTemplate> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    const std::string path = kDataDir + "/chat_templates/" + name + ".jinja";
    it = cache.emplace(name, ChatTemplate::parse(read_file(path), name + ".jinja")).first;
  }
  return it->second;
}

const Json& conversation_named(const std::string& name) {
  static const Json conversations = read_json(kDataDir + "/chat/conversations.json");
  for (const Json& c : conversations) {
    if (c["name"] == name) return c;
  }
  throw std::runtime_error("no conversation " + name);
}

// gtest prints the case name instead of the bytes of the struct.
void PrintTo(const TemplateCase& c, std::ostream* os) { *os << c.name; }

class TemplateGolden : public ::testing::TestWithParam<TemplateCase> {};

TEST_P(TemplateGolden, RendersLikeTheReference) {
  const Json& g = GetParam().golden;
  const ChatTemplate& tmpl = template_named(g["template"]);
  const Json& conversation = conversation_named(g["conversation"]);
  Json context = {{"messages", conversation["messages"]}};
  if (conversation.contains("tools")) context["tools"] = conversation["tools"];
  for (const auto& [key, value] : g["variables"].items()) context[key] = value;
  if (g.contains("error")) {
    EXPECT_THROW(tmpl.render(context), Error) << "the reference fails: " << g["error"];
    return;
  }
  const std::string expected = g["expected"];
  const std::string actual = tmpl.render(context);
  EXPECT_TRUE(actual == expected) << describe_difference(expected, actual);
}

INSTANTIATE_TEST_SUITE_P(Chat, TemplateGolden, ::testing::ValuesIn(template_cases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(TemplateGoldens, CoverEveryTemplateAndManyConversations) {
  const auto cases = template_cases();
  std::map<std::string, int> rendered;
  for (const auto& c : cases) {
    if (!c.golden.contains("error")) ++rendered[c.golden["template"]];
  }
  for (const char* name : {"deepseek-v3", "deepseek-v3.1", "glm-4.5", "glm-4.6"}) {
    EXPECT_GE(rendered[name], 60) << name;
  }
  EXPECT_GE(read_json(kDataDir + "/chat/conversations.json").size(), 25u);
}

// ---- engine cases: one feature per small template ----

struct EngineCase {
  std::string name;
  Json spec;
};

std::vector<EngineCase> engine_cases() {
  std::vector<EngineCase> cases;
  for (const Json& c : read_json(kDataDir + "/chat/engine_cases.json")) {
    cases.push_back({test_name(c["name"]), c});
  }
  return cases;
}

void PrintTo(const EngineCase& c, std::ostream* os) { *os << c.name; }

class EngineGolden : public ::testing::TestWithParam<EngineCase> {};

TEST_P(EngineGolden, Renders) {
  const Json& c = GetParam().spec;
  const Json context = c.value("context", Json::object());
  // A case with `nextn` / `nextn_error` is a deliberate difference from the reference
  // (`note` says why, `reference` records what the reference does).
  const bool expect_error = c.contains("error") || c.value("nextn_error", false);
  const std::string expected =
      c.contains("nextn") ? c["nextn"].get<std::string>() : c.value("expected", std::string());
  std::string actual;
  try {
    actual = ChatTemplate::parse(c["template"].get<std::string>(), "case").render(context);
  } catch (const Error& e) {
    EXPECT_TRUE(expect_error) << "unexpected error: " << e.what();
    return;
  }
  ASSERT_FALSE(expect_error) << "expected an error, rendered " << Json(actual).dump();
  EXPECT_TRUE(actual == expected) << describe_difference(expected, actual);
}

INSTANTIATE_TEST_SUITE_P(Chat, EngineGolden, ::testing::ValuesIn(engine_cases()),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace nextn
