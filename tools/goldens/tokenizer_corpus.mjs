// Deterministic text corpora for nextn's tokenizer goldens (imported by
// make_tokenizer_goldens.mjs). Every string comes from a seeded PRNG or a fixed list, so a rerun
// writes byte-identical goldens.
//
// Characters are drawn from blocks assigned by Unicode 14 at the latest: nextn's regex engine
// (PCRE2 10.42) knows Unicode 14, the reference (V8/ICU) a newer version, and a character
// assigned in between would be a letter to one and unassigned to the other.

export function makeRng(seed) {
  // mulberry32: small, fast, and the same sequence on every machine.
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  const pick = (list) => list[int(0, list.length - 1)];
  return { next, int, pick };
}

export const PROSE = [
  "The quick brown fox jumps over the lazy dog.",
  "It was the best of times, it was the worst of times.",
  "Speculative decoding drafts several tokens and verifies them in one pass.",
  "Don't panic! We'll be fine, they're sure, and I'm certain you've seen it.",
  "She said: \"Hello, world\" — and then left (without a word).",
  "Mixture-of-experts models route each token to a few experts.",
  "E-mail me at someone@example.com or visit https://example.org/path?q=1&r=2#frag.",
  "In 1969, Apollo 11 landed on the Moon; 600 million people watched.",
  "Rock'n'roll isn't dead, y'all; it's ALIVE and WELL'S the word.",
  "Price: $1,234.56 (approx. €1.150,00) — a 12.5% discount!",
  "  Leading spaces, trailing spaces   ",
  "Line one\nLine two\n\nLine four\r\nLine five\rLine six",
  "Tabs\tbetween\t\twords\t",
  "UPPER CASE SHOUTING, lower case whisper, MiXeD CaSe.",
  "naïve café résumé coöperate façade jalapeño Ångström Øresund Łódź",
  "I'D, YOU'LL, HE'S, SHE'D, WE'RE, THEY'VE, I'M — contractions in caps.",
  "#hashtag @mention $variable %percent ^caret &amp *star (paren) [bracket] {brace}",
  "Ellipsis... and more.... and more!!!??? ?!?! ;-) :-( <3",
  "Markdown: **bold**, _italic_, `code`, > quote, - item, 1. item, ## Heading",
  "a b c d e f g h i j k l m n o p q r s t u v w x y z",
];

export const SCRIPTS = {
  chinese: ["你好，世界！", "深度求索发布了新的模型。", "机器学习是人工智能的一个分支。", "我们今天去公园散步吧？", "这个问题的答案是四十二。", "中华人民共和国成立于一九四九年。"],
  japanese: ["こんにちは、世界！", "東京は日本の首都です。", "カタカナとひらがなを混ぜる。", "ラーメンを食べたいです。", "今日はいい天気ですね。"],
  korean: ["안녕하세요, 세계!", "한국어는 한글로 씁니다.", "오늘 날씨가 좋네요.", "서울은 대한민국의 수도입니다."],
  arabic: ["مرحبا بالعالم!", "اللغة العربية جميلة.", "كيف حالك اليوم؟", "٠١٢٣٤٥٦٧٨٩ أرقام"],
  hindi: ["नमस्ते दुनिया!", "हिन्दी देवनागरी लिपि में लिखी जाती है।", "क्या हाल है?", "०१२३४५६७८९ संख्याएँ"],
  cyrillic: ["Привет, мир!", "Москва — столица России.", "Съешь же ещё этих мягких французских булок, да выпей чаю.", "Ёжик в тумане."],
  greek: ["Γειά σου Κόσμε!", "Η γλώσσα είναι ελληνική.", "αβγδεζηθικλμνξοπρστυφχψω"],
  hebrew: ["שלום עולם!", "עברית נכתבת מימין לשמאל."],
  thai: ["สวัสดีชาวโลก", "ภาษาไทยไม่มีช่องว่างระหว่างคำ"],
  vietnamese: ["Xin chào thế giới!", "Tiếng Việt có nhiều dấu thanh: à á ả ã ạ ầ ấ ẩ ẫ ậ."],
};

// [lo, hi] code point ranges of letters (and marks) to draw random "words" from.
export const SCRIPT_RANGES = [
  [0x4e00, 0x9fa5], [0x3041, 0x3096], [0x30a1, 0x30fa], [0xac00, 0xd7a3], [0x0621, 0x064a],
  [0x0905, 0x0939], [0x0410, 0x044f], [0x0391, 0x03a1], [0x03b1, 0x03c9], [0x05d0, 0x05ea],
  [0x0e01, 0x0e30], [0x00c0, 0x00ff], [0x0100, 0x017e], [0x3400, 0x4db5], [0x0531, 0x0556],
  [0x10a0, 0x10c5], [0x1200, 0x1248], [0x0b85, 0x0b94],
];

