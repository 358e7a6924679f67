"""How many tokens per forward can drafts copied from the text give at most? An offline bound
over a `bench:generate` results file (no model run): the greedy text of its `ar` runs is what
draft + verify decoding writes (bench/README "Generation"), so a step commits the AR head's token
plus the longest run of drafts that match it. Reported per draft source, up to 16 drafts a step:
  K = 1     the tokens after the latest earlier occurrence of the last 3 (else 2, else 1)
            tokens: the app's prompt lookup (GenerateRequest.lookup, lookupMatch 1); "match 2":
            after 3 or 2 tokens only (lookupMatch 2, the rule before 2026-12-04). Unlike the
            app's copy, which goes on with its own tokens past the end of the text, a copy here
            stops there, so K = 1 slightly understates the app's rule;
  K = 2..64 the best of the K latest distinct such continuations: what verifying a tree of
            copies in one forward (several branches, each row attending to its own branch)
            would give;
  any       the longest match of the text ahead with any earlier stretch of the text: no copy
            rule can do better.
The block's own drafts are left out (they add ~0.07 tokens per forward: bench/README).
  python3 bench/draft_bound.py bench/results/generate-cpu-1T-qs-code-diffusion-small-v2-int8.json --length 64
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training"))
from tokenizer import Tokenizer  # noqa: E402

MAX_DRAFT = 16


def continuations(t, n, min_match):
    """Distinct continuations (≤ MAX_DRAFT tokens, inside t[:n]) after earlier occurrences of
    t[n-3:n], then of t[n-2:n], then (min_match 1) of t[n-1]; latest first."""
    out = []
    for m in range(3, min_match - 1, -1):
        if n < m + 1:
            continue
        key = t[n - m:n]
        for j in range(n - m - 1, -1, -1):
            if t[j:j + m] == key:
                c = t[j + m:min(j + m + MAX_DRAFT, n)]
                if c and c not in out:
                    out.append(c)
    return out


def matched(c, t, n):
    a = 0
    while a < len(c) and n + a < len(t) and c[a] == t[n + a]:
        a += 1
    return a


def longest_anywhere(t, n):
    return max((matched(t[j:min(j + MAX_DRAFT, n)], t, n) for j in range(n)), default=0)


def tokens_per_forward(texts, draft):
    """texts: [(prompt ids, generated ids)]; draft(t, n) -> drafts kept at position n."""
    toks = fws = 0
    for p, g in texts:
        t, n = p + g, len(p)
        while n < len(t):
            step = min(draft(t, n) + 1, len(t) - n)
            n += step
            toks += step
            fws += 1
    return toks / fws


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results", help="bench/results/generate-*.json (with its `ar` runs' text)")
    ap.add_argument("--length", type=int, default=64)
    ap.add_argument("--tokenizer", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "public",
                                                        "models", "qs-code-ar-small-v3", "tokenizer.json"))
    args = ap.parse_args()
    tok = Tokenizer.load(args.tokenizer)
    d = json.load(open(args.results))
    prompts = d["prompts"]["list"]
    texts = []
    for r in d["runs"]:
        if r["config"] == "ar" and r["genLength"] == args.length:
            p = tok.encode(prompts[r["prompt"]])
            texts.append((p, tok.encode(prompts[r["prompt"]] + r["text"])[len(p):]))
    out = {"results": os.path.basename(args.results), "length": args.length, "runs": len(texts)}
    for mm in (2, 1):
        for k in (1, 2, 4, 8, 64):
            out[f"match {mm}, K={k}"] = round(tokens_per_forward(
                texts, lambda t, n: max((matched(c, t, n) for c in continuations(t, n, mm)[:k]), default=0)), 3)
    out["any"] = round(tokens_per_forward(texts, longest_anywhere), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
