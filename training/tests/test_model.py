import math

import torch

from model import ModelConfig, Transformer, apply_rope, rope_tables
from objective import anneal_mask, ar_loss, corrupt, diffusion_loss, make_infill

CFG = dict(vocab_size=50, dim=16, n_layers=2, n_heads=2, ffn_dim=24, max_seq_len=12)


def block_causal_model():
    """A random block-causal model (context 40, blocks of 8, shift) and its special tokens."""
    cfg = ModelConfig(kind="diffusion", vocab_size=64, dim=32, n_layers=2, n_heads=4, ffn_dim=64,
                      max_seq_len=40, attention="block_causal", block_size=8, shift=True)
    return Transformer(cfg).eval(), {"mask": 63, "pad": 62, "eos": 61}


def test_forward_shape_and_bidirectional_vs_causal():
    torch.manual_seed(0)
    x = torch.randint(0, 50, (3, 10))
    for kind in ("diffusion", "autoregressive"):
        m = Transformer(ModelConfig(kind=kind, **CFG)).eval()
        out = m(x)
        assert out.shape == (3, 10, 50)
        # changing the last token changes earlier logits only when attention is bidirectional
        x2 = x.clone()
        x2[:, -1] = (x2[:, -1] + 1) % 50
        diff = (m(x2)[:, :-1] - out[:, :-1]).abs().max().item()
        assert (diff > 1e-6) == (kind == "diffusion"), (kind, diff)


def test_padding_keys_are_ignored():
    torch.manual_seed(1)
    m = Transformer(ModelConfig(kind="diffusion", **CFG)).eval()
    x = torch.randint(0, 50, (1, 10))
    y = x.clone()
    y[:, 7:] = 3  # change only the padding
    n = torch.tensor([7])
    a, b = m(x, n_valid=n)[:, :7], m(y, n_valid=n)[:, :7]
    assert torch.allclose(a, b, atol=1e-6)


def test_rope_rotate_half_matches_complex_rotation():
    cfg = ModelConfig(**CFG)
    pos = torch.arange(5)
    cos, sin = rope_tables(cfg, pos)
    x = torch.randn(1, 1, 5, cfg.head_dim)
    y = apply_rope(x, cos, sin)
    half = cfg.head_dim // 2
    for p in range(5):
        for i in range(half):
            ang = p * cfg.rope_theta ** (-2 * i / cfg.head_dim)
            z = complex(x[0, 0, p, i], x[0, 0, p, i + half]) * complex(math.cos(ang), math.sin(ang))
            assert abs(y[0, 0, p, i] - z.real) < 1e-5 and abs(y[0, 0, p, i + half] - z.imag) < 1e-5


def test_corrupt_masks_with_probability_t_and_respects_region():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 40, (4, 2000))
    t = torch.tensor([0.1, 0.5, 0.9, 1.0])
    noisy, c = corrupt(x, t, mask_id=49, n_ordinary=47, generator=g)
    rates = c.float().mean(1)
    assert torch.allclose(rates, t, atol=0.04)
    assert (noisy[c] == 49).all() and (noisy[~c] == x[~c]).all()
    region = torch.zeros_like(x, dtype=torch.bool)
    region[:, 100:200] = True
    _, c2 = corrupt(x, t, 49, 47, region=region, generator=g)
    assert not c2[:, :100].any() and not c2[:, 200:].any()
    noisy3, c3 = corrupt(x, torch.ones(4), 49, 47, random_share=0.5, generator=g)
    replaced = c3 & (noisy3 != 49)
    assert 0.45 < replaced.float().mean() < 0.55
    assert (noisy3 < 47).logical_or(noisy3 == 49).all()  # never a special token but mask


