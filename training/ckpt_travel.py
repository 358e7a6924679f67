"""Shrink a training checkpoint to travel (to a GPU machine and back) and restore it there.

  python3 training/ckpt_travel.py pack   runs/x/ckpt.pt  OUT.pt   # weights float16, Adam moments bfloat16
  python3 training/ckpt_travel.py unpack OUT.pt  runs/x/ckpt.pt   # everything back to float32

A packed checkpoint is half the size of the float32 one (a third with the moments). Rounding the
weights to float16 once (11-bit mantissa) changes them by far less than one optimizer step does;
the step counter, the token count and the data order (train.py's windows are a function of the
step) are kept exactly, so `train.py` resumes where it stopped.
"""
import sys

import torch


def cast(obj, dtype):
    """Every float tensor in obj to dtype, except scalars (Adam's step counts stay exact)."""
    if torch.is_tensor(obj) and obj.is_floating_point() and obj.dim() > 0:
        return obj.to(dtype)
    if isinstance(obj, dict):
        return {k: cast(v, dtype) for k, v in obj.items()}
    if isinstance(obj, list):
        return [cast(v, dtype) for v in obj]
    return obj


def main():
    op, src, dst = sys.argv[1:4]
    ck = torch.load(src, map_location="cpu")
    if op == "pack":
        ck = dict(ck, model=cast(ck["model"], torch.float16), opt=cast(ck["opt"], torch.bfloat16))
    elif op == "unpack":
        ck = dict(ck, model=cast(ck["model"], torch.float32), opt=cast(ck["opt"], torch.float32))
    else:
        sys.exit(f"unknown operation {op} (pack or unpack)")
    torch.save(ck, dst)


if __name__ == "__main__":
    main()
