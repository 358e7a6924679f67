"""Two models' syntax-valid rates compared header by header (the same --n-functions headers).

Greedy bodies flip on near-ties, so one model's rate on 600 headers moves by several points from
one checkpoint to the next; what two models share cancels when the same headers are compared in
pairs. For two eval.py --out files (or one file holding both models) with `syntax_outcomes`:
each model's rate with its standard error, the headers only one of them gets right, the difference
with its paired standard error, and the exact two-sided sign test (McNemar) on the discordant
headers: the chance of a split at least this uneven if neither model were better.

Usage: python3 training/paired.py A.json[:model-id] B.json[:model-id]
       (the model id picks one of a file's models; needed when the file holds more than one)
"""
import json
import math
import sys


def outcomes(spec):
    path, _, model = spec.partition(":")
    results = json.load(open(path))
    if not model:
        if len(results) != 1:
            sys.exit(f"{path} holds {', '.join(results)}: name one as {path}:ID")
        model = next(iter(results))
    if model not in results:
        sys.exit(f"{path} has no model {model}; it holds {', '.join(results)}")
    r = results[model]
    if "syntax_outcomes" not in r:
        sys.exit(f"{path}:{model} has no syntax_outcomes (eval.py --metrics syntax writes them)")
    return model, [c == "1" for c in r["syntax_outcomes"]]


def sign_test(a, b):
    """Two-sided exact binomial p-value of a split a : b of the discordant pairs at 1/2."""
    n = a + b
    if n == 0:
        return 1.0
    k = min(a, b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def compare(x, y):
    """(rate x, rate y, only x, only y, difference, paired standard error, sign-test p)."""
    if len(x) != len(y):
        raise ValueError(f"different header counts: {len(x)} and {len(y)}")
    n = len(x)
    only_x = sum(a and not b for a, b in zip(x, y))
    only_y = sum(b and not a for a, b in zip(x, y))
    d = (only_x - only_y) / n
    se = math.sqrt(max(0.0, (only_x + only_y) / n - d * d) / n)
    return sum(x) / n, sum(y) / n, only_x, only_y, d, se, sign_test(only_x, only_y)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    (na, a), (nb, b) = outcomes(sys.argv[1]), outcomes(sys.argv[2])
    ra, rb, oa, ob, d, se, p = compare(a, b)
    n = len(a)
    for name, r in ((na, ra), (nb, rb)):
        print(f"{name}: {100 * r:.1f}% of {n} (± {100 * math.sqrt(r * (1 - r) / n):.1f} points, one standard error)")
    print(f"only {na}: {oa} headers; only {nb}: {ob}")
    print(f"difference {100 * d:+.1f} points ± {100 * se:.1f} (paired standard error); sign test p = {p:.3g}")


if __name__ == "__main__":
    main()