def test_anneal_mask_goes_from_causal_to_full_and_a_causal_model_ignores_the_future():
    g = torch.Generator().manual_seed(0)
    L = 64
    causal = torch.ones(L, L, dtype=torch.bool).tril()
    assert torch.equal(anneal_mask(3, L, 0.0, generator=g), causal.expand(3, 1, L, L))
    assert anneal_mask(3, L, 1.0, generator=g).all()
    m = anneal_mask(8, L, 0.3, generator=g)
    assert m.shape == (8, 1, L, L) and m[:, :, causal].all()          # the past is always seen
    future = m[:, 0][:, ~causal].float()
    assert abs(future.mean().item() - 0.3) < 0.02                      # each future key with p
    assert not torch.equal(m[0], m[1])                                 # drawn per window
    # a full-attention model under the p = 0 mask is causal: a later token moves no earlier row
    torch.manual_seed(1)
    model = Transformer(ModelConfig(kind="diffusion", **CFG)).eval()
    x = torch.randint(0, 50, (2, 10))
    x2 = x.clone()
    x2[:, -1] = (x2[:, -1] + 1) % 50
    mask0 = anneal_mask(2, 10, 0.0)
    moved = (model(x2, attn_mask=mask0)[:, :-1] - model(x, attn_mask=mask0)[:, :-1]).abs().max()
    assert moved.item() < 1e-6
    half = anneal_mask(2, 10, 0.5, generator=g)
    moved = (model(x2, attn_mask=half)[:, :-1] - model(x, attn_mask=half)[:, :-1]).abs().max()
    assert moved.item() > 1e-6


def test_diffusion_loss_equals_hand_computation():
    logits = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
                           [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]])
    x = torch.tensor([[0, 1], [2, 0]])
    corrupted = torch.tensor([[True, False], [True, True]])
    t = torch.tensor([0.5, 0.25])
    lse = lambda v: math.log(sum(math.exp(a) for a in v))
    ce00 = lse([2, 0, 0]) - 2
    ce10 = lse([0, 0, 0]) - 0
    ce11 = lse([1, 2, 3]) - 1
    want = (ce00 / 0.5 + ce10 / 0.25 + ce11 / 0.25) / 4
    assert abs(diffusion_loss(logits, x, corrupted, t).item() - want) < 1e-6


def test_ar_loss_equals_hand_computation():
    logits = torch.tensor([[[1.0, 0.0], [0.0, 3.0], [5.0, 5.0]]])
    x = torch.tensor([[0, 1, 1]])
    lse = lambda v: math.log(sum(math.exp(a) for a in v))
    want = ((lse([1, 0]) - 0) + (lse([0, 3]) - 3)) / 2
    assert abs(ar_loss(logits, x).item() - want) < 1e-6


def test_make_infill_keeps_length_order_and_pads_inside_span():
    g = torch.Generator().manual_seed(3)
    x = torch.arange(100, 164)[None].repeat(20, 1)
    y, region = make_infill(x, pad_id=7, generator=g)
    assert y.shape == x.shape
    for b in range(20):
        real = y[b][y[b] != 7]
        assert (real.diff() == 1).all() and real[0] == 100  # text order preserved, no gap
        pads = (y[b] == 7).nonzero().flatten()
        assert region[b, pads].all()


def test_block_layout_never_shows_a_row_its_target():
    """Block diffusion's [noisy | clean] layout: changing the token a row predicts must not change
    that row's logits (noisy row i -> x[i+1] in its block; clean row i -> x[i+1] when valid), for
    plain and suffix-first infill windows; and the block step of decoding equals the layout's
    noisy rows for the same context and block."""
    from model import block_step
    from objective import block_layout, block_losses
    torch.manual_seed(0)
    m, sp = block_causal_model()
    g = torch.Generator().manual_seed(1)
    L = 40
    x = torch.randint(0, 61, (8, L), generator=g)
    lay = block_layout(x, sp, 61, random_share=0.1, fim_share=0.5, generator=g)
    assert lay["diff_w"].gt(0).any() and lay["ar_ok"].any()
    with torch.no_grad():
        lo = m(lay["tokens"], positions=lay["positions"], attn_mask=lay["mask"])
        diff, ar = block_losses(lo, lay)
        assert torch.isfinite(diff) and torch.isfinite(ar)
        checked = 0
        for b in range(8):
            for j in range(1, L):
                t2 = lay["tokens"].clone()
                t2[b, L + j] = (t2[b, L + j] + 1) % 61          # the clean token x[j]
                lo2 = m(t2, positions=lay["positions"], attn_mask=lay["mask"])
                moved = (lo2[b] - lo[b]).abs().amax(-1) > 1e-5
                if lay["diff_w"][b, j - 1] > 0:
                    assert not moved[j - 1], (b, j)
                    checked += 1
                if lay["ar_ok"][b, j - 1]:
                    assert not moved[L + j - 1], (b, j)
                    checked += 1
        assert checked > 100
        # the decoding step: context 0..s-1 clean, block s..s+B-1 as the noisy stream holds it
        s, B = 16, 8
        ctx, blk = x[:1, :s], x[:1, s:s + B].clone()
        blk[0, ::2] = sp["mask"]
        step = block_step(m, ctx, list(range(s)), blk, s)
        N = 2 * L
        mask = torch.zeros(N, N, dtype=torch.bool)
        mask[L:, L:] = torch.ones(L, L, dtype=torch.bool).tril()        # clean causal
        mask[s:s + B, s:s + B] = True                                   # the block, both ways
        mask[s:s + B, L:L + s] = True                                   # ... sees the context
        mask[torch.arange(L), torch.arange(L)] = True                   # other noisy rows: alone
        tokens = torch.cat([x[:1], x[:1]], 1)
        tokens[0, s:s + B] = blk[0]
        full = m(tokens, positions=torch.cat([torch.arange(L)] * 2), attn_mask=mask[None, None])[0]
        want = torch.cat([full[L + s - 1:L + s], full[s:s + B - 1]])
        assert torch.allclose(step[0], want, atol=1e-5)


