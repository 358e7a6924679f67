"""Train a Quicksilver model (diffusion or its autoregressive twin) on the tokenized corpus.

Flat script in the nanoGPT manner. Same data order for both kinds (windows drawn from a
generator seeded by --seed and the step), so the twins see the same tokens with the same budget.
Resumable: `--out DIR` holds ckpt.pt, rewritten every --ckpt-every steps and on SIGTERM/SIGINT;
rerunning the same command continues where it stopped.

CPU: bf16 autocast (2.5-3.5x faster than f32 on AVX-512-bf16). CUDA: bf16 autocast, unchanged
code. Several GPUs or machines: `torchrun --nproc_per_node N training/train.py ...` (DDP; each
rank draws its own windows; --batch is per rank).

Usage: python3 training/train.py --kind diffusion --size small --tokens 50e6 --out training/runs/diff

Model v2 (block diffusion, AR-initialised):
  python3 training/train.py --kind diffusion --attention block_causal --init public/models/qs-code-ar-small \
      --tokens 5e6 --lr 3e-4 --out training/runs/v2-diff
and its AR twin continued for the same tokens (same windows):
  python3 training/train.py --kind autoregressive --init public/models/qs-code-ar-small \
      --tokens 5e6 --lr 3e-4 --out training/runs/v2-ar
"""
import argparse
import json
import math
import os
import signal
import subprocess
import time

import numpy as np
import torch
import torch.distributed as dist

from model import ModelConfig, Transformer
from objective import (anchor_kl, anneal_mask, ar_loss, block_layout, block_losses, clean_layout, clean_loss,
                       corrupt, diffusion_loss, diffusion_loss_shift, draft_layout, draft_loss, make_infill)

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = {  # name -> architecture (vocab comes from the tokenizer)
    "tiny": dict(dim=64, n_layers=2, n_heads=4, ffn_dim=176, max_seq_len=128),
    "small": dict(dim=192, n_layers=4, n_heads=6, ffn_dim=512, max_seq_len=256),
    "base": dict(dim=256, n_layers=6, n_heads=8, ffn_dim=704, max_seq_len=256),
    "large": dict(dim=512, n_layers=8, n_heads=8, ffn_dim=1408, max_seq_len=512),
}


def get_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=["diffusion", "autoregressive"], required=True)
    ap.add_argument("--size", choices=list(SIZES), default="small")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokens", type=float, default=50e6, help="token budget (training stops there)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=200, help="warmup steps")
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--random-share", type=float, default=0.1,
                    help="diffusion: share of corrupted positions replaced by a random token")
    ap.add_argument("--pad-share", type=float, default=0.25,
                    help="diffusion: share of windows turned into infill examples with pads")
    ap.add_argument("--eps", type=float, default=1e-3, help="diffusion: smallest t")
    ap.add_argument("--attention", choices=["full", "block_causal"], default="full",
                    help="diffusion: full (MDLM) or block_causal (v2: shift, clean causal stream)")
    ap.add_argument("--block-size", type=int, default=8, help="block_causal: the app's default block")
    ap.add_argument("--ar-weight", type=float, default=0.5, help="block_causal: weight of the AR loss")
    ap.add_argument("--fim-share", type=float, default=0.5,
                    help="block_causal: share of windows that are infill examples (suffix first)")
    ap.add_argument("--fim-clean", type=int, default=0,
                    help="block_causal: windows per step (besides --batch) trained on the clean "
                    "stream alone with the AR loss, mostly suffix-first infill (objective.clean_layout)")
    ap.add_argument("--fim-clean-share", type=float, default=0.8,
                    help="block_causal: share of the --fim-clean windows that are infill with a suffix")
    ap.add_argument("--fim-weight", type=float, default=1.0, help="block_causal: weight of that loss")
    ap.add_argument("--t-power", type=float, default=1.0,
                    help="block_causal: t = u^(1/p); p > 1 trains more fully masked blocks (ablation d)")
    ap.add_argument("--init", help="start from an exported model folder's weights (e.g. the AR twin)")
    ap.add_argument("--shift", action="store_true",
                    help="full-attention diffusion: row i predicts position i + 1 (ablation b: AR-initialised MDLM)")
    ap.add_argument("--anneal-share", type=float, default=0.0,
                    help="full-attention diffusion: attention-mask annealing from causal to full "
                    "over this share of the steps (objective.anneal_mask; 0: full from the start)")
    ap.add_argument("--distill", help="block_causal: certainty distillation on the model's own "
                    "trajectories (training/trajectories.ts JSON): --distill-batch windows per step")
    ap.add_argument("--distill-batch", type=int, default=8)
    ap.add_argument("--distill-weight", type=float, default=1.0)
    ap.add_argument("--anchor-weight", type=float, default=0.0,
                    help="block_causal: KL(--init model || this one) on every clean row (the AR "
                    "head), data and drafting windows: keeps what verified decoding writes while "
                    "the drafting rows learn (objective.anchor_kl)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (torch >= 2; GPU)")
    ap.add_argument("--max-seconds", type=float, default=0, help="stop (and checkpoint) after this long")
    return ap.parse_args(argv)


