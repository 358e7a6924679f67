"""Export a model to ONNX for the onnxruntime-web peer benchmark (bench/onnx.bench.ts).

  python3 training/export_onnx.py                      # the shipped tiny diffusion model
  python3 training/export_onnx.py --model public/models/qs-code-diffusion-tiny --out bench/onnx
  python3 training/export_onnx.py --random-6m          # also a random model of the 6M shape
  python3 training/export_onnx.py --model public/models/qs-code-diffusion-base   # the shipped base

Writes <out>/<model-id>.onnx: input "tokens" int64 (1, L), output "logits" float32 (1, L, vocab),
L dynamic; the graph is training/model.py's Transformer loaded through export.py's load_model (the
engine's view of the files: float16 weights widened to float32), exported by torch.onnx.export.

--random-6m: a Transformer of the default ModelConfig shape (dim 256, 6 layers, 8 heads, ffn 704,
vocab 4096, max_seq_len 512) with random weights, saved as a model folder <out>/qs-random-6m/
(config.json, model.safetensors in float32, manifest.json) next to its .onnx, so both engines run
exactly the same weights at 512 tokens (the shipped models stop at 256).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from export import load_model, write_manifest, write_safetensors  # noqa: E402
from model import ModelConfig, Transformer  # noqa: E402


def export_onnx(model: Transformer, path: str, opset: int = 14) -> None:
    model = model.eval()
    L = min(16, model.cfg.max_seq_len)
    example = torch.randint(0, model.cfg.vocab_size, (1, L), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            model, (example,), path,
            input_names=["tokens"], output_names=["logits"],
            dynamic_axes={"tokens": {1: "L"}, "logits": {1: "L"}},
            opset_version=opset, do_constant_folding=True,
        )
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


def random_model_folder(out_dir: str, seed: int = 1) -> Transformer:
    """A random default-shaped diffusion model, written in the shipped file format (float32)."""
    torch.manual_seed(seed)
    cfg = ModelConfig(kind="diffusion", max_seq_len=512)
    model = Transformer(cfg).eval()
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: v.detach().float().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    config = {"format": 1, **cfg.to_dict(), "dtype": "float32",
              "special_tokens": {"mask": cfg.vocab_size - 1, "pad": cfg.vocab_size - 2, "eos": cfg.vocab_size - 3},
              "training": {"note": "random weights for benchmarks (training/export_onnx.py --random-6m)"}}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    write_manifest(out_dir)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "public", "models", "qs-code-diffusion-tiny"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "onnx"))
    ap.add_argument("--random-6m", action="store_true")
    ap.add_argument("--opset", type=int, default=14)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model_id = os.path.basename(os.path.normpath(args.model))
    export_onnx(load_model(args.model), os.path.join(args.out, f"{model_id}.onnx"), args.opset)
    if args.random_6m:
        folder = os.path.join(args.out, "qs-random-6m")
        random_model_folder(folder)
        # reload through load_model: the ONNX graph sees exactly the weights the engines read
        export_onnx(load_model(folder), os.path.join(args.out, "qs-random-6m.onnx"), args.opset)


if __name__ == "__main__":
    main()
