#!/bin/bash
# Train a diffusion model and its autoregressive twin side by side on one CUDA GPU, to the same
# token budget, then export and evaluate both. Written for the device machine lent to some tasks
# (see README "Models and training"); runs anywhere with a GPU and this repo.
#
# Usage (repo root): bash training/gpu_pair.sh CARRY OUT SECONDS
#   CARRY    folder with train.bin.xz, heldout.bin, heldout.jsonl, tokenizer.json, {train,heldout}.json
#            (training/data/ as prepare.py writes it; train.bin xz-compressed to travel)
#   OUT      where the model folders (as .tar), the eval JSON and all logs go
#   SECONDS  training time for the pair: a 25 s probe measures tokens/s with both kinds running,
#            and the budget is set so that both finish in about that long (cosine to the end)
# Resume instead (RESUME=1): CARRY also holds cont-diffusion.pt and cont-autoregressive.pt
# (training/ckpt_travel.py pack), TOKENS and TRAIN_ARGS repeat the command that made them, e.g.
#   RESUME=1 SIZE=small BATCH=16 TOKENS=50e6 TRAIN_ARGS="--lr 1.5e-3" bash training/gpu_pair.sh C O 240
# Model v2 on a GPU: both continue an exported AR model (INIT, a folder), the diffusion run with
# the block-diffusion objective (DIFF_ARGS), the twin on the same windows (AR_BATCH = its batch
# plus --fim-clean), e.g. (README "Model v2 on a GPU"):
#   INIT=CARRY/qs-code-ar-base SUFFIX=-v2 BATCH=128 AR_BATCH=256 DIFF_ARGS="--attention block_causal
#   --fim-clean 128 ..." TRAIN_ARGS="--lr 6e-4 --min-lr 6e-5" TOKENS=60e6 bash training/gpu_pair.sh C O 300
# Env: SIZE (base; the model ids' size), SUFFIX (after the id), EVAL_SECONDS (240; 0: no eval here),
#      BATCH (256 windows per step), AR_BATCH (BATCH), MAX_TOKENS (cap, 400e6), PY (python3),
#      TOKENS (a set budget: no probe), COMPILE=1 (train.py --compile), EVAL_ARGS (extra eval.py
#      flags), QS_GIT_COMMIT (recorded when the copy has no .git).
set -uo pipefail
CARRY=$1; OUT=$2; SECS=$3
SIZE=${SIZE:-base}; BATCH=${BATCH:-256}; AR_BATCH=${AR_BATCH:-$BATCH}; MAX_TOKENS=${MAX_TOKENS:-400e6}; PY=${PY:-python3}
# per kind: its batch, and what only the diffusion run gets
kind_args() {
  local a="${INIT:+--init $INIT} ${COMPILE:+--compile} ${TRAIN_ARGS:-}"
  if [ $1 = diffusion ]; then echo "--batch $BATCH $a ${DIFF_ARGS:-}"; else echo "--batch $AR_BATCH $a"; fi
}
D=training/data; R=training/runs
mkdir -p $D/corpus $R "$OUT/logs"
export PYTHONUNBUFFERED=1
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/logs/gpu_pair.log"; }

log "unpack corpus"
$PY -c "import lzma, shutil; shutil.copyfileobj(lzma.open('$CARRY/train.bin.xz'), open('$D/train.bin', 'wb'), 1 << 24)" || exit 1
cp "$CARRY"/{tokenizer.json,train.json} $D/ && cp "$CARRY"/recipe.json $D/corpus/ || exit 1
# the held-out split, for the eval here (EVAL_SECONDS=0 needs none of it)
for f in heldout.bin heldout.json; do [ -f "$CARRY/$f" ] && cp "$CARRY/$f" $D/; done
[ -f "$CARRY/heldout.jsonl" ] && cp "$CARRY/heldout.jsonl" $D/corpus/
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; $PY -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())") 2>&1 | tee -a "$OUT/logs/gpu_pair.log"

if [ -n "${RESUME:-}" ]; then
  # continue checkpoints made elsewhere (training/ckpt_travel.py pack): same command, same windows
  for k in diffusion autoregressive; do
    mkdir -p $R/gpu-$k && $PY training/ckpt_travel.py unpack "$CARRY/cont-$k.pt" $R/gpu-$k/ckpt.pt || exit 1
  done
elif [ -z "${TOKENS:-}" ]; then
  log "probe tokens/s ($SIZE, batch $BATCH/$AR_BATCH, both kinds at once)"
  for k in diffusion autoregressive; do
    rm -rf /tmp/probe-$k
    $PY training/train.py --kind $k --size $SIZE $(kind_args $k) --tokens 1e12 --max-seconds 25 \
        --ckpt-every 1000000 --out /tmp/probe-$k > "$OUT/logs/probe-$k.log" 2>&1 &
  done
  wait
  TOKENS=$($PY - "$OUT/logs" "$SECS" "$MAX_TOKENS" <<'PY'
import re, sys, statistics
rates = []
for k in ("diffusion", "autoregressive"):
    r = [float(m) for m in re.findall(r"tok/s (\d+)", open(f"{sys.argv[1]}/probe-{k}.log").read())]
    rates.append(statistics.median(r[len(r) // 2:]))  # skip the warm-up half
tokens = min(float(sys.argv[3]), min(rates) * float(sys.argv[2]))
step = 10 ** (len(str(int(tokens))) - 2)  # round down to two significant digits
print(int(tokens // step * step))
print(f"probe tok/s {rates}", file=sys.stderr)
PY
  ) 2>> "$OUT/logs/gpu_pair.log" || exit 1
fi
log "budget $TOKENS tokens each"

for k in diffusion autoregressive; do
  $PY training/train.py --kind $k --size $SIZE $(kind_args $k) --tokens $TOKENS \
      --max-seconds $((SECS * 3 / 2)) --log-every 50 --ckpt-every 1000 --out $R/gpu-$k \
      > "$OUT/logs/train-$k.log" 2>&1 &
done
wait
log "trained"; tail -n 2 "$OUT"/logs/train-*.log | tee -a "$OUT/logs/gpu_pair.log"

model_id() { [ $1 = diffusion ] && echo qs-code-diffusion-$SIZE${SUFFIX:-} || echo qs-code-ar-$SIZE${SUFFIX:-}; }
dirs=""
for k in diffusion autoregressive; do
  id=$(model_id $k)
  $PY training/export.py --ckpt $R/gpu-$k/ckpt.pt --id $id --out-root /tmp/models \
      > "$OUT/logs/export-$k.log" 2>&1 || { log "export $k failed"; exit 1; }
  tar -C /tmp/models -cf "$OUT/$id.tar" $id  # now, in case the eval below runs out of time
  dirs="$dirs /tmp/models/$id"
done
[ "${EVAL_SECONDS:-240}" = 0 ] && { log "exported; no eval here"; exit 0; }
log "exported; eval"
timeout ${EVAL_SECONDS:-240} $PY training/eval.py ${dirs// / --model } ${EVAL_ARGS:-} --out "$OUT/logs/eval-$SIZE.json" \
    > "$OUT/logs/eval.log" 2>&1 || { log "eval failed or ran out of time"; exit 1; }
$PY training/export.py --eval "$OUT/logs/eval-$SIZE.json" --update $dirs >> "$OUT/logs/gpu_pair.log" 2>&1 || exit 1
for k in diffusion autoregressive; do tar -C /tmp/models -cf "$OUT/$(model_id $k).tar" $(model_id $k); done
log "done"; cat "$OUT/logs/eval-$SIZE.json"
