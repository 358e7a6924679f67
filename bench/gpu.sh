#!/bin/bash
# The benchmarks on the GPU machine lent to some tasks (bench/README "On a real GPU"), one call:
# bench:generate with our WebGPU engine (Dawn, from the `webgpu` package, on the GPU's Vulkan
# driver) and with our CPU engine on that machine's processor, the shipped int8 pair, the same
# held-out headers; then a short training-throughput probe of the Model v2 recipe on that GPU
# (both kinds side by side, plain and torch.compile'd) that sizes training/gpu_pair.sh's budget.
#
# Here, first: bash scripts/gpu_prepare.sh (the bundle, node, dawn.node, the Vulkan loaders).
# Then, through the device tool, carrying .gpu and .gl:   bash bench/gpu.sh "$OUT"
# QUICK=1: 3 prompts and an 8 s probe, to try the script out here first (VK_ICD_FILENAMES set).
# OUT gets log.txt and the two results files (generate-<adapter>-….json, generate-cpu-1t-….json).
set -uo pipefail
OUT=$1; G=.gpu
exec > >(tee -a "$OUT/log.txt") 2>&1
log() { echo "[$(date +%T)] $*"; }
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
for ICD in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f $ICD ] && { export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD; break; }
done
echo "Vulkan driver: ${VK_ICD_FILENAMES:-none found}"
unxz() { python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'), 1 << 24)" "$1" "$2"; }
# the bundle runs from a copy in /tmp with dawn.node unpacked beside it (.gpu stays as carried)
R=/tmp/qs-gpu; rm -rf $R && mkdir -p $R && cp -r $G/generate.bench.mjs $G/kernels*.wasm $G/node_modules $R/ || exit 1
unxz $G/node.xz /tmp/node && chmod +x /tmp/node || exit 1
mkdir -p $R/node_modules/webgpu/dist/linux-x64 && unxz $G/dawn.node.xz $R/node_modules/webgpu/dist/linux-x64/dawn.node || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
grep -m1 'model name' /proc/cpuinfo; nproc; /tmp/node --version
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"

M=qs-code-diffusion-small-v3-int8
N=100; P=25; PC=60   # QUICK=1: a try-out of this script on any machine
[ -n "${QUICK:-}" ] && { N=3; P=8; PC=0; }
B=(--heldout $G/heldout.jsonl --prompts $N --lengths 32,64 --no-readme)
log "WebGPU engine (Dawn, Vulkan)"
timeout 150 /tmp/node $R/generate.bench.mjs --engine webgpu --diffusion $M --configs ar,default,nolookup "${B[@]}" \
  --out "$OUT/generate-gpu-$M.json"
log "CPU engine, 1 thread"
timeout 100 /tmp/node $R/generate.bench.mjs --engine cpu --threads 1 --diffusion $M --configs ar,default "${B[@]}" \
  --out "$OUT/generate-cpu-1t-$M.json"

log "training throughput probe: base, Model v2 recipe, both kinds side by side"
mkdir -p /tmp/pd && cp $G/heldout.bin /tmp/pd/train.bin && cp $G/tokenizer.json /tmp/pd/ || exit 1
DIFF="--attention block_causal --block-size 8 --ar-weight 2 --fim-share 0.4 --random-share 0.03 --fim-clean 128 --fim-clean-share 0.5"
for c in "" "--compile"; do
  secs=$([ -n "$c" ] && echo $PC || echo $P); [ $secs = 0 ] && continue
  python3 training/train.py --kind diffusion --size base --batch 128 $DIFF $c --data /tmp/pd --tokens 1e12 \
    --max-seconds $secs --log-every 10 --ckpt-every 1000000 --out /tmp/probe-d$c > /tmp/probe-d.log 2>&1 &
  python3 training/train.py --kind autoregressive --size base --batch 256 $c --data /tmp/pd --tokens 1e12 \
    --max-seconds $secs --log-every 10 --ckpt-every 1000000 --out /tmp/probe-a$c > /tmp/probe-a.log 2>&1 &
  wait
  log "probe ${c:-plain}"; tail -n 4 /tmp/probe-d.log /tmp/probe-a.log
done
log "done"
