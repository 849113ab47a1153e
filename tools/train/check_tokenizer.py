"""Checks that bpe.Tokenizer encodes exactly as the npm reference @huggingface/tokenizers
(tools/goldens/node_modules) on every held-out corpus file and on a few edge-case strings.

  /usr/bin/python3 tools/train/check_tokenizer.py models/NAME
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import corpus  # noqa: E402

EDGE = [
    "", " ", "\n", "  \n\t x", "def f(x):\n    return x  # done\n\n\n",
    "naïve café — ünïcödé 漢字 😀 ß ſ İ", "a\u00a0b\u2028c\u3000d\ufeffe\x1cf\x85g",
    "<｜begin▁of▁sentence｜>print(1)<｜end▁of▁sentence｜>", "[gMASK]<sop><|user|>hi<|assistant|>",
    "1234567 0x1F 3.14e-10 1_000", "x='s'; y=\"it's\"; z = 'll'", "\r\n\r\n  \r\n",
]


def main():
    model_dir = sys.argv[1]
    tok = bpe.Tokenizer.load(os.path.join(model_dir, "tokenizer.json"))
    _, held = corpus.split()
    texts = [corpus.read(p) for p in held] + EDGE
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, t in enumerate(texts):
            p = os.path.join(tmp, "%d.txt" % i)
            with open(p, "w", encoding="utf-8", newline="") as f:
                f.write(t)
            paths.append(p)
        out = subprocess.run(["node", os.path.join(HERE, "check_tokenizer.mjs"), model_dir] + paths,
                             check=True, capture_output=True, text=True).stdout
    ref = json.loads(out)
    bad = 0
    n = 0
    for t, r in zip(texts, ref):
        ids = tok.encode(t)
        n += len(ids)
        if ids != r:
            bad += 1
            k = next((j for j, (a, b) in enumerate(zip(ids, r)) if a != b), min(len(ids), len(r)))
            print("MISMATCH at token %d: %r\n  py  %s\n  npm %s" % (k, t[:60], ids[k:k + 8], r[k:k + 8]))
        elif tok.decode(ids) != t:
            bad += 1
            print("ROUND TRIP FAILED: %r" % t[:60])
    print("%d texts (%d held-out files), %d tokens, %d mismatches" % (len(texts), len(held), n, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
