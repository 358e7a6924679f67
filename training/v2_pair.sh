#!/usr/bin/env bash
# Model v2 on this CPU: the block-diffusion model and its AR twin, both continued from the same
# AR weights (INIT) for the same TOKENS on the same windows (seed SEED), one after the other,
# niced, with logs and checkpoints in training/runs/. Resumable: rerun the same command.
# INIT, qs-code-ar-small (50M tokens), left public/models/ with Model v2; it is in git history:
#   git checkout 67c4989 -- public/models/qs-code-ar-small
#   bash training/v2_pair.sh            # then export.py / eval.py (README "Model v2")
set -euo pipefail
cd "$(dirname "$0")"
INIT=${INIT:-../public/models/qs-code-ar-small}
TOKENS=${TOKENS:-5e6}
SEED=${SEED:-2026}
COMMON=(--init "$INIT" --tokens "$TOKENS" --seed "$SEED" --batch 16 --lr 3e-4 --min-lr 3e-5 --warmup 100)
mkdir -p runs
nice -n 10 /usr/bin/python3 train.py --kind diffusion --attention block_causal --block-size 8 \
  --ar-weight 0.5 --fim-share 0.4 --random-share 0.03 "${COMMON[@]}" --out runs/v2-diff \
  >> runs/v2-diff.log 2>&1
[ -f runs/v2-diff/done ] || { echo "v2-diff stopped before its budget; rerun to continue" >> runs/v2-diff.log; exit 1; }
nice -n 10 /usr/bin/python3 train.py --kind autoregressive "${COMMON[@]}" --out runs/v2-ar \
  >> runs/v2-ar.log 2>&1
[ -f runs/v2-ar/done ] && echo "v2 pair done" >> runs/v2-diff.log
