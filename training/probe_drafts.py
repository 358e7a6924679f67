"""Tokens per forward and syntax-valid share of a block-causal checkpoint's verified decoding,
without exporting it: eval.py's syntax_valid with the app's default decoding (greedy, tau 0.3,
adaptive rows) on N held-out function headers. For watching a distillation
run (training/distill.sh) while it trains:

  OMP_NUM_THREADS=1 python3 training/probe_drafts.py --ckpt training/runs/v2-distill/ckpt.pt --n 30
  OMP_NUM_THREADS=1 python3 training/probe_drafts.py --model public/models/qs-code-diffusion-small-v3 --n 30
  python3 training/probe_drafts.py --model public/models/qs-code-diffusion-small-v3 --head training/runs/draft-head.pt --n 200
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from eval import function_prompts, syntax_valid  # noqa: E402
from export import load_model  # noqa: E402
from model import ModelConfig, Transformer  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt")
    ap.add_argument("--model")
    ap.add_argument("--head", help="with --model: a draft-only head (training/draft_head.py) on its mask rows")
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--tau", type=float, default=0.3)
    ap.add_argument("--lookup", type=int, default=16, help="drafts copied from the text (0: the block's drafts alone)")
    ap.add_argument("--row-cost", type=float, default=0.0, help="sampler.ts rowCost (0: rows are free, as on a GPU)")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))
    if args.ckpt:
        ck = torch.load(args.ckpt, map_location="cpu")
        model = Transformer(ModelConfig(**ck["info"]["config"]))
        model.load_state_dict(ck["model"])
        step = ck["state"]["step"]
    elif args.head:
        from draft_head import load
        model, step = load(args.model, args.head), None
    else:
        model, step = load_model(args.model), None
    model.eval()
    tok = Tokenizer.load(os.path.join(HERE, "data", "tokenizer.json"))
    docs = [json.loads(l)["text"] for l in open(os.path.join(HERE, "data", "corpus", "heldout.jsonl"))]
    with torch.no_grad():
        ok, tpf = syntax_valid(model, tok, function_prompts(docs, args.n), args.tokens, args.tau,
                               row_cost=args.row_cost, lookup=args.lookup)
    print(json.dumps({"step": step, "head": args.head, "prompts": args.n, "lookup": args.lookup, "row_cost": args.row_cost, "syntax_valid": ok,
                      "tokens_per_forward": round(tpf, 3)}))


if __name__ == "__main__":
    main()