def test_clean_layout_rows_are_the_suffix_first_decoding_context():
    """The clean-stream infill step (train.py --fim-clean) trains each row in the state decoding
    runs it: the suffix first at its true positions, then the text before the row, causal. A row's
    logits must equal a plain causal run over exactly that sequence, its target must not be
    visible to it, and most windows must carry a suffix."""
    from objective import clean_layout, clean_loss, _next_token_ce
    torch.manual_seed(0)
    m, sp = block_causal_model()
    g = torch.Generator().manual_seed(5)
    L = 40
    x = torch.randint(0, 61, (6, L), generator=g)
    lay = clean_layout(x, sp, 61, fim_share=1.0, suffix_share=1.0, generator=g)
    with torch.no_grad():
        lo = m(lay["tokens"], attn_mask=lay["mask"])
        ok = lay["ar_ok"]
        want = (_next_token_ce(lo, lay["x"]) * ok).sum() / ok.sum()
        assert torch.allclose(clean_loss(lo, lay), want)
        with_suffix = checked = 0
        for b in range(6):
            vis = lay["mask"][b, 0]
            with_suffix += bool(vis.triu(1).any())              # some row sees text after it
            for i in range(L - 1):
                if not ok[b, i]:
                    continue
                assert not vis[i, i + 1]                          # the target stays hidden
                seen = vis[i].nonzero().flatten().tolist()
                seq = [j for j in seen if j > i] + [j for j in seen if j <= i]   # suffix first
                ref = m(lay["tokens"][b, seq][None], positions=torch.tensor(seq))[0, -1]
                assert torch.allclose(lo[b, i], ref, atol=1e-5), (b, i)
                checked += 1
        assert with_suffix >= 4 and checked > 100


def test_draft_layout_rows_are_the_verified_decoding_state():
    """Certainty distillation trains block rows in the state drafting runs in: a block of masks
    right after committed text. Each trained row's logits must equal block_step's for that
    context and an all-mask block (so training and decoding see the same thing), every trained
    target lies inside its block and inside the continuation, and the AR rows train the prompt
    only."""
    from model import block_step
    from objective import draft_layout
    torch.manual_seed(0)
    m, sp = block_causal_model()
    g = torch.Generator().manual_seed(3)
    L, B = 40, 8
    x = torch.randint(0, 61, (4, L), generator=g)
    a = torch.tensor([5, 12, 20, 9])
    n = torch.tensor([30, 40, 33, 9 + 13])
    x[0, 30:] = sp["pad"]
    lay = draft_layout(x, a, n, sp, block=B, generator=g)
    w = lay["diff_w"]
    assert w.sum() > 20
    for b in range(4):
        rows = w[b].nonzero().flatten().tolist()
        assert rows and min(rows) >= int(a[b]) and max(rows) + 1 < int(n[b])
        assert not lay["ar_ok"][b, int(a[b]) - 1:].any() and lay["ar_ok"][b, :int(a[b]) - 1].all()
    with torch.no_grad():
        lo = m(lay["tokens"], positions=lay["positions"], attn_mask=lay["mask"])
        checked = 0
        for b in range(4):
            for i in w[b].nonzero().flatten().tolist():
                s = int(lay["mask"][b, 0, i, :L].nonzero()[0])          # row i's block start
                assert (lay["tokens"][b, s:i + 1] == sp["mask"]).all()
                e = min(s + B, int(n[b]))
                blk = torch.full((1, e - s), sp["mask"])
                step = block_step(m, x[b:b + 1, :s], list(range(s)), blk, s)[0]   # row 0: AR head
                assert torch.allclose(lo[b, i], step[1 + i - s], atol=1e-5), (b, s, i)
                checked += 1
        assert checked >= 20