def lr_at(step, total, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, total - args.warmup))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * p))


def batch_at(data, step, rank, B, L, seed):
    """Deterministic windows for (step, rank): the same for both kinds."""
    g = np.random.default_rng([seed, step, rank])
    starts = g.integers(0, len(data) - L, size=B)
    return torch.from_numpy(np.stack([data[s:s + L] for s in starts]).astype(np.int64))


def load_trajectories(path, special, L):
    """training/trajectories.ts records -> (windows (N, L) prompt | continuation | pads, prompt
    lengths (N,), valid ends (N,): the continuation up to and including its first eos/pad)."""
    recs = json.load(open(path))["records"]
    X = np.full((len(recs), L), special["pad"], dtype=np.int64)
    a = np.zeros(len(recs), dtype=np.int64)
    n = np.zeros(len(recs), dtype=np.int64)
    for i, r in enumerate(recs):
        g = r["gen"]
        stop = [j for j, t in enumerate(g) if t in (special["pad"], special["eos"])]
        g = g[:stop[0] + 1] if stop else g
        w = (r["prompt"] + g)[:L]
        X[i, :len(w)] = w
        a[i], n[i] = min(len(r["prompt"]), L), len(w)
    return torch.from_numpy(X), a, n


def traj_batch(traj, step, B, seed):
    """Deterministic drafting windows for a step: a seeded permutation, cycled."""
    X, a, n = traj
    perm = np.random.default_rng([seed, 99]).permutation(len(X))
    ids = perm[(step * B + np.arange(B)) % len(X)]
    return X[ids], a[ids], n[ids]


def git_commit():
    if os.environ.get("QS_GIT_COMMIT"):  # a copy of the tree without .git (the GPU machine)
        return os.environ["QS_GIT_COMMIT"]
    try:
        return subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=HERE,
                                       stderr=subprocess.DEVNULL).decode().strip()
    except Exception:
        return "unknown"


