#!/usr/bin/env bash
# Certainty distillation (issue "Parallel decoding that pays", item 3) on this CPU: the default
# block-diffusion model continued on its own greedy trajectories (training/trajectories.ts: the
# text verified decoding writes), drafting rows trained to be sure of it, with data windows and
# the AR loss kept so the model stays what it was. Niced, logged, resumable: rerun the same command.
#   bash training/distill.sh      # then export.py / eval.py / bench:generate (README)
set -euo pipefail
cd "$(dirname "$0")/.."
INIT=${INIT:-public/models/qs-code-diffusion-small-v3}
TRAJ=${TRAJ:-training/data/traj-$(basename "$INIT").json}
N=${N:-3000}
TOKENS=${TOKENS:-1.6e6}
OUT=${OUT:-training/runs/v2-distill}
mkdir -p training/runs
[ -f "$TRAJ" ] && [ "$(python3 -c "import json;print(len(json.load(open('$TRAJ'))['records']))")" -ge "$N" ] ||
  nice -n 10 node bench/run.mjs training/trajectories.ts --model "$(basename "$INIT")" --n "$N" --out "$TRAJ" \
    >> training/runs/traj.log 2>&1
nice -n 10 /usr/bin/python3 training/train.py --kind diffusion --attention block_causal --block-size 8 \
  --ar-weight 0.5 --fim-share 0.4 --random-share 0.03 --init "$INIT" --tokens "$TOKENS" --seed 2027 \
  --batch 8 --lr 3e-4 --min-lr 3e-5 --warmup 20 --ckpt-every 50 \
  --distill "$TRAJ" --distill-batch 8 --distill-weight 1.0 --out "$OUT" >> "$OUT.log" 2>&1
