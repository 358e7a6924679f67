#!/usr/bin/env bash
# Model v2's recipe ablation (README "Recipes"), at tiny size on this CPU: every row 1.5M tokens
# of the same windows (seed 2026), the AR-initialised rows from qs-code-ar-tiny (3M tokens), the
# AR twin continued for the same tokens; then eval.py on each. Resumable: rerun the same command.
#   bash training/ablate_tiny.sh        -> training/runs/abl-*/, training/evals/ablation-tiny.json
set -euo pipefail
cd "$(dirname "$0")"
T=${TOKENS:-1.5e6}
INIT=../public/models/qs-code-ar-tiny
COMMON=(--tokens "$T" --seed 2026 --batch 16 --threads 1 --log-every 100 --random-share 0.03)
run() { local name=$1; shift; [ -f "runs/abl-$name/done" ] || nice -n 15 /usr/bin/python3 train.py "$@" "${COMMON[@]}" --out "runs/abl-$name" >> "runs/abl-$name.log" 2>&1; }
mkdir -p runs evals
# a. today's MDLM from scratch (full attention; lr of the shipped tiny run)
run a-mdlm --kind diffusion --size tiny --lr 2e-3 --min-lr 2e-4
# b. AR-initialised MDLM: full attention, shift (no attention-mask annealing)
run b-ar-mdlm --kind diffusion --shift --init "$INIT" --lr 1e-3 --min-lr 1e-4 --warmup 50
# c. AR-initialised block diffusion (the shipped recipe; block 8, AR loss 0.5, 40% infill)
run c-block --kind diffusion --attention block_causal --block-size 8 --fim-share 0.4 --init "$INIT" --lr 1e-3 --min-lr 1e-4 --warmup 50
# d. as c, with more nearly fully masked blocks (t = u^(1/2)): the state drafting starts from
run d-block-t2 --kind diffusion --attention block_causal --block-size 8 --fim-share 0.4 --t-power 2 --init "$INIT" --lr 1e-3 --min-lr 1e-4 --warmup 50
# the AR twin, continued for the same tokens
run ar --kind autoregressive --init "$INIT" --lr 1e-3 --min-lr 1e-4 --warmup 50
args=()
for r in a-mdlm b-ar-mdlm c-block d-block-t2 ar; do
  [ -d "/tmp/abl-models/abl-$r" ] || /usr/bin/python3 export.py --ckpt "runs/abl-$r/ckpt.pt" --id "abl-$r" --out-root /tmp/abl-models > /dev/null
  args+=(--model "/tmp/abl-models/abl-$r")
done
OMP_NUM_THREADS=1 nice -n 15 /usr/bin/python3 eval.py "${args[@]}" --metrics bpb,syntax --windows 32 --out evals/ablation-tiny.json
