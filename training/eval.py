"""Evaluate a diffusion model and its autoregressive twin on the held-out split, same tokens.

Metrics (written as JSON, and merged into each model's config.json `eval` by export.py):
  bits_per_byte   AR: exact next-token NLL. Diffusion: the MDLM ELBO (an upper bound), estimated
                  with --t-samples stratified noise levels per window; block-causal models: the
                  ELBO of each block of the default size given the text before it (its first
                  token is the AR head's, exactly).
  bits_per_byte_exact  block-causal models: the exact likelihood decoding each block left to
                  right (a proper likelihood, comparable with AR's NLL); AR: bits_per_byte (its
                  NLL is that left-to-right likelihood), so every model has the key.
  infill_similarity    difflib ratio of the filled line to the true one (mean).
  tokens_per_forward   block-causal models: generated tokens per forward pass with the app's
                  default decoding (syntax_valid's runs).
  infill_exact    one whole held-out line blanked between its prefix and suffix; diffusion fills
                  --infill-masks masks (pad ends the span), AR sees the prefix only and stops at
                  the newline; exact match of the line's text (trailing white space ignored).
                  Block-causal models: as the app's Fill, the decoded fill, --candidates beams
                  and the lines in view (copied_lines), each scored by the suffix's likelihood
                  read left to right after it + 0.75 x the fill's own, the scores' consensus
                  over first lines picked (ranked_fill, consensus_pick).
  syntax_valid    --n-functions held-out `def` headers as prompts, --body-tokens tokens of body
                  generated greedily; the function (cut at its first dedent, or at the last full
                  line) must pass ast.parse. syntax_outcomes: each header's, in order ("1": it
                  parses; training/paired.py compares two models header by header);
                  syntax_failures: the others counted by why (failure). --loop-guard
                  (experimental): greedy choices skip a token that would close a loop (loop_bans).
Diffusion decoding: block-causal models use the app's default decoding (src/diffusion/sampler.ts
with the model's defaults: blocks of config.block_size, greedy, --order verify: the block drafts
tokens with probability >= --tau, the AR head keeps those it agrees with plus its own next token;
leftToRight and confidence for the curve), with the suffix first in the context for infill.
Format-1 diffusion models use the plainest sampler: greedy, one token per step, most confident
masked position first, pad/eos only at the first masked position.

Usage: python3 training/eval.py --model public/models/qs-code-diffusion-x [--model ...] --out e.json
"""
import argparse
import ast
import difflib
import json
import math
import os
import random
import re
import textwrap
import time

import numpy as np
import torch
import torch.nn.functional as F

from export import load_model
from model import block_step
from tokenizer import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


def token_bytes(tok: Tokenizer):
    """Bytes each token id stands for (0 for specials)."""
    return np.array([len(tok.decode([i]).encode()) if i < tok.vocab_size - 3 else 0
                     for i in range(tok.vocab_size)])


def is_block(model):
    return getattr(model.cfg, "attention", "full") == "block_causal"


def block_rows(model, x, starts, noisy):
    """Logits of the [noisy | clean] layout (objective.block_layout, plain windows): x (1, L) the
    clean window, noisy (1, L) its noisy copy, starts (L,) each position's block start.
    Returns (noisy logits (L, V), clean logits (L, V)); row i predicts x[i + 1]."""
    L = x.shape[1]
    idx = torch.arange(L)
    mask = torch.zeros(2 * L, 2 * L, dtype=torch.bool)
    mask[:L, :L] = starts[:, None] == starts[None, :]
    mask[:L, L:] = idx[None, :] < starts[:, None]
    mask[L:, L:] = idx[None, :] <= idx[:, None]
    dev = next(model.parameters()).device
    out = model(torch.cat([noisy, x], 1).to(dev), positions=torch.cat([idx, idx]).to(dev),
                attn_mask=mask[None, None].to(dev))[0].float().cpu()
    return out[:L], out[L:]


