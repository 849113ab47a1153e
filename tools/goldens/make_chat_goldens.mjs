// Writes nextn's chat-template goldens with the reference renderer, @huggingface/jinja
// (pinned in package.json):
//
//   tests/data/chat/conversations.json     the conversations, written by hand below
//   tests/data/chat/template_goldens.json  every conversation x template x variable set,
//                                          rendered (or the reference's error)
//   tests/data/chat/engine_cases.json      small templates exercising one engine feature each
//
// Run from tools/goldens: `npm ci && node make_chat_goldens.mjs`. The C++ tests
// (tests/chat/) render every case and compare byte for byte.
import { Template } from "@huggingface/jinja";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dataDir = join(root, "tests", "data");
const outDir = join(dataDir, "chat");
mkdirSync(outDir, { recursive: true });

// ---------------------------------------------------------------------------------------------
// Conversations. Non-ASCII text exercises tojson's ensure_ascii; arguments come both as a JSON
// string (DeepSeek / OpenAI style) and as an object (GLM style). No dict key looks like an
// integer (JS would reorder it) and no float is integral (JS would print it as an integer).

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather for a city — returns °C",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name, e.g. 北京 or Zürich" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        days: { type: "integer", minimum: 1, maximum: 7 },
      },
      required: ["city"],
    },
  },
};
const searchTool = {
  type: "function",
  function: {
    name: "search",
    description: "Search the web 🔎",
    parameters: {
      type: "object",
      properties: {
        query: { type: "string" },
        filters: {
          type: "object",
          properties: {
            site: { type: "string", description: "Only this site" },
            recent: { type: "boolean" },
            score: { type: "number", default: 0.5 },
          },
        },
        tags: { type: "array", items: { type: "string" } },
      },
      required: ["query"],
    },
  },
};
const tools = [weatherTool, searchTool];

const call = (id, name, args) => ({ id, type: "function", function: { name, arguments: args } });