def test_anchor_kl_is_zero_for_the_teacher_and_reads_only_clean_rows():
    """The anchor (train.py --anchor-weight) is KL(teacher || model) on the clean rows: 0 for the
    teacher's own logits, > 0 once the model moves, equal to the KL computed row by row from
    full forwards (so the teacher's clean-half forward is the clean rows' full one), and blind to
    the noisy rows and to rows past a drafting window's continuation."""
    import copy
    import torch.nn.functional as F
    from objective import anchor_kl, block_layout, draft_layout
    torch.manual_seed(0)
    m, sp = block_causal_model()
    g = torch.Generator().manual_seed(5)
    L = 40
    x = torch.randint(0, 61, (3, L), generator=g)
    lay = block_layout(x, sp, 61, random_share=0.05, fim_share=0.5, generator=g)
    xd = torch.randint(0, 61, (2, L), generator=g)
    a, n = torch.tensor([6, 10]), torch.tensor([30, 25])
    xd[0, 30:] = sp["pad"]
    dl = draft_layout(xd, a, n, sp, block=8, generator=g)
    tok = torch.cat([lay["tokens"], dl["tokens"]])
    pos = torch.cat([lay["positions"], dl["positions"]])
    msk = torch.cat([lay["mask"], dl["mask"]])
    with torch.no_grad():
        lo = m(tok, positions=pos, attn_mask=msk)
        assert abs(float(anchor_kl(m, lo, lay, dl, L))) < 1e-5
        moved = copy.deepcopy(m)
        for p in moved.parameters():
            p.add_(0.05 * torch.randn_like(p))
        lo2 = moved(tok, positions=pos, attn_mask=msk)
        got = float(anchor_kl(m, lo2, lay, dl, L))
        t = F.log_softmax(lo[:, L:], -1)
        s2 = F.log_softmax(lo2[:, L:], -1)
        kl = (t.exp() * (t - s2)).sum(-1)
        rows = [(b, i) for b in range(3) for i in range(L - 1)]
        rows += [(3 + b, i) for b in range(2) for i in range(int(n[b]) - 1)]
        want = sum(float(kl[b, i]) for b, i in rows) / len(rows)
        assert got > 1e-3 and abs(got - want) < 1e-4 * max(1.0, want)
        noisy = lo2.clone()
        noisy[:, :L] = torch.randn_like(noisy[:, :L])           # the noisy rows do not count
        noisy[4, L + int(n[1]):] = torch.randn_like(noisy[4, L + int(n[1]):])   # nor past n
        assert abs(float(anchor_kl(m, noisy, lay, dl, L)) - got) < 1e-6


