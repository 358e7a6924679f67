"""How far ranking can take line infill: the candidates a fill has, the best of them (an oracle
that knows the line), and what several ranking rules pick (eval.py's infill holes).

For each of --n-infill held-out holes (eval.py infill_cases, --infill-masks masks, a context
budget of --infill-context tokens) it gathers the app's Fill candidates (eval.py ranked_fill:
the decoded fill cut at each line end, and --width beams of the hole's first line) in one of five views:
  own    the model's own: a block-causal model with the suffix first in its cache (half the budget
         left after the masks is prefix, half suffix), decoded fill and beams (Fill's rule before v3);
  mixed  the decoded fill of the own view, the beams of the prefix only (no suffix in the cache):
         eval.py's and the app's rule since v3
  both   mixed's candidates and the own view's beams too (suffix first), after the prefix-only ones
  prefix the own view's prefix, no suffix in the cache: the AR head's greedy fill and beams
  twin   the AR twin's: the prefix only (the budget less the masks), greedy line + prefix-only
         beams, the suffix used only to judge (eval.py --ar-candidates).
Each candidate is scored once, reading prefix + fill + suffix left to right: the fill's log
probabilities (given the prefix) and the first 64 suffix tokens'; block-causal models also the
fill's given the suffix first in the cache. Then each rule's pick is scored as eval.py does
(exact line, difflib similarity of the first line). Rules: the oracle (the candidate most like
the true line), the decoded fill alone, the first 32 suffix tokens (the rule before 2026-12-06),
other suffix lengths, mixes with the fill's own probability, and the consensus (minimum Bayes
risk) of those scores at several temperatures (eval.py consensus_pick; the app's rule at T = 2.5).

--copies adds the lines in view (eval.py copied_lines: every whole line of the visible prefix and
suffix) as candidates, as the app's Fill since 2026-12-06; --width sets the beams (8; the app's 4).
The candidates begin as the decoded fill does, the Fill's rule before it was told that the hole
begins a line (eval.py ranked_fill begins_line, the app's since 2026-12-06): the rules here were
measured, and chosen, on those.

Usage: python3 training/infill_rank.py --model DIR [--view own|mixed|both|prefix|twin] [--copies] [--rows rows.json] [--out result.json]
"""
import argparse
import json
import math
import os
import time

import torch

import eval as E
from tokenizer import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


@torch.no_grad()
def token_logprobs(model, tok, x):
    """log P(x[i+1] | x[..i]) for every i, left to right (AR head)."""
    lg = model(torch.tensor([x]))[0].float().double()
    lg[:, tok.mask] = -float("inf")
    return lg.log_softmax(-1)[:-1].gather(1, torch.tensor(x[1:])[:, None])[:, 0].clamp(min=-69).tolist()


@torch.no_grad()
def fill_given_both_sides(model, tok, prefix, fill, suffix, n_masks):
    """log P(fill token | suffix first in the cache at its true positions, prefix, fill before it)."""
    suf_pos = list(range(len(prefix) + n_masks, len(prefix) + n_masks + len(suffix)))
    ctx = list(suffix) + list(prefix) + list(fill)
    lg = E.block_step(model, torch.tensor([ctx]), suf_pos + list(range(len(prefix) + len(fill))),
                      torch.full((1, 1), tok.mask), len(prefix) + len(fill), context_rows=len(fill))[0].float().double()
    lg[:, tok.mask] = -float("inf")
    return lg.log_softmax(-1)[:len(fill)].gather(1, torch.tensor(fill)[:, None])[:, 0].clamp(min=-69).tolist()


