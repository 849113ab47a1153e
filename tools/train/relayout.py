"""Rewrites safetensors files in the layout of hf_io.write_safetensors (64-byte-aligned data
area, tensors whose size is a multiple of 64 first), the tensors' bytes unchanged. The
embedded models of models/ were re-laid out so; a fresh export.py writes the same bytes.

  /usr/bin/python3 tools/train/relayout.py models/*/model.safetensors
"""
import sys

import hf_io


def by_name(entries):
    return {name: (dtype, list(shape), data) for name, dtype, shape, data in entries}


def main(paths):
    for path in paths:
        entries = hf_io.read_safetensors_raw(path)
        hf_io.write_safetensors(path, entries)
        if by_name(hf_io.read_safetensors_raw(path)) != by_name(entries):
            raise SystemExit("%s: the tensors changed in the rewrite" % path)
        print("%s: %d tensors re-laid out" % (path, len(entries)))


if __name__ == "__main__":
    main(sys.argv[1:])
