// Encodes files with @huggingface/tokenizers and prints one JSON array of id lists.
//   node tools/train/check_tokenizer.mjs TOKENIZER_DIR FILE...
import { Tokenizer } from "../goldens/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs";
import fs from "node:fs";
import path from "node:path";
const [dir, ...files] = process.argv.slice(2);
const tj = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
const cfgPath = path.join(dir, "tokenizer_config.json");
const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {};
const tok = new Tokenizer(tj, cfg);
const out = files.map((f) => tok.encode(fs.readFileSync(f, "utf8"), { add_special_tokens: false }).ids);
process.stdout.write(JSON.stringify(out));
