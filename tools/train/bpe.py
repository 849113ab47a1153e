"""Byte-level BPE: trainer, encoder and HuggingFace tokenizer.json writer.

The pre-tokenizer is one regex (PRETOKENIZE below) applied as HF `Split` (behavior Isolated)
followed by `ByteLevel(add_prefix_space=false, use_regex=false)`. The pattern uses explicit
ASCII classes only, so Python's `re`, Oniguruma (HF Rust), JS RegExp (@huggingface/tokenizers)
and PCRE2 (nextn) split text the same way: leftmost-first alternation, and every character that
is not ASCII space/tab/CR/LF/letter/digit/underscore falls in the "other" class.

  /usr/bin/python3 tools/train/bpe.py --out DIR [--vocab 4096]   # trains on the train split
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

# identifiers (with an optional leading space), numbers, runs of other characters, a newline
# run with the indentation after it, other horizontal space.
PRETOKENIZE = (r" ?[A-Za-z_][A-Za-z0-9_]*| ?[0-9]{1,3}| ?[^ \t\r\nA-Za-z0-9_]+"
               r"|[\r\n]+[ \t]*|[ \t]+")
_PRE = re.compile(PRETOKENIZE)

# Special tokens, ids 0.. in this order: DeepSeek-V3's, then GLM-4.5's.
SPECIALS = [
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<｜User｜>",
    "<｜Assistant｜>",
    "<|endoftext|>", "[gMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>",
    "<|observation|>",
]


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def pretokenize(text):
    return [B2U_str(m.group(0)) for m in _PRE.finditer(text)]


def B2U_str(s):
    return "".join(B2U[b] for b in s.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
def train(texts, vocab_size):
    """Returns (vocab dict token -> id, merges list of (a, b))."""
    word_counts = {}
    for text in texts:
        for w in pretokenize(text):
            word_counts[w] = word_counts.get(w, 0) + 1
    words = [list(w) for w in word_counts]          # symbols (strings) per distinct word
    counts = list(word_counts.values())
    pairs = {}                                      # (a, b) -> count
    where = {}                                      # (a, b) -> set of word indices
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pairs[(a, b)] = pairs.get((a, b), 0) + counts[i]
            where.setdefault((a, b), set()).add(i)
    base = [B2U[b] for b in range(256)]
    n_merges = vocab_size - len(SPECIALS) - len(base)
    merges = []
    while len(merges) < n_merges and pairs:
        best = max(pairs.values())
        if best < 2:
            break
        pair = min(p for p, c in pairs.items() if c == best)   # ties: lexicographic order
        merges.append(pair)
        a, b = pair
        ab = a + b
        for i in sorted(where.pop(pair, ())):
            w, c = words[i], counts[i]
            # remove this word's old pair counts, merge, add the new ones
            for x, y in zip(w, w[1:]):
                pairs[(x, y)] -= c
                if pairs[(x, y)] == 0:
                    del pairs[(x, y)]
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(ab)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                pairs[(x, y)] = pairs.get((x, y), 0) + c
                where.setdefault((x, y), set()).add(i)
        pairs.pop(pair, None)
    vocab = {}
    for s in SPECIALS:
        vocab[s] = len(vocab)
    for t in base:
        vocab[t] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    return vocab, merges


# ---------------------------------------------------------------------------------------------
class Tokenizer:
    """Encoder equal to HF's for this tokenizer.json (specials split first, then the regex,
    ByteLevel, BPE by merge rank)."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.special_ids = {s: vocab[s] for s in SPECIALS}
        self._special_re = re.compile("|".join(re.escape(s) for s in
                                               sorted(SPECIALS, key=len, reverse=True)))
        self._cache = {}

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                  for m in tj["model"]["merges"]]
        return cls(tj["model"]["vocab"], merges)

    def _bpe(self, word):
        if word in self._cache:
            return self._cache[word]
        syms = list(word)
        while len(syms) > 1:
            best, best_rank = None, None
            for j in range(len(syms) - 1):
                r = self.ranks.get((syms[j], syms[j + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = j, r
            if best is None:
                break
            a, b = syms[best], syms[best + 1]
            out, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == a and syms[j + 1] == b:
                    out.append(a + b)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            syms = out
        ids = [self.vocab[s] for s in syms]
        self._cache[word] = ids
        return ids

    def encode(self, text):
        ids, pos = [], 0
        for m in self._special_re.finditer(text):
            ids += self._encode_plain(text[pos:m.start()])
            ids.append(self.special_ids[m.group(0)])
            pos = m.end()
        return ids + self._encode_plain(text[pos:])

    def _encode_plain(self, text):
        ids = []
        for w in pretokenize(text):
            ids += self._bpe(w)
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            t = self.inv[i]
            if t in self.special_ids:
                out += t.encode("utf-8")
            else:
                out += bytes(U2B[c] for c in t)
        return out.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
def tokenizer_json(vocab, merges):
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for s in SPECIALS],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PRETOKENIZE}, "behavior": "Isolated",
             "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
             "use_regex": False},
        ]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                    "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": ["%s %s" % m for m in merges]},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for tokenizer.json")
    ap.add_argument("--vocab", type=int, default=4096)
    args = ap.parse_args()
    train_files, _ = corpus.split()
    vocab, merges = train([corpus.read(p) for p in train_files], args.vocab)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab, merges), f, ensure_ascii=False, indent=1)
    print("vocab %d, merges %d -> %s" % (len(vocab), len(merges), args.out))


if __name__ == "__main__":
    main()
