#!/usr/bin/env bash
# Does the weight of the AR loss decide how well the block-diffusion model's AR head (which writes
# every token of the default decoding) carries to code outside the corpus? Model v2's recipe
# (v2_pair.sh) from the same init for TOKENS (1M) on the same windows, at --ar-weight 0.5 (v2's) and
# 2, with the AR twin continued for the same tokens; then each model's exact bits/byte and
# syntax-valid bodies on held-out code and on code in no part of the corpus (bench/outside_corpus.py).
#   git show 67c4989:public/models/qs-code-ar-small/{config.json,model.safetensors,tokenizer.json}
#     into INIT (v2's init, in git history), then: INIT=/tmp/ar-small bash training/ablate_arweight.sh
# Runs one after another, niced, resumable (rerun the same command); results in
# evals/arweight-heldout.json and evals/arweight-outside.json.
set -euo pipefail
cd "$(dirname "$0")"
INIT=${INIT:?the exported qs-code-ar-small folder}
TOKENS=${TOKENS:-1e6}
OUTSIDE=${OUTSIDE:-/tmp/outside-data}
COMMON=(--init "$INIT" --tokens "$TOKENS" --seed 2026 --batch 16 --lr 3e-4 --min-lr 3e-5 --warmup 100 --log-every 50)
DIFF=(--kind diffusion --attention block_causal --block-size 8 --fim-share 0.4 --random-share 0.03)
run() { local name=$1; shift; [ -f "runs/aw-$name/done" ] || nice -n 10 /usr/bin/python3 train.py "$@" "${COMMON[@]}" --out "runs/aw-$name" >> "runs/aw-$name.log" 2>&1; }
mkdir -p runs evals
run d05 "${DIFF[@]}" --ar-weight 0.5
run d2 "${DIFF[@]}" --ar-weight 2
run ar --kind autoregressive
[ -f "$OUTSIDE/heldout.bin" ] || /usr/bin/python3 ../bench/outside_corpus.py /tmp/outside.jsonl --data "$OUTSIDE" > /dev/null
args=()
for r in d05 d2 ar; do
  [ -d "/tmp/aw-models/aw-$r" ] || /usr/bin/python3 export.py --ckpt "runs/aw-$r/ckpt.pt" --id "aw-$r" --out-root /tmp/aw-models > /dev/null
  args+=(--model "/tmp/aw-models/aw-$r")
done
/usr/bin/python3 eval.py "${args[@]}" --metrics bpb,syntax --n-functions 600 --t-samples 1 --out evals/arweight-heldout.json
/usr/bin/python3 eval.py "${args[@]}" --metrics bpb,syntax --n-functions 600 --t-samples 1 --data "$OUTSIDE" --out evals/arweight-outside.json
