// Unit tests of the chat-template engine that the reference cannot generate: error messages
// (line:column, the feature named), the bounds that keep hostile templates from running away,
// and API behaviour. Feature-by-feature rendering is covered by engine_cases.json.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "core/error.h"

namespace nextn {
namespace {

using Json = nlohmann::ordered_json;

std::string render(std::string_view source, const Json& context = Json::object(),
                   const RenderLimits& limits = {}) {
  return ChatTemplate::parse(source, "t").render(context, limits);
}

// The message of the Error that parsing or rendering throws ("" if none).
std::string error_of(std::string_view source, const Json& context = Json::object(),
                     const RenderLimits& limits = {}) {
  try {
    render(source, context, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ChatTemplateErrors, UnknownFilterNamesLineAndColumn) {
  EXPECT_EQ(error_of("line one\n  {{ x | wordcount }}"), "t line 2:10: unknown filter 'wordcount'");
}

TEST(ChatTemplateErrors, NameOfTheTemplateLeadsTheMessage) {
  try {
    ChatTemplate::parse("{{ 1 is prime }}", "tokenizer_config.json chat_template");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "tokenizer_config.json chat_template line 1:9: unknown test 'prime'");
  }
}

TEST(ChatTemplateErrors, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(error_of("日本語 {{ x | nope }}"), "t line 1:12: unknown filter 'nope'");
}

TEST(ChatTemplateErrors, SyntaxErrorsAtParseTime) {
  EXPECT_THROW(ChatTemplate::parse("{{ 1 + }}", "t"), Error);
  EXPECT_EQ(error_of("{{ 'abc }}"), "t line 1:4: unterminated string literal");
  EXPECT_EQ(error_of("a\n{% if x %}\nb"), "t line 2:1: '{% if %}' is never closed (expected '{% endif %}')");
  EXPECT_EQ(error_of("{% for x in y %}"), "t line 1:1: '{% for %}' is never closed (expected '{% endfor %}')");
  EXPECT_EQ(error_of("x{% endif %}"), "t line 1:5: unexpected '{% endif %}' without a matching block");
  EXPECT_EQ(error_of("{# open"), "t line 1:1: unterminated comment '{#'");
  EXPECT_EQ(error_of("{{ 'a\\q' }}"), "t line 1:6: unknown escape '\\q' in string literal");
  EXPECT_EQ(error_of("{{ a @ b }}"), "t line 1:6: unexpected character '@'");
  EXPECT_EQ(error_of("{% break %}"), "t line 1:4: 'break' outside a for loop");
  EXPECT_EQ(error_of("{{ f(a=1, 2) }}"), "t line 1:11: positional argument follows keyword argument");
  EXPECT_EQ(error_of("{% set 1 = 2 %}"),
            "t line 1:8: cannot assign to this expression (only to a name, names or namespace.attribute)");
  EXPECT_EQ(error_of("{{ 99999999999999999999 }}"), "t line 1:4: integer literal 99999999999999999999 out of range");
}

TEST(ChatTemplateErrors, UnsupportedStatementsAreNamed) {
  EXPECT_EQ(error_of("{% include 'a' %}"), "t line 1:4: unsupported statement '{% include %}'");
  EXPECT_EQ(error_of("{% raw %}x{% endraw %}"), "t line 1:4: unsupported statement '{% raw %}'");
  EXPECT_EQ(error_of("{% call f() %}{% endcall %}"), "t line 1:4: unsupported statement '{% call %}'");
  EXPECT_EQ(error_of("{% frobnicate %}"), "t line 1:4: unknown statement '{% frobnicate %}'");
  EXPECT_EQ(error_of("{{ f(*xs) }}"), "t line 1:6: unsupported argument unpacking '*'");
}

TEST(ChatTemplateErrors, RuntimeErrorsNameTheConstruct) {
  EXPECT_EQ(error_of("\n  {{ missing + 'x' }}"),
            "t line 2:14: '+' applied to an undefined value (a missing variable, key or attribute)");
  EXPECT_EQ(error_of("{{ 'a' + 1 }}"),
            "t line 1:8: '+' between string and integer (use '~' to join values into a string)");
  EXPECT_EQ(error_of("{{ 'x'.find('x') }}"), "t line 1:8: unknown method 'find' of string");
  EXPECT_EQ(error_of("{{ nope() }}"), "t line 1:8: unknown function 'nope'");
  EXPECT_EQ(error_of("{% for x in 3 %}{% endfor %}"), "t line 1:13: cannot iterate over integer");
  EXPECT_EQ(error_of("{{ 1 // 0 }}"), "t line 1:6: division by zero");
  EXPECT_EQ(error_of("{{ 9223372036854775807 + 1 }}"), "t line 1:24: integer overflow in '+'");
  EXPECT_EQ(error_of("{% set d = {} %}{% set d.x = 1 %}"),
            "t line 1:26: cannot set attribute 'x' on dict: only a namespace() can be assigned to");
  EXPECT_EQ(error_of("{{ 'a,b'.split(',', 'x') }}"),
            "t line 1:15: split: 'maxsplit' must be an integer, got string");
  EXPECT_EQ(error_of("{{ 1 | trim }}"), "t line 1:8: filter 'trim' cannot be applied to integer");
  EXPECT_EQ(error_of("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}"),
            "t line 1:35: macro 'm' has no parameter 'b'");
}

TEST(ChatTemplateErrors, RaiseExceptionCarriesTheTemplatesMessage) {
  const std::string source =
      "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}"
      "{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";
  EXPECT_EQ(error_of(source, {{"messages", {{{"role", "system"}}}}}),
            "t line 1:86: raise_exception: Only user and assistant roles are supported!");
  EXPECT_EQ(render(source, {{"messages", {{{"role", "user"}}}}}), "");
}

TEST(ChatTemplateLimits, ParserBoundsNesting) {
  const std::string parens = std::string(1000, '(') + "1" + std::string(1000, ')');
  EXPECT_NE(error_of("{{ " + parens + " }}").find("expression nested more than 200 deep"), std::string::npos);
  const std::string lists = std::string(1000, '[') + std::string(1000, ']');
  EXPECT_NE(error_of("{{ " + lists + " }}").find("nested more than"), std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 500; ++i) chain += " + 1";
  EXPECT_NE(error_of("{{ " + chain + " }}").find("expression nested more than 200 deep"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 300; ++i) ifs += "{% if true %}";
  EXPECT_NE(error_of(ifs).find("blocks nested more than 100 deep"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(error_of("{{ " + nots + "x }}").find("nested more than"), std::string::npos);
}

TEST(ChatTemplateLimits, EndlessMacroRecursionFailsCleanly) {
  EXPECT_NE(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
                .find("evaluation nested more than 400 deep (a macro calling itself without end?)"),
            std::string::npos);
}

TEST(ChatTemplateLimits, StepBudgetStopsLongLoops) {
  const std::string loops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
  EXPECT_NE(error_of(loops, Json::object(), {.max_steps = 1'000'000})
                .find("rendering took more than 1000000 steps"),
            std::string::npos);
  EXPECT_NE(error_of("{{ range(1000000000) | length }}").find("steps"), std::string::npos);
}

TEST(ChatTemplateLimits, SizeBoundStopsDoubling) {
  const std::string doubling =
      "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
      "{% endfor %}{{ ns.s | length }}";
  EXPECT_NE(error_of(doubling, Json::object(), {.max_bytes = 1 << 20}).find("larger than the limit"),
            std::string::npos);
  const std::string lists =
      "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}"
      "{% endfor %}";
  EXPECT_NE(error_of(lists, Json::object(), {.max_bytes = 1 << 20}).find("larger than the limit"),
            std::string::npos);
}

TEST(ChatTemplateLimits, NamespacesCannotFormCycles) {
  EXPECT_EQ(error_of("{% set ns = namespace() %}{% set ns.me = ns %}"),
            "t line 1:37: a namespace attribute cannot hold a namespace or a function");
  EXPECT_NE(error_of("{% set ns = namespace() %}{% set ns.l = [ns] %}").find("cannot hold"), std::string::npos);
  EXPECT_NE(error_of("{% set a = namespace() %}{% set b = namespace(x=a) %}").find("cannot hold"), std::string::npos);
}

TEST(ChatTemplateLimits, DeeplyNestedValuesAreRejected) {
  Json deep = 1;
  for (int i = 0; i < 600; ++i) deep = Json::array({deep});
  EXPECT_EQ(error_of("{{ x }}", {{"x", deep}}), "t: context nested deeper than 512 levels");
  EXPECT_NE(error_of("{% set ns = namespace(v=1) %}{% for i in range(600) %}{% set ns.v = [ns.v] %}{% endfor %}")
                .find("value nested deeper than 512 levels"),
            std::string::npos);
}

TEST(ChatTemplateApi, ContextMustBeAnObject) {
  const auto t = ChatTemplate::parse("x", "t");
  EXPECT_THROW(t.render(Json::array()), Error);
  EXPECT_THROW(t.render(Json("text")), Error);
  EXPECT_EQ(t.render(Json::object()), "x");
}

TEST(ChatTemplateApi, ParseOnceRenderManyTimesAndThreads) {
  const auto t = ChatTemplate::parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}"
      "{{ ns.n }}:{{ messages | map(attribute='content') | join(',') }}",
      "t");
  EXPECT_EQ(t.name(), "t");
  const Json two = {{"messages", {{{"content", "a"}}, {{"content", "b"}}}}};
  const Json one = {{"messages", {{{"content", "c"}}}}};
  EXPECT_EQ(t.render(two), "2:a,b");
  EXPECT_EQ(t.render(one), "1:c");  // no state survives a render
  const ChatTemplate copy = t;      // copies share the parsed template
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(8);
  for (size_t i = 0; i < outputs.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) outputs[i] = (i % 2 ? copy : t).render(i % 2 ? one : two);
    });
  }
  for (auto& th : threads) th.join();
  for (size_t i = 0; i < outputs.size(); ++i) EXPECT_EQ(outputs[i], i % 2 ? "1:c" : "2:a,b");
}

TEST(ChatTemplateApi, JsonValuesConvert) {
  const Json context = {{"d", {{"zeta", 1}, {"alpha", nullptr}, {"mid", {1.5, true, "s"}}}},
                        {"big", 18446744073709551615ull}};
  EXPECT_EQ(render("{{ d | tojson }}|{{ d.alpha is none }}|{{ big }}", context),
            "{\"zeta\": 1, \"alpha\": null, \"mid\": [1.5, true, \"s\"]}|true|1.8446744073709552e+19");
}

TEST(ChatTemplateApi, FloatsPrintLikePython) {
  EXPECT_EQ(render("{{ x }} {{ y }} {{ z }} {{ w }} {{ v }}",
                   {{"x", 1.0}, {"y", 1e-7}, {"z", 1e16}, {"w", 123456.789}, {"v", -0.0}}),
            "1.0 1e-07 1e+16 123456.789 -0.0");
  EXPECT_EQ(render("{{ d | tojson }}", {{"d", {1.0, 0.1}}}), "[1.0, 0.1]");
}

TEST(ChatTemplateApi, InvalidUtf8NeverBreaksRendering) {
  const Json context = {{"s", std::string("a\xff\xc3")}};
  // nlohmann cannot hold invalid UTF-8 safely for dump(), but the engine must not care.
  EXPECT_EQ(render("{{ s | tojson(ensure_ascii=true) }}", context), "\"a\\ufffd\\ufffd\"");
  EXPECT_EQ(render("{{ s | length }} {{ s[1:] | length }}", context), "3 2");
  EXPECT_EQ(render(std::string("\xe2\x80{{ 'x' }}")), "\xe2\x80x");
}

TEST(ChatTemplateApi, LoopControlAndScopingCorners) {
  // A set inside a macro stays in the macro; a set at top level is visible to later macros.
  EXPECT_EQ(render("{% set x = 1 %}{% macro m() %}{% set x = 2 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}"), "21");
  // break inside nested loops leaves only the inner one.
  EXPECT_EQ(render("{% for a in [1, 2] %}{% for b in [1, 2] %}{% break %}{{ b }}{% endfor %}{{ a }}{% endfor %}"), "12");
  // The loop variable does not outlive the loop.
  EXPECT_EQ(render("{% for x in [1] %}{% endfor %}[{{ x }}]"), "[]");
}

}  // namespace
}  // namespace nextn
