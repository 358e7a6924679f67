"""int8 weights with per-group scales and residual compensation (docs/MODEL_FORMAT.md, "int8").

Every matrix W (rows = out features, cols = in features) becomes q (int8, rows × cols) and
scales (float16, rows × cols/G): W ≈ q[r, c] · scale[r, c // G], symmetric, q in [-127, 127].

Residual compensation (`gptq`): the rounding error of each input column is pushed onto the
columns not yet quantised, weighted by the inverse Hessian H = XᵀX of calibration inputs X of
the layer (error feedback, as in GPTQ: Frantar et al. 2022). The output error ‖X Wᵀ - X Ŵᵀ‖ on
the calibration data is minimised column by column instead of ‖W - Ŵ‖; nothing is stored for it
(the file holds q and scales only, the engines run the same kernel), so it costs no size and no
time at runtime. Written from the paper's description; the algorithm:

    H ← H + λ·mean(diag H)·I                      (damping, λ = 0.01; dead inputs: H_ii = 1)
    U ← upper Cholesky factor of H⁻¹               (U_ii, U_i,j>i: the remaining inverse Hessian
                                                    after columns < i are fixed)
    for each column i (in order):
        at the start of a group: scale[:, g] = max |W[:, g·G:(g+1)·G]| / 127 (current W, f16)
        q_i = clamp(round(W_i / s), -127, 127);   e = (W_i - q_i·s) / U_ii
        W_j ← W_j - e · U_ij  for j > i            (the error feedback)

Calibration (`calibrate`): Hessians are collected with forward hooks on the inputs of every
nn.Linear (and of the tied output projection: the final norm's output), on windows of the
training split laid out as the model was trained (block-causal: objective.block_layout's
[noisy | clean] rows). Quantisation is sequential: layer l's Hessians are collected with the
embedding and layers < l already quantised, so each layer compensates what came before.

Scale tuning (`tune_scales`, optional, after the error feedback): every q fixed, the float16 scales
(a factor per row and group) and the RMSNorm gains are learned by Adam so that the int8 model's
next-token distributions match the float model's (KL on plain training windows: the causal rows,
the AR head). Like the error feedback it lives in numbers the file already holds.
"""
import itertools

import numpy as np
import torch
import torch.nn.functional as F

from model import RMSNorm

QMAX = 127


def f16_scale(amax: np.ndarray) -> np.ndarray:
    """Per-group scale amax / 127 as float16, rounded up so that |w| / scale <= 127 (no clipping);
    zero groups get scale 1 (their q is 0)."""
    s = np.asarray(amax, dtype=np.float64) / QMAX
    s16 = s.astype(np.float16)
    low = s16.astype(np.float64) < s
    s16[low] = np.nextafter(s16[low], np.float16(np.inf))
    s16[s16 == 0] = np.float16(1.0)
    return s16


def group_for(cols: int, group: int) -> int:
    """The group used for a matrix of `cols` inputs: `group` when it divides cols, else the largest
    multiple of 4 below it that does (else cols); 0: one scale per row."""
    if not group or group >= cols:
        return cols
    for g in range(group, 3, -1):
        if cols % g == 0 and g % 4 == 0:
            return g
    return cols


