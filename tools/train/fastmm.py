"""Matrix products through oneDNN (mkldnn_linear), with autograd.

Debian's torch links the reference netlib BLAS, whose sgemm runs at a few GFLOP/s; its oneDNN
(MKL-DNN) linear kernel is more than ten times faster on the same CPU. These functions compute
the same products (float32) and are used by model.py for every matrix product of training.
"""
import torch

_mkldnn_linear = torch._C._nn.mkldnn_linear


def mm_nt(a, b):
    """a [n, k] @ b[m, k]^T -> [n, m]."""
    return _mkldnn_linear(a.contiguous().to_mkldnn(), b.contiguous().to_mkldnn(), None).to_dense()


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return mm_nt(x, w)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = mm_nt(g, w.t()) if ctx.needs_input_grad[0] else None
        gw = mm_nt(g.t(), x.t()) if ctx.needs_input_grad[1] else None
        return gx, gw


def linear(x, w, b=None):
    """x [..., in] @ w[out, in]^T (+ b)."""
    shape = x.shape
    y = _Linear.apply(x.reshape(-1, shape[-1]), w).view(*shape[:-1], w.shape[0])
    return y if b is None else y + b


class _BmmNT(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return torch.stack([mm_nt(a[i], b[i]) for i in range(a.shape[0])])

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = torch.stack([mm_nt(g[i], b[i].t()) for i in range(a.shape[0])])
        if ctx.needs_input_grad[1]:
            gb = torch.stack([mm_nt(g[i].t(), a[i].t()) for i in range(a.shape[0])])
        return ga, gb


def bmm_nt(a, b):
    """a [n, i, k] @ b[n, j, k]^T -> [n, i, j]."""
    return _BmmNT.apply(a, b)


class Linear(torch.nn.Module):
    """nn.Linear with the oneDNN product (same parameter names)."""

    def __init__(self, n_in, n_out, bias=False):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(n_out, n_in))
        self.bias = torch.nn.Parameter(torch.zeros(n_out)) if bias else None

    def forward(self, x):
        return linear(x, self.weight, self.bias)
