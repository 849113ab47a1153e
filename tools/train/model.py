"""Batched float32 torch modules of what nextn computes (SPEC §4, §5), for training.

Built from a HuggingFace config dict (the one the exporter writes), for DeepseekV3ForCausalLM
(MLA, interleaved RoPE on the rope dims) and Glm4MoeForCausalLM (GQA with bias, qk-norm, partial
NeoX RoPE). MoE layers use the noaux_tc router: sigmoid scores, e_score_correction_bias for the
choice only (groups scored by their two largest biased scores), the unbiased scores as weights,
norm_topk_prob, routed_scaling_factor, plus one unscaled shared expert. The MTP layer (one or
more, sequential as in the DeepSeek-V3 report) takes the hidden state after model.norm and the
embedding of the next token (zeroed at position 0, as nextn does by default), embedding first.
The MTP layers share the target's embedding and lm_head (the checkpoint stores copies).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from fastmm import Linear, bmm_nt, linear


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.eps)


def rope_tables(inv_freq, T, device=None):
    t = torch.arange(T, dtype=torch.float64)
    ang = t[:, None] * inv_freq.double()[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()          # [T, d/2]


def rope_interleaved(x, cos, sin):
    """x [B, T, ..., d]: pairs (2i, 2i+1) rotate with frequency i; cos/sin [T, d/2]."""
    shape = [1, cos.shape[0]] + [1] * (x.dim() - 3) + [cos.shape[1]]
    c, s = cos.view(shape), sin.view(shape)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).flatten(-2)


def rope_neox(x, cos, sin):
    """x [B, T, heads, d]: pairs (j, j + d/2) rotate with frequency j."""
    shape = [1, cos.shape[0], 1, cos.shape[1]]
    c, s = cos.view(shape), sin.view(shape)
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


def causal_attention(q, k, v, scale):
    """q, k [B, T, h, d], v [B, T, h, dv] -> [B, T, h*dv]."""
    B, T, h, d = q.shape
    qh = q.transpose(1, 2).reshape(B * h, T, d)
    kh = k.transpose(1, 2).reshape(B * h, T, d)
    vt = v.permute(0, 2, 3, 1).reshape(B * h, v.shape[-1], T)             # [Bh, dv, T]
    s = bmm_nt(qh, kh) * scale
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    p = torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1)
    o = bmm_nt(p, vt)                                                         # [Bh, T, dv]
    return o.view(B, h, T, -1).transpose(1, 2).reshape(B, T, -1)


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, nh = c["hidden_size"], c["num_attention_heads"]
        self.nh, self.nope, self.rope = nh, c["qk_nope_head_dim"], c["qk_rope_head_dim"]
        self.vd, self.kv_rank = c["v_head_dim"], c["kv_lora_rank"]
        qh = self.nope + self.rope
        self.q_lora = c.get("q_lora_rank")
        if self.q_lora:
            self.q_a_proj = Linear(H, self.q_lora, bias=False)
            self.q_a_layernorm = RMSNorm(self.q_lora, c["rms_norm_eps"])
            self.q_b_proj = Linear(self.q_lora, nh * qh, bias=False)
        else:
            self.q_proj = Linear(H, nh * qh, bias=False)
        self.kv_a_proj_with_mqa = Linear(H, self.kv_rank + self.rope, bias=False)
        self.kv_a_layernorm = RMSNorm(self.kv_rank, c["rms_norm_eps"])
        self.kv_b_proj = Linear(self.kv_rank, nh * (self.nope + self.vd), bias=False)
        self.o_proj = Linear(nh * self.vd, H, bias=False)
        self.scale = qh ** -0.5
        assert not c.get("rope_scaling"), "YaRN is not used by these models"
        d = self.rope
        self.register_buffer("inv_freq", c["rope_theta"] ** (-torch.arange(0, d, 2,
                                                                           dtype=torch.float64) / d),
                             persistent=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        if self.q_lora:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        else:
            q = self.q_proj(x)
        q = q.view(B, T, self.nh, self.nope + self.rope)
        q_nope, q_rope = q[..., :self.nope], q[..., self.nope:]
        kv_a = self.kv_a_proj_with_mqa(x)
        c_kv, k_rope = kv_a[..., :self.kv_rank], kv_a[..., self.kv_rank:]
        kv = self.kv_b_proj(self.kv_a_layernorm(c_kv)).view(B, T, self.nh, self.nope + self.vd)
        k_nope, v = kv[..., :self.nope], kv[..., self.nope:]
        q_rope = rope_interleaved(q_rope, cos, sin)
        k_rope = rope_interleaved(k_rope, cos, sin)            # [B, T, rope], all heads
        q = torch.cat([q_nope, q_rope], -1)
        k = torch.cat([k_nope, k_rope[:, :, None, :].expand(B, T, self.nh, self.rope)], -1)
        return self.o_proj(causal_attention(q, k, v, self.scale))


class GQA(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        hd = c.get("head_dim") or H // nh
        self.nh, self.nkv, self.hd = nh, nkv, hd
        bias = c.get("attention_bias", False)
        self.q_proj = Linear(H, nh * hd, bias=bias)
        self.k_proj = Linear(H, nkv * hd, bias=bias)
        self.v_proj = Linear(H, nkv * hd, bias=bias)
        self.o_proj = Linear(nh * hd, H, bias=False)
        self.qk_norm = c.get("use_qk_norm", False)
        if self.qk_norm:
            self.q_norm = RMSNorm(hd, c["rms_norm_eps"])
            self.k_norm = RMSNorm(hd, c["rms_norm_eps"])
        self.r = int(hd * c.get("partial_rotary_factor", 0.5))
        self.scale = hd ** -0.5
        assert not c.get("rope_scaling")
        self.register_buffer("inv_freq", c["rope_theta"] ** (-torch.arange(0, self.r, 2,
                                                                           dtype=torch.float64)
                                                             / self.r), persistent=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        r = self.r
        q = torch.cat([rope_neox(q[..., :r], cos, sin), q[..., r:]], -1)
        k = torch.cat([rope_neox(k[..., :r], cos, sin), k[..., r:]], -1)
        rep = self.nh // self.nkv
        k, v = k.repeat_interleave(rep, dim=2), v.repeat_interleave(rep, dim=2)
        return self.o_proj(causal_attention(q, k, v, self.scale))


class SwiGLU(nn.Module):
    def __init__(self, H, I):
        super().__init__()
        self.gate_proj = Linear(H, I, bias=False)
        self.up_proj = Linear(H, I, bias=False)
        self.down_proj = Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class MoE(nn.Module):
    """noaux_tc MoE. Experts are stacked [E, I, H] / [E, H, I] parameters."""

    def __init__(self, c):
        super().__init__()
        H, I, E = c["hidden_size"], c["moe_intermediate_size"], c["n_routed_experts"]
        self.E, self.k = E, c["num_experts_per_tok"]
        self.n_group, self.topk_group = c.get("n_group", 1) or 1, c.get("topk_group", 1) or 1
        self.norm_topk = c.get("norm_topk_prob", True)
        self.scaling = c.get("routed_scaling_factor", 1.0)
        self.gate = Linear(H, E, bias=False)
        self.register_buffer("e_score_correction_bias", torch.zeros(E))
        self.w_gate = nn.Parameter(torch.empty(E, I, H))
        self.w_up = nn.Parameter(torch.empty(E, I, H))
        self.w_down = nn.Parameter(torch.empty(E, H, I))
        self.shared_experts = SwiGLU(H, I * c.get("n_shared_experts", 1))
        self.last_load = None                        # tokens routed to each expert, last call

    def route(self, x):
        """x [N, H] -> (expert ids [N, k], weights [N, k])."""
        s = torch.sigmoid(self.gate(x).float())
        c = s.detach() + self.e_score_correction_bias
        N = x.shape[0]
        if self.n_group > 1:
            g = c.view(N, self.n_group, -1)
            gs = g.topk(min(2, g.shape[-1]), dim=-1).values.sum(-1)            # [N, G]
            keep = gs.topk(self.topk_group, dim=-1).indices
            gmask = torch.ones(N, self.n_group, dtype=torch.bool).scatter_(1, keep, False)
            c = g.masked_fill(gmask[:, :, None], float("-inf")).view(N, -1)
        idx = c.topk(self.k, dim=-1).indices
        w = s.gather(1, idx)
        if self.norm_topk:
            w = w / w.sum(-1, keepdim=True)
        return idx, w * self.scaling

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        N = x.shape[0]
        idx, w = self.route(x)
        out = self.shared_experts(x)
        flat = idx.reshape(-1)
        tok = torch.arange(N).repeat_interleave(self.k)
        order = torch.sort(flat, stable=True).indices
        counts = torch.bincount(flat, minlength=self.E)
        self.last_load = counts.detach()
        tok_sorted, w_sorted = tok[order], w.reshape(-1)[order]
        routed = torch.zeros_like(x)
        start = 0
        for e, n in enumerate(counts.tolist()):
            if n == 0:
                continue
            t = tok_sorted[start:start + n]
            xe = x[t]
            ye = linear(F.silu(linear(xe, self.w_gate[e])) * linear(xe, self.w_up[e]),
                        self.w_down[e])
            routed = routed.index_add(0, t, ye * w_sorted[start:start + n, None])
            start += n
        return (out + routed).view(shape)


class DecoderLayer(nn.Module):
    def __init__(self, c, moe):
        super().__init__()
        H, eps = c["hidden_size"], c["rms_norm_eps"]
        self.input_layernorm = RMSNorm(H, eps)
        self.post_attention_layernorm = RMSNorm(H, eps)
        self.self_attn = MLA(c) if c["architectures"][0] == "DeepseekV3ForCausalLM" else GQA(c)
        self.mlp = MoE(c) if moe else SwiGLU(H, c["intermediate_size"])

    def forward(self, x, cos, sin):
        h = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))


class MTPLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, eps = c["hidden_size"], c["rms_norm_eps"]
        self.enorm = RMSNorm(H, eps)
        self.hnorm = RMSNorm(H, eps)
        self.eh_proj = Linear(2 * H, H, bias=False)
        self.block = DecoderLayer(c, moe=True)
        self.shared_head_norm = RMSNorm(H, eps)


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        H, V, L = c["hidden_size"], c["vocab_size"], c["num_hidden_layers"]
        self.ds = c["architectures"][0] == "DeepseekV3ForCausalLM"
        fk = c.get("first_k_dense_replace", 0)
        freq = c.get("moe_layer_freq", 1) if self.ds else 1
        self.embed_tokens = nn.Embedding(V, H)
        self.layers = nn.ModuleList([DecoderLayer(c, moe=(i >= fk and i % freq == 0))
                                     for i in range(L)])
        self.norm = RMSNorm(H, c["rms_norm_eps"])
        self.lm_head = Linear(H, V, bias=False)
        self.mtp = nn.ModuleList([MTPLayer(c) for _ in range(c.get("num_nextn_predict_layers", 0))])
        self.pos0_mask = True

    def init_weights(self, seed_std=0.02):
        L = len(self.layers) + len(self.mtp)
        for name, p in self.named_parameters():
            if p.dim() == 1:
                continue                                          # norms (ones) and biases
            std = seed_std
            if name.endswith("o_proj.weight") or name.endswith("down_proj.weight") or \
                    name.endswith("w_down"):
                std = seed_std / math.sqrt(2 * L)
            nn.init.normal_(p, 0.0, std)
        for name, p in self.named_parameters():
            if name.endswith(".bias"):
                nn.init.zeros_(p)

    def rope(self, T):
        return rope_tables(self.layers[0].self_attn.inv_freq, T)

    def moe_modules(self):
        mods = [l.mlp for l in self.layers if isinstance(l.mlp, MoE)]
        return mods + [m.block.mlp for m in self.mtp]

    def target(self, tokens):
        """tokens [B, T] from position 0 -> hidden after model.norm [B, T, H]."""
        cos, sin = self.rope(tokens.shape[1])
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)

    def mtp_layer(self, k, hidden, next_tokens):
        """MTP layer k on rows p = 0..n-1 (positions from 0): hidden [B, n, H] (h_p),
        next_tokens [B, n] (t_{p+1}) -> (post-shared_head.norm output [B, n, H])."""
        m = self.mtp[k]
        e = self.embed_tokens(next_tokens)
        if self.pos0_mask:
            e = torch.cat([torch.zeros_like(e[:, :1]), e[:, 1:]], 1)
        x = m.eh_proj(torch.cat([m.enorm(e), m.hnorm(hidden)], -1))
        cos, sin = self.rope(x.shape[1])
        return m.shared_head_norm(m.block(x, cos, sin))

    def forward(self, tokens):
        """tokens [B, T]: returns (target logits [B, T, V], [MTP-k logits [B, T-1-k, V]])."""
        h = self.target(tokens)
        logits = self.lm_head(h)
        mtp_logits, prev = [], h
        for k in range(len(self.mtp)):
            n = tokens.shape[1] - 1 - k
            prev = self.mtp_layer(k, prev[:, :n], tokens[:, 1 + k:1 + k + n])
            mtp_logits.append(self.lm_head(prev))
        return logits, mtp_logits
