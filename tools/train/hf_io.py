"""HuggingFace checkpoint I/O for model.Model: safetensors writing and reading (F32, BF16,
F8_E4M3), the mapping between the module's parameter names and the release names (SPEC §3),
and DeepSeek FP8 block quantization (SPEC §2)."""
import json
import os
import struct

import numpy as np
import torch

# ---------------------------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------------------------


def _e4m3_table():
    """float value of each e4m3fn code (NaN for 0x7f / 0xff)."""
    vals = np.zeros(256, dtype=np.float64)
    for code in range(256):
        s, e, m = code >> 7, (code >> 3) & 0xF, code & 0x7
        if e == 0xF and m == 0x7:
            v = np.nan
        elif e == 0:
            v = m / 8.0 * 2.0 ** -6
        else:
            v = (1.0 + m / 8.0) * 2.0 ** (e - 7)
        vals[code] = -v if s else v
    return vals


E4M3 = _e4m3_table()
_POS = E4M3[:0x7F]                                 # codes 0..126, increasing, max 448
FP8_MAX = 448.0


def to_e4m3(x):
    """float array -> e4m3fn codes, round to nearest, ties to even code; |x| clamps to 448."""
    x = np.asarray(x, dtype=np.float64)
    a = np.minimum(np.abs(x), FP8_MAX)
    hi = np.clip(np.searchsorted(_POS, a, side="left"), 0, len(_POS) - 1)
    lo = np.maximum(hi - 1, 0)
    d_lo, d_hi = a - _POS[lo], _POS[hi] - a
    pick_hi = (d_hi < d_lo) | ((d_hi == d_lo) & (hi % 2 == 0))
    code = np.where(pick_hi, hi, lo).astype(np.uint8)
    return code | np.where(np.signbit(x) & (code != 0), 0x80, 0).astype(np.uint8)


def bf16_bytes(t):
    return t.detach().float().contiguous().to(torch.bfloat16).view(torch.int16).numpy().tobytes()


def quantize_block(w, block):
    """w [out, in] float32 -> (e4m3 codes [out, in], scale_inv [ceil(out/b0), ceil(in/b1)] F32)
    with value = code × scale_inv per block, scale_inv = amax / 448."""
    w = w.detach().double().numpy()
    out, inn = w.shape
    b0, b1 = block
    gr, gc = -(-out // b0), -(-inn // b1)
    codes = np.zeros(w.shape, dtype=np.uint8)
    scales = np.ones((gr, gc), dtype=np.float32)
    for r in range(gr):
        for c in range(gc):
            blk = w[r * b0:(r + 1) * b0, c * b1:(c + 1) * b1]
            amax = float(np.abs(blk).max())
            s = np.float32(amax / FP8_MAX) if amax > 0 else np.float32(1.0)
            scales[r, c] = s
            codes[r * b0:(r + 1) * b0, c * b1:(c + 1) * b1] = to_e4m3(blk / np.float64(s))
    return codes, scales


# ---------------------------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------------------------
_SIZES = {"F32": 4, "BF16": 2, "F16": 2, "F8_E4M3": 1}


TENSOR_ALIGNMENT = 64


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes). As nextn's SafetensorsWriter lays a file
    out: the tensors whose size is a multiple of 64 first (in the given order), then the rest,
    after a header padded with spaces so that the data area, and so each of the first group,
    starts on a 64-byte boundary (a kernel's load from a tensor off a cache line reads two)."""
    tensors = [t for t in tensors if len(t[3]) % TENSOR_ALIGNMENT == 0] + \
        [t for t in tensors if len(t[3]) % TENSOR_ALIGNMENT != 0]
    header, offset = {}, 0
    for name, dtype, shape, data in tensors:
        n = int(np.prod(shape)) if shape else 1
        assert len(data) == n * _SIZES[dtype], name
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-(8 + len(h)) % TENSOR_ALIGNMENT)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, _, _, data in tensors:
            f.write(data)


def read_safetensors_raw(path):
    """[(name, dtype, shape, bytes)] in the order of the file's data area."""
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    entries = sorted(header.items(), key=lambda item: item[1]["data_offsets"][0])
    return [(name, info["dtype"], info["shape"],
             buf[base + info["data_offsets"][0]:base + info["data_offsets"][1]])
            for name, info in entries]


def read_safetensors(path):
    """name -> float32 torch tensor (FP8 as the raw decoded codes, not yet scaled)."""
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = buf[base + a:base + b]
        dt, shape = info["dtype"], info["shape"]
        if dt == "F32":
            v = np.frombuffer(raw, dtype=np.float32).copy()
        elif dt == "BF16":
            v = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif dt == "F8_E4M3":
            v = E4M3[np.frombuffer(raw, dtype=np.uint8)].astype(np.float32)
        else:
            raise ValueError("%s: dtype %s" % (name, dt))
        out[name] = torch.from_numpy(np.ascontiguousarray(v).reshape(shape))
    return out


