"""Self-checks of the reference model:  /usr/bin/python3 tests/reference/test_reference.py

Includes a small independent checkpoint writer (random weights, both families, FP8 options,
shards) so the reference can be checked without the C++ make-tiny.
"""
import json
import math
import os
import struct
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402
from safetensors_reader import FP8_E4M3_TABLE, Checkpoint, fp8_e4m3fn_value  # noqa: E402


# ---------------------------------------------------------------------------------------------
# A tiny checkpoint writer (independent of the C++ make-tiny)
# ---------------------------------------------------------------------------------------------
def encode(values, dtype):
    values = np.asarray(values, dtype=np.float32)
    if dtype == "F32":
        return values.astype("<f4").tobytes()
    if dtype == "BF16":  # round to nearest even
        bits = values.view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
        return bits.astype("<u2").tobytes()
    if dtype == "F8_E4M3":  # nearest finite code
        finite = np.where(np.isnan(FP8_E4M3_TABLE), np.inf, FP8_E4M3_TABLE)
        codes = np.abs(values.reshape(-1, 1) - finite[None, :]).argmin(axis=1)
        return codes.astype(np.uint8).tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors):
    """tensors: {name: (dtype, shape, bytes)}"""
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def tiny_config(family, D=1, yarn=False, qk_norm=True, q_lora=True, fp8=None, block=16):
    cfg = {"hidden_size": 32, "vocab_size": 64, "num_hidden_layers": 2,
           "num_nextn_predict_layers": D, "num_attention_heads": 4, "intermediate_size": 48,
           "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2,
           "moe_intermediate_size": 16, "norm_topk_prob": True, "routed_scaling_factor": 2.5,
           "first_k_dense_replace": 1, "torch_dtype": "bfloat16"}
    if family == "deepseek":
        cfg.update({"architectures": ["DeepseekV3ForCausalLM"], "rms_norm_eps": 1e-6,
                    "rope_theta": 10000.0, "q_lora_rank": 24 if q_lora else None,
                    "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4,
                    "v_head_dim": 8, "n_group": 4, "topk_group": 2, "moe_layer_freq": 1})
        if yarn:
            cfg["rope_parameters"] = {"rope_type": "yarn", "factor": 40.0,
                                      "original_max_position_embeddings": 4, "beta_fast": 32.0,
                                      "beta_slow": 1.0, "mscale": 1.0, "mscale_all_dim": 1.0}
        if fp8:
            cfg["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3",
                                          "weight_block_size": [block, block]}
    else:
        cfg.update({"architectures": ["Glm4MoeForCausalLM"], "rms_norm_eps": 1e-5,
                    "rope_theta": 1e6, "num_key_value_heads": 2, "head_dim": 8,
                    "use_qk_norm": qk_norm, "attention_bias": True, "n_group": 1,
                    "topk_group": 1})
        if fp8:
            cfg["quantization_config"] = {
                "quant_method": "compressed-tensors", "ignore": ["lm_head"],
                "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
                    "num_bits": 8, "type": "float", "strategy": fp8,
                    "block_structure": [block, block] if fp8 == "block" else None}}}}
    return cfg