def test_lookup_draft_matches_the_sampler_cases():
    # the cases of src/diffusion/blockcausal.test.ts "lookupDraft (prompt lookup)"
    from eval import lookup_draft
    text = [1, 2, 3, 9, 7, 2, 3, 8, 4, 1, 2, 3]
    assert lookup_draft(text, [], 9) == [9, 7, 2, 3, 8, 4, 1, 2, 3]
    assert lookup_draft(text, [], 11) == [9, 7, 2, 3, 8, 4, 1, 2, 3, 9, 7]
    assert lookup_draft([5, 2, 3, 8, 4, 1, 2, 3], [], 4) == [8, 4, 1, 2]
    assert lookup_draft([3, 6, 4, 3, 5, 4], [], 3) == [3, 5, 4]       # only [4] matches
    assert lookup_draft([3, 6, 4, 3, 5, 4], [], 3, 2) == []             # min_match 2: none
    assert lookup_draft([5, 2, 3, 8, 4, 1, 2, 3], [], 4, 3) == []
    assert lookup_draft([3, 4, 6, 3, 4, 5, 3, 4], [], 3) == [5, 3, 4]
    assert lookup_draft([1, 2, 3, 4], [], 8) == []
    assert lookup_draft([7, 1, 7], [], 4) == [1, 7, 1, 7]
    assert lookup_draft(text, [], 0) == []
    assert lookup_draft([4, 5, 6, 7], [9, 6, 7, 8, 10, 11], 3) == [8, 10, 11]
    assert lookup_draft([4, 5, 6, 7], [9, 6, 7], 3) == []
    assert lookup_draft([4, 5, 6, 7], [9, 7, 8, 10], 3) == [8, 10]
    assert lookup_draft([4, 5, 6, 7], [9, 7, 8, 10], 3, 2) == []


def test_verify_decode_with_lookup_drafts_is_the_ar_heads_greedy_text():
    from eval import verify_decode
    from model import block_step
    torch.manual_seed(3)
    model, sp = block_causal_model()

    class Tok:
        mask, pad, eos = sp["mask"], sp["pad"], sp["eos"]

    prompt = [5, 9, 11, 5, 9, 11, 5, 9]
    with torch.no_grad():
        text = list(prompt)
        for _ in range(24):  # the AR head alone: one row per token
            lg = block_step(model, torch.tensor([text]), list(range(len(text))),
                            torch.full((1, 1), Tok.mask), len(text), context_rows=0)[0].float()
            lg[:, Tok.mask] = -float("inf")
            text.append(int(lg[0].argmax()))
        want = text[len(prompt):]
        off, f_off = verify_decode(model, Tok, prompt, 24, [], 0.3, 8, lookup=0)
        on, f_on = verify_decode(model, Tok, prompt, 24, [], 0.3, 8, lookup=16)
        costed = [verify_decode(model, Tok, prompt, 24, [], 0.01, 8, row_cost=r) for r in (0.1, 0.6)]
        match2, _ = verify_decode(model, Tok, prompt, 24, [], 0.3, 8, lookup=16, lookup_match=2)
    cut = next((i for i, t in enumerate(want) if t in (Tok.pad, Tok.eos)), len(want))
    assert off[:cut] == want[:cut] and on[:cut] == want[:cut] and match2[:cut] == want[:cut]
    assert f_on <= f_off
    for ids, f in costed:  # drafts sized by a row's cost (sampler.ts rowCost): the same text
        assert ids[:cut] == want[:cut] and f <= 24


def fill_fixture():
    """The Fill tests' block-causal model (seed 5) and token texts: ids divisible by 7 are line
    breaks ("\n "), the rest words; (model, Tok, breaks)."""
    torch.manual_seed(5)
    model, sp = block_causal_model()

    class Tok:
        mask, pad, eos = sp["mask"], sp["pad"], sp["eos"]
        vocab_size = 64

        @staticmethod
        def decode(ids):
            return "".join("" if t >= 61 else "\n " if t % 7 == 0 else f"w{t} " for t in ids)

    return model, Tok, {t for t in range(61) if t % 7 == 0}