@torch.no_grad()
def block_bits(model, x, block, t_samples, g, mask_id):
    """Block-causal: (ELBO nats, exact left-to-right nats) of tokens 1 .. L-1 of x (1, L), in
    blocks of `block` from position 1, each given the clean text before it."""
    L = x.shape[1]
    idx = torch.arange(L)
    starts = torch.where(idx == 0, 0, 1 + ((idx - 1) // block) * block)
    tgt = torch.cat([x[0, 1:], x[0, :1]])                           # row i's target x[i+1]
    same = torch.zeros(L, dtype=torch.bool)
    same[:-1] = starts[1:] == starts[:-1]                           # x[i+1] in row i's block
    first = torch.zeros(L, dtype=torch.bool)
    first[:-1] = ~same[:-1]                                         # x[i+1] starts a block
    _, clean = block_rows(model, x, starts, x)
    ar = F.cross_entropy(clean, tgt, reduction="none")
    ar_nats = ar[first].sum().item()                                # block firsts: the AR head
    elbo = 0.0
    for k in range(t_samples):                                      # stratified t in (0, 1]
        t = max((k + torch.rand(1, generator=g).item()) / t_samples, 1e-3)
        m = (torch.rand(L, generator=g) < t) & (idx > 0)
        noisy = x.clone()
        noisy[0, m] = mask_id
        rows, _ = block_rows(model, x, starts, noisy)
        ce = F.cross_entropy(rows, tgt, reduction="none")
        m_next = torch.zeros(L, dtype=torch.bool)
        m_next[:-1] = m[1:]
        elbo += ce[same & m_next].sum().item() / t
    exact = 0.0
    offset = idx - starts                                            # position within its block
    for j in range(1, block):                                        # target offset j, j-1 visible
        noisy = x.clone()
        noisy[0, (offset >= j) & (idx > 0)] = mask_id
        rows, _ = block_rows(model, x, starts, noisy)
        ce = F.cross_entropy(rows, tgt, reduction="none")
        sel = torch.zeros(L, dtype=torch.bool)
        sel[:-1] = same[:-1] & (offset[1:] == j)
        exact += ce[sel].sum().item()
    return ar_nats + elbo / t_samples, ar_nats + exact


@torch.no_grad()
def bits_per_byte(model, tok, data, n_windows, t_samples, seed=0):
    """bits/byte, and for block-causal models also the exact left-to-right bits/byte."""
    dev = next(model.parameters()).device
    L = model.cfg.max_seq_len
    nbytes = token_bytes(tok)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(data) - L, size=n_windows)
    nats = exact_nats = 0.0
    total_bytes = 0
    g = torch.Generator().manual_seed(seed)
    for s in starts:
        x = torch.from_numpy(data[s:s + L].astype(np.int64))[None]
        if is_block(model):
            e, ex = block_bits(model, x, model.cfg.block_size, t_samples, g, tok.mask)
            nats += e
            exact_nats += ex
            total_bytes += int(nbytes[x[0, 1:].numpy()].sum())
        elif model.cfg.kind == "autoregressive":
            logits = model(x.to(dev))[0, :-1].cpu()
            nats += F.cross_entropy(logits, x[0, 1:], reduction="sum").item()
            total_bytes += int(nbytes[x[0, 1:].numpy()].sum())
        else:
            est = 0.0
            for k in range(t_samples):  # stratified t in (0, 1]
                t = (k + torch.rand(1, generator=g).item()) / t_samples
                t = max(t, 1e-3)
                m = torch.rand(L, generator=g) < t
                if not m.any():
                    continue
                xn = x.clone()
                xn[0, m] = tok.mask
                out = by_position(model, model(xn.to(dev))[0].cpu())
                if getattr(model.cfg, "shift", False):   # position 0 has no row that predicts it
                    m[0] = False
                ce = F.cross_entropy(out[m], x[0][m], reduction="sum").item()
                est += ce / t
            nats += est / t_samples
            counted = x[0, 1:] if getattr(model.cfg, "shift", False) else x[0]
            total_bytes += int(nbytes[counted.numpy()].sum())
    bpb = nats / math.log(2) / total_bytes
    return (bpb, exact_nats / math.log(2) / total_bytes) if is_block(model) else (bpb, None)


@torch.no_grad()
def fix_rate(model, tok, data, n_windows, replace=0.1, mask=0.3, seed=3):
    """Diffusion only: share of randomly replaced *visible* tokens whose argmax is the original.

    Each window gets `mask` of its tokens masked and `replace` replaced by random tokens; the
    replaced ones look like ordinary committed tokens. A model trained with random replacement
    should put the original back (the sampler's revision relies on this)."""
    dev = next(model.parameters()).device
    L = model.cfg.max_seq_len
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    fixed = total = 0
    for s in rng.integers(0, len(data) - L, size=n_windows):
        x = torch.from_numpy(data[s:s + L].astype(np.int64))
        u = torch.rand(L, generator=g)
        xn = x.clone()
        xn[u < mask] = tok.mask
        rep = (u >= mask) & (u < mask + replace)
        xn[rep] = torch.randint(0, tok.vocab_size - 3, (int(rep.sum()),), generator=g)
        rep &= xn != x
        pred = model(xn[None].to(dev))[0].argmax(-1).cpu()
        fixed += int((pred[rep] == x[rep]).sum())
        total += int(rep.sum())
    return fixed / max(1, total)


def by_position(model, logits):
    """A full-attention diffusion model's logits (L, V) indexed by the position they predict: a
    shifted one's row i - 1 predicts position i (ablation b), so its rows move down one (position
    0 keeps row 0's, which predict nothing); an unshifted one's as they are."""
    return torch.cat([logits[:1], logits[:-1]]) if getattr(model.cfg, "shift", False) else logits


@torch.no_grad()
def diffusion_fill(model, tok, prefix, n, suffix, block=8):
    """Greedy, one token per step, most confident masked position of the current block first
    (semi-autoregressive blocks of `block` tokens, left to right); returns the n filled ids.
    As in the app's sampler (endsInOrder), pad/eos may only be committed at the first masked
    position, so the end of the text is decided left to right. A shifted model (cfg.shift: row
    i - 1 predicts position i, ablation b) is read that way; it needs a prefix."""
    dev = next(model.parameters()).device
    x = torch.tensor(prefix + [tok.mask] * n + suffix)[None]
    start = len(prefix)
    assert start > 0 or not getattr(model.cfg, "shift", False), "a shifted model has no row that predicts position 0"
    for b0 in range(start, start + n, block):
        span = range(b0, min(b0 + block, start + n))
        for _ in span:
            logits = by_position(model, model(x.to(dev))[0].float())
            logits[:, tok.mask] = -float("inf")
            conf, pred = (t.cpu() for t in logits.softmax(-1).max(-1))
            masked = [i for i in span if x[0, i] == tok.mask]
            ends = (tok.pad, tok.eos)
            masked = [i for j, i in enumerate(masked) if j == 0 or int(pred[i]) not in ends]
            best = max(masked, key=lambda i: conf[i].item())
            x[0, best] = pred[best]
    return x[0, start:start + n].tolist()


@torch.no_grad()
def block_decode(model, tok, prefix, n, suffix=(), tau=0.3, block=None, order="verify", row_cost=0.0, lookup=16, lookup_match=1,
                 loop_guard=False):
    """The app's decoding of a block-causal model (src/diffusion/sampler.ts, greedy, threshold
    tau): blocks of `block` (default config.block_size) left to right; each step one block step
    against the committed text (the suffix first, at its true positions); commit the run of
    masked positions from the block's first one with probability >= tau (order "leftToRight";
    "confidence": every masked position >= tau, eos/pad only at the first), at least one; after
    the first eos/pad the span is pad; order "verify" (the app's default): verify_decode.
    Returns (the n span ids, forwards)."""
    dev = next(model.parameters()).device
    block = block or model.cfg.block_size
    if order == "verify":
        return verify_decode(model, tok, prefix, n, suffix, tau, block, lookup=lookup, row_cost=row_cost,
                             lookup_match=lookup_match, loop_guard=loop_guard)
    if order == "ensemble":
        if suffix:
            raise ValueError("order 'ensemble' decodes from the prefix alone; it has no infill (a suffix was given)")
        return ensemble_decode(model, tok, prefix, n, block, tau)
    start, end = len(prefix), len(prefix) + n
    canvas = list(prefix) + [tok.mask] * n + list(suffix)
    suf_pos = list(range(end, end + len(suffix)))
    ends = (tok.pad, tok.eos)
    forwards = 0
    done = False
    for b0 in range(start, end, block):
        b1 = min(b0 + block, end)
        while not done and tok.mask in canvas[b0:b1]:
            ctx = list(suffix) + canvas[:b0]
            logits = block_step(model, torch.tensor([ctx], device=dev), suf_pos + list(range(b0)),
                                torch.tensor([canvas[b0:b1]], device=dev), b0)[0].float().cpu()
            forwards += 1
            logits[:, tok.mask] = -float("inf")
            conf, pred = logits.softmax(-1).max(-1)
            masked = [p for p in range(b0, b1) if canvas[p] == tok.mask]
            if order == "leftToRight":
                run = 0
                while run < len(masked) and conf[masked[run] - b0] >= tau:
                    run += 1
                chosen = masked[:max(1, run)]
            else:
                ok = [p for i, p in enumerate(masked) if i == 0 or int(pred[p - b0]) not in ends]
                ranked = sorted(ok, key=lambda p: (-conf[p - b0].item(), p))
                chosen = [p for p in ranked if conf[p - b0] >= tau] or ranked[:1]
            for p in chosen:
                canvas[p] = int(pred[p - b0])
            span = canvas[start:end]
            cut = next((i for i, t in enumerate(span) if t in ends), None)
            if cut is not None:
                for p in range(start + cut + 1, end):
                    canvas[p] = tok.pad
                done = tok.mask not in canvas[start:end]
    return canvas[start:end], forwards


@torch.no_grad()
def ensemble_decode(model, tok, prefix, n, block, weight):
    """An experiment (not the app's): one token per step, greedy on both of a block-causal model's
    heads at once. At a block's first position the AR head alone (no block row predicts it); at
    position p inside a block, argmax of (1 - weight) log p_AR + weight log p_block, p_block being
    block row p - 1 with the block's tokens before p committed and masks from p on (the in-order
    diffusion decoding's view). weight 0: the AR head's greedy text (the default decoding's);
    1: one token per step in order through the block. Two forwards per token (uncached).
    Returns (the n span ids, forwards)."""
    dev = next(model.parameters()).device
    start, canvas, forwards = len(prefix), list(prefix), 0
    for p in range(start, start + n):
        lp = F.log_softmax(model(torch.tensor([canvas], device=dev))[0, -1].float().cpu(), -1)
        forwards += 1
        b0 = start + (p - start) // block * block
        if weight > 0 and p > b0:
            b1 = min(b0 + block, start + n)
            blk = canvas[b0:p] + [tok.mask] * (b1 - p)
            lg = block_step(model, torch.tensor([canvas[:b0]], device=dev), list(range(b0)),
                            torch.tensor([blk], device=dev), b0)[0].float().cpu()
            lp = (1 - weight) * lp + weight * F.log_softmax(lg[p - b0], -1)
            forwards += 1
        lp[tok.mask] = -float("inf")
        t = int(lp.argmax())
        canvas.append(t)
        if t in (tok.pad, tok.eos):
            canvas += [tok.pad] * (start + n - len(canvas))
            break
    return canvas[start:], forwards


def lookup_draft(text, suffix, max_len, min_match=1):
    """sampler.ts lookupDraft (prompt lookup): up to max_len tokens that followed the latest earlier
    occurrence of the text's last 3 (else 2, else 1, down to min_match) tokens, in the text, then in
    the suffix; a copy that reaches the end of the text goes on with its own tokens."""
    m = find_copy(text, suffix, min_match) if max_len > 0 else None
    return copy_after(text, suffix, m, max_len) if m else []


def find_copy(text, suffix, min_match=1):
    """sampler.ts findCopy: (n, s, in_suffix) of lookup_draft's match, None when there is none."""
    c = len(text)
    for n in range(min(3, c - 1), min_match - 1, -1):
        tail = text[c - n:]
        for s in range(c - n - 1, -1, -1):
            if text[s:s + n] == tail:
                return n, s, False
        for s in range(len(suffix) - n):
            if list(suffix[s:s + n]) == tail:
                return n, s, True
    return None


def copy_after(text, suffix, m, max_len):
    """sampler.ts copyAfter: up to max_len tokens after match m."""
    n, s, in_suffix = m
    if in_suffix:
        return list(suffix[s + n:s + n + max(0, max_len)])
    c, out = len(text), []
    for p in range(s + n, s + n + max(0, max_len)):
        out.append(text[p] if p < c else out[p - c])
    return out


def loop_bans(seq, max_period=16):
    """Tokens that would close a loop after seq: for a period p <= max_period, the token seq[-p]
    when the last tokens already repeat a p-token unit so that it would make 3 copies in a row
    (6 for p = 1): e.g. "iter(iter(iter" bans "(". Experimental (--loop-guard)."""
    bans = set()
    for p in range(1, max_period + 1):
        need = (6 if p == 1 else 3) * p - 1          # tokens before t that must already repeat
        if len(seq) < need:
            break
        if all(seq[-i] == seq[-i - p] for i in range(1, need - p + 1)):
            bans.add(seq[-p])
    return bans


def guarded_argmax(logits_row, seq, guard):
    """argmax of logits_row, skipping loop_bans(seq) when guard."""
    if not guard:
        return int(logits_row.argmax())
    bans = loop_bans(seq)
    if not bans:
        return int(logits_row.argmax())
    order = logits_row.argsort(descending=True)
    return int(next(t for t in order.tolist() if t not in bans))


@torch.no_grad()
def verify_decode(model, tok, prefix, n, suffix, tau, block, lookup=16, row_cost=0.0, lookup_match=1, loop_guard=False):
    """commitOrder 'verify' (sampler.ts draftAndVerify), greedy: the text plus drafts d_1..d_k run
    as clean causal rows and a block of masks after them drafts ahead; keep the drafts while the
    AR head agrees, then the AR head's token; all kept: the block's run of predictions >= tau are
    the next drafts; the next block has that run + 2 rows (at most `block`: draftLength
    'adaptive'; none for 1, 3, 7, 8, .. steps after mask rows that drafted nothing); drafts copied
    from the text (lookup_draft after a match of 3, 2 or 1 (down to lookup_match) tokens, at most
    L: lookup / 2 at first, doubled after a copy kept whole, else kept + 1, at least 2) replace them
    when longer; row_cost r > 0 (sampler.ts rowCost): each kind of draft ("block",
    "copy3"/"copy2"/"copy1", "+" after a copy kept whole) drafts at most the n
    positions with share^n > r (2r for the block's), share = its verified positions kept so far
    from 2 of 3 (copy1: from 2 of 5).
    Returns (the n span ids, forwards)."""
    record = {}

    def prior(kind):  # sampler.ts prior: copies after one token from 2 of 5, the rest from 2 of 3
        return [2, 5] if kind == "copy1" else [2, 3]

    def worth(kind, cost):
        if row_cost <= 0:
            return math.inf
        kept_n, seen_n = record.get(kind) or prior(kind)
        share = kept_n / seen_n
        return 0 if share <= cost else math.floor(math.log(cost) / math.log(share))

    dev = next(model.parameters()).device
    start, end = len(prefix), len(prefix) + n
    text = list(prefix)
    suf_pos = list(range(end, end + len(suffix)))
    copy_len = (lookup + 1) // 2
    first = find_copy(text, suffix, lookup_match)
    kind = f"copy{first[0] if first else 0}"
    drafts = copy_after(text, suffix, first, min(copy_len, worth(kind, row_cost), end - len(text) - 1)) if first else []
    from_lookup = bool(drafts)
    if not from_lookup:
        kind = "block"
    forwards, rows = 0, block                   # rows: draftLength 'adaptive' (sampler.ts)
    rest = backoff = 0                          # steps with no mask rows, the last rest granted
    while len(text) < end:
        c = len(text)
        k = min(len(drafts), end - c - 1)
        # no mask rows: the engines run an empty block; here one mask row, whose logits go unused
        block_drafts = worth("block", 2 * row_cost)            # its mask row, then its verify row
        B = 1 if rest > 0 or block_drafts == 0 else min(rows, block_drafts + 1, end - c - k)
        ctx = list(suffix) + text + drafts[:k]
        logits = block_step(model, torch.tensor([ctx], device=dev), suf_pos + list(range(c + k)),
                            torch.full((1, B), tok.mask, device=dev), c + k, context_rows=k)[0].float().cpu()
        forwards += 1
        logits[:, tok.mask] = -float("inf")
        conf, pred = logits.softmax(-1).max(-1)
        ar = [guarded_argmax(logits[i], text + drafts[:i], loop_guard) if loop_guard else int(pred[i])
              for i in range(k + 1)]                                # AR head at c .. c+k
        j = 0
        while j < k and drafts[j] == ar[j]:
            j += 1
        kept = drafts[:j] + [ar[j]]
        if k > 0:
            seen = record.setdefault(kind, prior(kind))
            seen[0] += j
            seen[1] += min(k, j + 1)
        for t in kept:
            text.append(t)
            if t in (tok.pad, tok.eos):
                return (text[start:] + [tok.pad] * (end - len(text)))[:n], forwards
        drafts = []
        if j == k:
            for i in range(k + 1, k + B):                           # block row -> position c+1+i
                if conf[i] < tau:
                    break
                drafts.append(int(pred[i]))
        rows = min(block, max(2, (len(drafts) if j == k else j) + 2))
        if rest == 0 and B >= 2 and j == k:     # mask rows that drafted nothing: none for 1, 3, 7, 8.. steps
            backoff = 0 if drafts else min(8, 2 * backoff + 1)
            rest = backoff
        elif rest > 0:
            rest -= 1
        if from_lookup:
            copy_len = min(lookup, 2 * copy_len) if j == k else max(2, j + 1)
        match = find_copy(text, suffix, lookup_match)
        copy_kind = f"copy{match[0] if match else 0}{'+' if from_lookup and j == k else ''}"
        copied = copy_after(text, suffix, match, min(copy_len, worth(copy_kind, row_cost), end - len(text) - 1)) if match else []
        from_lookup = len(copied) > len(drafts)
        if from_lookup:
            drafts = copied
        kind = copy_kind if from_lookup else "block"
    return text[start:end], forwards


def newline_ids(tok):
    """Ids whose text holds a line break (the BPE joins "\n" with the indentation after it)."""
    return {i for i in range(tok.vocab_size - 3) if "\n" in tok.decode([i])}


@torch.no_grad()
def beam_fill(model, tok, prefix, n, suffix, width, breaks, first_break=False):
    """sampler candidates.ts beamFill: beam search of the hole's first line on the AR head, the
    suffix (empty for the app's rule since Model v3) first in the context at its true positions: each round every live beam is extended by
    its `width` most likely next tokens (mask excluded; ties to the lower id), the `width` best
    live ones go on; a beam ends at eos/pad, at a token of `breaks` (a line break) after its
    first, or at n tokens, its score including that token's. Stops when no beam is live, or when
    2 x width have ended and the best live score is below theirs. first_break: the first token is
    one of `breaks` (the hole begins a line; its probability still the model's over every token).
    Returns the ended beams' ids (the ending token left out) with at least one token, best first:
    [(ids, log prob)]."""
    if not prefix and not suffix:
        return []  # nothing to read on from
    dev = next(model.parameters()).device
    start, end = len(prefix), len(prefix) + n
    suf_pos = list(range(end, end + len(suffix)))
    ends = (tok.pad, tok.eos)
    live, done = [([], 0.0)], []
    while live:
        c = len(live[0][0])
        ctx = torch.tensor([list(suffix) + list(prefix) + ids for ids, _ in live], device=dev)
        logits = block_step(model, ctx, suf_pos + list(range(start + c)),
                            torch.full((len(live), 1), tok.mask, device=dev), start + c)[:, 0].float().cpu()
        logits[:, tok.mask] = -float("inf")
        lp = logits.double().log_softmax(-1)
        grown = []
        if first_break and c == 0:
            allowed = torch.zeros(lp.shape[-1], dtype=torch.bool)
            allowed[[t for t in breaks if t < lp.shape[-1]]] = True
        for (ids, score), row in zip(live, lp):
            pick = row.masked_fill(~allowed, -float("inf")) if first_break and c == 0 else row
            v, ix = pick.topk(min(len(row), width + 8))
            for _, t in [x for x in sorted(zip((-v).tolist(), ix.tolist())) if x[0] < float("inf")][:width]:
                grown.append((ids + [t], score + row[t].item()))
        grown.sort(key=lambda b: -b[1])
        live = []
        for ids, score in grown:
            t = ids[-1]
            if t in ends or (len(ids) > 1 and t in breaks) or len(ids) == n:
                kept = ids[:-1] if t in ends or (len(ids) > 1 and t in breaks) else ids
                if kept and all(kept != d for d, _ in done):  # the same fill ended otherwise: the likelier stays
                    done.append((kept, score))
            elif len(live) < width:
                live.append((ids, score))
        done.sort(key=lambda b: -b[1])
        done = done[:2 * width]
        if len(done) == 2 * width and (not live or live[0][1] < done[-1][1]):
            break
    return done


@torch.no_grad()
def reading_score(model, tok, prefix, ids, suffix):
    """sampler candidates.ts readingScore: (log P(ids | prefix), log P(suffix | prefix + ids)) on the
    AR head, reading order, from one forward of prefix | ids | suffix at consecutive positions (the
    fill's first token unscored when there is no prefix)."""
    dev = next(model.parameters()).device
    x = list(prefix) + list(ids) + list(suffix)
    logits = model(torch.tensor([x], device=dev))[0].float().cpu().double()
    logits[:, tok.mask] = -float("inf")
    lp = logits.log_softmax(-1)
    # each probability at least 1e-30, as the TypeScript (float32 probabilities) takes it
    tok_lp = lp[:-1].gather(1, torch.tensor(x[1:])[:, None])[:, 0].clamp(min=math.log(1e-30))
    a = len(prefix) + len(ids) - 1           # the row that predicts suffix[0]
    return tok_lp[max(len(prefix) - 1, 0):a].sum().item(), tok_lp[a:].sum().item()


def line_cuts(ids, breaks):
    """sampler candidates.ts lineCuts: the fill up to each line break after its first token, and
    the whole fill."""
    return [ids[:i] for i in range(1, len(ids)) if ids[i] in breaks] + [list(ids)]


_LINE_STARTS = {}


def line_starts(tok):
    """{id: the id its copied line starts with} for ids whose text is line breaks and indentation
    alone: "\n    " starts its own line; "\n\n   " (a blank line first) starts "\n   "'s, when the
    vocabulary has it (a fill starts with one line break)."""
    key = (id(tok), tok.vocab_size)
    if key in _LINE_STARTS:
        return _LINE_STARTS[key][1]
    texts = {i: tok.decode([i]) for i in range(tok.vocab_size - 3)}
    one = {}
    for i, t in texts.items():
        if re.fullmatch(r"\n[ \t]*", t):
            one.setdefault(t, i)  # of ids with the same text, the lowest (as candidates.ts)
    starts = {i: one[t[t.rindex("\n"):]] for i, t in texts.items()
              if re.fullmatch(r"\n+[ \t]*", t) and t[t.rindex("\n"):] in one}
    _LINE_STARTS[key] = (tok, starts)  # (tok kept alive, so its id is not reused)
    return starts


def copied_lines(tok, prefix, suffix, n, breaks, starts, hole_begins_line, suffix_ends_text=False):
    """sampler candidates.ts copiedLines: every whole line of the visible text (prefix, then suffix),
    as its tokens from a line_starts token (as the one-break token it maps to) up to the next line
    break, at most n tokens and not blank; of the lines a region's end cuts, the prefix's last only
    when hole_begins_line (the fill begins with a line break), the suffix's only when
    suffix_ends_text (the suffix is the text's end, which has no final line break)."""
    out = []
    for text, whole_at_end in ((list(prefix), hole_begins_line), (list(suffix), suffix_ends_text)):
        for i, t in enumerate(text):
            if t in starts:
                j = next((k for k in range(i + 1, len(text)) if text[k] in breaks), len(text))
                line = [starts[t]] + text[i + 1:j]
                if (j < len(text) or whole_at_end) and j - i <= n and tok.decode(line).strip():
                    out.append(line)
    return out


def fill_begins_line(tok, decoded, breaks):
    """Does the decoded fill (up to its first pad/eos) begin with a line break: True, False, or None
    when it is only white space (candidates.ts rankFills' `starts` when not told that the hole
    begins a line)."""
    decoded = real_ids(tok, decoded)
    return decoded[0] in breaks if decoded and tok.decode(decoded).strip() else None


def fill_candidates(tok, decoded, beams, breaks, copies=(), begins_line=False):
    """ranked_fill's candidates: (the decoded fill up to its end token, the candidates). They are
    its line_cuts, the beams' ids and the copied lines, in that order, without repeats, with text
    that is not only white space; the cuts and beams only when they begin as the decoded fill does
    (with a line break or not: else the shortest fill, a word added to the line before, wins), the
    copied lines, whole lines, always; begins_line (the hole begins a line): only those that begin
    with a line break, whatever the decoded fill does."""
    starts = True if begins_line else fill_begins_line(tok, decoded, breaks)
    decoded = real_ids(tok, decoded)
    cands = []
    for ids, any_start in [(c, False) for c in line_cuts(decoded, breaks) + list(beams)] + [(c, True) for c in copies]:
        if ids and ids not in cands and tok.decode(ids).strip() and (any_start or starts is None or (ids[0] in breaks) == starts):
            cands.append(ids)
    return decoded, cands


# sampler candidates.ts FILL_WEIGHT: the fill's own log-likelihood's weight beside the suffix's in ranking
FILL_WEIGHT = 0.75
# sampler candidates.ts MBR_TEMPERATURE: how far the scores are softened into the consensus pick's weights
MBR_TEMPERATURE = 2.5


def consensus_pick(lines, scores, temperature=MBR_TEMPERATURE):
    """sampler candidates.ts consensusPick (minimum Bayes risk): the line with the highest sum over all
    candidates j of exp((scores[j] - max) / temperature) x difflib ratio (without autojunk, as
    candidates.ts lineSimilarity; every weight 1 when no score is finite; NaN counts as -inf), then
    of the candidates with that first line the best-scoring; ties to the first. temperature <= 0:
    the best score. -1 when there are none. Sums in plain order, as candidates.ts."""
    s = [-math.inf if x != x else x for x in scores]

    def best(among):
        b = -1
        for i, x in enumerate(s):
            if among(i) and (b < 0 or x > s[b]):
                b = i
        return b
    if not lines or not temperature > 0:
        return best(lambda i: True)
    top = max(s)
    w = [1.0 if top == -math.inf else math.exp((x - top) / temperature) for x in s]
    chosen, chosen_gain = 0, -math.inf
    for i, a in enumerate(lines):
        gain = 0.0
        for wj, b in zip(w, lines):
            gain += wj * (1.0 if a == b else difflib.SequenceMatcher(None, a, b, autojunk=False).ratio())
        if gain > chosen_gain:
            chosen, chosen_gain = i, gain
    return best(lambda i: lines[i] == lines[chosen])


def ranked_fill(model, tok, prefix, n, suffix, width, decoded, breaks, score_tokens=32, copies=True,
                fill_weight=FILL_WEIGHT, temperature=MBR_TEMPERATURE, suffix_ends_text=False, begins_line=False):
    """sampler candidates.ts rankFills: candidates are the decoded fill cut at each line end
    (line_cuts), beam_fill's and (copies) the lines of the visible prefix and suffix (copied_lines);
    those fill_candidates keeps are ranked by log P(suffix[:score_tokens] | prefix + fill) + fill_weight x
    log P(fill | prefix) (reading_score), the pick their consensus over first lines (consensus_pick at
    temperature; 0: the best score; suffix_ends_text: the suffix is the text's end, copied_lines;
    begins_line: the hole begins a line, so every candidate begins with a line break, the beams'
    first token too: candidates.ts fillBeginsLine);
    returns the pick's ids (no end token),
    or the decoded fill when none is left. The beams read the prefix only, as the app's since
    Model v3 (with the suffix first in their cache, the rule before, v3's were worse: infill_rank.py).
    The fill's own likelihood keeps copied lines honest: by the suffix alone, a line copied from the
    suffix just ahead wins most holes (it makes the suffix read as a repeat)."""
    beams = beam_fill(model, tok, prefix, n, (), width, breaks, first_break=begins_line)
    extra = copied_lines(tok, prefix, suffix, n, breaks, line_starts(tok),
                         begins_line or fill_begins_line(tok, decoded, breaks) is True, suffix_ends_text) if copies else []
    decoded, cands = fill_candidates(tok, decoded, [b for b, _ in beams], breaks, extra, begins_line)
    if not cands:
        return decoded
    s = list(suffix)[:score_tokens]
    scores = []
    for c in cands:
        fill, after = reading_score(model, tok, prefix, c, s)
        scores.append(after + fill_weight * fill)
    return cands[consensus_pick([first_line(tok.decode(c)) for c in cands], scores, temperature)]


@torch.no_grad()
def ar_generate(model, tok, prefix, n, stop_newline=False, loop_guard=False, first=None):
    """Greedy tokens after prefix (up to eos, n, or with stop_newline the end of the first line);
    first: the set the first token is chosen from (the twin told that the hole begins a line)."""
    dev = next(model.parameters()).device
    x = list(prefix)
    out = []
    for _ in range(n):
        logits = model(torch.tensor(x[-model.cfg.max_seq_len:])[None].to(dev))[0, -1].float().cpu()
        logits[[tok.mask, tok.pad]] = -float("inf")
        if first is not None and not out:
            logits[[t for t in range(len(logits)) if t not in first]] = -float("inf")
        nxt = guarded_argmax(logits, x, loop_guard)
        if nxt == tok.eos:
            break
        out.append(nxt)
        x.append(nxt)
        if stop_newline and "\n" in tok.decode(out).lstrip("\n"):
            break
    return out


def real_ids(tok, ids):
    """ids up to the first pad/eos, as a list."""
    cut = next((i for i, t in enumerate(ids) if t in (tok.pad, tok.eos)), len(ids))
    return list(ids[:cut])


def real_text(tok, ids):
    """Text of ids up to the first pad/eos."""
    return tok.decode(real_ids(tok, ids))


def infill_cases(docs, tok, n, seed=1):
    rng = random.Random(seed)
    cases = []
    while len(cases) < n:
        d = rng.choice(docs)
        lines = d.split("\n")
        i = rng.randrange(1, max(2, len(lines) - 1))
        line = lines[i]
        if not (10 <= len(line.strip()) and len(tok.encode(line + "\n")) <= 20):
            continue
        # the blank starts at the newline before the line: "\n" + indentation is one chunk to
        # the tokenizer, so cutting after the newline would split a token seen in training
        pre = "\n".join(lines[:i])
        suf = "\n" + "\n".join(lines[i + 1:])
        cases.append((pre, line, suf))
    return cases


def infill_context(tok, pre, suf, n_masks, budget):
    """What a hole's fill sees of `budget` tokens: (prefix, suffix) for diffusion, the suffix's
    first half of what the masks leave and the prefix's last tokens in the rest; and the AR twin's
    prefix, the last budget - n_masks tokens."""
    p, s = tok.encode(pre), tok.encode(suf)[: max(0, (budget - n_masks) // 2)]
    return p[-(budget - n_masks - len(s)):], s, p[-(budget - n_masks):]


def suffix_reaches_end(tok, suf, s):
    """Is the hole's visible suffix s (infill_context) the whole of the text after it, suf (no budget
    cut it)? Then its last line is whole even without a final break (the app's suffixEndsText)."""
    return len(s) == len(tok.encode(suf))


def first_line(text):
    """The line a fill is judged by: its leading line break dropped, up to the next, trailing white
    space cut."""
    return (text[1:] if text.startswith("\n") else text).split("\n")[0].rstrip()


def line_score(got, line):
    """(exact, difflib ratio) of a fill's first_line against the true line (trailing white space
    ignored)."""
    got = first_line(got)
    return got == line.rstrip(), difflib.SequenceMatcher(None, got, line.rstrip()).ratio()


def infill_scores(model, tok, cases, n_masks, budget, tau=0.3, order="verify", row_cost=0.0, candidates=1, ar_candidates=0,
                  ar_line_start=False):
    """(exact match, mean difflib similarity) of the filled line; diffusion sees the suffix (half
    of what the budget leaves after the masks), AR the prefix only. Block-causal models with
    candidates > 1: the decoded fill ranked against beam_fill's and the lines in view (ranked_fill,
    the app's Fill). AR models with ar_candidates > 1: its greedy line ranked the same way against
    its own prefix-only beams and the lines in view, the suffix not in its context, only a judge
    and a source of lines (what the Fill's ranking is worth to a left-to-right model). Every hole
    begins a line (infill_cases), and ranking is told so, as the app's Fill is when the selection
    starts a line (begins_line); ar_line_start: the AR model's greedy line is told so too (its
    first token a line break), otherwise it reads the prefix alone, as the issue's twin."""
    hits = sim = 0.0
    breaks = newline_ids(tok) if candidates > 1 or ar_candidates > 1 or ar_line_start else set()
    for pre, line, suf in cases:
        p, s, p_ar = infill_context(tok, pre, suf, n_masks, budget)
        whole = (candidates > 1 or ar_candidates > 1) and suffix_reaches_end(tok, suf, s)  # only ranking copies lines
        if model.cfg.kind == "diffusion":
            if is_block(model):
                ids = block_decode(model, tok, p, n_masks, s, tau, order=order, row_cost=row_cost)[0]
                if candidates > 1 and s:
                    ids = ranked_fill(model, tok, p, n_masks, s, candidates, ids, breaks, suffix_ends_text=whole,
                                      begins_line=True)
                got = real_text(tok, ids)
            else:
                got = real_text(tok, diffusion_fill(model, tok, p, n_masks, s))
        elif ar_candidates > 1:
            p = p_ar[-(model.cfg.max_seq_len - n_masks - 32):]  # room to score the suffix
            ids = ranked_fill(model, tok, p, n_masks, s, ar_candidates, ar_generate(model, tok, p, n_masks), breaks,
                              suffix_ends_text=whole, begins_line=True)
            got = tok.decode(ids)
        else:
            got = tok.decode(ar_generate(model, tok, p_ar, n_masks, stop_newline=True, first=breaks if ar_line_start else None))
        exact, ratio = line_score(got, line)
        hits += exact
        sim += ratio
    return hits / len(cases), sim / len(cases)


def function_prompts(docs, n, seed=2):
    rng = random.Random(seed)
    heads = []
    for d in docs:
        # without the trailing newline: the model writes "\n" + indentation as one token
        heads += [m.group(0) for m in re.finditer(r"(?m)^[ \t]*def [A-Za-z_]\w*\(.*\):(?=[ \t]*\n)", d)]
    rng.shuffle(heads)
    return heads[:n]


def function_ok(head, body):
    return failure(head, body) is None


def failure(head, body):
    """Why the function (cut at its first dedent, or at the last full line) does not parse: None
    when it does; "empty" (no line of body), "docstring not closed", "bracket not closed", "no block
    after ':'", or "other: " + the parser's message."""
    indent = len(head) - len(head.lstrip())
    lines, kept = body.split("\n")[1:], []  # body starts on the header's line
    for j, line in enumerate(lines):
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        kept.append(line)
    else:
        kept = kept[:-1]  # ran out: the last line may be cut
    code = textwrap.dedent(head + "\n" + "\n".join(kept))
    if not any(l.strip() for l in kept):
        return "empty"
    try:
        ast.parse(code)
        return None
    except SyntaxError as e:
        msg = str(e.msg)
        if "triple-quoted" in msg:
            return "docstring not closed"
        if "never closed" in msg:
            return "bracket not closed"
        if "expected an indented block" in msg:
            return "no block after ':'"
        return "other: " + re.sub(r"'[^']*'", "'_'", msg)


def syntax_valid(model, tok, heads, body_tokens, tau=0.3, order="verify", block=None, row_cost=0.0, lookup=16,
                 lookup_match=1, outcomes=None, loop_guard=False, failures=None):
    """(share of bodies that parse, generated tokens per forward or None); each header's outcome
    (True: its body parses) appended to `outcomes` when given (training/paired.py compares two
    models header by header); `failures` (a dict) counts the others by `failure`'s reason."""
    ok = 0
    gen = fwd = 0
    for h in heads:
        p = tok.encode(h)
        if is_block(model):
            ids, f = block_decode(model, tok, p, body_tokens, (), tau, block, order, row_cost, lookup, lookup_match,
                                  loop_guard=loop_guard)
            cut = [i for i, t in enumerate(ids) if t in (tok.pad, tok.eos)]
            gen += cut[0] if cut else len(ids)
            fwd += f
            body = real_text(tok, ids)
        elif model.cfg.kind == "diffusion":
            ids = diffusion_fill(model, tok, p, body_tokens, [])
            body = real_text(tok, ids)
        else:
            body = tok.decode(ar_generate(model, tok, p, body_tokens, loop_guard=loop_guard))
        why = failure(h, body)
        good = why is None
        ok += good
        if failures is not None and not good:
            failures[why] = failures.get(why, 0) + 1
        if outcomes is not None:
            outcomes.append(good)
    return ok / len(heads), (gen / fwd if fwd else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", required=True, help="exported model folder")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--windows", type=int, default=64)
    ap.add_argument("--t-samples", type=int, default=16)
    ap.add_argument("--n-infill", type=int, default=100)
    ap.add_argument("--infill-masks", type=int, default=24)
    ap.add_argument("--infill-context", type=int, default=256,
                    help="tokens of prefix + masks + suffix (capped by the model's context); 256: the app's "
                    "layout at the shipped models' context (src/diffusion/request.ts layoutInfill; 128 before 2026-12-06)")
    ap.add_argument("--candidates", type=int, default=4,
                    help="block-causal infill: beams ranked against the decoded fill (the app's Fill "
                    "default, src/ui/settings.ts fillCandidates; 1: off)")
    ap.add_argument("--ar-candidates", type=int, default=0,
                    help="AR models: also report infill with its greedy line ranked against this many "
                    "prefix-only beams and the lines in view by the Fill's rule, the suffix as judge "
                    "(infill_ranked; 0: off; before 2026-12-06 by the suffix alone, no lines in view)")
    ap.add_argument("--n-functions", type=int, default=200)
    ap.add_argument("--body-tokens", type=int, default=64)
    ap.add_argument("--tau", type=float, default=0.3, help="block-causal: the app's default threshold (src/ui/settings.ts)")
    ap.add_argument("--order", default="verify", choices=["verify", "leftToRight", "confidence", "ensemble"],
                    help="block-causal: the app's default commit rule (src/diffusion/request.ts); "
                    "'ensemble' (an experiment, ensemble_decode): both heads' log-probabilities mixed, "
                    "--tau being the block rows' weight")
    ap.add_argument("--row-cost", default="cpu",
                    help="block-causal, verify: a row's cost in steps (sampler.ts rowCost); 'cpu': 0.45, "
                    "what the CPU engine (the app's default here) measures for the small pair on this "
                    "machine (src/engine/cpu/models.ts CPU_ROW_COST)")
    ap.add_argument("--lookup-match", type=int, default=1, choices=[1, 2, 3],
                    help="block-causal, verify: the shortest match prompt lookup copies after (sampler.ts "
                    "lookupMatch; 2: the rule before 2026-12-04)")
    ap.add_argument("--curve", default="", help="block-causal: extra 'order:tau:block' points "
                    "(e.g. leftToRight:0.5:8,confidence:0.9:8) for syntax-valid vs tokens/forward")
    ap.add_argument("--loop-guard", action="store_true",
                    help="syntax: greedy choices skip a token that would make a loop (loop_bans; experimental)")
    ap.add_argument("--metrics", default="bpb,fix,infill,syntax",
                    help="comma-separated subset of bpb,fix,infill,syntax")
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                    help="where the model runs (the metrics do not depend on it beyond float rounding)")
    args = ap.parse_args()
    # OMP_NUM_THREADS=1 while training runs on the same cores: two jobs' thread pools on 2 cores
    # made a 2 s eval take 2 minutes
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 0) or max(1, os.cpu_count() or 1))
    data = np.memmap(os.path.join(args.data, "heldout.bin"), dtype=np.uint16, mode="r")
    docs = [json.loads(l)["text"] for l in open(os.path.join(args.data, "corpus", "heldout.jsonl"))]
    results = {}
    for path in args.model:
        model = load_model(path).to(args.device)
        tok = Tokenizer.load(os.path.join(path, "tokenizer.json"))
        t0 = time.time()
        want = set(args.metrics.split(","))
        row_cost = 0.45 if args.row_cost == "cpu" else float(args.row_cost)
        r = {}
        if "bpb" in want:
            r["heldout_tokens_bpb"] = args.windows * model.cfg.max_seq_len
            bpb, exact = bits_per_byte(model, tok, data, args.windows, args.t_samples)
            r["bits_per_byte"] = round(bpb, 4)
            r["bpb_kind"] = "ELBO bound" if model.cfg.kind == "diffusion" else "exact NLL"
            if is_block(model):
                r["bits_per_byte_exact"] = round(exact, 4)
                r["bpb_block"] = model.cfg.block_size
            elif model.cfg.kind != "diffusion":
                r["bits_per_byte_exact"] = r["bits_per_byte"]  # AR: its NLL is the left-to-right likelihood
        if "fix" in want and model.cfg.kind == "diffusion" and not is_block(model):
            r["fix_rate"] = round(fix_rate(model, tok, data, args.windows), 4)
        if "infill" in want:
            cases = infill_cases(docs, tok, args.n_infill)
            budget = min(args.infill_context, model.cfg.max_seq_len)
            r["infill_exact"], sim = infill_scores(model, tok, cases, args.infill_masks, budget, args.tau, args.order, row_cost,
                                                   args.candidates)
            if is_block(model):
                r["infill_candidates"] = args.candidates
            elif args.ar_candidates > 1:
                ex, sim_r = infill_scores(model, tok, cases, args.infill_masks, budget, ar_candidates=args.ar_candidates)
                r["infill_ranked"] = {"exact": ex, "similarity": round(sim_r, 4), "candidates": args.ar_candidates}
            if model.cfg.kind != "diffusion":  # the twin told that the hole begins a line
                ex, sim_l = infill_scores(model, tok, cases, args.infill_masks, budget, ar_line_start=True)
                r["infill_line_start"] = {"exact": ex, "similarity": round(sim_l, 4)}
            r["infill_similarity"] = round(sim, 4)
            r["n_infill"] = len(cases)
        if "syntax" in want:
            heads = function_prompts(docs, args.n_functions)
            outcomes, failures = [], {}
            r["syntax_valid"], tpf = syntax_valid(model, tok, heads, args.body_tokens, args.tau, args.order, row_cost=row_cost,
                                                  lookup_match=args.lookup_match, outcomes=outcomes, loop_guard=args.loop_guard,
                                                  failures=failures)
            r["syntax_failures"] = dict(sorted(failures.items(), key=lambda kv: -kv[1]))
            if args.loop_guard:
                r["loop_guard"] = True
            r["n_functions"] = len(heads)
            # one character per header, in order: 1 = its body parses (training/paired.py)
            r["syntax_outcomes"] = "".join("1" if o else "0" for o in outcomes)
            if tpf is not None:
                r["tokens_per_forward"] = round(tpf, 3)
                r["decoding"] = {"order": args.order, "tau": args.tau, "block": model.cfg.block_size,
                                 "row_cost": row_cost, "lookup_match": args.lookup_match}
            if is_block(model) and args.curve:
                r["curve"] = []
                for point in args.curve.split(","):
                    order, tau, block = point.split(":")
                    sv, tpf = syntax_valid(model, tok, heads, args.body_tokens, float(tau), order, int(block), row_cost=row_cost,
                                           lookup_match=args.lookup_match)
                    r["curve"].append({"order": order, "tau": float(tau), "block": int(block),
                                       "syntax_valid": sv, "tokens_per_forward": round(tpf, 3)})
                    print("  curve", r["curve"][-1], flush=True)
        r["eval_seconds"] = round(time.time() - t0)
        results[os.path.basename(path.rstrip("/"))] = r
        print(os.path.basename(path.rstrip("/")), r, flush=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
