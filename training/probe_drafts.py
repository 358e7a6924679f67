"""Tokens per forward of a block-causal checkpoint's verified decoding, without exporting it:
the app's default decoding (eval.py verify_decode, greedy, tau 0.3, adaptive rows) on N held-out
function headers. For watching a distillation
run (training/distill.sh) while it trains:

  OMP_NUM_THREADS=1 python3 training/probe_drafts.py --ckpt training/runs/v2-distill/ckpt.pt --n 30
  OMP_NUM_THREADS=1 python3 training/probe_drafts.py --model public/models/qs-code-diffusion-small-v2 --n 30
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from eval import function_prompts, verify_decode  # noqa: E402
from export import load_model  # noqa: E402
from model import ModelConfig, Transformer  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt")
    ap.add_argument("--model")
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--tau", type=float, default=0.3)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))
    if args.ckpt:
        ck = torch.load(args.ckpt, map_location="cpu")
        model = Transformer(ModelConfig(**ck["info"]["config"]))
        model.load_state_dict(ck["model"])
        step = ck["state"]["step"]
    else:
        model, step = load_model(args.model), None
    model.eval()
    tok = Tokenizer.load(os.path.join(HERE, "data", "tokenizer.json"))
    docs = [json.loads(l)["text"] for l in open(os.path.join(HERE, "data", "corpus", "heldout.jsonl"))]
    gen = fwd = 0
    with torch.no_grad():
        for h in function_prompts(docs, args.n):
            ids, f = verify_decode(model, tok, tok.encode(h), args.tokens, (), args.tau, model.cfg.block_size)
            cut = [i for i, t in enumerate(ids) if t in (tok.pad, tok.eos)]
            gen += cut[0] if cut else len(ids)
            fwd += f
    print(json.dumps({"step": step, "prompts": args.n, "tokens": gen, "forwards": fwd,
                      "tokens_per_forward": round(gen / max(1, fwd), 3)}))


if __name__ == "__main__":
    main()