def load_checkpoint(directory):
    """name -> float32 tensor with FP8 block weights dequantized."""
    with open(os.path.join(directory, "config.json")) as f:
        cfg = json.load(f)
    idx = os.path.join(directory, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) \
        else ["model.safetensors"]
    t = {}
    for fn in files:
        t.update(read_safetensors(os.path.join(directory, fn)))
    q = cfg.get("quantization_config")
    if q:
        b0, b1 = q["weight_block_size"]
        for name in [n for n in t if n.endswith("_scale_inv")]:
            wname = name[:-len("_scale_inv")]
            s = t.pop(name)
            w = t[wname]
            full = s.repeat_interleave(b0, 0)[:w.shape[0]].repeat_interleave(b1, 1)[:, :w.shape[1]]
            t[wname] = w * full
    return cfg, t


# ---------------------------------------------------------------------------------------------
# names (SPEC §3)
# ---------------------------------------------------------------------------------------------
def _layer_names(prefix, mod_prefix, state, E):
    """(hf name, module name, expert index or None) for one decoder layer's tensors."""
    out = []
    for key in state:
        if not key.startswith(mod_prefix):
            continue
        rest = key[len(mod_prefix):]
        if rest == "mlp.e_score_correction_bias":
            out.append((prefix + "mlp.gate.e_score_correction_bias", key, None))
        elif rest in ("mlp.w_gate", "mlp.w_up", "mlp.w_down"):
            proj = {"mlp.w_gate": "gate_proj", "mlp.w_up": "up_proj", "mlp.w_down": "down_proj"}[rest]
            for e in range(E):
                out.append((prefix + "mlp.experts.%d.%s.weight" % (e, proj), key, e))
        else:
            out.append((prefix + rest, key, None))
    return out


def hf_tensors(model):
    """[(hf name, float32 tensor)] in release order: every decoder layer, then the globals."""
    c = model.c
    state = model.state_dict()
    L, E = c["num_hidden_layers"], c["n_routed_experts"]
    rows = []

    def add_layer(prefix, mod_prefix):
        for hf, key, e in sorted(_layer_names(prefix, mod_prefix, state, E),
                                 key=lambda r: _order(r[0])):
            rows.append((hf, state[key] if e is None else state[key][e]))

    rows.append(("model.embed_tokens.weight", state["embed_tokens.weight"]))
    for i in range(L):
        add_layer("model.layers.%d." % i, "layers.%d." % i)
    for k in range(len(model.mtp)):
        p = "model.layers.%d." % (L + k)
        m = "mtp.%d." % k
        if k == 0:                                   # copies, as in the releases
            rows.append((p + "embed_tokens.weight", state["embed_tokens.weight"]))
        rows.append((p + "enorm.weight", state[m + "enorm.weight"]))
        rows.append((p + "hnorm.weight", state[m + "hnorm.weight"]))
        rows.append((p + "eh_proj.weight", state[m + "eh_proj.weight"]))
        add_layer(p, m + "block.")
        rows.append((p + "shared_head.norm.weight", state[m + "shared_head_norm.weight"]))
        rows.append((p + "shared_head.head.weight", state["lm_head.weight"]))
    rows.append(("model.norm.weight", state["norm.weight"]))
    rows.append(("lm_head.weight", state["lm_head.weight"]))
    return rows


def _order(name):
    # attention, then norms, then mlp; experts by number
    import re
    parts = re.split(r"(\d+)", name)
    return [int(p) if p.isdigit() else p for p in parts]


def module_state(cfg, tensors, model):
    """Inverse of hf_tensors: a state dict for model.Model from release-named tensors."""
    L, E = cfg["num_hidden_layers"], cfg["n_routed_experts"]
    state = model.state_dict()
    new = {}
    for i in range(L + len(model.mtp)):
        prefix = "model.layers.%d." % i
        mod_prefix = "layers.%d." % i if i < L else "mtp.%d.block." % (i - L)
        stacked = {}
        for hf, key, e in _layer_names(prefix, mod_prefix, state, E):
            if e is None:
                new[key] = tensors[hf]
            else:
                stacked.setdefault(key, [None] * E)[e] = tensors[hf]
        for key, parts in stacked.items():
            new[key] = torch.stack(parts)
    for k in range(len(model.mtp)):
        p, m = "model.layers.%d." % (L + k), "mtp.%d." % k
        for a, b in (("enorm.weight", "enorm.weight"), ("hnorm.weight", "hnorm.weight"),
                     ("eh_proj.weight", "eh_proj.weight"),
                     ("shared_head.norm.weight", "shared_head_norm.weight")):
            new[m + b] = tensors[p + a]
    new["embed_tokens.weight"] = tensors["model.embed_tokens.weight"]
    new["norm.weight"] = tensors["model.norm.weight"]
    new["lm_head.weight"] = tensors["lm_head.weight"]
    missing = set(state) - set(new)
    assert not missing, missing
    return new