def test_ranked_fill_beams_and_suffix_score():
    """eval.py's twin of src/diffusion/candidates.ts: width-1 beams are the AR head's greedy line,
    reading_score's second part is the suffix's log likelihood after the fill, and ranked_fill returns the
    consensus (consensus_pick) of the qualifying candidates (the beams reading the prefix alone, and the
    lines in view) scored by suffix + FILL_WEIGHT x the fill's own; at temperature 0 the best score;
    without lines in view and weight, the best suffix score."""
    from eval import (FILL_WEIGHT, MBR_TEMPERATURE, beam_fill, consensus_pick, copied_lines, first_line, line_cuts,
                      line_starts, ranked_fill, reading_score, verify_decode)
    model, Tok, breaks = fill_fixture()
    prefix, suffix, n = [5, 9, 11, 2, 30, 8], [20, 21, 14, 3, 4, 7, 6], 10
    with torch.no_grad():
        greedy, _ = verify_decode(model, Tok, prefix, n, suffix, 0.3, 8, lookup=0)
        first = next((i for i, t in enumerate(greedy) if t in (Tok.pad, Tok.eos) or (i > 0 and t in breaks)), n)
        beams = beam_fill(model, Tok, prefix, n, suffix, 1, breaks)
        assert (beams[0][0] if beams else []) == greedy[:first]
        wide = beam_fill(model, Tok, prefix, n, suffix, 3, breaks)
        assert 1 < len(wide) <= 6 and all(not any(t in breaks for t in ids[1:]) for ids, _ in wide)
        assert [s for _, s in wide] == sorted((s for _, s in wide), reverse=True)
        # reading_score's suffix part by hand: one causal forward over prefix + fill + suffix
        fill = [10, 12]
        x = torch.tensor([prefix + fill + suffix])
        lp = model(x)[0].double()
        lp[:, Tok.mask] = -float("inf")
        lp = lp.log_softmax(-1)
        want = sum(lp[len(prefix) + len(fill) - 1 + i, suffix[i]].item() for i in range(len(suffix)))
        assert abs(reading_score(model, Tok, prefix, fill, suffix)[1] - want) < 1e-6
        got = ranked_fill(model, Tok, prefix, n, suffix, 3, greedy, breaks)
        cut = next((i for i, t in enumerate(greedy) if t in (Tok.pad, Tok.eos)), n)
        g = greedy[:cut]
        starts = g[0] in breaks if g and Tok.decode(g).strip() else None
        cands = []
        # the app's rule since Model v3: the beams read the prefix alone
        alone = beam_fill(model, Tok, prefix, n, (), 3, breaks)
        assert alone != wide and len({tuple(b) for b, _ in alone}) == len(alone)
        for c in line_cuts(g, breaks) + [b for b, _ in alone]:
            if c and c not in cands and Tok.decode(c).strip() and (starts is None or (c[0] in breaks) == starts):
                cands.append(c)
        before = ranked_fill(model, Tok, prefix, n, suffix, 3, greedy, breaks, copies=False, fill_weight=0.0, temperature=0)
        scores = [reading_score(model, Tok, prefix, c, suffix)[1] for c in cands]
        assert before == cands[scores.index(max(scores))]
        # the app's rule: the lines in view too, whichever way the fill begins (every break here is "\n ", so
        # they start as its lowest id, 0; the suffix's last, [0, 6], runs to its end: cut, no candidate), and the fill's weight
        copies = copied_lines(Tok, prefix, suffix, n, breaks, line_starts(Tok), starts is True)
        assert copies == [[0, 3, 4]]
        cands += [c for c in copies if c not in cands]
        scores = [(lambda f, x: x + FILL_WEIGHT * f)(*reading_score(model, Tok, prefix, c, suffix)) for c in cands]
        assert got == cands[consensus_pick([first_line(Tok.decode(c)) for c in cands], scores, MBR_TEMPERATURE)]
        best = ranked_fill(model, Tok, prefix, n, suffix, 3, greedy, breaks, temperature=0)
        assert best == cands[scores.index(max(scores))]


