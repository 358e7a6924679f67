#!/usr/bin/env bash
# Model v2's recipe ablation at small size (README "Recipes"): every row 1M tokens of the same
# windows (seed 2026, batch 16), the AR-initialised rows from qs-code-ar-small (INIT: 50M tokens),
# the AR twin continued for the same tokens; then eval.py on every row in one run.
# Rows c, d, e and the twin are training/ablate_arweight.sh's and v3's runs (runs/aw-*): the same
# command skips them when they are done.
#   git show 67c4989:public/models/qs-code-ar-small/{config.json,model.safetensors,tokenizer.json}
#     into INIT (in git history), then: INIT=/tmp/ar-small bash training/ablate_small.sh
# Runs one after another, niced, one torch thread, resumable (rerun the same command); results in
# evals/ablation-small.json (held-out split: bits/byte, 100 line holes, 600 headers) and
# evals/ablation-small-outside.json (the same on bench/outside_corpus.py's code, in OUTSIDE).
set -euo pipefail
cd "$(dirname "$0")"
INIT=${INIT:?the exported qs-code-ar-small folder}
TOKENS=${TOKENS:-1e6}
OUTSIDE=${OUTSIDE:-/tmp/od}
COMMON=(--tokens "$TOKENS" --seed 2026 --batch 16 --log-every 50 --threads 1)
AR_INIT=(--init "$INIT" --lr 3e-4 --min-lr 3e-5 --warmup 100)
BLOCK=(--kind diffusion --attention block_causal --block-size 8 --fim-share 0.4 --random-share 0.03)
run() { local name=$1; shift; [ -f "runs/$name/done" ] || nice -n 10 /usr/bin/python3 train.py "$@" "${COMMON[@]}" --out "runs/$name" >> "runs/$name.log" 2>&1; }
mkdir -p runs evals
# a. today's MDLM from scratch (full attention; the lr of the shipped format-1 runs)
run abs-a-mdlm --kind diffusion --random-share 0.03 --lr 2e-3 --min-lr 2e-4 --warmup 100
# b. AR-initialised MDLM: full attention, shift
run abs-b-ar-mdlm --kind diffusion --shift --random-share 0.03 "${AR_INIT[@]}"
# b'. b with attention-mask annealing, causal to full over the first half of the steps
run abs-b-anneal --kind diffusion --shift --random-share 0.03 --anneal-share 0.5 "${AR_INIT[@]}"
# c. AR-initialised block diffusion, Model v2's recipe (AR loss at 0.5)
run aw-d05 "${BLOCK[@]}" --ar-weight 0.5 "${AR_INIT[@]}"
# d. c with the AR loss at 2
run aw-d2 "${BLOCK[@]}" --ar-weight 2 "${AR_INIT[@]}"
# e. d with 4 clean-stream infill windows per step beside the 16: Model v3's recipe (shipped)
run aw-d2f "${BLOCK[@]}" --ar-weight 2 --fim-clean 4 --fim-clean-share 0.5 "${AR_INIT[@]}"
# the AR twin, continued for the same tokens
run aw-ar --kind autoregressive "${AR_INIT[@]}"
args=()
for r in abs-a-mdlm abs-b-ar-mdlm abs-b-anneal aw-d05 aw-d2 aw-d2f aw-ar; do
  [ -f "runs/$r/done" ] || { echo "runs/$r stopped before its budget; rerun to continue" >&2; exit 1; }
  [ -d "/tmp/abs-models/$r" ] || /usr/bin/python3 export.py --ckpt "runs/$r/ckpt.pt" --id "$r" --out-root /tmp/abs-models > /dev/null
  args+=(--model "/tmp/abs-models/$r")
done
evaluate() {  # out file, extra eval.py arguments (skipped when the file exists); Fill's 8 beams, as the table was measured
  local out=$1; shift
  [ -f "$out" ] || OMP_NUM_THREADS=1 nice -n 10 /usr/bin/python3 eval.py "${args[@]}" \
    --metrics bpb,infill,syntax --n-functions 600 --candidates 8 "$@" --out "$out"
}
evaluate evals/ablation-small.json
[ -f "$OUTSIDE/heldout.bin" ] || /usr/bin/python3 ../bench/outside_corpus.py /tmp/outside.jsonl --data "$OUTSIDE" > /dev/null
evaluate evals/ablation-small-outside.json --data "$OUTSIDE"
