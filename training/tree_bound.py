"""How many tokens per forward could verified decoding make from the block's own drafts if rows
were free (a GPU), with the drafts arranged as a tree? No engine runs trees; this bounds what
building one would buy.

For each held-out header the model's greedy text g (the AR head's: what verified decoding writes,
whatever the drafts) is decoded for --tokens tokens, and at every point p one block step of B
mask rows after g[:p] gives the mask rows' top-k guesses for p+1 .. p+B-1 (row 0 is the AR head's
g[p]). Then decodings are replayed on those records, one forward per step:

  chain tau      the app's block drafts with rows free: the run of top-1 guesses >= tau; mask rows
                 only after the whole run (a rejected run leaves the next step without drafts)
  chain, every   the same, with mask rows after every draft (rows free): drafts at every step
  tree N/K       the N likeliest prefixes (product of the guesses' probabilities, K per position)
                 verified at once, mask rows after every node; the step keeps the longest prefix
                 of g in the tree, then the AR head's token

  OMP_NUM_THREADS=1 python3 training/tree_bound.py --model training/runs/float/qs-code-diffusion-base-v3 --n 100
"""
import argparse
import heapq
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from eval import function_prompts  # noqa: E402
from export import load_model  # noqa: E402
from model import block_step  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


@torch.no_grad()
def records(model, tok, heads, n_tokens, block, k):
    """Per header: g (greedy ids) and rows[p] = (ids, probs), each (block, k): row 0 the AR head at
    p, row j >= 1 the mask row's guesses for p + j, all after g[:p]."""
    out = []
    for h in heads:
        text = tok.encode(h)
        start, rows = len(text), []
        for _ in range(n_tokens):
            c = len(text)
            logits = block_step(model, torch.tensor([text]), list(range(c)), torch.full((1, block), tok.mask), c)[0].float()
            logits[:, tok.mask] = -float("inf")
            v, ix = logits.softmax(-1).topk(k, -1)
            rows.append((ix.tolist(), v.tolist()))
            text.append(rows[-1][0][0][0])
            if text[-1] in (tok.pad, tok.eos):
                break
        out.append({"g": text[start:], "rows": rows})
    return out


def tree(row, budget, k):
    """The `budget` likeliest draft prefixes (tuples of ids) from one step's mask rows, k per depth."""
    ids, ps = row
    nodes, heap = set(), [(-1.0, ())]
    while heap and len(nodes) < budget:
        neg, path = heapq.heappop(heap)
        if path:
            nodes.add(path)
        d = len(path) + 1
        if d < len(ids):
            for r in range(k):
                heapq.heappush(heap, (neg * ps[d][r], path + (ids[d][r],)))
    return nodes


def replay(rec, rule, tau=0.3, budget=7, k=1):
    """(tokens, forwards) of one header's decoding under `rule` ('chain', 'every' or 'tree')."""
    g, rows = rec["g"], rec["rows"]
    p = forwards = 0
    src = None  # the record whose mask rows hold this step's drafts
    while p < len(g):
        forwards += 1
        j, whole = 0, True
        if src is not None and rule == "tree":
            nodes = tree(rows[src], budget, k)
            while p + j < len(g) and tuple(g[p:p + j + 1]) in nodes:
                j += 1
        elif src is not None:
            ids, ps = rows[src]
            drafts = []
            for d in range(1, len(ids)):
                if ps[d][0] < tau:
                    break
                drafts.append(ids[d][0])
            drafts = drafts[:len(g) - p]
            while j < len(drafts) and drafts[j] == g[p + j]:
                j += 1
            whole = j == len(drafts)
        p += j + 1
        src = p - 1 if whole or rule != "chain" else None
    return len(g), forwards


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--block", type=int, default=8)
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))
    model = load_model(args.model).eval()
    tok = Tokenizer.load(os.path.join(HERE, "data", "tokenizer.json"))
    docs = [json.loads(l)["text"] for l in open(os.path.join(HERE, "data", "corpus", "heldout.jsonl"))]
    recs = records(model, tok, function_prompts(docs, args.n), args.tokens, args.block, 4)
    # how often the mask row for p + d guesses g[p + d] within its top 1..4
    hits = {}
    for rec in recs:
        g, rows = rec["g"], rec["rows"]
        for p, (ids, _) in enumerate(rows):
            for d in range(1, args.block):
                if p + d < len(g):
                    h = hits.setdefault(d, [0] * 5)
                    h[4] += 1
                    for r in range(4):
                        h[r] += g[p + d] in ids[d][:r + 1]
    result = {"model": args.model, "headers": len(recs), "tokens": args.tokens, "block": args.block,
              "mask_row_top_k": {f"+{d}": [round(h[r] / h[4], 3) for r in range(4)] for d, h in sorted(hits.items())},
              "tokens_per_forward": {}}
    for name, rule, kw in [("chain tau 0.3", "chain", {}), ("chain tau 0.3, every", "every", {}),
                           ("tree 7/1", "tree", {"budget": 7, "k": 1}), ("tree 16/2", "tree", {"budget": 16, "k": 2}),
                           ("tree 32/3", "tree", {"budget": 32, "k": 3}), ("tree 64/4", "tree", {"budget": 64, "k": 4}),
                           ("tree 256/4", "tree", {"budget": 256, "k": 4})]:
        t = f = 0
        for rec in recs:
            a, b = replay(rec, rule, **kw)
            t, f = t + a, f + b
        result["tokens_per_forward"][name] = round(t / f, 3)
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
