"""Training objectives: masked diffusion (MDLM/LLaDA, plus random replacement) and next-token.

Masked diffusion forward process, per sequence:
    t ~ U(eps, 1); each position is corrupted with probability t; a corrupted position becomes
    the mask token, or (with probability `random_share`) a uniformly random ordinary token.
    Loss = sum over corrupted positions of cross-entropy(original token) / t, divided by the
    number of positions: the MDLM continuous-time ELBO for the linear schedule alpha_t = 1 - t.
Random replacement teaches the model to fix wrong *visible* tokens, which the sampler's
revision step relies on.

Length teaching: with probability `pad_share` a window becomes an infilling example
    prefix | middle | pad * k | suffix     (total length unchanged)
and only the span middle+pads is corrupted, so the model learns to emit `pad` once a piece of
code has ended, and infilling a span of unknown length works.
"""
import torch
import torch.nn.functional as F


def corrupt(x, t, mask_id, n_ordinary, random_share=0.0, region=None, generator=None):
    """x: (B, L) int64; t: (B,) or (B, L) in (0, 1]. Returns (noisy x, corrupted bool (B, L)).

    region: optional bool (B, L); positions outside it are never corrupted.
    Random replacements are drawn from ids [0, n_ordinary) so specials never appear.
    """
    u = torch.rand(x.shape, generator=generator, device=x.device)
    corrupted = u < (t[:, None] if t.dim() == 1 else t)           # t: (B,) or per position (B, L)
    if region is not None:
        corrupted &= region
    noisy = x.clone()
    noisy[corrupted] = mask_id
    if random_share > 0:
        r = torch.rand(x.shape, generator=generator, device=x.device)
        rand_tok = torch.randint(0, n_ordinary, x.shape, generator=generator, device=x.device)
        replace = corrupted & (r < random_share)
        noisy[replace] = rand_tok[replace]
    return noisy, corrupted


def diffusion_loss(logits, x, corrupted, t):
    """sum_{corrupted} CE / t, divided by the number of positions B*L (the ELBO per token)."""
    ce = F.cross_entropy(logits.float().flatten(0, 1), x.flatten(), reduction="none")
    ce = ce.view_as(x) * corrupted
    return (ce / t[:, None]).sum() / x.numel()


def diffusion_loss_shift(logits, x, corrupted, t):
    """diffusion_loss for a shifted model (row i predicts position i + 1: AR-initialised MDLM, the
    DiffuGPT/Dream shift): sum over corrupted positions j >= 1 of CE(logits[j-1], x[j]) / t, per
    position."""
    ce = F.cross_entropy(logits[:, :-1].float().flatten(0, 1), x[:, 1:].flatten(), reduction="none")
    ce = ce.view(x.shape[0], -1) * corrupted[:, 1:]
    return (ce / t[:, None]).sum() / x.numel()


def anneal_mask(B, L, p, generator=None, device="cpu"):
    """Attention-mask annealing (DiffuLLaMA, arXiv 2410.17891): an AR-initialised model first
    attends causally, then ever more of the future, until full attention. Returns bool
    (B, 1, L, L), True where query i may attend key j: every j <= i, and each j > i independently
    with probability p (0: causal, 1: full; the caller raises p over the first training steps)."""
    causal = torch.ones(L, L, dtype=torch.bool, device=device).tril()
    future = torch.rand(B, 1, L, L, generator=generator, device=device) < p
    return causal[None, None] | future


def ar_loss(logits, x):
    """Mean next-token cross-entropy: logits at position i predict x[i + 1]."""
    return F.cross_entropy(logits[:, :-1].float().flatten(0, 1), x[:, 1:].flatten())


def make_infill(x, pad_id, generator=None):
    """Turn each window (B, L) into prefix|middle|pads|suffix; returns (x', span region).

    The span starts at a, has length s; the middle keeps m < s real tokens, then s - m pads,
    then the text continues where the middle stopped. With probability 1/2 the span runs to
    the end of the window (plain generation that stops early).
    """
    B, L = x.shape
    out = torch.empty_like(x)
    region = torch.zeros_like(x, dtype=torch.bool)
    for b in range(B):
        a = int(torch.randint(0, L - 8, (1,), generator=generator, device=x.device))
        if torch.rand(1, generator=generator, device=x.device).item() < 0.5:
            s = L - a
        else:
            s = int(torch.randint(4, min(L - a, 128) + 1, (1,), generator=generator, device=x.device))
        m = int(torch.randint(0, s, (1,), generator=generator, device=x.device))
        suffix = x[b, a + m:a + m + (L - a - s)]
        out[b] = torch.cat([x[b, :a + m], torch.full((s - m,), pad_id, dtype=x.dtype,
                                                     device=x.device), suffix])
        region[b, a:a + s] = True
    return out, region