def main(argv=None):
    args = get_args(argv)
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = 0
    if ddp:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank = dist.get_rank()
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu"
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True  # the float32 parts (loss, norms, optimizer)
    torch.manual_seed(args.seed)
    meta = json.load(open(os.path.join(args.data, "tokenizer.json"), encoding="utf-8"))
    special = meta["quicksilver"]["special_tokens"]
    vocab = len(meta["model"]["vocab"])
    shape = ("dim", "n_layers", "n_heads", "ffn_dim", "max_seq_len")
    arch = dict(SIZES[args.size])
    init_history = []
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    ck = torch.load(ckpt_path, map_location=device) if os.path.exists(ckpt_path) else None
    if args.init and ck:  # resuming: the init folder is not needed again
        args.init = None
        arch = {k: ck["info"]["config"][k] for k in shape}
    if args.init:  # the architecture is the init model's
        init_cfg = json.load(open(os.path.join(args.init, "config.json")))
        arch = {k: init_cfg[k] for k in shape}
        tr = init_cfg.get("training", {})
        runs = tr.get("history") or [{"device": tr.get("device", "unknown"), "from_tokens": 0,
                                      "to_tokens": tr.get("tokens_seen", 0), "seconds": tr.get("seconds", 0)}]
        init_history = [dict(h, model=os.path.basename(os.path.normpath(args.init))) for h in runs]
    block = args.kind == "diffusion" and args.attention == "block_causal"
    if block:
        arch.update(attention="block_causal", block_size=args.block_size, shift=True)
    elif args.kind == "autoregressive":
        arch.update(attention="causal", shift=True)
    elif args.shift:
        arch.update(attention="full", shift=True)
    cfg = ModelConfig(kind=args.kind, vocab_size=vocab, **arch)
    model = Transformer(cfg).to(device)
    if args.init:
        from export import read_safetensors
        w = read_safetensors(os.path.join(args.init, "model.safetensors"))
        model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in w.items()})
    teacher = None
    if args.anchor_weight > 0:
        if not (args.init and block):
            raise SystemExit("--anchor-weight needs --init and --attention block_causal")
        teacher = Transformer(cfg).to(device)
        teacher.load_state_dict(model.state_dict())
        teacher.requires_grad_(False).eval()
    if args.anneal_share > 0 and (block or args.kind != "diffusion"):
        raise SystemExit("--anneal-share is for full-attention diffusion (ablation b)")
    data = np.memmap(os.path.join(args.data, "train.bin"), dtype=np.uint16, mode="r")
    traj = load_trajectories(args.distill, special, cfg.max_seq_len) if args.distill else None
    L, B = cfg.max_seq_len, args.batch
    world = dist.get_world_size() if ddp else 1
    C = args.fim_clean if block else 0               # clean-stream windows per step (after the B)
    if C and traj is not None:
        raise SystemExit("--fim-clean and --distill do not combine (one extra kind of window per step)")
    total_steps = int(args.tokens // ((B + C) * L * world))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95),
                            **({"fused": True} if device.startswith("cuda") else {}))  # one kernel per step
    os.makedirs(args.out, exist_ok=True)
    state = {"step": 0, "tokens_seen": 0, "seconds": 0.0, "losses": [], "history": list(init_history)}
    if args.init:
        state["init"] = {"model": os.path.basename(os.path.normpath(args.init)),
                         "tokens_seen": sum(h["to_tokens"] - h["from_tokens"] for h in init_history)}
    if ck:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        if rank == 0:
            print(f"resumed at step {state['step']} ({state['tokens_seen']:.0f} tokens)", flush=True)
    # where the tokens were seen: one entry per run (a run resumed elsewhere adds one)
    device_desc = device if device == "cpu" else f"{device} ({torch.cuda.get_device_name()})"
    base_tok = state.get("init", {}).get("tokens_seen", 0)  # history counts the init model's tokens too
    run_log = {"device": device_desc, "from_tokens": base_tok + state["tokens_seen"],
               "to_tokens": base_tok + state["tokens_seen"],
               "seconds": 0.0}
    if "resume_note" in state:
        run_log["note"] = state.pop("resume_note")
    state.setdefault("history", []).append(run_log)
    net = torch.nn.parallel.DistributedDataParallel(model) if ddp else model
    if args.compile:  # fewer, fused kernels: pays on a GPU, where a small model's step is launch-bound
        net = torch.compile(net)
    gen = torch.Generator(device=device)

    def save():
        if rank != 0:
            return
        run_log["to_tokens"] = base_tok + state["tokens_seen"]
        run_log["seconds"] = round(state["seconds"] - seconds0)
        info = {"config": cfg.to_dict(), "special_tokens": special, "args": vars(args),
                "device": device_desc, "git_commit": git_commit()}
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state,
                    "info": info}, tmp)
        os.replace(tmp, ckpt_path)

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    n_ordinary = vocab - 3
    amp = torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu",
                         dtype=torch.bfloat16)
    t_start, seconds0, t_log, tok_log = time.time(), state["seconds"], time.time(), 0
    if rank == 0:
        print(f"{args.kind} {args.size}: {model.num_params() / 1e6:.2f}M params, {total_steps} steps "
              f"of {B}x{L} tokens x{world}, device {device}", flush=True)
    while state["step"] < total_steps and not stop["now"]:
        step = state["step"]
        gen.manual_seed(args.seed * 1_000_003 + step * 7919 + rank)
        x = batch_at(data, step, rank, B + C, L, args.seed).to(device)
        x, xc = x[:B], x[B:]                       # the AR twin (--batch B + C) sees the same windows
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total_steps, args)
        with amp:
            if block:
                lay = block_layout(x, special, n_ordinary, args.eps, args.random_share,
                                   args.fim_share, generator=gen, t_power=args.t_power)
                if traj is None:
                    logits = net(lay["tokens"], positions=lay["positions"], attn_mask=lay["mask"])
                    diff, ar = block_losses(logits, lay)
                    loss = diff + args.ar_weight * ar
                    if C:
                        cl = clean_layout(xc, special, n_ordinary, fim_share=1.0,
                                          suffix_share=args.fim_clean_share, generator=gen)
                        fim = clean_loss(net(cl["tokens"], attn_mask=cl["mask"]), cl)
                        loss = loss + args.fim_weight * fim
                else:  # one forward over data windows and drafting windows together
                    xd, a, n = traj_batch(traj, step, args.distill_batch, args.seed)
                    dl = draft_layout(xd.to(device), a, n, special, cfg.block_size, generator=gen)
                    logits = net(torch.cat([lay["tokens"], dl["tokens"]]),
                                 positions=torch.cat([lay["positions"], dl["positions"]]),
                                 attn_mask=torch.cat([lay["mask"], dl["mask"]]))
                    diff, ar = block_losses(logits[:B], lay)
                    dist_loss = draft_loss(logits[B:], dl)
                    loss = diff + args.ar_weight * ar + args.distill_weight * dist_loss
                    if teacher is not None:
                        anchor = anchor_kl(teacher, logits, lay, dl, L)
                        loss = loss + args.anchor_weight * anchor
            elif args.kind == "diffusion":
                region = None
                if args.pad_share > 0:
                    n_inf = int(round(B * args.pad_share))
                    if n_inf:
                        xi, ri = make_infill(x[:n_inf], special["pad"], generator=gen)
                        x = torch.cat([xi, x[n_inf:]])
                        region = torch.cat([ri, torch.ones_like(x[n_inf:], dtype=torch.bool)])
                t = args.eps + (1 - args.eps) * torch.rand(B, generator=gen, device=device)
                noisy, corrupted = corrupt(x, t, special["mask"], n_ordinary, args.random_share,
                                           region, generator=gen)
                mask = None
                if args.anneal_share > 0:
                    p = step / (args.anneal_share * total_steps)
                    mask = None if p >= 1 else anneal_mask(B, L, p, generator=gen, device=device)
                loss = (diffusion_loss_shift if cfg.shift else diffusion_loss)(
                    net(noisy, attn_mask=mask), x, corrupted, t)
            else:
                loss = ar_loss(net(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        state["step"] += 1
        state["tokens_seen"] += (B + C) * L * world
        state["seconds"] = seconds0 + time.time() - t_start
        tok_log += (B + C) * L * world
        if rank == 0 and (state["step"] % args.log_every == 0 or state["step"] == total_steps):
            dt = time.time() - t_log
            state["losses"].append([state["step"], float(loss)])
            extra = f" (diff {diff.item():.3f} ar {ar.item():.3f})" if block else ""
            if C:
                extra = extra[:-1] + f" fim {fim.item():.3f})"
            if traj is not None:
                extra = extra[:-1] + f" draft {dist_loss.item():.3f})"
            if teacher is not None:
                extra = extra[:-1] + f" anchor {anchor.item():.4f})"
            print(f"step {state['step']}/{total_steps} loss {loss.item():.4f}{extra} "
                  f"lr {lr_at(step, total_steps, args):.2e} tok/s {tok_log / dt:.0f} "
                  f"tokens {state['tokens_seen'] / 1e6:.2f}M elapsed {state['seconds']:.0f}s",
                  flush=True)
            t_log, tok_log = time.time(), 0
        if state["step"] % args.ckpt_every == 0:
            save()
        if args.max_seconds and time.time() - t_start > args.max_seconds:
            break
    save()
    if rank == 0:
        print(f"saved {ckpt_path} at step {state['step']}", flush=True)
        if state["step"] >= total_steps:  # finished, not stopped (scripts chain runs on this)
            with open(os.path.join(args.out, "done"), "w") as f:
                f.write(f"{state['step']} steps, {state['tokens_seen']} tokens\n")
    if ddp:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