export const EMOJI = [
  "😀", "😂", "🥲", "👍", "👍🏽", "👋🏿", "❤️", "❤", "✨", "🔥", "🎉", "🚀", "🤖", "🧠", "🦀", "🐍",
  "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏻‍🚀", "🏳️‍🌈", "🏴‍☠️", "👁️‍🗨️", "🇺🇸", "🇯🇵", "🇨🇳", "🇩🇪", "🇫🇷", "🇧🇷",
  "1️⃣", "#️⃣", "©️", "™", "☺︎", "♀️", "🫠", "🥺", "🤷‍♂️", "🙇🏼‍♀️",
];

export const COMBINING = [
  "e\u0301", "a\u0308\u0304", "n\u0303", "o\u0302\u0323", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324",
  "\u0301 leading mark", "x\u20dd", "ก\u0e31\u0e49", "क\u094d\u0937", "각\u0301",
  "A\u030a vs \u00c5 vs \u212b", "fi \ufb01 ligature", "ｆｕｌｌｗｉｄｔｈ", "①②③ ⅫⅣ ½ ¼ ²³",
];

export const CODE = [
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
  "import numpy as np\nx = np.arange(10, dtype=np.float32)  # comment\nprint(f\"{x.sum():.3f}\")\n",
  "#include <vector>\nint main() {\n  std::vector<int> v{1, 2, 3};\n  for (auto& x : v) x *= 2;\n  return v[0] == 2 ? 0 : 1;\n}\n",
  "template <typename T>\nconstexpr T square(T x) noexcept { return x * x; }  // C++20\n",
  "const add = (a, b) => a + b;\nconsole.log(`sum=${add(1, 2)}`);\nexport default { add };\n",
  "async function main() {\n\tconst res = await fetch('/api?x=1');\n\tif (!res.ok) throw new Error(res.statusText);\n}\n",
  "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n",
  "impl<'a> Iterator for Tokens<'a> {\n    type Item = &'a str;\n    fn next(&mut self) -> Option<Self::Item> { None }\n}\n",
  "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.txt; do\n  wc -l \"$f\" | awk '{print $1}'\ndone 2>/dev/null\n",
  "{\"name\": \"nextn\", \"version\": \"0.1.0\", \"tags\": [\"a\", \"b\"], \"nested\": {\"x\": 1.5e-3, \"y\": null, \"z\": true}}",
  "SELECT id, name FROM users WHERE age >= 18 AND name LIKE 'A%' ORDER BY id DESC LIMIT 10;",
  "<html><body><div class=\"x\">Hello &amp; goodbye</div><br/></body></html>",
  "    \n\t\t\n   x = [i**2 for i in range(100) if i % 3 == 0]\n\n\n",
  "if (a != b && c <= d || !e) { x->y = z::w; } else { p ??= q ?? r; }",
  "diff --git a/x b/x\n@@ -1,3 +1,4 @@\n-old line\n+new line\n context\n",
];

export const NUMBER_FORMS = [
  "3.14159", "-42", "+7", "1e10", "6.022e23", "0x1F", "0b1011", "1,000,000", "1.000.000,50", "12:30:45",
  "2024-01-15", "192.168.0.1", "v1.2.3", "１２３４５", "٣٤٥", "४५६", "Ⅻ", "½", "10%", "$99.99",
];

export const WHITESPACE = [
  " ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\r",
  " \n", "\n ", " \t \n ", "\u00a0", "\u3000", "\u2028", "\u2029", "\u2003", "\u2009", "\u200a",
  "\u202f", "\u205f", "\u1680", "\u0085", "\u000b", "\u000c", "\u200b", "\ufeff", "\u180e",
];

export const PUNCTUATION = [
  "!", "?", ".", ",", ";", ":", "...", "!!!", "?!", "—", "–", "-", "_", "(", ")", "[", "]", "{", "}",
  "<", ">", "/", "\\", "|", "'", "\"", "`", "~", "@", "#", "$", "%", "^", "&", "*", "+", "=",
  "«", "»", "“", "”", "‘", "’", "„", "、", "。", "，", "！", "？", "：", "；", "「", "」", "【", "】",
  "·", "•", "…", "§", "¶", "†", "©", "®", "°", "±", "×", "÷", "€", "£", "¥", "₹", "∑", "√", "∞", "≠", "≤",
];

