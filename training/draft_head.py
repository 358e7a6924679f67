"""Experiment (issue "Parallel decoding that pays"): a draft-only head on a frozen block-causal
trunk, Medusa-1 style. Certainty distillation through the shared weights (train.py --distill,
with or without --anchor-weight) moves the AR head that verified decoding keeps; here no trunk
weight changes, and only rows whose input token is the mask (the block's drafting rows) get one
residual SwiGLU block before the final norm and the tied output:

    x (B, L, dim)  the trunk's last residual stream (frozen)
    x' = x + w2(silu(w1 n(x)) * w3 n(x))   on mask rows only; n: its own RMSNorm
    logits = output(norm(x'))

So the clean rows, and with them the text verified decoding writes, are the model's own bit for
bit, and the drafts are trained on that text (training/trajectories.ts records; objective
draft_layout / draft_loss). Not in the model format or the engines: this measures what such a
head would buy before either is changed.

  python3 training/draft_head.py --steps 1000 --ffn 768 --out training/runs/draft-head.pt
  python3 training/probe_drafts.py --model public/models/qs-code-diffusion-small-v3 \
      --head training/runs/draft-head.pt --n 200 --lookup 0          # tokens per forward, syntax-valid
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export import load_model  # noqa: E402
from model import FeedForward, RMSNorm  # noqa: E402
from objective import draft_layout, draft_loss  # noqa: E402


class DraftHead(nn.Module):
    """A frozen block-causal model plus a residual FFN on its mask rows (w2 zero: the identity at first)."""

    def __init__(self, base, mask_id, ffn_dim=512):
        super().__init__()
        self.base, self.cfg, self.mask_id = base, base.cfg, mask_id
        base.requires_grad_(False)
        self.norm = RMSNorm(base.cfg.dim, base.cfg.norm_eps)
        self.ffn = FeedForward(base.cfg.__class__(**{**base.cfg.to_dict(), "ffn_dim": ffn_dim}))
        nn.init.normal_(self.ffn.w1.weight, std=0.02)
        nn.init.normal_(self.ffn.w3.weight, std=0.02)
        nn.init.zeros_(self.ffn.w2.weight)

    def forward(self, tokens, n_valid=None, positions=None, attn_mask=None):
        """Transformer.forward's signature (eval.py's decoders call it as the model)."""
        with torch.no_grad():
            x = self.base.hidden(tokens, n_valid, positions, attn_mask)
        drafting = (tokens == self.mask_id)[..., None]
        return self.base.head(torch.where(drafting, x + self.ffn(self.norm(x)), x))


def load(model_dir, head=None, ffn_dim=None):
    base = load_model(model_dir)
    mask_id = json.load(open(os.path.join(model_dir, "config.json")))["special_tokens"]["mask"]
    sd = torch.load(head) if head else None
    ffn = ffn_dim or (sd["ffn.w1.weight"].shape[0] if sd else 512)
    m = DraftHead(base, mask_id, ffn)
    if sd:
        m.load_state_dict(sd, strict=False)
    return m


def main():
    from train import load_trajectories, traj_batch
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(HERE, "..", "public", "models", "qs-code-diffusion-small-v3"))
    ap.add_argument("--traj", default=os.path.join(HERE, "data", "traj-qs-code-diffusion-small-v3.json"))
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "draft-head.pt"))
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--ffn", type=int, default=768)
    ap.add_argument("--held", type=int, default=200, help="trajectories kept out of training (the last ones)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = load(a.model, ffn_dim=a.ffn)
    sp = json.load(open(os.path.join(a.model, "config.json")))["special_tokens"]
    X, A, N = load_trajectories(a.traj, sp, m.cfg.max_seq_len)
    held, train = (X[-a.held:], A[-a.held:], N[-a.held:]), (X[:-a.held], A[:-a.held], N[:-a.held])

    def held_loss():
        g, tot = torch.Generator().manual_seed(7), 0.0
        with torch.no_grad():
            for i in range(0, a.held, 50):
                dl = draft_layout(held[0][i:i + 50], held[1][i:i + 50], held[2][i:i + 50], sp, m.cfg.block_size, generator=g)
                tot += float(draft_loss(m(dl["tokens"], positions=dl["positions"], attn_mask=dl["mask"]), dl)) * len(dl["x"])
        return tot / a.held

    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=a.lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(1)
    print(f"held-out draft loss {held_loss():.4f} at the start", flush=True)
    t0 = time.time()
    for step in range(a.steps):
        lr = a.lr * min(1, (step + 1) / 20) * (0.1 + 0.45 * (1 + math.cos(math.pi * step / a.steps)))
        for group in opt.param_groups:
            group["lr"] = lr
        xd, pa, n = traj_batch(train, step, a.batch, 2027)
        dl = draft_layout(xd, pa, n, sp, m.cfg.block_size, generator=g)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            lo = m(dl["tokens"], positions=dl["positions"], attn_mask=dl["mask"])
        loss = draft_loss(lo.float(), dl)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(f"step {step} loss {float(loss):.4f} {time.time() - t0:.0f}s", flush=True)
    print(f"held-out draft loss {held_loss():.4f} after {a.steps} steps", flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    torch.save({k: v for k, v in m.state_dict().items() if not k.startswith("base.")}, a.out)


if __name__ == "__main__":
    main()
