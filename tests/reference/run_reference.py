"""Runs the float64 reference (SPEC §4, §5) on a checkpoint and writes float32 .npy files.

  /usr/bin/python3 tests/reference/run_reference.py --model DIR --tokens 1,2,3 --out-dir OUT \
      [--no-pos0-mask] [--mtp-hidden post-norm|pre-norm]

Writes target_logits.npy [T, V], target_hidden.npy [T, H] (after model.norm),
mtp_logits_k.npy [T-1-k, V] and mtp_hidden_k.npy [T-1-k, H] for each MTP layer k.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Model  # noqa: E402


def run(model_dir, tokens, out_dir, pos0_mask=True, mtp_hidden="post-norm"):
    model = Model(model_dir, pos0_mask=pos0_mask, mtp_hidden=mtp_hidden)
    for t in tokens:
        if not 0 <= t < model.cfg.V:
            raise ValueError("token %d outside the vocabulary (%d)" % (t, model.cfg.V))
    os.makedirs(out_dir, exist_ok=True)
    result = model.run(tokens)
    for name, value in result.items():
        np.save(os.path.join(out_dir, name + ".npy"), value.numpy().astype(np.float32))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="checkpoint directory")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--no-pos0-mask", action="store_true",
                    help="do not zero the MTP embedding at position 0 (SPEC §5 step 1)")
    ap.add_argument("--mtp-hidden", choices=["post-norm", "pre-norm"], default="post-norm",
                    help="recycled hidden for chained MTP layers (SPEC §5)")
    args = ap.parse_args()
    tokens = [int(t) for t in args.tokens.split(",") if t.strip()]
    result = run(args.model, tokens, args.out_dir, not args.no_pos0_mask, args.mtp_hidden)
    for name, value in result.items():
        print("%-16s %s" % (name, list(value.shape)))


if __name__ == "__main__":
    main()
