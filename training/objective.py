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
    """x: (B, L) int64; t: (B,) in (0, 1]. Returns (noisy x, corrupted bool (B, L)).

    region: optional bool (B, L); positions outside it are never corrupted.
    Random replacements are drawn from ids [0, n_ordinary) so specials never appear.
    """
    u = torch.rand(x.shape, generator=generator, device=x.device)
    corrupted = u < t[:, None]
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
