"""Reference forward pass of the target model (SPEC §4) and of the MTP layers (SPEC §5), in
float64, for DeepseekV3ForCausalLM (MLA) and Glm4MoeForCausalLM (GQA + partial NeoX RoPE).

Written from SPEC.md only, for readability rather than speed: naive (non-absorbed) MLA, a loop
over experts, a plain per-layer KV cache. Run with /usr/bin/python3 (Debian's torch 1.13).
"""
import math

import numpy as np
import torch

from safetensors_reader import Checkpoint

DTYPE = torch.float64


# ---------------------------------------------------------------------------------------------
# Config (SPEC §1)
# ---------------------------------------------------------------------------------------------
class Config:
    def __init__(self, cfg):
        self.raw = cfg
        self.arch = cfg["architectures"][0]
        if self.arch == "DeepseekV3ForCausalLM":
            self.family = "deepseek"
        elif self.arch == "Glm4MoeForCausalLM":
            self.family = "glm"
        else:
            raise ValueError("architectures[0]: unknown architecture %s" % self.arch)
        need = lambda key: _required(cfg, key)
        self.H = need("hidden_size")
        self.V = need("vocab_size")
        self.L = need("num_hidden_layers")
        self.D = cfg.get("num_nextn_predict_layers", 0) or 0
        self.heads = need("num_attention_heads")
        self.eps = need("rms_norm_eps")
        self.dtype = cfg.get("torch_dtype", cfg.get("dtype"))
        # Rope: `rope_scaling` or the newer `rope_parameters`; `type` or `rope_type`.
        rope = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
        self.rope_type = rope.get("type", rope.get("rope_type", "default")) or "default"
        self.rope = rope
        self.rope_theta = cfg.get("rope_theta", rope.get("rope_theta", 10000.0))
        # MoE
        self.n_experts = need("n_routed_experts")
        self.top_k = need("num_experts_per_tok")
        self.n_group = cfg.get("n_group", 1) or 1
        self.topk_group = cfg.get("topk_group", 1) or 1
        self.norm_topk_prob = cfg.get("norm_topk_prob", True)
        self.routed_scaling_factor = cfg.get("routed_scaling_factor", 1.0)
        self.first_k_dense = cfg.get("first_k_dense_replace", 0)
        self.moe_layer_freq = cfg.get("moe_layer_freq", 1) if self.family == "deepseek" else 1
        if self.family == "deepseek":
            self.q_lora_rank = cfg.get("q_lora_rank")  # null: plain q_proj
            self.kv_lora_rank = need("kv_lora_rank")
            self.qk_nope = need("qk_nope_head_dim")
            self.qk_rope = need("qk_rope_head_dim")
            self.v_head = need("v_head_dim")
            self.qk_head = self.qk_nope + self.qk_rope  # even where a `head_dim` key exists
        else:
            self.kv_heads = need("num_key_value_heads")
            self.head_dim = cfg.get("head_dim") or self.H // self.heads
            self.partial_rotary_factor = cfg.get("partial_rotary_factor", 0.5)
            self.use_qk_norm = cfg.get("use_qk_norm", False)
            self.attention_bias = cfg.get("attention_bias", False)
            self.rotary_dim = int(self.head_dim * self.partial_rotary_factor)
            if self.rope_type not in ("default", None):
                raise ValueError("rope_scaling: GLM reference supports only default RoPE")

    def is_moe_layer(self, i):
        if i >= self.L:
            return True  # MTP layers are MoE (SPEC §4)
        return i >= self.first_k_dense and i % self.moe_layer_freq == 0


def _required(cfg, key):
    if key not in cfg or cfg[key] is None:
        raise ValueError("config.json: missing required field %s" % key)
    return cfg[key]