def quantize_rtn(w: np.ndarray, group: int):
    """Round to nearest: w (rows, cols) -> q int8 (rows, cols), scales float16 (rows, cols/group)."""
    w = np.asarray(w, dtype=np.float64)
    rows, cols = w.shape
    group = group_for(cols, group)
    wg = w.reshape(rows, cols // group, group)
    s = f16_scale(np.abs(wg).max(axis=2))
    q = np.clip(np.rint(wg / s.astype(np.float64)[:, :, None]), -QMAX, QMAX).astype(np.int8)
    return q.reshape(rows, cols), s


def dequantize(q: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """float32 W = q · scale per group (the engines' dequantised weights)."""
    rows, cols = q.shape
    group = cols // scales.shape[1]
    s = np.repeat(scales.astype(np.float32), group, axis=1)
    return q.astype(np.float32) * s


def gptq(w: np.ndarray, H: np.ndarray, group: int, damp: float = 0.01):
    """Error-feedback quantisation of w (rows, cols) against the input Hessian H (cols, cols)."""
    W = torch.tensor(np.asarray(w, dtype=np.float64))
    rows, cols = W.shape
    group = group_for(cols, group)
    H = torch.tensor(np.asarray(H, dtype=np.float64)).clone()
    dead = torch.diag(H) == 0
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    H += damp * torch.mean(torch.diag(H)) * torch.eye(cols, dtype=H.dtype)
    U = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    q = torch.zeros(rows, cols, dtype=torch.int8)
    scales = np.zeros((rows, cols // group), dtype=np.float16)
    s = None
    for i in range(cols):
        if i % group == 0:
            g = i // group
            scales[:, g] = f16_scale(W[:, i:i + group].abs().amax(dim=1).numpy())
            s = torch.tensor(scales[:, g].astype(np.float64))
        col = W[:, i]
        qi = torch.clamp(torch.round(col / s), -QMAX, QMAX)
        q[:, i] = qi.to(torch.int8)
        err = (col - qi * s) / U[i, i]
        if i + 1 < cols:
            W[:, i + 1:] -= err[:, None] * U[i, i + 1:][None, :]
    return q.numpy(), scales


# ---- calibration --------------------------------------------------------------------------------

def plain_windows(data, L, n_windows, batch=8, seed=99):
    """Yields {"tokens": (batch, L)} windows of `data` (uint16 tokens) at random starts: causal rows
    for AR and block-causal models (their clean rows, the AR head that decides every token of the
    default decoding)."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(data) - L, size=n_windows)
    for b0 in range(0, n_windows, batch):
        yield {"tokens": torch.from_numpy(np.stack([data[s:s + L].astype(np.int64) for s in starts[b0:b0 + batch]]))}


def calibration_batches(model, data, n_windows, batch=8, seed=1234, special=None, args=None):
    """Yields model inputs (kwargs) of n_windows windows of `data` (plain_windows), laid out as in
    training: causal windows for AR and full-attention models, block_layout rows for block-causal."""
    g = torch.Generator().manual_seed(seed)
    for kw in plain_windows(data, model.cfg.max_seq_len, n_windows, batch, seed):
        if model.cfg.attention == "block_causal":
            from objective import block_layout
            a = args or {}
            lay = block_layout(kw["tokens"], special, model.cfg.vocab_size - 3, random_share=a.get("random_share", 0.0),
                               fim_share=a.get("fim_share", 0.5), generator=g)
            yield {"tokens": lay["tokens"], "positions": lay["positions"], "attn_mask": lay["mask"]}
        else:
            yield kw


class HessianHooks:
    """Accumulates XᵀX of the inputs of the named modules (nn.Linear; 'output' = the final norm's
    output, the tied output projection's input) over every row of every forward while active."""

    def __init__(self, model, names):
        self.H, self.n, self.handles = {}, {}, []
        mods = dict(model.named_modules())
        for name in names:
            if name == "output":
                mod, take = mods["norm"], (lambda m, inp, out: out)
            else:
                mod, take = mods[name], (lambda m, inp, out: inp[0])
            self.handles.append(mod.register_forward_hook(self._hook(name, take)))

    def _hook(self, name, take):
        def f(m, inp, out):
            x = take(m, inp, out).detach().reshape(-1, take(m, inp, out).shape[-1]).double()
            self.H[name] = self.H.get(name, 0) + x.T @ x
            self.n[name] = self.n.get(name, 0) + x.shape[0]
        return f

    def remove(self):
        for h in self.handles:
            h.remove()

    def hessian(self, name):
        return (self.H[name] / self.n[name]).numpy()


def collect(model, batches, names):
    hooks = HessianHooks(model, names)
    try:
        with torch.no_grad():
            for kw in batches():
                model(kw["tokens"], positions=kw.get("positions"), attn_mask=kw.get("attn_mask"))
    finally:
        hooks.remove()
    return {n: hooks.hessian(n) for n in names}


LAYER_LINEARS = ("attn.wq", "attn.wk", "attn.wv", "attn.wo", "ffn.w1", "ffn.w3", "ffn.w2")


def quantize_model(model, batches, group, method="gptq", embed_method=None, log=print):
    """Quantise every matrix of `model` (a float Transformer, modified in place to hold the
    dequantised weights). Returns {tensor name: (q, scales)}. method: 'gptq' or 'rtn';
    embed_method: for the embedding / output matrix (default: method)."""
    embed_method = embed_method or method
    out = {}
    sd = model.state_dict()

    def put(name, qs):
        out[name] = qs
        with torch.no_grad():
            sd[name].copy_(torch.from_numpy(dequantize(*qs)))

    tied = model.output is None
    head_name = "tok_embeddings.weight" if tied else "output.weight"
    if embed_method == "gptq" or (not tied and method == "gptq"):
        H_head = collect(model, batches, ["output"])["output"]  # from the float model
    if tied:
        w = sd[head_name].double().numpy()
        put(head_name, gptq(w, H_head, group) if embed_method == "gptq" else quantize_rtn(w, group))
    else:
        put("tok_embeddings.weight", quantize_rtn(sd["tok_embeddings.weight"].double().numpy(), group))
    for l in range(model.cfg.n_layers):
        names = [f"layers.{l}.{n}" for n in LAYER_LINEARS]
        H = collect(model, batches, names) if method == "gptq" else {}
        for n in names:
            w = sd[n + ".weight"].double().numpy()
            put(n + ".weight", gptq(w, H[n], group) if method == "gptq" else quantize_rtn(w, group))
        log(f"  layer {l} quantised ({method}, group {group})")
    if not tied:
        w = sd["output.weight"].double().numpy()
        H_head = collect(model, batches, ["output"])["output"] if method == "gptq" else None
        put("output.weight", gptq(w, H_head, group) if method == "gptq" else quantize_rtn(w, group))
    return out


def output_error(w, w_hat, H):
    """Relative output error on the calibration inputs: tr((W-Ŵ) H (W-Ŵ)ᵀ) / tr(W H Wᵀ)."""
    d = np.asarray(w, np.float64) - np.asarray(w_hat, np.float64)
    w = np.asarray(w, np.float64)
    return float(np.einsum("ij,jk,ik->", d, H, d) / np.einsum("ij,jk,ik->", w, H, w))


# ---- scale tuning -------------------------------------------------------------------------------

class _Dequant(torch.nn.Module):
    """Parametrisation W = q · scale0 · (1 + delta) per (row, group): q fixed, delta learned."""

    def __init__(self, q, scales):
        super().__init__()
        rows, cols = q.shape
        self.group = cols // scales.shape[1]
        self.register_buffer("q", torch.from_numpy(q.astype(np.float32)))
        self.register_buffer("s0", torch.from_numpy(scales.astype(np.float32)))
        self.delta = torch.nn.Parameter(torch.zeros_like(self.s0))

    def scales(self):
        return self.s0 * (1 + self.delta)

    def forward(self, _w):
        return self.q * torch.repeat_interleave(self.scales(), self.group, dim=1)


def mean_kl(ref_logits, logits):
    """KL(softmax(ref_logits) ‖ softmax(logits)), summed over the vocabulary, mean over rows."""
    return F.kl_div(logits.log_softmax(-1), ref_logits.log_softmax(-1), log_target=True,
                    reduction="none").sum(-1).mean()


def tune_scales(model, teacher, qs, batches, steps, lr=1e-4, log=print):
    """Scale tuning: with every q fixed, learn the float16 scales (a factor per row and group) and
    the RMSNorm gains so that the int8 model's next-token distributions match the float model's
    (KL(float || int8), mean over every row of the calibration layout; Adam, `steps` steps over
    `batches`, cycled). Costs no bytes: the file keeps q, the tuned scales and norms. `model` holds
    the dequantised weights (quantize_model) and is updated in place; returns the new `qs`."""
    from torch.nn.utils import parametrize
    mods = dict(model.named_modules())
    owners = {}
    for name, (q, s) in qs.items():
        mod_name = name[: -len(".weight")]
        parametrize.register_parametrization(mods[mod_name], "weight", _Dequant(q, s))
        owners[name] = mods[mod_name]
    for p in model.parameters():
        p.requires_grad_(False)
    params = [o.parametrizations.weight[0].delta for o in owners.values()]
    norms = [m.weight for m in model.modules() if isinstance(m, RMSNorm)]
    for p in params + norms:
        p.requires_grad_(True)
    opt = torch.optim.Adam([{"params": params}, {"params": norms, "lr": lr * 0.1}], lr=lr)
    data = list(batches())
    first = None
    for step, kw in zip(range(1, steps + 1), itertools.cycle(data)):
        with torch.no_grad():
            t = teacher(kw["tokens"], positions=kw.get("positions"), attn_mask=kw.get("attn_mask")).float()
        out = model(kw["tokens"], positions=kw.get("positions"), attn_mask=kw.get("attn_mask")).float()
        kl = mean_kl(t, out)
        opt.zero_grad()
        kl.backward()
        opt.step()
        first = kl.item() if first is None else first
        if step % 50 == 0:
            log(f"  scale tuning step {step}/{steps}: KL {kl.item():.3e} (first {first:.3e})")
    out_qs = {}
    with torch.no_grad():
        for name, owner in owners.items():
            dq = owner.parametrizations.weight[0]
            s16 = dq.scales().numpy().astype(np.float16)
            s16[s16 == 0] = np.float16(1.0)
            out_qs[name] = (qs[name][0], s16)
            parametrize.remove_parametrizations(owner, "weight", leave_parametrized=False)
            owner.weight.copy_(torch.from_numpy(dequantize(*out_qs[name])))
        for p in norms:
            p.copy_(p.half().float())
    for p in model.parameters():
        p.requires_grad_(True)
    return out_qs
