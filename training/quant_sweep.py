"""Choose the int8 group size and compensation by measurement (training/quantize.py).

For each model folder and each (group, method): quantise, then measure on held-out windows the
relative output error of every matrix on its calibration inputs (mean over matrices) and the exact
bits/byte (AR: next-token NLL; block-causal: eval.py's exact left-to-right bits/byte), and the
size of the int8 file (int8 + float16 scales + float16 norms) against the float16 file.

    OMP_NUM_THREADS=2 python3 training/quant_sweep.py --model public/models/qs-code-ar-small-v3 \\
        --groups 32,64,0 --methods rtn,gptq --out training/evals/int8-sweep.json
(group 0: one scale per row)
"""
import argparse
import copy
import json
import math
import os
import time

import numpy as np
import torch

import quantize
from eval import bits_per_byte
from export import load_model
from tokenizer import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


def file_bytes(model, group):
    n = 0
    for name, v in model.state_dict().items():
        if v.dim() == 2:
            rows, cols = v.shape
            n += rows * cols + 2 * rows * (cols // quantize.group_for(cols, group))
        else:
            n += 2 * v.numel()
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--groups", default="32,64,0")
    ap.add_argument("--methods", default="rtn,gptq")
    ap.add_argument("--calib-windows", type=int, default=32)
    ap.add_argument("--windows", type=int, default=16, help="held-out windows for bits/byte")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    train = np.memmap(os.path.join(args.data, "train.bin"), dtype=np.uint16, mode="r")
    held = np.memmap(os.path.join(args.data, "heldout.bin"), dtype=np.uint16, mode="r")
    results = json.load(open(args.out)) if os.path.exists(args.out) else {}
    for path in args.model:
        mid = os.path.basename(os.path.normpath(path))
        cfg_json = json.load(open(os.path.join(path, "config.json")))
        tok = Tokenizer.load(os.path.join(path, "tokenizer.json"))
        base = load_model(path)
        batches = lambda m: (lambda: quantize.calibration_batches(m, train, args.calib_windows,
                                                                  special=cfg_json["special_tokens"],
                                                                  args=cfg_json["training"].get("args")))
        names = ["output"] + [f"layers.{l}.{n}" for l in range(base.cfg.n_layers) for n in quantize.LAYER_LINEARS]
        H = quantize.collect(base, batches(base), names)  # float model's inputs, for the error measure
        bpb, exact = bits_per_byte(base, tok, held, args.windows, 1)
        r = results.setdefault(mid, {})
        f16 = sum(2 * v.numel() for v in base.state_dict().values())
        r["float16"] = {"bits_per_byte_exact": round(exact if base.cfg.attention == "block_causal" else bpb, 4), "bytes": f16}
        print(mid, r["float16"], flush=True)
        for group in [int(g) for g in args.groups.split(",")]:
            for method in args.methods.split(","):
                t0 = time.time()
                m = copy.deepcopy(base)
                quantize.quantize_model(m, batches(m), group, method, log=lambda s: None)
                sd, sd0 = m.state_dict(), base.state_dict()
                errs = []
                for n in names:
                    w = "tok_embeddings.weight" if n == "output" else n + ".weight"
                    errs.append(quantize.output_error(sd0[w].numpy(), sd[w].numpy(), H[n]))
                bpb, exact = bits_per_byte(m, tok, held, args.windows, 1)
                key = f"g{group or 'row'}-{method}"
                r[key] = {"group": group, "method": method, "output_rel_err_mean": float(np.mean(errs)),
                          "output_rel_err_head": errs[0],
                          "bits_per_byte_exact": round(exact if m.cfg.attention == "block_causal" else bpb, 4),
                          "bytes": file_bytes(m, group), "seconds": round(time.time() - t0)}
                print(mid, key, r[key], flush=True)
                json.dump(results, open(args.out, "w"), indent=1)
    json.dump(results, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
