#!/usr/bin/env bash
# Continue the shipped Model v2 pair on this CPU: the block-diffusion model and its AR twin each
# from its own exported weights, the same TOKENS on the same windows (SEED), side by side with one
# torch thread each (2 cores), niced, logs and checkpoints in training/runs/NAME-{diff,ar}/.
# Resumable: rerun the same command. Then export.py / eval.py as in README "Model v2".
#   NAME=v21 TOKENS=4e6 bash training/continue_pair.sh
# Env: DIFF (the diffusion init folder), AR (the twin's), NAME, TOKENS, SEED, LR, MIN_LR,
#      DIFF_ARGS (the block-diffusion objective's flags; default: v2's with --ar-weight 2, the
#      AR-weight ablation's pick, and a few clean-stream infill windows per step), AR_BATCH (the
#      twin's windows per step: the diffusion run's --batch plus its --fim-clean, so both see the
#      same data windows).
set -euo pipefail
cd "$(dirname "$0")"
DIFF=${DIFF:-../public/models/qs-code-diffusion-small-v3}
AR=${AR:-../public/models/qs-code-ar-small-v3}
NAME=${NAME:-v21}; TOKENS=${TOKENS:-4e6}; SEED=${SEED:-5050}
LR=${LR:-1.5e-4}; MIN_LR=${MIN_LR:-1.5e-5}
DIFF_ARGS=${DIFF_ARGS:---attention block_causal --block-size 8 --ar-weight 2 --fim-share 0.4 --random-share 0.03 --batch 16 --fim-clean 4 --fim-clean-share 0.5}
AR_BATCH=${AR_BATCH:-20}
COMMON=(--tokens "$TOKENS" --seed "$SEED" --lr "$LR" --min-lr "$MIN_LR" --warmup 50 --threads 1 --ckpt-every 100)
mkdir -p runs
nice -n 10 /usr/bin/python3 train.py --kind diffusion --init "$DIFF" $DIFF_ARGS "${COMMON[@]}" \
  --out runs/$NAME-diff >> runs/$NAME-diff.log 2>&1 &
nice -n 10 /usr/bin/python3 train.py --kind autoregressive --init "$AR" --batch "$AR_BATCH" "${COMMON[@]}" \
  --out runs/$NAME-ar >> runs/$NAME-ar.log 2>&1 &
wait
for k in diff ar; do [ -f runs/$NAME-$k/done ] || { echo "$NAME-$k stopped before its budget; rerun to continue"; exit 1; }; done
echo "$NAME pair done"