# ---------------------------------------------------------------------------------------------
# Block diffusion (Model v2): an AR-initialised model, block-causal, with token shift.
#
# A window x (L tokens) becomes one sequence of 2L rows, [noisy | clean], both at positions
# 0 .. L-1 (RoPE), with an attention mask:
#   clean row i  sees clean rows j that come before it in the window's order (causal). Its
#                logits predict x[i+1]: the AR loss, and the exact KV cache of decoding.
#   noisy row i  (block b, which starts at s_b) sees the clean rows before s_b and every noisy
#                row of block b (both ways). Its input is x_t[i] (mask, random or x[i]); its
#                logits predict x[i+1] for i+1 inside the block. The block's first token x[s_b]
#                is the clean row s_b - 1's (the AR head) - the same in training and decoding.
# Infill windows (prefix | middle | pads | suffix) put the suffix first in the order, at its
# true positions: the middle's blocks then see both sides, and so does decoding (suffix first in
# the KV cache). The window's order is `order`: the rank of each position in the causal stream.
# ---------------------------------------------------------------------------------------------

BLOCK_SIZES = (4, 8, 16, 32, 0)            # 0: the whole region is one block (denoise a span)
BLOCK_WEIGHTS = (0.15, 0.3, 0.2, 0.15, 0.2)