def gather(model, tok, cases, view, n_masks, budget, width=8, copies=False, both_sides=True):
    breaks, starts = E.newline_ids(tok), E.line_starts(tok)
    rows = []
    for pre, line, suf in cases:
        p, s, p_ar = E.infill_context(tok, pre, suf, n_masks, budget)
        if view in ("own", "mixed", "both"):
            decoded = E.block_decode(model, tok, p, n_masks, s, 0.3, order="verify", row_cost=0.45)[0]
            beams, P = E.beam_fill(model, tok, p, n_masks, s if view == "own" else (), width, breaks), p
            if view == "both":  # the suffix-first beams after the prefix-only ones
                beams += E.beam_fill(model, tok, p, n_masks, s, width, breaks)
        else:  # prefix: the own view's prefix; twin: the twin's longer one
            P = p if view == "prefix" else p_ar[-(model.cfg.max_seq_len - n_masks - 64):]
            decoded, beams = E.ar_generate(model, tok, P, n_masks), E.beam_fill(model, tok, P, n_masks, (), width, breaks)
        extra = E.copied_lines(tok, P, s, n_masks, breaks, starts, E.fill_begins_line(tok, decoded, breaks) is True,
                               E.suffix_reaches_end(tok, suf, s)) if copies else []
        dec, cands = E.fill_candidates(tok, decoded, [b for b, _ in beams], breaks, extra)
        info = []
        own = set(map(tuple, E.fill_candidates(tok, decoded, [b for b, _ in beams], breaks)[1]))
        for c in cands or [dec]:
            lp = token_logprobs(model, tok, list(P) + c + list(s)[:64])
            a = len(P) - 1
            exact, sim = E.line_score(tok.decode(c), line)
            info.append({"fill": lp[a:a + len(c)], "suffix": lp[a + len(c):], "exact": exact, "sim": sim,
                         "copied": bool(cands) and tuple(c) not in own,  # only a line in view (copied_lines)
                         "line": E.first_line(tok.decode(c)),
                         "both_sides": (fill_given_both_sides(model, tok, P, c, s, n_masks)
                                        if both_sides and E.is_block(model) and s else None)})
        rows.append(info)
    return rows


def app_score(c):
    """The app's candidate score (eval.py ranked_fill): suffix 32 + FILL_WEIGHT x fill."""
    return sum(c["suffix"][:32]) + E.FILL_WEIGHT * sum(c["fill"])


def mbr(row, weight, temperature=1.0):
    """The consensus (eval.py consensus_pick: minimum Bayes risk over the candidates' first lines,
    difflib ratio) with each candidate weighted exp(weight(c) / temperature)."""
    return E.consensus_pick([c["line"] for c in row], [weight(c) for c in row], temperature)


def top_k_consensus(row, k, temperature=E.MBR_TEMPERATURE):
    """The app's consensus over only the k best-scoring candidates (app_score; ties to the first),
    kept in their order: fewer, likelier votes."""
    keep = sorted(sorted(range(len(row)), key=lambda i: (-app_score(row[i]), i))[:k])
    return keep[mbr([row[i] for i in keep], app_score, temperature)]


RULES = {
    "oracle (knows the line)": lambda c: c["sim"],
    "decoded fill": lambda c: 0.0,
    "suffix, 8 tokens": lambda c: sum(c["suffix"][:8]),
    "suffix, 32 tokens": lambda c: sum(c["suffix"][:32]),
    "suffix, 64 tokens": lambda c: sum(c["suffix"][:64]),
    "suffix 32 + 0.25 x fill": lambda c: sum(c["suffix"][:32]) + 0.25 * sum(c["fill"]),
    "suffix 32 + 0.3 x fill": lambda c: sum(c["suffix"][:32]) + 0.3 * sum(c["fill"]),
    "suffix 32 + 0.5 x fill": lambda c: sum(c["suffix"][:32]) + 0.5 * sum(c["fill"]),
    "suffix 32 + 0.75 x fill, best score (the app's rule before the consensus)": app_score,
    "suffix 32, no lines in view (the app's rule before 2026-12-06)":
        lambda c: -math.inf if c.get("copied") else sum(c["suffix"][:32]),
    "suffix 32 + 0.75 x fill, no lines in view": lambda c: -math.inf if c.get("copied") else app_score(c),
    "oracle, no lines in view": lambda c: -math.inf if c.get("copied") else c["sim"],
    "suffix 32 + 1.5 x fill": lambda c: sum(c["suffix"][:32]) + 1.5 * sum(c["fill"]),
    "suffix 32 + fill (whole text)": lambda c: sum(c["suffix"][:32]) + sum(c["fill"]),
    "fill given both sides": lambda c: sum(c["both_sides"]) if c["both_sides"] is not None else None,
    "suffix 32 + fill given both sides - fill": lambda c: (sum(c["suffix"][:32]) + sum(c["both_sides"]) - sum(c["fill"])
                                                          if c["both_sides"] is not None else None),
}


