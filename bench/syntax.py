"""The Python half of bench/generate.bench.ts: prompt selection and the syntax check, with the
exact rules of training/eval.py (function_prompts, function_ok), taken from that file's source
by `ast` so nothing drifts and torch is never imported.

  python3 bench/syntax.py prompts HELDOUT.jsonl N   -> JSON list of N function headers
  python3 bench/syntax.py cursors HELDOUT.jsonl N   -> JSON list of N texts cut at a cursor
  python3 bench/syntax.py infill HELDOUT.jsonl N TOKENIZER.json [BUDGET]  -> JSON list of N line
      holes (eval.py's infill_cases and its cut of a BUDGET-token budget, default 256, the app's
      layout at the models' context: 116 suffix tokens, 24 masks, the prefix's last 116 tokens; the
      AR twin's prompt: the prefix's last 232 tokens)
  python3 bench/syntax.py similarity < pairs.json   -> JSON list of [exact, difflib ratio]
      pairs.json: [{"got": "<filled text>", "line": "<the true line>"}, ...] (eval.py's cut:
      the fill's first line, its leading newline dropped)
  python3 bench/syntax.py check < cases.json        -> JSON list of booleans
      cases.json: [{"head": "def f(x):", "body": "<generated text after the header>"}, ...]
"""
import ast
import difflib
import json
import os
import random
import re
import sys
import textwrap

EVAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training", "eval.py")


def _load(names):
    with open(EVAL) as f:
        tree = ast.parse(f.read(), EVAL)
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    missing = set(names) - {d.name for d in defs}
    if missing:
        raise SystemExit(f"training/eval.py has no {', '.join(sorted(missing))}")
    scope = {"ast": ast, "difflib": difflib, "random": random, "re": re, "textwrap": textwrap}
    exec(compile(ast.Module(body=defs, type_ignores=[]), EVAL, "exec"), scope)
    return scope


def cursors(docs, n, seed=3, chars=480, partial=False):
    """Completion prompts: in each of n files (seeded order), the text up to the end of a line,
    at least 12 lines in, the next line inside an indented block; its last `chars` characters
    from a line start (what an editor holds before the cursor when the next line is to be written).
    partial: the same places, with the first half of that next line typed too (cut after a
    character other than a space: the cursor at the end of a half-written line)."""
    rng = random.Random(seed)
    order = list(range(len(docs)))
    rng.shuffle(order)
    out = []
    for i in order:
        lines = docs[i].split("\n")
        spots = [j for j in range(12, len(lines) - 1) if lines[j].startswith((" ", "\t")) and lines[j].strip()]
        if not spots:
            continue
        j = rng.choice(spots)
        before = "\n".join(lines[:j])  # the cursor at the end of a line: the model writes "\n" + indent
        if partial:
            line = lines[j]
            ind = len(line) - len(line.lstrip())
            k = max(1, len(line.strip()) // 2)
            while k > 1 and line[ind + k - 1] in " \t":
                k -= 1
            before += "\n" + line[:ind + k]
        cut = before[-chars:]
        if len(cut) < len(before):
            cut = cut[cut.index("\n") + 1:] if "\n" in cut else cut
        out.append(cut)
        if len(out) == n:
            break
    return out


def main():
    fns = _load(["function_prompts", "function_ok", "failure"])
    if sys.argv[1] == "prompts":
        with open(sys.argv[2]) as f:
            docs = [json.loads(line)["text"] for line in f]
        json.dump(fns["function_prompts"](docs, int(sys.argv[3])), sys.stdout, indent=1)
    elif sys.argv[1] in ("cursors", "partial"):
        with open(sys.argv[2]) as f:
            docs = [json.loads(line)["text"] for line in f]
        json.dump(cursors(docs, int(sys.argv[3]), partial=sys.argv[1] == "partial"), sys.stdout, indent=1)
    elif sys.argv[1] == "infill":
        sys.path.insert(0, os.path.dirname(EVAL))
        from tokenizer import Tokenizer
        ev = _load(["infill_cases", "infill_context", "suffix_reaches_end"])
        tok = Tokenizer.load(sys.argv[4])
        with open(sys.argv[2]) as f:
            docs = [json.loads(line)["text"] for line in f]
        out = []
        for pre, line, suf in ev["infill_cases"](docs, tok, int(sys.argv[3])):
            p, s, p_ar = ev["infill_context"](tok, pre, suf, 24, int(sys.argv[5]) if len(sys.argv) > 5 else 256)
            out.append({"prefix": p, "suffix": s, "arPrefix": p_ar, "line": line,
                        "suffixEndsText": ev["suffix_reaches_end"](tok, suf, s)})
        json.dump(out, sys.stdout)
    elif sys.argv[1] == "similarity":
        score = _load(["line_score", "first_line"])["line_score"]
        json.dump([list(score(c["got"], c["line"])) for c in json.load(sys.stdin)], sys.stdout)
    elif sys.argv[1] == "check":
        cases = json.load(sys.stdin)
        json.dump([bool(fns["function_ok"](c["head"], c["body"])) for c in cases], sys.stdout)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