def _rand_int(lo, hi, generator, device):
    """An int in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=generator, device=device))


def block_layout(x, special, n_ordinary, eps=1e-3, random_share=0.0, fim_share=0.5,
                 suffix_share=0.5, generator=None, t_power=1.0):
    """x: (B, L) clean windows -> dict of the training sequence (B, 2L) and its targets.

    Per window: a cut a (the prompt's end) drawn in [1, L - 4]; with probability fim_share an
    infill window (make_infill's prefix | middle | pads | suffix, span from a; with probability
    1 - suffix_share the span runs to the end: generation that stops with pads); a block size
    from BLOCK_SIZES; the regions [0, a), span, suffix are split into blocks from their starts.
    Each block draws t ~ U(eps, 1) and corrupts each of its positions with probability t
    (t_power p > 1: t = u^(1/p), more nearly fully masked blocks - the state drafting starts from -
    still weighted 1/t, so no longer the ELBO).

    Returns tokens, positions (B, 2L), mask (B, 1, 2L, 2L), and
      x        (B, L) the window the targets come from (after make_infill),
      diff_w   (B, L) weight of noisy row i's target x[i+1]: 1/t_b where x[i+1] is corrupted
               and in row i's block, else 0;
      ar_ok    (B, L) bool: clean row i's target x[i+1] exists and is not visible to it.
    """
    B, L = x.shape
    dev = x.device
    out = x.clone()
    tokens = torch.empty(B, 2 * L, dtype=x.dtype, device=dev)
    mask = torch.zeros(B, 1, 2 * L, 2 * L, dtype=torch.bool, device=dev)
    diff_w = torch.zeros(B, L, device=dev)
    ar_ok = torch.zeros(B, L, dtype=torch.bool, device=dev)
    idx = torch.arange(L, device=dev)
    for b in range(B):
        a = _rand_int(1, L - 4, generator, dev)
        span_end = L
        if torch.rand(1, generator=generator, device=dev).item() < fim_share:
            to_end = torch.rand(1, generator=generator, device=dev).item() >= suffix_share
            s = L - a if to_end else _rand_int(4, min(L - a, 96), generator, dev)
            m = _rand_int(0, s - 1, generator, dev) if s > 1 else 0
            suffix = x[b, a + m:a + m + (L - a - s)]
            out[b] = torch.cat([x[b, :a + m], torch.full((s - m,), special["pad"], dtype=x.dtype,
                                                         device=dev), suffix])
            span_end = a + s
        # order: suffix first (at its true positions), then prefix and span
        order = torch.where(idx >= span_end, idx - span_end, idx + (L - span_end))
        k = int(torch.multinomial(torch.tensor(BLOCK_WEIGHTS), 1, generator=generator
                                  if generator is None or generator.device.type == "cpu" else None))
        bs = BLOCK_SIZES[k]
        start = torch.empty(L, dtype=torch.long, device=dev)        # each position's block start
        for lo, hi in ((0, a), (a, span_end), (span_end, L)):
            if hi > lo:
                step = (hi - lo) if bs == 0 else bs
                start[lo:hi] = lo + ((idx[lo:hi] - lo) // step) * step
        t = eps + (1 - eps) * torch.rand(L, generator=generator, device=dev) ** (1.0 / t_power)
        t = t[start]                                                # t of each position's block
        noisy, corrupted = corrupt(out[b:b + 1], t[None], special["mask"], n_ordinary,
                                   random_share, generator=generator)
        tokens[b, :L], tokens[b, L:] = noisy[0], out[b]
        same_block = start[:, None] == start[None, :]
        mask[b, 0, :L, :L] = same_block                                          # noisy -> noisy
        mask[b, 0, :L, L:] = order[None, :] < order[start][:, None]              # noisy -> clean
        mask[b, 0, L:, L:] = order[None, :] <= order[:, None]                    # clean -> clean
        nxt_same = torch.zeros(L, dtype=torch.bool, device=dev)
        nxt_same[:-1] = start[1:] == start[:-1]
        nxt_corr = torch.zeros(L, dtype=torch.bool, device=dev)
        nxt_corr[:-1] = corrupted[0, 1:]
        t_next = torch.ones(L, device=dev)
        t_next[:-1] = t[1:]
        diff_w[b] = (nxt_same & nxt_corr).float() / t_next
        ar_ok[b, :-1] = order[1:] > order[:-1]
    positions = torch.cat([idx, idx])[None].expand(B, 2 * L)
    return {"tokens": tokens, "positions": positions, "mask": mask, "x": out,
            "diff_w": diff_w, "ar_ok": ar_ok}


def clean_layout(x, special, n_ordinary, fim_share=0.8, suffix_share=0.8, generator=None):
    """The clean stream of block_layout alone: (B, L) windows -> L rows each, mostly infill
    windows with a suffix (suffix first in the causal order, at its true positions), trained with
    the AR loss only. Verified decoding's every token is the AR head's, so infill that uses the
    suffix is learned here, at a quarter of the 2L layout's cost per window. Returns tokens (B, L),
    mask (B, 1, L, L) and x, ar_ok as block_layout."""
    lay = block_layout(x, special, n_ordinary, fim_share=fim_share, suffix_share=suffix_share,
                       generator=generator)
    L = x.shape[1]
    return {"tokens": lay["x"], "mask": lay["mask"][:, :, L:, L:], "x": lay["x"], "ar_ok": lay["ar_ok"]}


def clean_loss(logits, lay):
    """Mean AR NLL of clean_layout's rows whose next token comes later in the causal order."""
    ok = lay["ar_ok"]
    return (_next_token_ce(logits, lay["x"]) * ok).sum() / ok.sum().clamp(min=1)


def _next_token_ce(rows, x):
    """(B, L) CE of rows (B, L, V) against x[i+1] (the last row's target unused)."""
    B, L = x.shape
    tgt = torch.cat([x[:, 1:], x[:, :1]], dim=1)
    return F.cross_entropy(rows.float().reshape(-1, rows.shape[-1]), tgt.reshape(-1),
                           reduction="none").view(B, L)


def block_losses(logits, lay):
    """(diffusion ELBO term per position, AR NLL per valid position) from the 2L-row logits."""
    x = lay["x"]
    L = x.shape[1]
    ce_n = _next_token_ce(logits[:, :L], x)
    ce_c = _next_token_ce(logits[:, L:], x)
    diff = (ce_n * lay["diff_w"]).sum() / x.numel()
    ok = lay["ar_ok"]
    ar = (ce_c * ok).sum() / ok.sum().clamp(min=1)
    return diff, ar


# ---------------------------------------------------------------------------------------------
# Certainty distillation (train.py --distill): the drafting state of verified decoding, on the
# model's own greedy text (training/trajectories.ts). Decoding (sampler.ts draftAndVerify, eval.py
# verify_decode) runs a block of B masks at positions s .. s+B-1 after the committed text; block
# row r predicts position s+r+1 and the AR head keeps those drafts while it agrees with them. So
# here a window is prompt | own continuation | pads, the continuation is tiled with fully masked
# blocks from a random offset (drafts start anywhere), and every block row whose target is inside
# its block and inside the continuation is trained on that target (CE weighted decay^r for block
# row r: no ELBO, the point is to be sure where the AR head is sure, first drafts first). The
# prompt part keeps the AR loss.
# ---------------------------------------------------------------------------------------------

def draft_layout(x, prompt_len, valid_len, special, block=8, generator=None, decay=0.7):
    """x: (B, L) windows prompt | continuation | pads; prompt_len, valid_len: (B,) ints (the
    continuation is x[prompt_len:valid_len]). Returns block_layout's dict (tokens, positions,
    mask, x, diff_w, ar_ok) for that drafting state; diff_w of block row r is decay^r (a draft
    only counts when every draft before it was kept, so the first ones matter most)."""
    B, L = x.shape
    dev = x.device
    idx = torch.arange(L, device=dev)
    tokens = torch.empty(B, 2 * L, dtype=x.dtype, device=dev)
    mask = torch.zeros(B, 1, 2 * L, 2 * L, dtype=torch.bool, device=dev)
    diff_w = torch.zeros(B, L, device=dev)
    ar_ok = torch.zeros(B, L, dtype=torch.bool, device=dev)
    valid = torch.zeros(B, L, dtype=torch.bool, device=dev)    # clean row i's target in the window
    for b in range(B):
        a, n = int(prompt_len[b]), int(valid_len[b])
        u = _rand_int(0, block - 1, generator, dev)
        start = idx.clone()                                   # outside the tiles: one-row blocks
        tiled = (idx >= a + u) & (idx < n)
        start[tiled] = a + u + ((idx[tiled] - a - u) // block) * block
        multi = tiled.clone()
        tokens[b, :L] = torch.where(multi, torch.full_like(x[b], special["mask"]), x[b])
        tokens[b, L:] = x[b]
        mask[b, 0, :L, :L] = start[:, None] == start[None, :]
        mask[b, 0, :L, L:] = idx[None, :] < start[:, None]
        mask[b, 0, L:, L:] = idx[None, :] <= idx[:, None]
        nxt = torch.zeros(L, dtype=torch.bool, device=dev)
        nxt[:-1] = (start[1:] == start[:-1]) & multi[:-1] & (idx[1:] < n)
        diff_w[b] = nxt.float() * decay ** (idx - start).float()
        ar_ok[b, :-1] = idx[1:] < a
        valid[b, :-1] = idx[1:] < n
    positions = torch.cat([idx, idx])[None].expand(B, 2 * L)
    return {"tokens": tokens, "positions": positions, "mask": mask, "x": x,
            "diff_w": diff_w, "ar_ok": ar_ok, "valid": valid}


def anchor_kl(teacher, logits, lay, dl, L):
    """Mean KL(teacher || model) of the next-token distributions on the clean rows (the AR head,
    which decides every token of verified decoding) of a step's data windows (lay: every row but
    the last) and drafting windows (dl: rows whose target is in the continuation). The clean rows
    see only clean rows, so the frozen teacher runs on the clean half alone."""
    tok = torch.cat([lay["tokens"][:, L:], dl["tokens"][:, L:]])
    pos = torch.cat([lay["positions"][:, L:], dl["positions"][:, L:]])
    msk = torch.cat([lay["mask"][:, :, L:, L:], dl["mask"][:, :, L:, L:]])
    with torch.no_grad():
        t_logp = F.log_softmax(teacher(tok, positions=pos, attn_mask=msk).float(), dim=-1)
    s_logp = F.log_softmax(logits[:, L:].float(), dim=-1)
    kl = (t_logp.exp() * (t_logp - s_logp)).sum(-1)                     # (B + Bd, L)
    rows = torch.ones_like(lay["ar_ok"])
    rows[:, -1] = False
    rows = torch.cat([rows, dl["valid"]])
    return (kl * rows).sum() / rows.sum().clamp(min=1)


def draft_loss(logits, lay):
    """Weighted mean CE of draft_layout's drafting rows on the model's own continuation."""
    w = lay["diff_w"]
    ce = _next_token_ce(logits[:, :lay["x"].shape[1]], lay["x"])
    return (ce * w).sum() / w.sum().clamp(min=1)
