"""Checks that `nextn tokenize --no-special` encodes exactly as bpe.Tokenizer on every held-out
corpus file and the edge cases of check_tokenizer.py.

  /usr/bin/python3 tools/train/check_nextn_tokenizer.py models/NAME build-train/nextn
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402
from check_tokenizer import EDGE  # noqa: E402


def main():
    model_dir, nextn = sys.argv[1], sys.argv[2]
    tok = bpe.Tokenizer.load(os.path.join(model_dir, "tokenizer.json"))
    _, held = corpus.split()
    texts = [corpus.read(p) for p in held] + [t for t in EDGE if t]
    bad = n = 0
    for t in texts:
        out = subprocess.run([nextn, "tokenize", "--model", model_dir, "--json", "--no-special",
                              "-"], input=t.encode("utf-8"), capture_output=True, check=True).stdout
        ids = json.loads(out)["ids"]
        ours = tok.encode(t)
        n += len(ours)
        if ids != ours:
            bad += 1
            k = next((j for j, (a, b) in enumerate(zip(ids, ours)) if a != b), min(len(ids), len(ours)))
            print("MISMATCH at token %d of %r: nextn %s python %s" % (k, t[:40], ids[k:k + 6], ours[k:k + 6]))
    print("%d texts, %d tokens, %d mismatches" % (len(texts), n, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
