"""Minimal safetensors reader and FP8 dequantization for the reference model (SPEC §2).

Written from SPEC.md, independently of the C++ engine. Everything is returned as float64.
Run with /usr/bin/python3 (Debian's torch 1.13 + numpy).
"""
import json
import math
import os
import struct

import numpy as np

# Bytes per element of the dtypes SPEC §2 requires.
DTYPE_SIZES = {"F32": 4, "BF16": 2, "F16": 2, "F8_E4M3": 1}


def fp8_e4m3fn_value(byte):
    """The value of one e4m3fn byte: 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits.
    No infinities; 0x7f and 0xff are NaN; exponent 0 is subnormal (2^-6 * m/8)."""
    sign = -1.0 if byte & 0x80 else 1.0
    exp = (byte >> 3) & 0xF
    mant = byte & 0x7
    if exp == 0xF and mant == 0x7:
        return float("nan")
    if exp == 0:
        return sign * (mant / 8.0) * 2.0 ** -6
    return sign * (1.0 + mant / 8.0) * 2.0 ** (exp - 7)


# Lookup table for all 256 codes.
FP8_E4M3_TABLE = np.array([fp8_e4m3fn_value(b) for b in range(256)], dtype=np.float64)


def decode(raw, dtype, shape):
    """Bytes -> float64 numpy array of `shape`."""
    if dtype == "F32":
        values = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    elif dtype == "F16":
        values = np.frombuffer(raw, dtype="<f2").astype(np.float64)
    elif dtype == "BF16":
        # bf16 is the top half of an f32.
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        values = bits.view(np.float32).astype(np.float64)
    elif dtype == "F8_E4M3":
        values = FP8_E4M3_TABLE[np.frombuffer(raw, dtype=np.uint8)]
    else:
        raise ValueError("unsupported dtype %s" % dtype)
    return values.reshape(shape)


class SafetensorsFile:
    """One .safetensors file: 8-byte LE header size N, N bytes of JSON, then the data area."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        if len(self.data) < 8:
            raise ValueError("%s: truncated (no header size)" % path)
        (n,) = struct.unpack("<Q", self.data[:8])
        if 8 + n > len(self.data):
            raise ValueError("%s: header size %d larger than the file" % (path, n))
        header = json.loads(self.data[8:8 + n].decode("utf-8"))
        header.pop("__metadata__", None)
        self.data_start = 8 + n
        data_len = len(self.data) - self.data_start
        self.tensors = {}
        for name, info in header.items():
            dtype, shape = info["dtype"], list(info["shape"])
            begin, end = info["data_offsets"]
            if dtype not in DTYPE_SIZES:
                raise ValueError("%s: tensor %s has unsupported dtype %s" % (path, name, dtype))
            if not (0 <= begin <= end <= data_len):
                raise ValueError("%s: tensor %s offsets outside the data area" % (path, name))
            if math.prod(shape) * DTYPE_SIZES[dtype] != end - begin:
                raise ValueError("%s: tensor %s shape %s does not match its %d bytes"
                                 % (path, name, shape, end - begin))
            self.tensors[name] = (dtype, shape, begin, end)

    def get(self, name):
        """(float64 array, dtype string)."""
        dtype, shape, begin, end = self.tensors[name]
        raw = self.data[self.data_start + begin:self.data_start + end]
        return decode(raw, dtype, shape), dtype


class Checkpoint:
    """A HuggingFace checkpoint directory: config.json plus model.safetensors or the shards of
    model.safetensors.index.json (always resolved through the index when it exists)."""

    def __init__(self, directory):
        self.dir = directory
        with open(os.path.join(directory, "config.json")) as f:
            self.config = json.load(f)
        self.files = {}
        index_path = os.path.join(directory, "model.safetensors.index.json")
        if os.path.exists(index_path):
            with open(index_path) as f:
                weight_map = json.load(f)["weight_map"]
            self.location = {}
            for name, file_name in weight_map.items():
                st = self._file(file_name)
                if name not in st.tensors:
                    raise ValueError("%s: tensor %s listed in the index is missing"
                                     % (file_name, name))
                self.location[name] = file_name
        else:
            st = self._file("model.safetensors")
            self.location = {name: "model.safetensors" for name in st.tensors}
        self.quant = self.config.get("quantization_config")

    def _file(self, file_name):
        if file_name not in self.files:
            self.files[file_name] = SafetensorsFile(os.path.join(self.dir, file_name))
        return self.files[file_name]

    def has(self, name):
        return name in self.location

    def raw(self, name):
        """(float64 array, dtype) exactly as stored."""
        if name not in self.location:
            raise KeyError("tensor %s not in checkpoint %s" % (name, self.dir))
        return self._file(self.location[name]).get(name)

    def get(self, name):
        """The tensor as float64 numpy, FP8 weights dequantized (SPEC §2)."""
        value, dtype = self.raw(name)
        if dtype != "F8_E4M3":
            return value
        return self._dequantize(name, value)

    def _dequantize(self, name, w):
        q = self.quant or {}
        method = q.get("quant_method")
        if method == "fp8" or self.has(name + "_scale_inv"):
            # DeepSeek: <name>_scale_inv [ceil(out/br), ceil(in/bc)]; value = fp8 * scale_inv.
            br, bc = q.get("weight_block_size", [128, 128])
            scale = self.raw(name + "_scale_inv")[0]
            return w * expand_block_scale(scale, w.shape, br, bc)
        if method == "compressed-tensors":
            module = name[:-len(".weight")] if name.endswith(".weight") else name
            scale = self.raw(module + ".weight_scale")[0]
            weights_cfg = next(iter(q["config_groups"].values()))["weights"]
            strategy = weights_cfg.get("strategy", "tensor")
            if strategy == "channel":      # [out, 1]
                return w * scale.reshape(w.shape[0], 1)
            if strategy == "tensor":       # scalar (shape [] or [1])
                return w * float(scale.reshape(-1)[0])
            if strategy == "block":        # block_structure [br, bc]
                br, bc = weights_cfg.get("block_structure") or [128, 128]
                return w * expand_block_scale(scale, w.shape, br, bc)
            raise ValueError("%s: unknown compressed-tensors strategy %s" % (name, strategy))
        raise ValueError("%s: F8_E4M3 tensor without a known quantization_config" % name)


def expand_block_scale(scale, shape, br, bc):
    """Scale grid [ceil(out/br), ceil(in/bc)] -> per-element [out, in]; edge blocks partial."""
    out, inp = shape
    gr, gc = (out + br - 1) // br, (inp + bc - 1) // bc
    if tuple(scale.shape) != (gr, gc):
        raise ValueError("block scale shape %s, expected %s" % (list(scale.shape), [gr, gc]))
    full = np.repeat(np.repeat(scale, br, axis=0), bc, axis=1)
    return full[:out, :inp]
