"""Regenerates tests/data/goldens/: tiny checkpoints from `nextn make-tiny`, run through the
float64 reference (SPEC §4, §5).

  /usr/bin/python3 tests/reference/make_goldens.py [--nextn build/nextn] [--only VARIANT ...]

Per variant, tests/data/goldens/<variant>/ gets make_tiny_args.txt, tokens.txt,
target_logits.npy, target_hidden.npy, mtp_logits_<k>.npy, mtp_hidden_<k>.npy (float32) and
fingerprint.txt: the sha256 of config.json followed by every *.safetensors file's bytes, files in
sorted name order, so a test can tell that make-tiny's output has drifted from the goldens.
"""
import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_reference import run  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
GOLDENS = os.path.join(REPO, "tests", "data", "goldens")

# 9 tokens with repeats, ids < vocab 256.
TOKENS = [3, 141, 59, 26, 141, 5, 3, 255, 59]

VARIANTS = {
    "deepseek-bf16": "--family deepseek-v3 --seed 1",
    "deepseek-fp8-sharded": "--family deepseek-v3 --fp8 --fp8-block 32 --shards 3 --seed 2",
    "deepseek-yarn": "--family deepseek-v3 --yarn --seed 3",
    "deepseek-d2": "--family deepseek-v3 --mtp-layers 2 --seed 4",
    "deepseek-no-copies": "--family deepseek-v3 --no-mtp-copies --seed 5",
    "glm-qknorm": "--family glm4-moe --seed 6",
    "glm-no-qknorm": "--family glm4-moe --qk-norm off --seed 7",
    "glm-fp8": "--family glm4-moe --fp8 --fp8-block 32 --seed 8",
    "glm-fp8-channel": "--family glm4-moe --fp8 --fp8-strategy channel --seed 9",
    "glm-no-copies-d2": "--family glm4-moe --no-mtp-copies --mtp-layers 2 --seed 10",
}
# Option outputs, in subfolders of this variant (D = 2, so recycling matters).
OPTIONS_VARIANT = "deepseek-d2"
OPTIONS = {"pre-norm": dict(mtp_hidden="pre-norm"), "no-pos0-mask": dict(pos0_mask=False)}


def fingerprint(model_dir):
    h = hashlib.sha256()
    for path in [os.path.join(model_dir, "config.json")] + \
            sorted(glob.glob(os.path.join(model_dir, "*.safetensors"))):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nextn", default=os.path.join(REPO, "build", "nextn"),
                    help="the nextn binary (default build/nextn)")
    ap.add_argument("--only", nargs="*", help="variants to regenerate (default all)")
    args = ap.parse_args()
    for name, make_args in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        out = os.path.join(GOLDENS, name)
        with tempfile.TemporaryDirectory() as tmp:
            model_dir = os.path.join(tmp, "model")
            subprocess.run([args.nextn, "make-tiny"] + make_args.split() + ["--out", model_dir],
                           check=True, stdout=subprocess.DEVNULL)
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            with open(os.path.join(out, "make_tiny_args.txt"), "w") as f:
                f.write(make_args + "\n")
            with open(os.path.join(out, "tokens.txt"), "w") as f:
                f.write(",".join(str(t) for t in TOKENS) + "\n")
            with open(os.path.join(out, "fingerprint.txt"), "w") as f:
                f.write(fingerprint(model_dir) + "\n")
            run(model_dir, TOKENS, out)
            if name == OPTIONS_VARIANT:
                for sub, kw in OPTIONS.items():
                    run(model_dir, TOKENS, os.path.join(out, sub), **kw)
        print("wrote", os.path.relpath(out, REPO))


if __name__ == "__main__":
    main()
