// Self-generated trajectories for certainty distillation (train.py --distill):
//
//   node bench/run.mjs training/trajectories.ts --model qs-code-diffusion-small-v3 --n 3000
//
// Each record: a prompt cut from a random offset of the training split (P tokens, P uniform in
// [16, 192]), then the model's own greedy continuation of 64 tokens with its default decoding
// (block-causal: verify, whose output is exactly the AR head's greedy text) on our CPU engine,
// the same sampler as the app. Distillation teaches the block rows to draft that text, which is
// what the AR head accepts at decoding time (dParallel 2509.26488 / SDTT 2410.21035: the model's
// own trajectories, not the data). Writes training/data/traj-<model>.json:
//   { model, seed, gen, records: [{ offset, prompt: number[], gen: number[] }] }
// (`gen`: the span as sampled, eos/pad included). Resumable: existing records are kept and the
// run continues from their count (same seed → same offsets).

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../src/diffusion';
import { CpuDiffusionModel, loadCpuModel } from '../src/engine/cpu';
import type { ModelFiles } from '../src/engine/load';
import { rng } from '../src/engine/testkit';
import { DEFAULT_SETTINGS, knobsFor } from '../src/ui/settings';

interface Rec { offset: number; prompt: number[]; gen: number[] }

export async function main(argv: string[]): Promise<void> {
  const opt = (k: string, d: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : d;
  };
  const id = opt('model', 'qs-code-diffusion-small-v3');
  const n = Number(opt('n', '3000'));
  const seed = Number(opt('seed', '7'));
  const genLength = Number(opt('gen', '64'));
  const out = opt('out', `training/data/traj-${id}.json`);
  const dir = join('public/models', id);
  const files: ModelFiles = {};
  for (const name of ['config.json', 'model.safetensors', 'manifest.json']) files[name] = new Uint8Array(readFileSync(join(dir, name)));
  const model = await loadCpuModel(files, undefined, { verify: true, threads: 1 });
  if (!(model instanceof CpuDiffusionModel)) throw new Error(`${id} is not a diffusion model`);
  const raw = readFileSync('training/data/train.bin');
  const data = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);   // (T,) token ids
  const records: Rec[] = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { records: Rec[] }).records : [];
  const rand = rng(seed);
  const draws = () => ({ offset: Math.floor(rand() * (data.length - 256)), p: 16 + Math.floor(rand() * 177) });
  for (let i = 0; i < records.length; i++) draws();                  // skip what is already done
  const save = () => {
    writeFileSync(`${out}.tmp`, JSON.stringify({ model: id, seed, gen: genLength, records }));
    renameSync(`${out}.tmp`, out);
  };
  const t0 = performance.now();
  let tokens = 0;
  while (records.length < n) {
    const { offset, p } = draws();
    const prompt = Array.from(data.subarray(offset, offset + p));
    const res = await generate(model, { ...knobsFor({ ...DEFAULT_SETTINGS, temperature: 0 }, genLength), prompt, truncate: false });
    const start = res.layout.spanStart;
    records.push({ offset, prompt, gen: res.tokens.slice(start, start + genLength) });
    tokens += genLength;
    if (records.length % 100 === 0 || records.length === n) {
      save();
      const s = (performance.now() - t0) / 1000;
      console.log(`${records.length}/${n} records, ${(tokens / s).toFixed(0)} tokens/s, ${s.toFixed(0)} s`);
    }
  }
  save();
}