# ---------------------------------------------------------------------------------------------
# Building blocks (SPEC §4)
# ---------------------------------------------------------------------------------------------
def rms_norm(x, w, eps):
    """y = w * x / sqrt(mean(x^2) + eps) over the last dim (no (1+w) offset)."""
    return w * x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps)


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def swiglu(x, gate, up, down):
    """down(silu(gate(x)) * up(x))."""
    return linear(torch.nn.functional.silu(linear(x, gate)) * linear(x, up), down)


def yarn_mscale(f, m):
    """mscale(f, m) = 0.1 m ln f + 1, and 1 when f <= 1."""
    return 1.0 if f <= 1.0 else 0.1 * m * math.log(f) + 1.0


def yarn_inv_freq(d, theta, f, P, beta_fast, beta_slow):
    """YaRN inverse frequencies for rotary dim d (SPEC §4), d/2 values."""
    i = np.arange(d // 2, dtype=np.float64)
    omega = theta ** (-2.0 * i / d)  # extrapolated
    corr = lambda r: d * math.log(P / (2.0 * math.pi * r)) / (2.0 * math.log(theta))
    low = max(math.floor(corr(beta_fast)), 0)
    high = min(math.ceil(corr(beta_slow)), d - 1)
    if high == low:
        high += 0.001  # SPEC leaves high == low open; avoid dividing by zero as HF does
    ramp = np.clip((i - low) / (high - low), 0.0, 1.0)
    return omega / f * ramp + omega * (1.0 - ramp)


def rope_cos_sin(inv_freq, positions, scale=1.0):
    """cos, sin of shape [n, d/2] for angle positions[n] * inv_freq[d/2], times `scale`."""
    angles = positions.to(DTYPE)[:, None] * torch.as_tensor(inv_freq, dtype=DTYPE)[None, :]
    return torch.cos(angles) * scale, torch.sin(angles) * scale


def rope_interleaved(x, cos, sin):
    """DeepSeek: pairs (2i, 2i+1) rotate with frequency i. x [n, ..., d], cos/sin [n, d/2]."""
    shape = [cos.shape[0]] + [1] * (x.dim() - 2) + [cos.shape[1]]
    c, s = cos.reshape(shape), sin.reshape(shape)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out


def rope_neox(x, cos, sin):
    """GLM: rotate-half, pairs (j, j + d/2) rotate with frequency j. x [n, ..., d]."""
    shape = [cos.shape[0]] + [1] * (x.dim() - 2) + [cos.shape[1]]
    c, s = cos.reshape(shape), sin.reshape(shape)
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


def route_noaux_tc(logits, bias, top_k, n_group, topk_group, norm_topk_prob, scaling):
    """noaux_tc router for one token (SPEC §4). logits, bias: [E]. Returns [(expert, weight)].
    Ties are broken towards the lower index (groups and experts), a choice SPEC leaves open."""
    s = torch.sigmoid(logits)
    c = s + bias  # used for choosing only
    E = c.shape[0]
    if n_group > 1:
        per = E // n_group
        groups = c.reshape(n_group, per)
        # group score = sum of its two largest c
        top2 = torch.sort(groups, dim=1, descending=True).values[:, :min(2, per)]
        group_score = top2.sum(dim=1)
        keep = _stable_topk(group_score, topk_group)
        mask = torch.full((n_group, per), -math.inf, dtype=DTYPE)
        mask[keep] = 0.0
        c = (groups + mask).reshape(E)
    chosen = _stable_topk(c, top_k)
    w = s[chosen]  # the unbiased scores
    if norm_topk_prob:
        w = w / w.sum()
    w = w * scaling
    return list(zip(chosen, w.tolist()))


def _stable_topk(values, k):
    """Indices of the k largest values, ties going to the lower index."""
    order = np.argsort(-values.numpy(), kind="stable")
    return [int(i) for i in order[:k]]


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------
class KVCache:
    """Per decoder layer: positions, keys and values of every row run so far (one sequence)."""

    def __init__(self):
        self.layers = {}

    def append(self, layer, pos, k, v):
        if layer not in self.layers:
            self.layers[layer] = (pos, k, v)
        else:
            p0, k0, v0 = self.layers[layer]
            self.layers[layer] = (torch.cat([p0, pos]), torch.cat([k0, k]), torch.cat([v0, v]))
        return self.layers[layer]


class Model:
    def __init__(self, directory, pos0_mask=True, mtp_hidden="post-norm"):
        self.ckpt = Checkpoint(directory)
        self.cfg = Config(self.ckpt.config)
        self.pos0_mask = pos0_mask            # SPEC §5 step 1: e = 0 at position 0
        assert mtp_hidden in ("post-norm", "pre-norm")
        self.mtp_hidden = mtp_hidden          # SPEC §5: what a draft row recycles
        self._cache = {}
        self._setup_rope()

    def w(self, name):
        """A checkpoint tensor as float64 torch (FP8 dequantized)."""
        if name not in self._cache:
            self._cache[name] = torch.from_numpy(np.ascontiguousarray(self.ckpt.get(name)))
        return self._cache[name]

    def _setup_rope(self):
        cfg = self.cfg
        if cfg.family == "deepseek":
            d = cfg.qk_rope
            self.softmax_scale = cfg.qk_head ** -0.5
            self.rope_scale = 1.0
            if cfg.rope_type == "yarn":
                r = cfg.rope
                f = r["factor"]
                self.inv_freq = yarn_inv_freq(d, cfg.rope_theta, f,
                                              r["original_max_position_embeddings"],
                                              r.get("beta_fast", 32.0), r.get("beta_slow", 1.0))
                m_all = yarn_mscale(f, r.get("mscale_all_dim", 0.0))
                self.softmax_scale *= m_all ** 2
                self.rope_scale = yarn_mscale(f, r.get("mscale", 1.0)) / m_all
            elif cfg.rope_type in ("default", None):
                self.inv_freq = cfg.rope_theta ** (-np.arange(0, d, 2, dtype=np.float64) / d)
            else:
                raise ValueError("rope_scaling.type %s not supported" % cfg.rope_type)
        else:
            d = cfg.rotary_dim
            self.inv_freq = cfg.rope_theta ** (-np.arange(0, d, 2, dtype=np.float64) / d)
            self.softmax_scale = cfg.head_dim ** -0.5
            self.rope_scale = 1.0

    # -- attention ------------------------------------------------------------------------
    def attention(self, i, x, pos, cache):
        """Causal self-attention of layer i for rows x [n, H] at positions pos [n], over every
        earlier row of the same layer (the cache) and these rows."""
        p = "model.layers.%d.self_attn." % i
        cos, sin = rope_cos_sin(self.inv_freq, pos, self.rope_scale)
        if self.cfg.family == "deepseek":
            q, k, v = self._mla_qkv(p, x, cos, sin)
        else:
            q, k, v = self._gqa_qkv(p, x, cos, sin)
        kpos, K, Vv = cache.append(i, pos, k, v)
        if K.shape[1] != q.shape[1]:  # GQA: each KV head serves heads/kv_heads query heads
            rep = q.shape[1] // K.shape[1]
            K, Vv = K.repeat_interleave(rep, dim=1), Vv.repeat_interleave(rep, dim=1)
        scores = torch.einsum("nhd,mhd->hnm", q, K) * self.softmax_scale
        causal = kpos[None, :] <= pos[:, None]                     # [n, m]
        scores = scores.masked_fill(~causal[None], -math.inf)
        probs = torch.softmax(scores, dim=-1)
        out = torch.einsum("hnm,mhd->nhd", probs, Vv).reshape(x.shape[0], -1)
        return linear(out, self.w(p + "o_proj.weight"))

    def _mla_qkv(self, p, x, cos, sin):
        """DeepSeek MLA, naive form (SPEC §4)."""
        cfg, n = self.cfg, x.shape[0]
        if cfg.q_lora_rank:
            c_q = rms_norm(linear(x, self.w(p + "q_a_proj.weight")),
                           self.w(p + "q_a_layernorm.weight"), cfg.eps)
            q = linear(c_q, self.w(p + "q_b_proj.weight"))
        else:
            q = linear(x, self.w(p + "q_proj.weight"))
        q = q.reshape(n, cfg.heads, cfg.qk_head)
        q_nope, q_rope = q[..., :cfg.qk_nope], q[..., cfg.qk_nope:]
        kv_a = linear(x, self.w(p + "kv_a_proj_with_mqa.weight"))
        c_kv, k_rope = kv_a[:, :cfg.kv_lora_rank], kv_a[:, cfg.kv_lora_rank:]
        c_kv = rms_norm(c_kv, self.w(p + "kv_a_layernorm.weight"), cfg.eps)
        kv = linear(c_kv, self.w(p + "kv_b_proj.weight")).reshape(n, cfg.heads,
                                                                  cfg.qk_nope + cfg.v_head)
        k_nope, v = kv[..., :cfg.qk_nope], kv[..., cfg.qk_nope:]
        q_rope = rope_interleaved(q_rope, cos, sin)
        k_rope = rope_interleaved(k_rope, cos, sin)  # [n, rope], shared by all heads
        q = torch.cat([q_nope, q_rope], dim=-1)
        k = torch.cat([k_nope, k_rope[:, None, :].expand(n, cfg.heads, cfg.qk_rope)], dim=-1)
        return q, k, v

    def _gqa_qkv(self, p, x, cos, sin):
        """GLM attention (SPEC §4): biased q/k/v, optional per-head qk RMSNorm before RoPE,
        NeoX RoPE on the first rotary_dim channels of each head."""
        cfg, n = self.cfg, x.shape[0]
        b = (lambda name: self.w(p + name + ".bias")) if cfg.attention_bias else (lambda _: None)
        q = linear(x, self.w(p + "q_proj.weight"), b("q_proj")).reshape(n, cfg.heads, -1)
        k = linear(x, self.w(p + "k_proj.weight"), b("k_proj")).reshape(n, cfg.kv_heads, -1)
        v = linear(x, self.w(p + "v_proj.weight"), b("v_proj")).reshape(n, cfg.kv_heads, -1)
        if cfg.use_qk_norm:
            q = rms_norm(q, self.w(p + "q_norm.weight"), cfg.eps)
            k = rms_norm(k, self.w(p + "k_norm.weight"), cfg.eps)
        r = cfg.rotary_dim
        q = torch.cat([rope_neox(q[..., :r], cos, sin), q[..., r:]], dim=-1)
        k = torch.cat([rope_neox(k[..., :r], cos, sin), k[..., r:]], dim=-1)
        return q, k, v

    # -- MLP / MoE ------------------------------------------------------------------------
    def mlp(self, i, x):
        p = "model.layers.%d.mlp." % i
        if not self.cfg.is_moe_layer(i):
            return swiglu(x, self.w(p + "gate_proj.weight"), self.w(p + "up_proj.weight"),
                          self.w(p + "down_proj.weight"))
        cfg = self.cfg
        logits = linear(x, self.w(p + "gate.weight"))
        bias = self.w(p + "gate.e_score_correction_bias")
        out = swiglu(x, self.w(p + "shared_experts.gate_proj.weight"),  # never scaled
                     self.w(p + "shared_experts.up_proj.weight"),
                     self.w(p + "shared_experts.down_proj.weight"))
        for row in range(x.shape[0]):
            for e, weight in route_noaux_tc(logits[row], bias, cfg.top_k, cfg.n_group,
                                            cfg.topk_group, cfg.norm_topk_prob,
                                            cfg.routed_scaling_factor):
                pe = p + "experts.%d." % e
                out[row] += weight * swiglu(x[row:row + 1], self.w(pe + "gate_proj.weight"),
                                            self.w(pe + "up_proj.weight"),
                                            self.w(pe + "down_proj.weight"))[0]
        return out

    def decoder_layer(self, i, x, pos, cache):
        """Pre-norm: h = x + Attn(norm_in(x)); out = h + MLP(norm_post(h))."""
        p = "model.layers.%d." % i
        h = x + self.attention(i, rms_norm(x, self.w(p + "input_layernorm.weight"),
                                           self.cfg.eps), pos, cache)
        return h + self.mlp(i, rms_norm(h, self.w(p + "post_attention_layernorm.weight"),
                                        self.cfg.eps))

    # -- target (SPEC §4) -----------------------------------------------------------------
    def target(self, tokens, pos, cache):
        """Rows `tokens` at positions `pos` -> (logits [n, V], hidden after model.norm [n, H])."""
        tokens = torch.as_tensor(tokens, dtype=torch.long)
        pos = torch.as_tensor(pos, dtype=torch.long)
        x = self.w("model.embed_tokens.weight")[tokens]
        for i in range(self.cfg.L):
            x = self.decoder_layer(i, x, pos, cache)
        hidden = rms_norm(x, self.w("model.norm.weight"), self.cfg.eps)
        return linear(hidden, self.w("lm_head.weight")), hidden

    # -- MTP layer k (SPEC §5) -------------------------------------------------------------
    def mtp(self, k, hidden, next_tokens, pos, cache):
        """MTP layer k on rows (hidden [n, H], token t_{p+1} [n]) at positions pos [n].
        Returns (logits [n, V], recycled hidden [n, H]: post-norm by default)."""
        cfg = self.cfg
        i = cfg.L + k
        p = "model.layers.%d." % i
        first = "model.layers.%d.embed_tokens.weight" % cfg.L  # only the first copy is used
        embed = self.w(first if self.ckpt.has(first) else "model.embed_tokens.weight")
        tokens = torch.as_tensor(next_tokens, dtype=torch.long)
        pos = torch.as_tensor(pos, dtype=torch.long)
        e = embed[tokens].clone()
        if self.pos0_mask:
            e[pos == 0] = 0.0
        # embedding first, then hidden
        x = linear(torch.cat([rms_norm(e, self.w(p + "enorm.weight"), cfg.eps),
                              rms_norm(hidden, self.w(p + "hnorm.weight"), cfg.eps)], dim=-1),
                   self.w(p + "eh_proj.weight"))
        out = self.decoder_layer(i, x, pos, cache)
        normed = rms_norm(out, self.w(p + "shared_head.norm.weight"), cfg.eps)
        head = p + "shared_head.head.weight"
        logits = linear(normed, self.w(head if self.ckpt.has(head) else "lm_head.weight"))
        return logits, (normed if self.mtp_hidden == "post-norm" else out)

    # -- whole-sequence runs used by run_reference.py ---------------------------------------
    def run(self, tokens):
        """Target over t_0..t_{T-1} from position 0, then every MTP layer teacher-forced
        (layer 0 on target hiddens; layer k on layer k-1's recycled hiddens, sequential MTP).
        Returns a dict of float64 tensors."""
        T = len(tokens)
        cache = KVCache()
        logits, hidden = self.target(tokens, list(range(T)), cache)
        result = {"target_logits": logits, "target_hidden": hidden}
        prev = hidden
        for k in range(self.cfg.D):
            n = T - 1 - k  # rows p = 0..T-2-k with (prev hidden at p, t_{p+1+k})
            if n <= 0:
                break
            lg, hk = self.mtp(k, prev[:n], tokens[1 + k:1 + k + n], list(range(n)), cache)
            result["mtp_logits_%d" % k] = lg
            result["mtp_hidden_%d" % k] = hk
            prev = hk
        return result
