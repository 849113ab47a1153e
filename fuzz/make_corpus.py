#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/: tiny valid safetensors files and index files.

Run from anywhere; the output is checked in, so this only needs rerunning when the seeds change.
The safetensors writer here follows the format (SPEC §2), not any library.
"""
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, data bytes), laid out in name order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, payload in sorted(tensors):
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # 8-byte aligned data, as the writer does
    return struct.pack("<Q", len(text)) + text + data


def main():
    header_dir = ROOT / "safetensors_header_fuzz"
    index_dir = ROOT / "safetensors_index_fuzz"
    header_dir.mkdir(parents=True, exist_ok=True)
    index_dir.mkdir(parents=True, exist_ok=True)

    seeds = {
        "empty.safetensors": safetensors([]),
        "one_f32.safetensors": safetensors([("w", "F32", [2], struct.pack("<2f", 1.0, -2.0))]),
        "all_dtypes.safetensors": safetensors(
            [("a.weight", "BF16", [2, 2], bytes(8)),
             ("b.weight", "F16", [3], bytes(6)),
             ("c.weight", "F8_E4M3", [2, 3], bytes(range(6))),
             ("c.weight_scale_inv", "F32", [1, 1], struct.pack("<f", 0.5)),
             ("d.scalar", "F32", [], struct.pack("<f", 3.0)),
             ("e.empty", "F16", [0, 4], b"")],
            metadata={"format": "pt"}),
        "fp8_block.safetensors": safetensors(
            [("model.layers.0.mlp.down_proj.weight", "F8_E4M3", [4, 4], bytes(16)),
             ("model.layers.0.mlp.down_proj.weight_scale_inv", "F32", [1, 1], bytes(4))]),
    }
    for name, blob in seeds.items():
        (header_dir / name).write_bytes(blob)

    indexes = {
        "sharded.json": {
            "metadata": {"total_size": 1234},
            "weight_map": {
                "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                "model.layers.61.eh_proj.weight": "model-00002-of-00002.safetensors",
                "model.layers.92.mtp.weight": "mtp.safetensors",
            },
        },
        "no_metadata.json": {"weight_map": {"lm_head.weight": "model.safetensors"}},
        "float_total.json": {"metadata": {"total_size": 8.0, "format": "pt"}, "weight_map": {}},
    }
    for name, document in indexes.items():
        (index_dir / name).write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
