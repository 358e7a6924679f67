"""A model that decides as an int8 export does but costs what a larger model costs: the row-cost
question of issue #16 ("would a model at the 16 MB cap make a row cheaper on the CPU engine?")
answered without training one.

  /usr/bin/python3 bench/deepen.py SRC DST --ffn F --extra-layers N

SRC is an int8 export (docs/MODEL_FORMAT.md). DST gets the same weights with
  - the ffn widened to F: w1 and w3 get zero rows, w2 zero columns (silu(0) * 0 = 0, and a zero
    input column adds 0 to every sum);
  - N identity layers appended: copies of layer 0 with wo and w2 zero, so their attention and ffn
    are computed as a real layer's (and fill their own KV cache) but add 0 to the residual.
Every new weight on a path into the residual stream (the padded ffn rows and columns, the new
layers' wo and w2) is 0, so the logits are the source's up to the order of float sums (on the CPU
engine's int8 kernels exactly: a zero column leaves a row's int16 scale and every integer sum as
they were), and the greedy text is the same; only the time differs. No manifest or golden.json is written (the benchmarks load without them).
Shapes: [n_layers + N] layers of dim D; w1, w3 [F, D], w2 [D, F], scales [rows, cols / group].
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training"))
import export  # noqa: E402

NEW_SCALE = 1e-3  # the scale of a group of zero weights: any finite value gives 0


def pad_rows(w, s, n):
    """w [rows, cols] int8, s [rows, groups] → n rows, the new ones zero."""
    return (np.concatenate([w, np.zeros((n - w.shape[0], w.shape[1]), np.int8)]),
            np.concatenate([s, np.full((n - s.shape[0], s.shape[1]), NEW_SCALE, np.float16)]))


def pad_cols(w, s, n):
    """w [rows, cols] int8, s [rows, cols / g] → n columns, the new ones zero. g is this tensor's
    own group (cols / scales: quantize.group_for may have chosen one under the config's group_size),
    and n must be a multiple of it, as the engines read the group as columns / scales."""
    g = w.shape[1] // s.shape[1]
    if n % g:
        raise SystemExit(f"--ffn {n} is not a multiple of this model's w2 group ({g} columns)")
    return (np.concatenate([w, np.zeros((w.shape[0], n - w.shape[1]), np.int8)], 1),
            np.concatenate([s, np.full((s.shape[0], n // g - s.shape[1]), NEW_SCALE, np.float16)], 1))


def deepen(src, dst, ffn, extra_layers):
    cfg = json.load(open(os.path.join(src, "config.json")))
    if cfg.get("dtype") != "int8":
        raise SystemExit(f"{src}: not an int8 export (dtype {cfg.get('dtype')})")
    if ffn < cfg["ffn_dim"]:
        raise SystemExit(f"--ffn must be ≥ the model's ffn_dim, {cfg['ffn_dim']}")
    t = export.read_safetensors(os.path.join(src, "model.safetensors"))
    out = {}
    for k, v in t.items():
        if k.endswith("_scale"):
            continue  # with its weight
        s = t.get(k + "_scale")
        if ".ffn.w1." in k or ".ffn.w3." in k:
            out[k], out[k + "_scale"] = pad_rows(v, s, ffn)
        elif ".ffn.w2." in k:
            out[k], out[k + "_scale"] = pad_cols(v, s, ffn)
        else:
            out[k] = v
            if s is not None:
                out[k + "_scale"] = s
    first = [k for k in out if k.startswith("layers.0.")]
    for i in range(cfg["n_layers"], cfg["n_layers"] + extra_layers):
        for k in first:
            name = f"layers.{i}." + k[len("layers.0."):]
            zero = (".attn.wo.weight" in k or ".ffn.w2.weight" in k) and not k.endswith("_scale")
            out[name] = np.zeros_like(out[k]) if zero else out[k].copy()
    cfg.update(ffn_dim=ffn, n_layers=cfg["n_layers"] + extra_layers)
    cfg["deepened"] = {"from": os.path.basename(os.path.normpath(src)), "note": "bench/deepen.py: same decisions, a larger model's cost"}
    os.makedirs(dst, exist_ok=True)
    export.write_safetensors(os.path.join(dst, "model.safetensors"), out)
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    shutil.copy(os.path.join(src, "tokenizer.json"), os.path.join(dst, "tokenizer.json"))
    return sum(v.size for v in out.values() if v.dtype == np.int8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--ffn", type=int, required=True, help="the new ffn width (≥ the source's, a multiple of w2's group)")
    ap.add_argument("--extra-layers", type=int, default=0, help="identity layers appended")
    args = ap.parse_args()
    n = deepen(args.src, args.dst, args.ffn, args.extra_layers)
    size = os.path.getsize(os.path.join(args.dst, "model.safetensors")) / 1e6
    print(f"{args.dst}: {n / 1e6:.2f}M int8 weights, model.safetensors {size:.1f} MB")


if __name__ == "__main__":
    main()