def test_ranked_fill_told_that_the_hole_begins_a_line():
    """begins_line (candidates.ts fillBeginsLine): every candidate begins with a line break, the
    beams' first token too (scored by the model's full distribution), whatever the decoded fill
    does; ar_generate's first token from the set given."""
    from eval import FILL_WEIGHT, ar_generate, beam_fill, consensus_pick, copied_lines, first_line, line_cuts, line_starts, ranked_fill, reading_score
    model, Tok, breaks = fill_fixture()
    prefix, suffix, n = [5, 9, 11, 2, 30, 8], [20, 21, 14, 3, 4, 7, 6], 10
    with torch.no_grad():
        beams = beam_fill(model, Tok, prefix, n, (), 3, breaks, first_break=True)

        def logp(x):  # the AR head's log probabilities after x, over every token but the mask
            lp = model(torch.tensor([x]))[0, -1].double()
            lp[Tok.mask] = -float("inf")
            return lp.log_softmax(-1)
        first = logp(prefix)
        top3 = sorted(breaks, key=lambda t: (-first[t].item(), t))[:3]  # the first round: the 3 likeliest breaks
        assert beams and all(ids[0] in top3 for ids, _ in beams)
        assert int(first.argmax()) not in breaks  # unconstrained, the first token would not be a break
        for ids, score in beams:  # the score is the model's own, not renormalised over the breaks
            want = sum(logp(prefix + ids[:i])[t].item() for i, t in enumerate(ids))
            after = logp(prefix + ids)  # plus its ending token's (a break, pad or eos), unless it filled the span
            assert (len(ids) == n and abs(score - want) < 1e-4) or any(
                abs(score - want - after[e].item()) < 1e-4 for e in breaks | {Tok.pad, Tok.eos})
        mid = [3, 4, 5, 7, 8]  # a decoded fill that goes on with the line before
        got = ranked_fill(model, Tok, prefix, n, suffix, 3, mid + [Tok.pad] * 5, breaks, begins_line=True)
        assert got and got[0] in breaks
        own = line_cuts(mid, breaks) + [b for b, _ in beams]  # the cuts and beams only if they begin with a break
        cands = []
        for k, c in enumerate(own + copied_lines(Tok, prefix, suffix, n, breaks, line_starts(Tok), True)):
            if c and c not in cands and Tok.decode(c).strip() and (k >= len(own) or c[0] in breaks):
                cands.append(c)
        scores = [(lambda f, a: a + FILL_WEIGHT * f)(*reading_score(model, Tok, prefix, c, suffix)) for c in cands]
        assert got == cands[consensus_pick([first_line(Tok.decode(c)) for c in cands], scores)]
        free = ranked_fill(model, Tok, prefix, n, suffix, 3, mid + [Tok.pad] * 5, breaks)
        assert free[0] not in breaks  # not told: the candidates begin as the decoded fill does
        g = ar_generate(model, Tok, prefix, 4, first=breaks)
        assert g[0] in breaks and ar_generate(model, Tok, prefix, 4)[0] not in breaks


def test_draft_head_leaves_the_clean_rows_bit_for_bit():
    """training/draft_head.py: the head is the identity until trained, then moves the mask rows'
    logits only; every other row (the AR head verified decoding keeps) is the base model's exactly,
    and no base weight is trained."""
    from draft_head import DraftHead
    torch.manual_seed(0)
    m, sp = block_causal_model()
    h = DraftHead(m, sp["mask"], ffn_dim=24)
    assert not any(p.requires_grad for p in m.parameters())
    assert {n for n, p in h.named_parameters() if p.requires_grad} == {
        "norm.weight", "ffn.w1.weight", "ffn.w2.weight", "ffn.w3.weight"}
    x = torch.randint(0, 61, (2, 20))
    x[:, 12:17] = sp["mask"]
    with torch.no_grad():
        want = m(x)
        assert torch.equal(h(x), want)
        torch.nn.init.normal_(h.ffn.w2.weight, std=0.5)
        got = h(x)
    drafting = x == sp["mask"]
    assert torch.equal(got[~drafting], want[~drafting])
    assert (got[drafting] - want[drafting]).abs().max() > 1e-3


def test_diffusion_fill_reads_a_shifted_model_one_row_back():
    """A shifted full-attention model (ablation b) predicts position i at row i - 1; a fake model
    whose row j is sure of target[j + 1] when shifted (of target[j] when not) must be filled with
    the target either way."""
    from types import SimpleNamespace
    from eval import diffusion_fill

    V, target = 20, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]

    class Tok:
        mask, pad, eos = 19, 18, 17

    class Fake(torch.nn.Module):
        def __init__(self, shift):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            self.cfg = SimpleNamespace(shift=shift)

        def forward(self, x):
            L = x.shape[1]
            out = torch.zeros(1, L, V)
            for j in range(L):
                want = j + 1 if self.cfg.shift else j
                if want < L:
                    out[0, j, target[want]] = 10.0 + (L - j)   # sure, and more so further left
            return out

    for shift in (False, True):
        got = diffusion_fill(Fake(shift), Tok, target[:4], 8, [], block=4)
        assert got == target[4:12], (shift, got)
