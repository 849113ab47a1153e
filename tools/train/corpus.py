"""The training corpus: the Python 3.11 standard library sources of Debian's libpython3.11-stdlib.

Every top-level module /usr/lib/python3.11/*.py, in sorted name order, read as UTF-8 and used
whole (nothing is stripped: license headers are short in the stdlib and are code-like text
anyway). The split is by file and deterministic: file number i (0-based, sorted order) is
held out when i % 10 == 9, the rest is training data.
"""
import glob
import os

STDLIB = "/usr/lib/python3.11"
HELD_OUT_EVERY = 10


def files():
    paths = sorted(glob.glob(os.path.join(STDLIB, "*.py")))
    if not paths:
        raise SystemExit("no Python sources under %s (Debian package libpython3.11-stdlib)"
                         % STDLIB)
    return paths


def split():
    """(train paths, held-out paths)."""
    train, held = [], []
    for i, p in enumerate(files()):
        (held if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else train).append(p)
    return train, held


def read(path):
    with open(path, "r", encoding="utf-8") as f:
        return f.read()