export const CONTRACTIONS = [
  "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D", "'Re", "'lL",
  "don't", "DON'T", "it's", "IT'S", "we'll", "WE'LL", "I'd", "I'D", "they've", "THEY'VE", "you're",
  "o'clock", "rock'n'roll", "'quoted'", "''", "'", "'x", "’s", "Bob's", "BOB'S",
];

export const WORDS = (
  "the of and to in is you that it he was for on are as with his they at be this have from or one " +
  "had by word but not what all were we when your can said there use an each which she do how their " +
  "if will up other about out many then them these so some her would make like him into time has look " +
  "two more write go see number no way could people my than first water been call who oil its now find " +
  "tokenizer model expert attention layer cache draft verify sample token embedding matrix kernel " +
  "Hello World OpenAI DeepSeek GLM NVIDIA CUDA PyTorch JSON HTTP API URL UTF-8 BPE MoE MLA KV"
).split(" ");

function randomScriptWord(rng) {
  const [lo, hi] = rng.pick(SCRIPT_RANGES);
  let s = "";
  const n = rng.int(1, 8);
  for (let i = 0; i < n; ++i) s += String.fromCodePoint(rng.int(lo, hi));
  return s;
}

function randomNumber(rng) {
  const digits = rng.int(1, 20);
  let s = String(rng.int(1, 9));
  for (let i = 1; i < digits; ++i) s += String(rng.int(0, 9));
  const form = rng.int(0, 5);
  if (form === 1) s += "." + String(rng.int(0, 99999));
  if (form === 2) s = "-" + s;
  if (form === 3) s = "0." + s;
  return s;
}

// One random fragment of any kind; `specials` are added-token contents to sprinkle in.
export function randomFragment(rng, specials) {
  switch (rng.int(0, 12)) {
    case 0: return rng.pick(WORDS);
    case 1: return rng.pick(PROSE);
    case 2: return rng.pick(rng.pick(Object.values(SCRIPTS)));
    case 3: return randomScriptWord(rng);
    case 4: return rng.pick(EMOJI);
    case 5: return rng.pick(COMBINING);
    case 6: return randomNumber(rng);
    case 7: return rng.pick(NUMBER_FORMS);
    case 8: return rng.pick(WHITESPACE);
    case 9: return rng.pick(PUNCTUATION).repeat(rng.int(1, 3));
    case 10: return rng.pick(CONTRACTIONS);
    case 11: return specials.length ? rng.pick(specials) : rng.pick(WORDS);
    default: return rng.pick(CODE).slice(0, rng.int(5, 80));
  }
}

export function randomMixture(rng, specials, fragments) {
  const seps = ["", " ", " ", " ", "\n", "  ", "\t", ""];
  let s = "";
  for (let i = 0; i < fragments; ++i) s += (i ? rng.pick(seps) : "") + randomFragment(rng, specials);
  return s;
}

// Byte strings that are not valid UTF-8, with the interesting malformations spelled out.
export function invalidUtf8Cases(rng) {
  const fixed = [
    "80", "bf", "c0af", "c1bf", "e080af", "eda080", "edbfbf", "eda080edb080", "f4908080", "f5808080",
    "ff", "fe", "c2", "e282", "f09f98", "f09f", "f0", "41c242", "41e28242", "41f09f9842", "e282ac80",
    "f09f988041", "c3a9cc", "68656c6c6f80776f726c64", "e4bda0e5a5bd80e4b896e7958c", "3cefbd9c55736572efbd9c",
    "f880808080", "fc8080808080", "c0", "e0a0", "e0a080e0", "c280c2", "2020f09f98",
  ];
  const cases = [...fixed];
  const valid = new TextEncoder().encode("héllo 世界 😀 ok");
  for (let k = 0; k < 60; ++k) {
    const bytes = [];
    const n = rng.int(1, 24);
    for (let i = 0; i < n; ++i) {
      const r = rng.int(0, 9);
      if (r < 4) bytes.push(valid[rng.int(0, valid.length - 1)]);
      else if (r < 6) bytes.push(rng.int(0x80, 0xbf));
      else if (r < 8) bytes.push(rng.int(0xc0, 0xff));
      else bytes.push(rng.int(0x20, 0x7e));
    }
    cases.push(Buffer.from(bytes).toString("hex"));
  }
  return cases;
}