def tiny_tensors(cfg, copies=True):
    """{name: (shape, kind)} with kind in norm / proj (quantizable) / plain / bias / rbias."""
    H, V, L, D = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"], \
        cfg["num_nextn_predict_layers"]
    nh, E, mi = cfg["num_attention_heads"], cfg["n_routed_experts"], cfg["moe_intermediate_size"]
    t = {"model.embed_tokens.weight": ([V, H], "plain"), "model.norm.weight": ([H], "norm"),
         "lm_head.weight": ([V, H], "plain")}
    for i in range(L + D):
        p = "model.layers.%d." % i
        t[p + "input_layernorm.weight"] = ([H], "norm")
        t[p + "post_attention_layernorm.weight"] = ([H], "norm")
        a = p + "self_attn."
        if "kv_lora_rank" in cfg:
            qk = cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]
            if cfg["q_lora_rank"]:
                t[a + "q_a_proj.weight"] = ([cfg["q_lora_rank"], H], "proj")
                t[a + "q_a_layernorm.weight"] = ([cfg["q_lora_rank"]], "norm")
                t[a + "q_b_proj.weight"] = ([nh * qk, cfg["q_lora_rank"]], "proj")
            else:
                t[a + "q_proj.weight"] = ([nh * qk, H], "proj")
            t[a + "kv_a_proj_with_mqa.weight"] = (
                [cfg["kv_lora_rank"] + cfg["qk_rope_head_dim"], H], "proj")
            t[a + "kv_a_layernorm.weight"] = ([cfg["kv_lora_rank"]], "norm")
            t[a + "kv_b_proj.weight"] = (
                [nh * (cfg["qk_nope_head_dim"] + cfg["v_head_dim"]), cfg["kv_lora_rank"]], "proj")
            t[a + "o_proj.weight"] = ([H, nh * cfg["v_head_dim"]], "proj")
        else:
            hd, kvh = cfg["head_dim"], cfg["num_key_value_heads"]
            for n, rows in (("q", nh * hd), ("k", kvh * hd), ("v", kvh * hd)):
                t[a + n + "_proj.weight"] = ([rows, H], "proj")
                t[a + n + "_proj.bias"] = ([rows], "bias")
            t[a + "o_proj.weight"] = ([H, nh * hd], "proj")
            if cfg["use_qk_norm"]:
                t[a + "q_norm.weight"] = ([hd], "norm")
                t[a + "k_norm.weight"] = ([hd], "norm")
        m = p + "mlp."
        if i < cfg["first_k_dense_replace"]:
            mlps = [(m, cfg["intermediate_size"])]
        else:
            t[m + "gate.weight"] = ([E, H], "plain")
            t[m + "gate.e_score_correction_bias"] = ([E], "rbias")
            mlps = [(m + "experts.%d." % e, mi) for e in range(E)]
            mlps.append((m + "shared_experts.", mi * cfg["n_shared_experts"]))
        for q, width in mlps:
            t[q + "gate_proj.weight"] = ([width, H], "proj")
            t[q + "up_proj.weight"] = ([width, H], "proj")
            t[q + "down_proj.weight"] = ([H, width], "proj")
        if i >= L:
            t[p + "enorm.weight"] = ([H], "norm")
            t[p + "hnorm.weight"] = ([H], "norm")
            t[p + "eh_proj.weight"] = ([H, 2 * H], "plain")
            t[p + "shared_head.norm.weight"] = ([H], "norm")
            if copies:
                t[p + "embed_tokens.weight"] = ([V, H], "copy:model.embed_tokens.weight")
                t[p + "shared_head.head.weight"] = ([V, H], "copy:lm_head.weight")
    return t