ROW_RULES = {
    **{f"consensus of suffix 32 + 0.75 x fill at T = {T}" + (" (the app's rule)" if T == E.MBR_TEMPERATURE else ""):
       (lambda r, T=T: mbr(r, app_score, T)) for T in (1, 2, 2.5, 4, 8)},
    **{f"consensus at T = {E.MBR_TEMPERATURE}, the evidence the {K} best-scoring candidates": (lambda r, K=K: top_k_consensus(r, K))
       for K in (4, 8, 12, 16)},
    "MBR, candidates alike": lambda r: mbr(r, lambda c: 0.0),
    "MBR weighted by suffix 32": lambda r: mbr(r, lambda c: sum(c["suffix"][:32])),
    "MBR weighted by fill + suffix 32": lambda r: mbr(r, lambda c: sum(c["fill"]) + sum(c["suffix"][:32])),
    "MBR weighted by 0.5 x suffix 32": lambda r: mbr(r, lambda c: 0.5 * sum(c["suffix"][:32])),
}


def score_rules(rows):
    out = {}
    rules = {name: (lambda r, rule=rule: max(range(len(r)), key=lambda i: (rule(r[i]), -i))) for name, rule in RULES.items()
             if not any(rule(c) is None for r in rows for c in r)}
    for name, pick in {**rules, **ROW_RULES}.items():
        # ties to the first candidate (the decoded fill's cuts come first), as ranked_fill
        picks = [pick(r) for r in rows]
        out[name] = {"exact": sum(r[i]["exact"] for r, i in zip(rows, picks)) / len(rows),
                     "similarity": round(sum(r[i]["sim"] for r, i in zip(rows, picks)) / len(rows), 4)}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--view", default="own", choices=["own", "mixed", "both", "prefix", "twin"])
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--n-infill", type=int, default=100)
    ap.add_argument("--infill-masks", type=int, default=24)
    ap.add_argument("--infill-context", type=int, default=128)
    ap.add_argument("--width", type=int, default=8, help="beams (the app's Fill: 4)")
    ap.add_argument("--copies", action="store_true", help="the lines in view are candidates too (the app's Fill since 2026-12-06)")
    ap.add_argument("--no-both-sides", action="store_true", help="skip the fill-given-both-sides scores (a forward per candidate)")
    ap.add_argument("--out")
    ap.add_argument("--rows", help="gathered candidates: written here, or read from here when it exists "
                    "(then no model is run; to try other rules)")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 0) or max(1, os.cpu_count() or 1))
    model = E.load_model(args.model)
    tok = Tokenizer.load(os.path.join(args.model, "tokenizer.json"))
    if args.view != "twin" and not E.is_block(model):
        ap.error("--view own needs a block-causal diffusion model (an AR model has only the twin's view)")
    docs = [json.loads(l)["text"] for l in open(os.path.join(args.data, "corpus", "heldout.jsonl"))]
    t0 = time.time()
    read = bool(args.rows) and os.path.exists(args.rows)
    if read:
        rows = json.load(open(args.rows))
    else:
        cases = E.infill_cases(docs, tok, args.n_infill)
        rows = gather(model, tok, cases, args.view, args.infill_masks, min(args.infill_context, model.cfg.max_seq_len),
                      args.width, args.copies, not args.no_both_sides)
        if args.rows:
            json.dump(rows, open(args.rows, "w"))
    result = {"model": os.path.basename(args.model.rstrip("/")), "view": args.view, "holes": len(rows),
              "context": args.infill_context, "width": args.width, "copies": args.copies,
              "candidates_per_hole": round(sum(len(r) for r in rows) / len(rows), 2), "rules": score_rules(rows),
              "seconds": round(time.time() - t0)}
    if read:
        result["note"] = f"rules scored from the candidates gathered before ({args.rows}): 'seconds' is the scoring's alone"
    for name, r in result["rules"].items():
        print(f"{name:45s} exact {r['exact']:.2f}  similarity {r['similarity']:.4f}")
    print(f"{result['candidates_per_hole']} candidates per hole, {result['seconds']} s")
    if args.out:
        json.dump(result, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
