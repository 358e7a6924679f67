"""Export a checkpoint to the files of docs/MODEL_FORMAT.md in public/models/<model-id>/.

  config.json        architecture, special tokens, provenance (training), eval results
  model.safetensors  float16 weights (written here by hand: 8-byte header length, JSON, data)
  tokenizer.json     copied from the training data folder
  golden.json        float32 logits computed from the float16-rounded weights, for engine tests
  manifest.json      every file's byte size and SHA-256

Usage: python3 training/export.py --ckpt training/runs/diff/ckpt.pt --id qs-code-diffusion-6m
int8 (training/quantize.py: per-group scales, GPTQ-style error feedback on calibration windows),
from an exported float16 folder:
       python3 training/export.py --int8 public/models/qs-code-diffusion-small-v3 \
           --id qs-code-diffusion-small-v3-int8 [--group 64] [--method gptq] [--calib-windows 128] \
           [--tune-steps 200] (scale tuning after quantising: quantize.tune_scales)
"""
import argparse
import hashlib
import json
import os
import shutil
import struct

import numpy as np
import torch

from model import ModelConfig, Transformer, block_step

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FORMAT = 2  # 2: attention, block_size, shift in config.json (docs/MODEL_FORMAT.md)
DTYPES = {np.float16: "F16", np.float32: "F32", np.int8: "I8"}