def write_tiny(directory, cfg, seed=0, copies=True, shards=1):
    """Writes config.json and random weights. Returns {name: float64 value as stored}."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f)
    rng = np.random.default_rng(seed)
    q = cfg.get("quantization_config")
    out, stored = {}, {}
    for name, (shape, kind) in tiny_tensors(cfg, copies).items():
        if kind.startswith("copy:"):
            out[name] = out[kind[5:]]
            continue
        if kind == "norm":
            value = 1.0 + 0.2 * rng.uniform(-1, 1, shape)
        elif kind in ("bias", "rbias"):
            value = (0.1 if kind == "bias" else 0.05) * rng.uniform(-1, 1, shape)
        else:
            value = rng.uniform(-1, 1, shape) / (1.0 if "embed" in name else math.sqrt(shape[-1]))
        if kind == "rbias":
            out[name] = ("F32", shape, encode(value, "F32"))
        elif kind == "proj" and q:
            out.update(quantize(name, value, q))
        else:
            out[name] = ("BF16", shape, encode(value, "BF16"))
    names = list(out)
    if shards == 1:
        write_safetensors(os.path.join(directory, "model.safetensors"), out)
    else:
        weight_map = {}
        for s in range(shards):
            file_name = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
            part = names[s * len(names) // shards:(s + 1) * len(names) // shards]
            write_safetensors(os.path.join(directory, file_name), {n: out[n] for n in part})
            weight_map.update({n: file_name for n in part})
        with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f)
    return out


def quantize(name, w, q):
    """FP8 weight plus its scale (DeepSeek _scale_inv, or compressed-tensors weight_scale)."""
    out_dim, in_dim = w.shape
    if q["quant_method"] == "fp8":
        br, bc = q["weight_block_size"]
        scale_name, strategy = name + "_scale_inv", "block"
    else:
        weights = q["config_groups"]["group_0"]["weights"]
        strategy = weights["strategy"]
        br, bc = weights["block_structure"] or (1, 1)
        scale_name = name[:-len(".weight")] + ".weight_scale"
    if strategy == "channel":
        br, bc = 1, in_dim
    elif strategy == "tensor":
        br, bc = out_dim, in_dim
    gr, gc = -(-out_dim // br), -(-in_dim // bc)
    scale = np.zeros((gr, gc))
    codes = np.zeros_like(w)
    for r in range(gr):
        for c in range(gc):
            blk = w[r * br:(r + 1) * br, c * bc:(c + 1) * bc]
            scale[r, c] = np.abs(blk).max() / 448.0
            codes[r * br:(r + 1) * br, c * bc:(c + 1) * bc] = blk / scale[r, c]
    if strategy == "tensor":
        scale = scale.reshape([])
    return {name: ("F8_E4M3", list(w.shape), encode(codes, "F8_E4M3")),
            scale_name: ("F32", list(scale.shape), encode(scale, "F32"))}


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------
class TestYarn(unittest.TestCase):
    V3 = dict(d=64, theta=10000.0, f=40.0, P=4096, beta_fast=32.0, beta_slow=1.0)

    def test_inv_freq_v3(self):
        inv = M.yarn_inv_freq(**self.V3)
        # corr(32) = 64 ln(4096/(2π·32)) / (2 ln 1e4) = 10.47 -> low 10;
        # corr(1) = 64 ln(4096/2π) / (2 ln 1e4) = 22.51 -> high 23.
        omega = lambda i: 10000.0 ** (-2.0 * i / 64)
        self.assertEqual(len(inv), 32)
        for i in range(11):  # ramp 0: extrapolated frequencies
            self.assertAlmostEqual(inv[i], omega(i), places=15)
        for i in range(23, 32):  # ramp 1: interpolated
            self.assertAlmostEqual(inv[i], omega(i) / 40.0, places=15)
        ramp = 6.0 / 13.0  # i = 16
        self.assertAlmostEqual(inv[16], omega(16) / 40 * ramp + omega(16) * (1 - ramp), places=15)

    def test_softmax_scale_v3(self):
        m = M.yarn_mscale(40.0, 1.0)
        self.assertAlmostEqual(m, 1.0 + 0.1 * math.log(40.0), places=15)
        self.assertAlmostEqual(192 ** -0.5 * m * m, 0.1352338, places=7)
        self.assertEqual(M.yarn_mscale(1.0, 1.0), 1.0)
        self.assertEqual(M.yarn_mscale(0.5, 1.0), 1.0)

    def test_model_uses_yarn(self):
        with tempfile.TemporaryDirectory() as d:
            write_tiny(d, tiny_config("deepseek", yarn=True))
            model = M.Model(d)
            expect = 12 ** -0.5 * (1 + 0.1 * math.log(40)) ** 2
            self.assertAlmostEqual(model.softmax_scale, expect, places=14)
            self.assertEqual(model.rope_scale, 1.0)


class TestRouter(unittest.TestCase):
    def route(self, logits, bias, **kw):
        args = dict(top_k=2, n_group=1, topk_group=1, norm_topk_prob=True, scaling=1.0)
        args.update(kw)
        return M.route_noaux_tc(torch.tensor(logits, dtype=torch.float64),
                                torch.tensor(bias, dtype=torch.float64), **args)

    def test_ties_go_to_lower_index(self):
        r = self.route([0.5, 1.0, 1.0, 1.0], [0.0] * 4)
        self.assertEqual([e for e, _ in r], [1, 2])
        self.assertAlmostEqual(sum(w for _, w in r), 1.0, places=14)

    def test_bias_chooses_but_does_not_weigh(self):
        r = self.route([2.0, 0.0, 1.0, -1.0], [0.0, 0.9, 0.0, 0.0], norm_topk_prob=False,
                       scaling=2.5)
        s = lambda x: 1.0 / (1.0 + math.exp(-x))
        # c = [0.881, 1.4, 0.731, 0.269] -> experts 1, 0; weights are the unbiased s times 2.5
        self.assertEqual([e for e, _ in r], [1, 0])
        self.assertAlmostEqual(r[0][1], 2.5 * s(0.0), places=14)
        self.assertAlmostEqual(r[1][1], 2.5 * s(2.0), places=14)

    def test_groups(self):
        # 4 groups of 2. Group 0 holds the single best expert but group sums pick groups 1, 2.
        logits = [3.0, -3.0, 1.0, 1.0, 0.9, 0.9, 0.0, 0.0]
        r = self.route(logits, [0.0] * 8, top_k=3, n_group=4, topk_group=2)
        self.assertEqual(sorted(e for e, _ in r), [2, 3, 4])
        r1 = self.route(logits, [0.0] * 8, top_k=3, n_group=1, topk_group=1)
        self.assertEqual([e for e, _ in r1], [0, 2, 3])

    def test_norm_topk(self):
        r = self.route([0.0, 0.0, 0.0, 0.0], [0.0] * 4, norm_topk_prob=True, scaling=2.0)
        self.assertEqual(r, [(0, 1.0), (1, 1.0)])


class TestFp8(unittest.TestCase):
    def test_table(self):
        cases = {0x00: 0.0, 0x01: 2.0 ** -9, 0x07: 7 / 8 * 2.0 ** -6, 0x08: 2.0 ** -6,
                 0x38: 1.0, 0x3C: 1.5, 0x40: 2.0, 0x7E: 448.0, 0xFE: -448.0, 0xB8: -1.0,
                 0x81: -(2.0 ** -9), 0x77: 240.0}
        for code, value in cases.items():
            self.assertEqual(FP8_E4M3_TABLE[code], value, hex(code))
            self.assertEqual(fp8_e4m3fn_value(code), value)
        self.assertTrue(math.isnan(FP8_E4M3_TABLE[0x7F]))
        self.assertTrue(math.isnan(FP8_E4M3_TABLE[0xFF]))
        self.assertEqual(int(np.isnan(FP8_E4M3_TABLE).sum()), 2)
        self.assertEqual(np.nanmax(FP8_E4M3_TABLE), 448.0)

    def check_dequant(self, cfg, shards=1):
        with tempfile.TemporaryDirectory() as d:
            stored = write_tiny(d, cfg, shards=shards)
            ck = Checkpoint(d)
            name = "model.layers.1.mlp.experts.3.down_proj.weight"  # [32, 16]
            got = ck.get(name)
            dtype, shape, raw = stored[name]
            self.assertEqual(dtype, "F8_E4M3")
            codes = FP8_E4M3_TABLE[np.frombuffer(raw, np.uint8)].reshape(shape)
            q = cfg["quantization_config"]
            scale_name = (name + "_scale_inv" if q["quant_method"] == "fp8"
                          else name[:-7] + ".weight_scale")
            scale = np.frombuffer(stored[scale_name][2], "<f4").astype(np.float64)
            return got, codes, scale.reshape(stored[scale_name][1])

    def test_deepseek_blocks_with_partial_edges(self):
        # block 12: 32x16 weight -> 3x2 grid with partial edge blocks
        got, codes, scale = self.check_dequant(tiny_config("deepseek", fp8=True, block=12),
                                               shards=3)
        self.assertEqual(scale.shape, (3, 2))
        for r, c in [(0, 0), (11, 11), (12, 12), (31, 15), (25, 3)]:
            self.assertEqual(got[r, c], codes[r, c] * scale[r // 12, c // 12])

    def test_compressed_tensors(self):
        got, codes, scale = self.check_dequant(tiny_config("glm", fp8="channel"))
        self.assertEqual(scale.shape, (32, 1))
        np.testing.assert_array_equal(got, codes * scale)
        got, codes, scale = self.check_dequant(tiny_config("glm", fp8="tensor"))
        np.testing.assert_array_equal(got, codes * float(scale))
        got, codes, scale = self.check_dequant(tiny_config("glm", fp8="block", block=8))
        self.assertEqual(got[9, 15], codes[9, 15] * scale[1, 1])


class TestRope(unittest.TestCase):
    def test_pairings(self):
        d = 8
        x = torch.arange(1.0, d + 1, dtype=torch.float64)[None, :]
        inv = 10000.0 ** (-np.arange(0, d, 2) / d)
        cos, sin = M.rope_cos_sin(inv, torch.tensor([3]))
        il, nx = M.rope_interleaved(x, cos, sin)[0], M.rope_neox(x, cos, sin)[0]
        c, s = math.cos(3 * inv[1]), math.sin(3 * inv[1])
        # interleaved: frequency 1 rotates dims (2, 3)
        self.assertAlmostEqual(il[2].item(), 3 * c - 4 * s, places=14)
        self.assertAlmostEqual(il[3].item(), 3 * s + 4 * c, places=14)
        # NeoX: frequency 1 rotates dims (1, 5)
        self.assertAlmostEqual(nx[1].item(), 2 * c - 6 * s, places=14)
        self.assertAlmostEqual(nx[5].item(), 2 * s + 6 * c, places=14)
        # the same rotation up to the permutation evens|odds
        perm = torch.tensor([0, 2, 4, 6, 1, 3, 5, 7])
        torch.testing.assert_close(M.rope_neox(x[:, perm], cos, sin)[0], il[perm])
        self.assertAlmostEqual(il.norm().item(), x.norm().item(), places=12)

    def test_relative_positions(self):
        # q·k after rope depends only on the position difference
        inv = 10000.0 ** (-np.arange(0, 8, 2) / 8)
        g = torch.Generator().manual_seed(0)
        q, k = torch.randn(1, 8, generator=g, dtype=torch.float64), \
            torch.randn(1, 8, generator=g, dtype=torch.float64)
        for rope in (M.rope_interleaved, M.rope_neox):
            dots = []
            for a, b in ((5, 2), (13, 10)):
                qa = rope(q, *M.rope_cos_sin(inv, torch.tensor([a])))
                kb = rope(k, *M.rope_cos_sin(inv, torch.tensor([b])))
                dots.append((qa * kb).sum().item())
            self.assertAlmostEqual(dots[0], dots[1], places=12)


class TestModel(unittest.TestCase):
    TOKENS = [5, 17, 40, 17, 63, 5, 0, 17]

    def variants(self):
        return [("deepseek", tiny_config("deepseek", D=2), {}),
                ("deepseek-yarn-noqlora", tiny_config("deepseek", yarn=True, q_lora=False), {}),
                ("deepseek-fp8", tiny_config("deepseek", fp8=True, block=12), {"shards": 2}),
                ("glm", tiny_config("glm", D=2), {}),
                ("glm-noqk-fp8", tiny_config("glm", qk_norm=False, fp8="channel"),
                 {"copies": False})]

    def test_prefill_equals_incremental(self):
        for label, cfg, kw in self.variants():
            with self.subTest(label), tempfile.TemporaryDirectory() as d:
                write_tiny(d, cfg, seed=3, **kw)
                model = M.Model(d)
                full = model.run(self.TOKENS)
                T = len(self.TOKENS)
                self.assertEqual(tuple(full["target_logits"].shape), (T, 64))
                self.assertTrue(torch.isfinite(full["target_logits"]).all())
                # target, one row at a time with a cache
                cache = M.KVCache()
                rows = [model.target([t], [p], cache) for p, t in enumerate(self.TOKENS)]
                torch.testing.assert_close(torch.cat([r[0] for r in rows]),
                                           full["target_logits"], rtol=1e-10, atol=1e-10)
                torch.testing.assert_close(torch.cat([r[1] for r in rows]),
                                           full["target_hidden"], rtol=1e-10, atol=1e-10)
                # MTP layers, one row at a time (layer k at row p takes layer k-1's row p)
                prev = full["target_hidden"]
                for k in range(cfg["num_nextn_predict_layers"]):
                    n = T - 1 - k
                    out = [model.mtp(k, prev[p:p + 1], [self.TOKENS[p + 1 + k]], [p], cache)
                           for p in range(n)]
                    torch.testing.assert_close(torch.cat([o[0] for o in out]),
                                               full["mtp_logits_%d" % k], rtol=1e-10, atol=1e-10)
                    prev = torch.cat([o[1] for o in out])
                    torch.testing.assert_close(prev, full["mtp_hidden_%d" % k])

    def test_pos0_mask_and_prenorm(self):
        with tempfile.TemporaryDirectory() as d:
            write_tiny(d, tiny_config("deepseek", D=2), seed=4)
            base = M.Model(d).run(self.TOKENS)
            nomask = M.Model(d, pos0_mask=False).run(self.TOKENS)
            pre = M.Model(d, mtp_hidden="pre-norm").run(self.TOKENS)
            torch.testing.assert_close(base["target_logits"], nomask["target_logits"])
            # the mask changes row 0 of layer 0 (and through attention every later row)
            self.assertGreater((base["mtp_logits_0"][0] - nomask["mtp_logits_0"][0]).abs().max(),
                               1e-6)
            # recycling only changes layer 1 onwards
            torch.testing.assert_close(base["mtp_logits_0"], pre["mtp_logits_0"])
            self.assertGreater((base["mtp_logits_1"] - pre["mtp_logits_1"]).abs().max(), 1e-6)
            # post-norm hidden is what the head sees: head(hidden) == logits
            model = M.Model(d)
            torch.testing.assert_close(base["mtp_hidden_0"] @ model.w("lm_head.weight").T,
                                       base["mtp_logits_0"])

    def test_mtp_embedding_copy_is_used(self):
        # with or without the MTP layer's own (identical) embed_tokens / shared_head.head copies,
        # the MTP logits are the same: the fallback to the target's tensors works
        cfg = tiny_config("glm")
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            write_tiny(a, cfg, seed=5, copies=True)
            write_tiny(b, cfg, seed=5, copies=False)
            ra, rb = M.Model(a).run(self.TOKENS), M.Model(b).run(self.TOKENS)
            torch.testing.assert_close(ra["mtp_logits_0"], rb["mtp_logits_0"], rtol=0, atol=0)

    def test_config_aliases(self):
        cfg = tiny_config("deepseek", yarn=True)
        c = M.Config(cfg)
        self.assertEqual(c.rope_type, "yarn")
        self.assertEqual(c.dtype, "bfloat16")
        g = dict(tiny_config("glm"))
        del g["use_qk_norm"], g["attention_bias"]
        g["dtype"] = g.pop("torch_dtype")
        c = M.Config(g)
        self.assertEqual((c.use_qk_norm, c.attention_bias, c.rotary_dim, c.dtype),
                         (False, False, 4, "bfloat16"))
        with self.assertRaisesRegex(ValueError, "kv_lora_rank"):
            bad = dict(cfg)
            del bad["kv_lora_rank"]
            M.Config(bad)


if __name__ == "__main__":
    unittest.main()
