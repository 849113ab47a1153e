"""Compares model.Model (float32 torch, this directory) with the float64 reference
(tests/reference/run_reference.py output) on an exported checkpoint.

  /usr/bin/python3 tests/reference/run_reference.py --model DIR --tokens 1,2,3 --out-dir REF
  /usr/bin/python3 tools/train/check_reference.py DIR 1,2,3 REF [NEXTN_BINARY]
Prints the max relative error (max |a-b| / max |b|, as tests/model/golden_test.cpp) and whether
every row's argmax agrees, for the target and MTP-0 logits; with a nextn binary, also for
`nextn logits` on the same checkpoint and tokens.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_io  # noqa: E402
from model import Model  # noqa: E402


def load_model(directory):
    cfg, tensors = hf_io.load_checkpoint(directory)
    m = Model(cfg)
    m.load_state_dict(hf_io.module_state(cfg, tensors, m))
    m.eval()
    return m


def main():
    directory, toks, ref = sys.argv[1], sys.argv[2], sys.argv[3]
    tokens = torch.tensor([[int(t) for t in toks.split(",")]])
    m = load_model(directory)
    with torch.no_grad():
        logits, mtp = m(tokens)
    results = [("torch", "target_logits", logits[0].numpy()),
               ("torch", "mtp_logits_0", mtp[0][0].numpy())]
    if len(sys.argv) > 4:
        with tempfile.TemporaryDirectory() as tmp:
            t, mt = os.path.join(tmp, "t.npy"), os.path.join(tmp, "m.npy")
            subprocess.run([sys.argv[4], "logits", "--model", directory, "--tokens", toks,
                            "--out", t, "--mtp-out", mt], check=True, stdout=subprocess.DEVNULL)
            results += [("nextn", "target_logits", np.load(t)), ("nextn", "mtp_logits_0", np.load(mt))]
    ok = True
    for who, name, ours in results:
        r = np.load(os.path.join(ref, name + ".npy"))
        err = np.abs(ours - r).max() / np.abs(r).max()
        same = bool((ours.argmax(-1) == r.argmax(-1)).all())
        print("%-6s %-14s max rel err %.2e  argmax equal %s" % (who, name, err, same))
        ok &= err < 1e-4 and same
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
