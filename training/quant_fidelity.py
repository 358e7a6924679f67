"""How close an int8 export is to the float model it came from, on held-out windows: the AR
head's (causal rows') mean KL(float ‖ int8) and the share of positions whose greedy token changes.

    OMP_NUM_THREADS=2 python3 training/quant_fidelity.py public/models/qs-code-diffusion-small-v3-int8 [...]

The float model is the folder named by config.json's quantization.from, next to the int8 one.
"""
import argparse
import json
import os

import numpy as np
import torch

import quantize
from export import load_model

HERE = os.path.dirname(os.path.abspath(__file__))


@torch.no_grad()
def causal_logits(model, X, batch=8):
    """(N, L, V) logits of the causal rows of windows X (N, L): AR models as they are, block-causal
    models' clean rows (their AR head)."""
    return torch.cat([model(X[i:i + batch]).float() for i in range(0, len(X), batch)])


def fidelity(float_model, int8_model, X):
    ref, out = causal_logits(float_model, X), causal_logits(int8_model, X)
    return {"kl": quantize.mean_kl(ref, out).item(),
            "greedy_changed": (out.argmax(-1) != ref.argmax(-1)).float().mean().item()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("int8", nargs="+", help="int8 model folders")
    ap.add_argument("--float", help="the float model folder (default: quantization.from beside each)")
    ap.add_argument("--windows", type=int, default=48)
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    args = ap.parse_args()
    held = np.memmap(os.path.join(args.data, "heldout.bin"), dtype=np.uint16, mode="r")
    for path in args.int8:
        cfg = json.load(open(os.path.join(path, "config.json")))
        src = args.float or os.path.join(os.path.dirname(os.path.normpath(path)), cfg["quantization"]["from"])
        f, q = load_model(src), load_model(path)
        X = torch.cat([w["tokens"] for w in quantize.plain_windows(held, f.cfg.max_seq_len, args.windows, seed=args.seed)])
        print(json.dumps({"model": os.path.basename(os.path.normpath(path)), "windows": args.windows,
                          "quantization": cfg["quantization"], **fidelity(f, q, X)}))


if __name__ == "__main__":
    main()
