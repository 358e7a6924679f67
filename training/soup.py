"""Average the weights of runs continued from the same init (a "model soup"), as one checkpoint
export.py reads. Runs that differ only in their seed (data order, noise) land on greedy bodies
that differ by several points outside the corpus; their mean is one model that does not depend on
one seed's luck. Every run must have the same config and the same init.

  python3 training/soup.py runs/v3-diff-2026/ckpt.pt runs/v3-diff-2027/ckpt.pt --out runs/v3-diff-soup/ckpt.pt

The checkpoint's tokens_seen is the runs' tokens added up (the compute spent; a twin compared at
equal compute gets the same soup of as many runs); the optimizer state is left out, so it is for
export, not for resuming.
"""
import argparse
import os

import torch


def soup(paths):
    cks = [torch.load(p, map_location="cpu") for p in paths]
    first = cks[0]
    for p, ck in zip(paths[1:], cks[1:]):
        if ck["info"]["config"] != first["info"]["config"]:
            raise SystemExit(f"{p}: another model config than {paths[0]}")
        if ck["state"].get("init") != first["state"].get("init"):
            raise SystemExit(f"{p}: another init than {paths[0]} ({ck['state'].get('init')} vs {first['state'].get('init')})")
        if ck["model"].keys() != first["model"].keys():
            raise SystemExit(f"{p}: other tensors than {paths[0]}")
    model = {k: sum(ck["model"][k].float() for ck in cks) / len(cks) for k in first["model"]}
    runs = [ck["state"] for ck in cks]
    history = list(first["state"].get("history", []))[:-1]  # what the init saw, then each run
    for p, st in zip(paths, runs):
        last = dict(st["history"][-1]) if st.get("history") else {}
        history.append({**last, "note": f"one of {len(paths)} runs averaged (training/soup.py): {p}"})
    state = {"step": sum(st["step"] for st in runs), "tokens_seen": sum(st["tokens_seen"] for st in runs),
             "seconds": sum(st["seconds"] for st in runs), "losses": first["state"].get("losses", []),
             "history": history, "init": first["state"].get("init")}
    info = dict(first["info"])
    info["args"] = {**info["args"], "soup": [ck["info"]["args"].get("seed") for ck in cks]}
    return {"model": model, "state": state, "info": info}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ckpts", nargs="+")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if len(args.ckpts) < 2:
        ap.error("a soup needs at least two checkpoints")
    for p in args.ckpts:
        if not os.path.exists(p):
            ap.error(f"{p}: no such checkpoint")
    ck = soup(args.ckpts)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(ck, args.out)
    print(f"{args.out}: mean of {len(args.ckpts)} runs, {ck['state']['tokens_seen']} tokens in all")


if __name__ == "__main__":
    main()