def write_safetensors(path, tensors: dict):
    """tensors: name -> numpy array (float16/float32/int8), written in name order."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        raw = a.tobytes()
        header[name] = {"dtype": DTYPES[a.dtype.type], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)  # align the data to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read_safetensors(path) -> dict:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    rev = {v: k for k, v in DTYPES.items()}
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=rev[h["dtype"]]).reshape(h["shape"])
    return out


def float_weights(weights: dict) -> dict:
    """name -> float32 array; int8 `X` with `X_scale` (rows, groups) dequantised per group."""
    out = {}
    for name, v in weights.items():
        if name.endswith("_scale"):
            continue
        if v.dtype == np.int8:
            s = weights[name + "_scale"].astype(np.float32).reshape(v.shape[0], -1)
            v = v.astype(np.float32) * np.repeat(s, v.shape[1] // s.shape[1], axis=1)
        out[name] = v.astype(np.float32)
    return out


def load_model(model_dir) -> Transformer:
    """Rebuild a float32 Transformer from an exported folder (the engine's view of the files:
    float16 weights widened, int8 weights dequantised)."""
    cfg_json = json.load(open(os.path.join(model_dir, "config.json")))
    cfg = ModelConfig(**{k: cfg_json[k] for k in ModelConfig.__dataclass_fields__ if k in cfg_json})
    model = Transformer(cfg)
    weights = float_weights(read_safetensors(os.path.join(model_dir, "model.safetensors")))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    return model.eval()


def golden_cases(model, special, seed=0):
    """Two or more inputs (with mask tokens) and PyTorch float32 logits at chosen positions.
    Block-causal models: block steps instead (context with positions, a block with masks, the
    logits predicting some block positions), one of them a suffix-first infill layout."""
    cfg = model.cfg
    g = torch.Generator().manual_seed(seed)
    cases = []
    if cfg.attention == "block_causal":
        S = cfg.max_seq_len
        for C, B, suffix in ((1, 4, 0), (13, 8, 0), (S - 40, 16, 0), (20, 8, 9)):
            ids = torch.randint(0, cfg.vocab_size - 3, (C + B,), generator=g)
            ctx, blk = ids[:C], ids[C:].clone()
            blk[torch.rand(B, generator=g) < 0.6] = special["mask"]
            prefix = C - suffix
            cpos = list(range(prefix + B + 5, prefix + B + 5 + suffix)) + list(range(prefix))
            with torch.no_grad():
                logits = block_step(model, ctx[None], cpos, blk[None], prefix)[0].float()
            offsets = sorted({0, 1, B - 1, int(torch.randint(0, B, (1,), generator=g))})
            cases.append({"context": ctx.tolist(), "context_positions": cpos, "block": blk.tolist(),
                          "block_pos0": prefix, "offsets": offsets,
                          "logits": [[round(float(v), 6) for v in logits[o]] for o in offsets]})
        return cases
    for L in (min(16, cfg.max_seq_len), min(61, cfg.max_seq_len), cfg.max_seq_len):
        ids = torch.randint(0, cfg.vocab_size - 3, (L,), generator=g)
        masked = torch.rand(L, generator=g) < 0.4
        if cfg.kind == "diffusion":
            ids[masked] = special["mask"]
        positions = sorted(set([0, L - 1] + torch.randint(0, L, (3,), generator=g).tolist()))
        with torch.no_grad():
            logits = model(ids[None])[0].float()
        cases.append({"input_ids": ids.tolist(), "positions": positions,
                      "logits": [[round(float(v), 6) for v in logits[p]] for p in positions]})
    return cases


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export(ckpt_path, model_id, out_root, data_dir, eval_results=None):
    ck = torch.load(ckpt_path, map_location="cpu")
    info, state = ck["info"], ck["state"]
    cfg = ModelConfig(**info["config"])
    out = os.path.join(out_root, model_id)
    os.makedirs(out, exist_ok=True)
    tensors = {k: v.float().numpy().astype(np.float16) for k, v in ck["model"].items()}
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    shutil.copy(os.path.join(data_dir, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    recipe_path = os.path.join(data_dir, "corpus", "recipe.json")
    recipe = json.load(open(recipe_path)) if os.path.exists(recipe_path) else {}
    config = {"format": FORMAT, **cfg.to_dict(), "dtype": "float16",
              "special_tokens": info["special_tokens"],
              "training": {"corpus": "Python stdlib + Debian packages: " +
                           ", ".join(recipe.get("packages", {})),
                           "tokens_seen": state["tokens_seen"] + state.get("init", {}).get("tokens_seen", 0),
                           "init": state.get("init"), "steps": state["step"],
                           "device": info["device"], "seconds": round(state["seconds"]),
                           "git_commit": info["git_commit"],
                           "final_loss": state["losses"][-1][1] if state["losses"] else None,
                           "history": state.get("history", []),
                           "args": {k: info["args"][k] for k in
                                    ("size", "batch", "lr", "random_share", "pad_share", "seed", "attention",
                                     "block_size", "ar_weight", "fim_share", "fim_clean", "fim_clean_share", "init", "soup")
                                    if k in info["args"]}},
              "eval": config_eval(eval_results or {})}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    model = load_model(out)  # float16-rounded weights in float32: what the engine computes
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump({"cases": golden_cases(model, info["special_tokens"])}, f)
    write_manifest(out)
    return out


def export_int8(src, model_id, out_root, data_dir, group=64, method="gptq", calib_windows=128,
                embed_method=None, log=print, calib_data=None, tune_steps=0, tune_windows=256):
    """Quantise an exported float16 folder `src` into out_root/model_id (docs/MODEL_FORMAT.md,
    "int8"): every matrix int8 with float16 per-group scales, norms float16; golden.json from the
    dequantised weights."""
    import quantize
    cfg_json = json.load(open(os.path.join(src, "config.json")))
    model = load_model(src)
    data = calib_data if calib_data is not None else np.memmap(os.path.join(data_dir, "train.bin"), dtype=np.uint16, mode="r")
    batches = lambda: quantize.calibration_batches(model, data, calib_windows,
                                                   special=cfg_json["special_tokens"],
                                                   args=cfg_json.get("training", {}).get("args"))
    qs = quantize.quantize_model(model, batches, group, method, embed_method, log=log)
    if tune_steps:
        tune = lambda: quantize.plain_windows(data, model.cfg.max_seq_len, tune_windows, seed=99)
        qs = quantize.tune_scales(model, load_model(src), qs, tune, tune_steps, log=log)
    tensors = {}
    for name, v in model.state_dict().items():
        if name in qs:
            tensors[name], tensors[name + "_scale"] = qs[name]
        else:
            tensors[name] = v.float().numpy().astype(np.float16)
    out = os.path.join(out_root, model_id)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    shutil.copy(os.path.join(src, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    config = dict(cfg_json)
    config["dtype"] = "int8"
    config["quantization"] = {"bits": 8, "group_size": group, "scale_dtype": "float16",
                              "symmetric": True, "compensation": method, "embedding": embed_method or method,
                              "calibration_windows": calib_windows,
                              **({"scale_tuning": {"steps": tune_steps, "windows": tune_windows}} if tune_steps else {}),
                              "from": os.path.basename(os.path.normpath(src))}
    if cfg_json.get("eval"):  # the float model's own numbers, for models-index's qualityHolds where it is not shipped
        config["quantization"]["source_eval"] = source_eval(cfg_json["eval"])
    config["eval"] = {}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    model = load_model(out)  # the dequantised weights in float32: what the engines compute
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump({"cases": golden_cases(model, config["special_tokens"])}, f)
    write_manifest(out)
    return out


def write_manifest(out):
    files = {}
    for name in sorted(os.listdir(out)):
        if name == "manifest.json":
            continue
        p = os.path.join(out, name)
        files[name] = {"bytes": os.path.getsize(p), "sha256": sha256(p)}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"files": files}, f, indent=1)


def config_eval(eval_results):
    """What of eval.py's results goes into config.json: all but the per-header outcomes
    (syntax_outcomes), which stay in the eval file rather than in every download."""
    return {k: v for k, v in eval_results.items() if k != "syntax_outcomes"}


def source_eval(eval_results):
    """The float source's numbers that an int8 export is judged by (scripts/models-index.mjs
    qualityHolds), kept in the int8 config.json's quantization block so the check works where
    the float model is not shipped beside it."""
    return {k: eval_results[k] for k in ("bits_per_byte", "bits_per_byte_exact", "syntax_valid", "n_functions")
            if k in eval_results}


def set_eval(out, eval_results, all_results=None):
    """Put eval results into an exported folder's config.json and refresh its manifest (the
    weights and golden outputs are left as they are). For an int8 folder whose float source
    (quantization.from) all_results (the eval file, keyed by model id) also holds, the source's
    numbers become quantization.source_eval."""
    path = os.path.join(out, "config.json")
    config = json.load(open(path))
    config["eval"] = config_eval(eval_results)
    source_results = (all_results or {}).get(config.get("quantization", {}).get("from"))
    if source_results:
        config["quantization"]["source_eval"] = source_eval(source_results)
    with open(path, "w") as f:
        json.dump(config, f, indent=1)
    write_manifest(out)


def main():
    ap = argparse.ArgumentParser(description="Export a checkpoint (--ckpt --id), or only put eval "
                                 "results into folders exported before (--eval E --update DIR...).")
    ap.add_argument("--ckpt")
    ap.add_argument("--id")
    ap.add_argument("--out-root", default=os.path.join(ROOT, "public", "models"))
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--eval", help="eval results JSON file (eval.py --out, keyed by model id) to put into config.json")
    ap.add_argument("--update", nargs="+", metavar="DIR", help="exported model folders to give --eval's results")
    ap.add_argument("--int8", metavar="DIR", help="quantise this exported float16 folder to int8 (with --id)")
    ap.add_argument("--group", type=int, default=64, help="int8: input columns per scale")
    ap.add_argument("--method", default="gptq", choices=["gptq", "rtn"], help="int8: error feedback or plain rounding")
    ap.add_argument("--embed-method", choices=["gptq", "rtn"], help="int8: for the embedding (default --method)")
    ap.add_argument("--calib-windows", type=int, default=128, help="int8: training windows for the Hessians")
    ap.add_argument("--tune-steps", type=int, default=0,
                    help="int8: steps of scale tuning after quantising (quantize.tune_scales; 0: none)")
    ap.add_argument("--tune-windows", type=int, default=256, help="int8: training windows for scale tuning")
    args = ap.parse_args()
    if args.int8:
        if not args.id:
            ap.error("--int8 needs --id")
        print(export_int8(args.int8, args.id, args.out_root, args.data, args.group, args.method,
                          args.calib_windows, args.embed_method, tune_steps=args.tune_steps,
                          tune_windows=args.tune_windows))
        return
    results = json.load(open(args.eval)) if args.eval else {}
    if args.update:
        if not args.eval:
            ap.error("--update needs --eval")
        for out in args.update:
            model_id = os.path.basename(os.path.normpath(out))
            if model_id not in results:
                ap.error(f"{args.eval} has no results for {model_id}")
            set_eval(out, results[model_id], results)  # an int8 folder keeps its source's numbers
            print(out)
        return
    if not (args.ckpt and args.id):
        ap.error("--ckpt and --id are needed to export")
    print(export(args.ckpt, args.id, args.out_root, args.data, results.get(args.id)))


if __name__ == "__main__":
    main()