const conversations = [
  { name: "system_only", messages: [{ role: "system", content: "You are a helpful assistant." }] },
  {
    name: "system_user",
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Hello!" },
    ],
  },
  { name: "user_only", messages: [{ role: "user", content: "What is 2+2?" }] },
  {
    name: "multi_turn",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello! How can I help?" },
      { role: "user", content: "Tell me a joke." },
    ],
  },
  {
    name: "two_system_messages",
    messages: [
      { role: "system", content: "Rule one." },
      { role: "system", content: "Rule two." },
      { role: "user", content: "Go" },
    ],
  },
  {
    name: "assistant_last",
    messages: [
      { role: "user", content: "Say hi" },
      { role: "assistant", content: "Hi there" },
    ],
  },
  {
    name: "think_in_content",
    messages: [
      { role: "user", content: "2+3?" },
      { role: "assistant", content: "<think>2 plus 3 is 5.</think>The answer is 5." },
      { role: "user", content: "And 4+4?" },
    ],
  },
  {
    name: "think_with_newlines_last",
    messages: [
      { role: "user", content: "Why is the sky blue?" },
      { role: "assistant", content: "<think>\nRayleigh scattering.\n\n</think>\n\nBecause of Rayleigh scattering.  " },
    ],
  },
  {
    name: "reasoning_content_field",
    messages: [
      { role: "user", content: "Pick a number" },
      { role: "assistant", reasoning_content: "Any number works; 7 is popular.", content: "7" },
      { role: "user", content: "Another" },
      { role: "assistant", reasoning_content: "  Try 3.  ", content: "3" },
    ],
  },
  {
    name: "reasoning_after_last_user_only",
    messages: [
      { role: "user", content: "First" },
      { role: "assistant", content: "<think>old thought</think>old answer" },
      { role: "user", content: "Second" },
      { role: "assistant", content: "<think>new thought</think>new answer" },
    ],
  },
  { name: "tools_and_user", tools, messages: [{ role: "user", content: "Weather in Paris?" }] },
  {
    name: "tool_call_string_arguments",
    tools,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [call("c1", "get_weather", '{"city": "Paris"}')] },
      { role: "tool", tool_call_id: "c1", content: '{"temp": 21.5}' },
      { role: "assistant", content: "It is 21.5 °C in Paris." },
    ],
  },
  {
    name: "tool_call_object_arguments",
    tools,
    messages: [
      { role: "user", content: "Search for cats" },
      {
        role: "assistant",
        content: "",
        tool_calls: [call("c1", "search", { query: "cats", filters: { site: "wiki", recent: true, score: 0.75 }, tags: ["pets", "猫"] })],
      },
      { role: "tool", content: "Cats are small carnivores." },
      { role: "assistant", content: "Cats are small carnivores." },
    ],
  },
  {
    name: "two_tool_calls_two_results",
    tools,
    messages: [
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [call("c1", "get_weather", '{"city": "Paris"}'), call("c2", "get_weather", '{"city": "Rome", "days": 2}')],
      },
      { role: "tool", tool_call_id: "c1", content: "sunny" },
      { role: "tool", tool_call_id: "c2", content: "rainy" },
      { role: "assistant", content: "Paris is sunny, Rome is rainy." },
      { role: "user", content: "Thanks" },
    ],
  },
  {
    name: "tool_result_last",
    tools,
    messages: [
      { role: "user", content: "Weather?" },
      { role: "assistant", content: null, tool_calls: [call("c1", "get_weather", '{"city": "Oslo"}')] },
      { role: "tool", content: "cold" },
    ],
  },
  {
    name: "tool_call_with_text_object_arguments",
    tools,
    messages: [
      { role: "user", content: "Find news" },
      {
        role: "assistant",
        content: "Let me search.",
        tool_calls: [call("c1", "search", { query: "news", tags: [] }), call("c2", "get_weather", { city: "Zürich", days: 3 })],
      },
      { role: "tool", content: "headline A" },
      { role: "tool", content: "mild" },
    ],
  },
  {
    name: "tool_call_with_text_string_arguments",
    tools,
    messages: [
      { role: "user", content: "Find news" },
      { role: "assistant", content: "Let me search.", tool_calls: [call("c1", "search", '{"query": "news"}')] },
      { role: "tool", content: "headline A" },
      { role: "assistant", content: "Headline A." },
    ],
  },
  {
    name: "content_parts_user",
    messages: [
      { role: "system", content: [{ type: "text", text: "System in parts." }] },
      { role: "user", content: [{ type: "text", text: "Part one. " }, { type: "image_url", image_url: { url: "x" } }, { type: "text", text: "Part two." }] },
    ],
  },
  {
    name: "content_parts_assistant",
    messages: [
      { role: "user", content: "Hi" },
      { role: "assistant", content: [{ type: "text", text: "<think>greet</think>" }, { type: "text", text: "Hello!" }] },
      { role: "user", content: ["plain string part", { type: "text", text: " and text" }] },
    ],
  },
  {
    name: "tool_content_list",
    messages: [
      { role: "user", content: "Run both" },
      { role: "assistant", content: "", tool_calls: [call("c1", "search", { query: "a" })] },
      { role: "tool", content: [{ output: "result one" }, "bare result"] },
    ],
  },
  {
    name: "non_ascii_and_emoji",
    messages: [
      { role: "system", content: "Réponds en français. 日本語もOK。" },
      { role: "user", content: "Привет 👋🏽 — ça va? \u00a0(nbsp) ∑ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢" },
      { role: "assistant", content: "Très bien 😀" },
      { role: "user", content: "한국어" },
    ],
  },
  {
    name: "empty_contents",
    messages: [
      { role: "system", content: "" },
      { role: "user", content: "" },
      { role: "assistant", content: "" },
      { role: "user", content: "" },
    ],
  },
  {
    name: "whitespace_content",
    messages: [
      { role: "user", content: "  \n leading and trailing \n\n" },
      { role: "assistant", content: "\n\n  spaced answer \t\n" },
      { role: "user", content: "\tTab" },
    ],
  },
  {
    name: "jinja_like_content",
    messages: [
      { role: "user", content: "Render {{ this }} and {% that %} and {# not a comment #} literally." },
      { role: "assistant", content: "Sure: {{ x }}" },
    ],
  },
  {
    name: "nothink_user",
    messages: [
      { role: "user", content: "Quick answer please /nothink" },
      { role: "assistant", content: "OK" },
      { role: "user", content: "Again" },
    ],
  },
  {
    name: "prefix_assistant",
    messages: [
      { role: "user", content: "Continue this" },
      { role: "assistant", content: "Once upon", prefix: true },
    ],
  },
  {
    name: "tool_arguments_mixed_values",
    tools,
    messages: [
      { role: "user", content: "Call with everything" },
      {
        role: "assistant",
        content: null,
        tool_calls: [call("c1", "search", { query: "q \"quoted\" \\ back", filters: { recent: false, score: -2.25 }, tags: ["x", "ÿ"], count: 12, nothing: null })],
      },
      { role: "tool", content: "done" },
      { role: "assistant", content: "Done." },
    ],
  },
  { name: "empty_tools_list", tools: [], messages: [{ role: "user", content: "No tools here" }] },
  {
    name: "extra_fields",
    messages: [
      { role: "user", content: "Hi", name: "alice" },
      { role: "assistant", content: "Hello alice", name: "bot", weight: 1 },
      { role: "user", content: "Bye" },
    ],
  },
  {
    name: "long_multi_turn_reasoning",
    messages: [
      { role: "system", content: "You think step by step." },
      { role: "user", content: "Q1" },
      { role: "assistant", reasoning_content: "R1", content: "A1" },
      { role: "user", content: "Q2" },
      { role: "assistant", content: "<think>R2</think>A2" },
      { role: "user", content: "Q3" },
      { role: "assistant", reasoning_content: "R3", content: "A3" },
      { role: "user", content: "Q4" },
    ],
  },
  {
    name: "system_content_null",
    messages: [
      { role: "system", content: null },
      { role: "user", content: "Hi" },
    ],
  },
  {
    name: "assistant_content_null_no_tools",
    messages: [
      { role: "user", content: "Hi" },
      { role: "assistant", content: null },
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// Templates and variable sets. bos/eos as the checkpoints' tokenizer_config.json has them (the
// GLM templates write [gMASK]<sop> themselves and use neither).

const deepseekTokens = { bos_token: "<｜begin▁of▁sentence｜>", eos_token: "<｜end▁of▁sentence｜>" };
const glmTokens = { eos_token: "<|endoftext|>" };
// The DeepSeek templates add message content to strings with `+`.
const listContent = (conversation) =>
  conversation.messages.some((m) => Array.isArray(m.content))
    ? "the template adds list content to a string: Python raises TypeError, the reference joins the parts' JSON with commas; nextn raises"
    : null;
const glmVariables = [
  {},
  { add_generation_prompt: true },
  { add_generation_prompt: true, enable_thinking: true },
  { add_generation_prompt: true, enable_thinking: false },
  { add_generation_prompt: false, enable_thinking: false },
];
const templates = {
  "deepseek-v3": { tokens: deepseekTokens, rejects: listContent, variables: [{}, { add_generation_prompt: false }, { add_generation_prompt: true }] },
  "deepseek-v3.1": {
    tokens: deepseekTokens,
    rejects: listContent,
    variables: [
      {},
      { add_generation_prompt: true },
      { add_generation_prompt: true, thinking: true },
      { add_generation_prompt: true, thinking: false },
      { add_generation_prompt: true, enable_thinking: true },
      { add_generation_prompt: false, thinking: true },
    ],
  },
  "glm-4.5": { tokens: glmTokens, variables: glmVariables },
  "glm-4.6": { tokens: glmTokens, variables: glmVariables },
};

// The reference turns a list or dict added to a string into text ("[object Map]", or its
// items' JSON joined by commas) where Python raises TypeError; nextn raises too, so such cases
// expect an error. `rejects` names the cases where nextn raises and the reference does not.
function render(source, context, rejects = null) {
  try {
    const out = new Template(source).render(context);
    if (/\[object [A-Za-z]+\]/.test(out)) {
      return { error: "reference joins a list or dict into text ([object ...]); nextn raises like Python" };
    }
    if (rejects) return { error: rejects };
    return { expected: out };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

const goldens = [];
for (const [name, spec] of Object.entries(templates)) {
  const source = readFileSync(join(dataDir, "chat_templates", `${name}.jinja`), "utf8");
  for (const conversation of conversations) {
    for (const variables of spec.variables) {
      const context = { messages: conversation.messages, ...variables, ...spec.tokens };
      if (conversation.tools) context.tools = conversation.tools;
      const rejects = spec.rejects?.(conversation) ?? null;
      goldens.push({ template: name, conversation: conversation.name, variables: { ...variables, ...spec.tokens }, ...render(source, context, rejects) });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Engine cases: one feature each. `context` defaults to {}. A case with `nextn` (or
// `nextn_error`) is one where nextn deliberately differs from the reference: the test checks
// nextn's value and `reference` records what the reference does, with the reason in `note`.

const engineCases = [
  // Text, output, whitespace control, comments, trailing newline.
  { name: "plain_text", template: "Hello, world" },
  { name: "trailing_newline_dropped", template: "line\n" },
  { name: "only_one_trailing_newline_dropped", template: "line\n\n" },
  { name: "output_variable", template: "Hi {{ name }}!", context: { name: "Ann" } },
  { name: "strip_left_expression", template: "a   \n  {{- 'b' }}" },
  { name: "strip_right_expression", template: "{{ 'a' -}}  \n  b" },
  { name: "strip_both_statement", template: "x  {%- if true -%}  y  {%- endif -%}  z" },
  { name: "trim_blocks_newline_after_tag", template: "{% if true %}\nyes\n{% endif %}\nafter" },
  { name: "lstrip_blocks_indent_before_tag", template: "a\n    {% if true %}\n    b\n    {% endif %}\nc" },
  { name: "lstrip_not_before_expression", template: "a\n    {{ 'b' }}\nc" },
  { name: "newline_after_expression_kept", template: "{{ 'a' }}\nb" },
  { name: "comment_removed", template: "a{# comment #}b" },
  { name: "comment_strip", template: "a  {#- comment -#}  b" },
  { name: "comment_trim_blocks", template: "a{# c #}\nb" },
  { name: "multiline_comment", template: "a{# line1\nline2 {{ x }} #}b" },
  { name: "unicode_whitespace_strip", template: "a\u3000\u00a0 {{- 'b' -}} \u2003c" },
  { name: "crlf_text", template: "a\r\n{% if true %}\r\nb{% endif %}\r\n" },
  { name: "generation_tag_removed", template: "x {% generation %}gen{% endgeneration %} y" },
  { name: "generation_tag_strip", template: "x   {%- generation -%}   gen   {%- endgeneration -%}   y" },
  // Literals.
  { name: "string_escapes", template: "{{ 'a\\nb\\tc\\'d\\\"e\\\\f' }}" },
  { name: "string_double_quoted", template: '{{ "it\'s" }}' },
  { name: "string_unicode_escape", template: "{{ '\\u00e9\\x41' }}" },
  { name: "adjacent_strings_concatenate", template: "{{ 'a' 'b' \"c\" }}" },
  { name: "integers", template: "{{ 42 }} {{ -7 }} {{ 0 }}" },
  { name: "floats", template: "{{ 1.5 }} {{ 2.0 }} {{ -0.25 }} {{ 10.0 / 4 }}" },
  { name: "booleans_print_lowercase", template: "{{ true }} {{ false }} {{ True }} {{ False }}" },
  { name: "none_prints_nothing", template: "[{{ none }}][{{ None }}]" },
  { name: "undefined_prints_nothing", template: "[{{ missing }}][{{ missing.attr }}][{{ missing['k'] }}]" },
  { name: "list_literal_prints_json", template: "{{ [1, 'a', true, none, [2]] }}" },
  { name: "dict_literal_prints_json", template: "{{ {'a': 1, 'b': [1, 2], 'c': {'d': 'e'}} }}" },
  { name: "empty_dict_and_list", template: "{{ {} }}{{ [] }}" },
  { name: "tuple_literal", template: "{% set t = (1, 2) %}{{ t[1] }}{{ t | length }}" },
  { name: "trailing_comma_list", template: "{{ [1, 2,] | length }}" },
  // Arithmetic and operators.
  { name: "arithmetic_ints", template: "{{ 7 + 3 }} {{ 7 - 3 }} {{ 7 * 3 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }}" },
  { name: "division_gives_float", template: "{{ 7 / 2 }} {{ 6 / 2 }}" },
  { name: "mixed_int_float", template: "{{ 1 + 0.5 }} {{ 3 * 1.5 }}" },
  { name: "precedence", template: "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 * 2 }} {{ -2 + 5 }}" },
  { name: "string_concat_plus", template: "{{ 'a' + 'b' + 'c' }}" },
  { name: "tilde_concat", template: "{{ 'n=' ~ 5 ~ ',' ~ 1.5 ~ ',' ~ true }}" },
  { name: "list_concat", template: "{{ [1] + [2, 3] }}" },
  { name: "comparisons", template: "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 3 >= 4 }} {{ 1 == 1 }} {{ 1 != 1 }}" },
  { name: "string_equality", template: "{{ 'a' == 'a' }} {{ 'a' != 'b' }} {{ m.role == 'user' }}", context: { m: { role: "user" } } },
  { name: "int_float_equal", template: "{{ 1 == 1.0 }}" },
  { name: "and_or_values", template: "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}|{{ none or [] }}" },
  { name: "not_operator", template: "{{ not true }} {{ not 0 }} {{ not '' }} {{ not [1] }}" },
  { name: "not_binds_looser_than_comparison", template: "{{ not 1 == 2 }}" },
  { name: "in_operator", template: "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in [1] }}" },
  { name: "in_undefined_is_false", template: "{{ 'a' in missing }} {{ 'a' not in missing }}" },
  { name: "conditional_expression", template: "{{ 'yes' if x else 'no' }} {{ 'yes' if not x else 'no' }}", context: { x: true } },
  { name: "conditional_without_else", template: "[{{ 'shown' if true }}][{{ 'hidden' if false }}]" },
  { name: "nested_conditional", template: "{{ 'a' if n == 1 else 'b' if n == 2 else 'c' }}", context: { n: 2 } },
  { name: "unary_minus_variable", template: "{{ -x }} {{ - x }} {{ +x }}", context: { x: 3 } },
  { name: "truthiness", template: "{% for v in [0, 1, '', 'a', [], [0], {}, none] %}{{ 'T' if v else 'F' }}{% endfor %}" },
  { name: "empty_dict_falsy", template: "{{ 'T' if d else 'F' }}", context: { d: {} } },
  // Member access, indexing, slicing.
  { name: "attribute_and_subscript", template: "{{ m.role }} {{ m['role'] }} {{ m.content.text }}", context: { m: { role: "user", content: { text: "hi" } } } },
  { name: "negative_index", template: "{{ xs[-1] }} {{ xs[0] }} {{ 'abc'[-1] }} [{{ xs[10] }}]", context: { xs: [1, 2, 3] } },
  { name: "dot_integer_index", template: "{{ xs.0 }}{{ xs.1 }}", context: { xs: ["a", "b"] } },
  { name: "slices", template: "{{ xs[1:] }} {{ xs[:2] }} {{ xs[::2] }} {{ xs[::-1] }} {{ xs[-2:] }} {{ xs[1:-1] }}", context: { xs: [1, 2, 3, 4, 5] } },
  { name: "string_slices", template: "{{ s[1:3] }} {{ s[::-1] }} {{ s[:-1] }}", context: { s: "héllo" } },
  { name: "missing_key_undefined", template: "{{ m.nope is defined }} {{ m['nope'] is undefined }}", context: { m: {} } },
  { name: "none_attribute_undefined", template: "{{ x.y is defined }}", context: { x: null } },
  { name: "list_length_attribute", template: "{{ xs.length }}", context: { xs: [1, 2] } },
  { name: "messages_index_loop", template: "{% for m in messages %}{% if loop.first or messages[loop.index0 - 1].role != m.role %}[{{ m.role }}]{% endif %}{% endfor %}", context: { messages: [{ role: "a" }, { role: "a" }, { role: "b" }] } },
  // Statements: if / for / set / macro.
  { name: "if_elif_else", template: "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}other{% endif %},{% endfor %}" },
  { name: "for_loop_variables", template: "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}" },
  { name: "for_prev_next", template: "{% for x in [1, 2, 3] %}({{ loop.previtem }},{{ loop.nextitem }}){% endfor %}" },
  { name: "for_tuple_unpacking_items", template: "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", context: { d: { b: 1, a: 2, c: 3 } } },
  { name: "for_over_dict_keys", template: "{% for k in d %}{{ k }}{% endfor %}", context: { d: { z: 1, y: 2 } } },
  { name: "for_else", template: "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}empty{% endfor %}" },
  { name: "for_filter_condition", template: "{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }};{% endfor %}" },
  { name: "nested_loops", template: "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}" },
  { name: "break_continue", template: "{% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}" },
  { name: "set_does_not_leak_from_loop", template: "{% set x = 'outer' %}{% for i in [1] %}{% set x = 'inner' %}{{ x }}{% endfor %}|{{ x }}" },
  { name: "set_in_loop_persists_across_iterations", template: "{% for i in [1, 2, 3] %}{% if loop.first %}{% set seen = 'yes' %}{% endif %}{{ seen }},{% endfor %}" },
  { name: "namespace_leaks_from_loop", template: "{% set ns = namespace(count=0, last='') %}{% for i in [1, 2, 3] %}{% set ns.count = ns.count + i %}{% set ns.last = i %}{% endfor %}{{ ns.count }} {{ ns.last }}" },
  { name: "namespace_new_attribute", template: "{% set ns = namespace() %}{% set ns.x = 5 %}{{ ns.x }}" },
  { name: "namespace_from_dict", template: "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}" },
  { name: "namespace_prints_json", template: "{{ namespace(a=1, b='x') }}" },
  { name: "set_in_if_visible_after", template: "{% if true %}{% set y = 'set' %}{% endif %}{{ y }}" },
  { name: "set_tuple", template: "{% set a, b = 1, 'two' %}{{ a }}{{ b }}" },
  { name: "set_block", template: "{% set body %}Hello {{ name }}{% endset %}[{{ body }}]", context: { name: "Bo" } },
  { name: "set_overrides_context", template: "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ add_generation_prompt }}" },
  { name: "macro_basic", template: "{% macro greet(name) %}Hi {{ name }}!{% endmacro %}{{ greet('A') }} {{ greet('B') }}" },
  { name: "macro_defaults_and_kwargs", template: "{% macro f(a, b=2, c='x') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ f(1) }} {{ f(1, 3) }} {{ f(1, c='y') }} {{ f(a=0) }}" },
  { name: "macro_missing_argument_undefined", template: "{% macro f(a, b) %}[{{ b }}]{{ b is defined }}{% endmacro %}{{ f(1) }}" },
  { name: "macro_returns_string", template: "{% macro f() %}  padded  {% endmacro %}{{ f().strip() }}|{{ f() | length }}" },
  { name: "macro_whitespace_control", template: "{%- macro t(c) -%}\n  {{- c -}}\n{%- endmacro -%}\n[{{ t('x') }}]" },
  { name: "macro_recursion_bounded", template: "{% macro down(n) %}{{ n }}{% if n > 0 %}{{ down(n - 1) }}{% endif %}{% endmacro %}{{ down(5) }}" },
  { name: "macro_sees_caller_namespace", template: "{% set ns = namespace(v=1) %}{% macro bump() %}{% set ns.v = ns.v + 1 %}{% endmacro %}{{ bump() }}{{ bump() }}{{ ns.v }}" },
  { name: "filter_block", template: "{% filter upper %}hello {{ 'world' }}{% endfilter %}" },
  // Filters.
  { name: "tojson_default_separators", template: "{{ d | tojson }}", context: { d: { a: 1, b: [1, 2], c: "é", d: null, e: true, f: 1.5 } } },
  { name: "tojson_ensure_ascii", template: "{{ d | tojson(ensure_ascii=True) }}", context: { d: { k: "é 中 😀 ~" } } },
  { name: "tojson_ensure_ascii_false", template: "{{ d | tojson(ensure_ascii=False) }}", context: { d: { k: "é 中 😀" } } },
  { name: "tojson_indent", template: "{{ d | tojson(indent=2) }}", context: { d: { a: [1, { b: 2 }], c: {}, e: [] } } },
  { name: "tojson_sort_keys", template: "{{ d | tojson(sort_keys=true) }}", context: { d: { b: 1, a: 2, c: { z: 1, y: 2 } } } },
  { name: "tojson_separators", template: "{{ d | tojson(separators=(',', ':')) }}", context: { d: { a: [1, 2] } } },
  { name: "tojson_escapes", template: "{{ s | tojson }}", context: { s: "q\"b\\n\nt\tc\u0001\u001f/<>&'" } },
  { name: "tojson_scalars", template: "{{ 1 | tojson }} {{ 'x' | tojson }} {{ none | tojson }} {{ missing | tojson }} {{ true | tojson }} {{ [] | tojson }}" },
  { name: "tojson_key_order_kept", template: "{{ d | tojson }}", context: { d: { zeta: 1, alpha: 2, mid: { y: 1, x: 2 } } } },
  { name: "tojson_namespace", template: "{{ namespace(a=1) | tojson }}" },
  { name: "first_last", template: "{{ xs | first }} {{ xs | last }}", context: { xs: [1, 2, 3] } },
  { name: "length_and_count", template: "{{ xs | length }} {{ 'héllo' | length }} {{ d | length }}", context: { xs: [1, 2], d: { a: 1 } } },
  { name: "trim_filter", template: "[{{ '  x y \n' | trim }}]" },
  { name: "string_filter", template: "{{ 1 | string }}{{ 'a' | string }}{{ [1, 'b'] | string }}{{ true | string }}{{ 1.5 | string }}" },
  { name: "join_filter", template: "{{ ['a', 'b', 'c'] | join(', ') }}|{{ [1, 2] | join }}|{{ 'abc' | join('-') }}" },
  { name: "default_filter", template: "{{ missing | default('dflt') }} {{ 'set' | default('dflt') }} {{ '' | default('dflt', true) }} {{ none | default('dflt') }}|{{ 0 | default('z', boolean=true) }}" },
  { name: "list_filter", template: "{{ [1] | list }}" },
  { name: "safe_filter", template: "{{ '<b>' | safe }}" },
  { name: "upper_lower_filters", template: "{{ 'Hello' | upper }} {{ 'Hello' | lower }} {{ 'hello world' | title }} {{ 'hello' | capitalize }}" },
  { name: "items_filter", template: "{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %}", context: { d: { x: 1, y: 2 } } },
  { name: "reverse_filter", template: "{{ [1, 2, 3] | reverse }}" },
  { name: "int_float_abs_filters", template: "{{ '42' | int }} {{ 3.7 | int }} {{ 'x' | int }} {{ '2.5' | float }} {{ 4 | float }} {{ -3 | abs }} {{ true | int }}" },
  { name: "replace_filter", template: "{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }}" },
  { name: "indent_filter", template: "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}" },
  { name: "map_attribute", template: "{{ xs | map(attribute='n') | join(',') }}", context: { xs: [{ n: "a" }, { n: "b" }] } },
  { name: "selectattr_equalto", template: "{{ xs | selectattr('role', 'equalto', 'user') | map(attribute='c') | join }}", context: { xs: [{ role: "user", c: "1" }, { role: "bot", c: "2" }, { role: "user", c: "3" }] } },
  { name: "selectattr_truthy", template: "{{ xs | selectattr('on') | length }} {{ xs | rejectattr('on') | length }}", context: { xs: [{ on: true }, { on: false }, { on: true }] } },
  { name: "unique_filter", template: "{{ [1, 2, 1, 3, 2] | unique }}" },
  { name: "filter_chain_precedence", template: "{{ ' a,b ' | trim | upper }} {{ -1 | abs }} {{ [1, 2] | length + 1 }}" },
  // Tests.
  { name: "tests_defined_none", template: "{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ n is none }} {{ x is not none }}", context: { x: 1, n: null } },
  { name: "tests_types", template: "{% for v in ['s', 1, 1.5, true, none, [1], {'a': 1}] %}{{ v is string }}{{ v is number }}{{ v is integer }}{{ v is boolean }}{{ v is mapping }}{{ v is sequence }};{% endfor %}" },
  { name: "tests_iterable", template: "{{ 's' is iterable }} {{ [1] is iterable }} {{ 1 is iterable }} {{ none is iterable }}" },
  { name: "tests_odd_even_true_false", template: "{{ 3 is odd }} {{ 3 is even }} {{ true is true }} {{ 1 is true }} {{ false is false }}" },
  { name: "tests_callable", template: "{% macro m() %}{% endmacro %}{{ m is callable }} {{ 'x'.upper is callable }} {{ 1 is callable }}" },
  { name: "tests_lower_upper", template: "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'aB' is lower }}" },
  { name: "not_is_defined_precedence", template: "{{ not x is defined }}" },
  // String methods.
  { name: "split_methods", template: "{{ 'a,b,,c'.split(',') }} {{ 'a b  c '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ '  x  y '.split(none, 1) }}" },
  { name: "split_index", template: "{{ c.split('</think>')[-1] }}|{{ c.split('</think>', 1)[1] }}", context: { c: "<think>r</think>answer</think>tail" } },
  { name: "strip_methods", template: "[{{ '  x  '.strip() }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}]" },
  { name: "strip_with_chars_newline", template: "[{{ '\\n\\nx\\n'.lstrip('\\n') }}][{{ 'x\\n\\n'.rstrip('\\n') }}]" },
  { name: "startswith_endswith", template: "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.endswith('x') }} {{ 'hello'.startswith(('x', 'h')) }}" },
  { name: "upper_lower_methods", template: "{{ 'Ab'.upper() }} {{ 'Ab'.lower() }} {{ 'ab cd'.title() }}" },
  { name: "replace_method", template: "{{ 'a.b.c'.replace('.', '/') }} {{ 'ab'.replace('', '-') }}" },
  { name: "string_length_property", template: "{{ 'abc'.length }}" },
  // Dict methods.
  { name: "dict_get", template: "{{ d.get('a') }} [{{ d.get('z') }}] {{ d.get('z', 'dflt') }}", context: { d: { a: 1 } } },
  { name: "dict_keys_values_items", template: "{{ d.keys() }} {{ d.values() }} {{ d.items() }}", context: { d: { a: 1, b: "x" } } },
  { name: "dict_key_shadows_method", template: "{{ d.items }}", context: { d: { items: "field" } } },
  // Globals.
  { name: "range_function", template: "{{ range(3) }} {{ range(1, 4) }} {{ range(5, 0, -2) }}" },
  { name: "loop_over_range", template: "{% for i in range(3) %}{{ i }}{% endfor %}" },
  { name: "raise_exception_function", template: "{% if x %}{{ raise_exception('Roles must alternate') }}{% endif %}ok", context: { x: true } },
  { name: "variable_shadows_constant", template: "{% set none = 'shadowed' %}{{ none }}" },
  // Errors the reference also raises.
  { name: "error_undefined_plus_string", template: "{{ missing + 'x' }}" },
  { name: "error_none_plus_string", template: "{{ none + 'x' }}" },
  { name: "error_unknown_filter", template: "{{ 'x' | wordcount }}" },
  { name: "error_unknown_test", template: "{{ 1 is prime }}" },
  { name: "error_unclosed_if", template: "{% if true %}x" },
  { name: "error_unclosed_string", template: "{{ 'abc }}" },
  { name: "error_unknown_statement", template: "{% include 'x.html' %}" },
  { name: "error_set_attribute_on_dict", template: "{% set d = {} %}{% set d.x = 1 %}" },
  { name: "error_iterate_over_integer", template: "{% for x in 5 %}{% endfor %}" },
  { name: "error_call_non_function", template: "{{ x() }}", context: { x: 1 } },
  { name: "error_unknown_method", template: "{{ 'x'.nosuchmethod() }}" },
  { name: "error_bad_escape", template: "{{ '\\q' }}" },
  { name: "error_macro_too_many_arguments", template: "{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}" },
  { name: "error_unpack_mismatch", template: "{% for a, b in [[1, 2, 3]] %}{% endfor %}" },
  { name: "error_missing_endfor", template: "{% for x in xs %}{{ x }}" },
  { name: "error_stray_endif", template: "x{% endif %}" },
  { name: "error_index_dict_with_int", template: "{{ d[0] }}", context: { d: {} } },
  { name: "error_split_empty_separator", template: "{{ 'a'.split('') }}" },
  { name: "error_tojson_macro", template: "{% macro m() %}{% endmacro %}{{ m | tojson }}" },
  { name: "error_dict_key_not_string", template: "{{ {1: 2} }}" },
  // Deliberate differences from the reference (Python jinja2 semantics instead).
  { name: "diff_modulo_negative", template: "{{ -7 % 3 }} {{ -7 // 2 }}", nextn: "2 -4", note: "Python floors; the reference uses JS truncating %" },
  { name: "diff_length_non_bmp", template: "{{ '😀é' | length }}", nextn: "2", note: "nextn counts code points like Python; the reference counts UTF-16 units" },
  { name: "diff_string_comparison", template: "{{ 'a' < 'b' }}", nextn: "true", note: "Python orders strings; the reference raises" },
  { name: "diff_undefined_equals_none", template: "{{ missing == none }}", nextn: "false", note: "jinja2: Undefined != None; the reference uses JS loose equality (undefined == null)" },
  { name: "diff_list_equality", template: "{{ [1, 2] == [1, 2] }}", nextn: "true", note: "Python compares lists by value; the reference by identity" },
  { name: "diff_string_plus_number", template: "{{ 'a' + 1 }}", nextn_error: true, note: "Python raises TypeError; the reference concatenates" },
  { name: "diff_strip_chars", template: "[{{ 'xxhixx'.strip('x') }}]", nextn: "[hi]", note: "Python strips the given characters; the reference ignores the argument" },
  { name: "diff_loop_over_string", template: "{% for c in 'ab' %}{{ c }}.{% endfor %}", nextn: "a.b.", note: "Python iterates characters; the reference raises" },
  { name: "diff_title_lowercases_rest", template: "{{ 'hELLO wORLD' | title }}", nextn: "Hello World", note: "Python's str.title; the reference only upper-cases initials" },
  { name: "diff_int_of_negative_float", template: "{{ -1.5 | int }}", nextn: "-1", note: "Python truncates; the reference floors" },
  { name: "diff_first_last_of_string", template: "{{ 'abc' | first }} {{ 'abc' | last }}", nextn: "a c", note: "Python's first/last take characters; the reference raises" },
  { name: "diff_first_of_empty_list", template: "[{{ [] | first }}]", nextn: "[]", note: "Jinja gives undefined; the reference crashes" },
  { name: "diff_count_filter", template: "{{ [1, 2] | count }}", nextn: "2", note: "Jinja's count is length; the reference lacks it" },
  { name: "diff_list_of_string", template: "{{ 'ab' | list }}", nextn: '["a", "b"]', note: "Python's list() of a string; the reference raises" },
  { name: "diff_reverse_string", template: "{{ 'abc' | reverse }}", nextn: "cba", note: "Jinja reverses strings; the reference raises" },
  { name: "diff_print_tuple", template: "{{ (1, 'a') }}", nextn: '[1, "a"]', note: "nextn prints a tuple as a list; the reference cannot" },
  { name: "diff_tojson_sort_keys_code_point_order", template: "{{ d | tojson(sort_keys=true) }}", context: { d: { b: 1, a: 2, C: 3 } }, nextn: '{"C": 3, "a": 2, "b": 1}', note: "json.dumps sorts by code point; the reference uses localeCompare" },
  { name: "diff_tojson_ensure_ascii_keeps_del", template: "{{ '\x7f' | tojson(ensure_ascii=true) }}", nextn: '"\x7f"', note: "json.dumps leaves ASCII DEL as is; the reference escapes it" },
  { name: "diff_dict_is_iterable", template: "{{ {'a': 1} is iterable }}", nextn: "true", note: "a dict is iterable in Python" },
];

for (const c of engineCases) {
  const result = render(c.template, c.context ?? {});
  if ("nextn" in c || "nextn_error" in c) {
    c.reference = result.expected ?? `error: ${result.error}`;
  } else {
    Object.assign(c, result);
  }
}

const write = (file, value) => writeFileSync(join(outDir, file), JSON.stringify(value, null, 1) + "\n");
write("conversations.json", conversations);
write("template_goldens.json", goldens);
write("engine_cases.json", engineCases);
const errors = goldens.filter((g) => "error" in g).length;
console.log(`${goldens.length} template goldens (${errors} expect an error), ${engineCases.length} engine cases`);
