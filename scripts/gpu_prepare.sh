#!/bin/bash
# Prepares, here, what the two calls on the GPU machine lent to some tasks need (nothing of it is
# committed: .gpu/, .carry/ and .gl/ are ignored through .git/info/exclude, which this adds to):
#   .gpu/    bench/gpu.sh's: the generation benchmark as one Node file (bench/bundle.mjs) with the
#            CPU engine's .wasm, the `webgpu` package's loader and dawn.node (xz), the node binary
#            (xz), the held-out headers and, for the training probe, heldout.bin and the tokenizer
#   .carry/  training/gpu_pair.sh's: train.bin (xz), tokenizer.json, train.json, heldout.json,
#            recipe.json, and the AR model to continue (INIT: qs-code-ar-base, from git history)
#   .gl/     the Vulkan and GL loaders as .deb files (Debian's; the device README's recipe)
# Each call carries only its own folder (64 MiB a call with the tracked files). Then:
#   call 1 (carry .gpu .gl):  bash bench/gpu.sh "$OUT"
#   call 2 (carry .carry):    README "Models and training", "On a GPU": the gpu_pair.sh line for Model v2
# Needs training/data/ (training/corpus.py, training/prepare.py) and node_modules/ (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
INIT_COMMIT=${INIT_COMMIT:-55b2dc1^}   # the last commit with qs-code-ar-base in public/models/
for d in /.gpu/ /.carry/ /.gl/; do grep -qxF "$d" .git/info/exclude 2>/dev/null || echo "$d" >> .git/info/exclude; done
rm -rf .gpu .carry && mkdir -p .carry/qs-code-ar-base .gl
node bench/bundle.mjs bench/generate.bench.ts .gpu   # empties .gpu first
mkdir -p .gpu/node_modules/webgpu && cp node_modules/webgpu/{package.json,index.js} .gpu/node_modules/webgpu/
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/dawn.node.xz
xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz
cp training/data/corpus/heldout.jsonl training/data/heldout.bin training/data/tokenizer.json .gpu/
xz -T2 -6 -c training/data/train.bin > .carry/train.bin.xz
cp training/data/{tokenizer.json,train.json,heldout.json} training/data/corpus/recipe.json .carry/
for f in config.json model.safetensors tokenizer.json manifest.json; do
  git show "$INIT_COMMIT:public/models/qs-code-ar-base/$f" > .carry/qs-code-ar-base/$f
done
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial && apt-get $o update -qq
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .gpu .carry .gl
