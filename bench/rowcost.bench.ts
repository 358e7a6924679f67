// What one more row of a block step costs on the CPU engine (issue #16): `npm run bench:rowcost
// [-- --reps 30] [-- --model ID] [-- --apart] [-- --out PATH]`. The default int8 diffusion model
// and its AR twin, loaded side by side for each engine setting (threads, parallelWork: the least
// work, ≈ flops, an op needs to be split between threads), timed in turns (or apart, below):
//   AR step      the twin's decodeStep (1 row) against a KV cache of 120+ tokens
//   R-row step   a verify step of the diffusion model after a cached context of 120 tokens:
//                k clean rows (new text and drafts, their AR-head decisions) + B mask rows
//                (B = min(R - 1, 8), k = R - B; R = 1: one clean row, no block)
// c = (R-row step − 1-row step) / (R − 1) / AR step: a row's cost in AR steps (sampler.ts
// rowCost). Block drafting commits at most k + 1 tokens for 2k + 1 rows (each drafted token is a
// mask row now and a verify row next step), so with every draft kept it runs at most
// (k + 1) / (1 + 2ck) → 1 / (2c) times the twin's tokens/s: 1.5× needs c < 1/3.
// --apart: each model timed in a loop of its own (all AR steps, then each R's steps), so its
// weights stay in the caches, as within one generation; by default the two take turns step by
// step, and each step then starts with the other model's weights in the caches (for the base pair
// deepened to 14 MB by bench/deepen.py, the twin's step after a 9-row step took 2.6× its step
// alone: bench/README.md). --out PATH (default bench/results/rowcost-cpu.json). Medians.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import type { CpuAutoregressiveModel, CpuDiffusionModel } from '../src/engine/cpu';
import { loadLocal } from './generate.bench';

const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)];
const round = (x: number, d = 3) => +x.toFixed(d);
const ROWS = [1, 3, 5, 9, 17];
const SETTINGS: [threads: number, parallelWork: number][] = [[1, 2e6], [2, 2e6], [2, 5e5], [2, 2e5], [2, 1e5], [2, 5e4]];

export async function main(argv: string[]): Promise<void> {
  const arg = (k: string, d: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d);
  const id = arg('model', 'qs-code-diffusion-small-v3-int8');
  const reps = Number(arg('reps', '30'));
  const apart = argv.includes('--apart');
  const out = arg('out', 'bench/results/rowcost-cpu.json');
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgBefore: loadavg().map((x) => round(x, 2)), node: process.version };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadavgBefore.join(' ')}; ${id} and its twin, ${reps} reps, ${apart ? 'each model timed apart' : 'the models in turns'}`);
  const opts = { temperature: 0, seed: 1, step: 0 };
  const rows: Record<string, unknown>[] = [];
  for (const [threads, parallelWork] of SETTINGS) {
    const m = (await loadLocal(id, null, threads, parallelWork)).model as CpuDiffusionModel;
    const ar = (await loadLocal(id.replace('diffusion', 'ar'), null, threads, parallelWork)).model as CpuAutoregressiveModel;
    const V = m.config.vocab_size - 3, MASK = m.config.special_tokens.mask;
    const ctx = Int32Array.from({ length: 200 }, (_, i) => (i * 131 + 7) % V);
    const at = (n: number) => ctx.slice(0, n);
    const pos = (t: Int32Array) => Int32Array.from(t, (_, i) => i);
    const step: Record<number, number[]> = {};
    const arT: number[] = [];
    const blockStep = async (R: number) => {
      const B = R === 1 ? 0 : Math.min(R - 1, 8);
      const k = R - B;
      // the cache holds the first 120 tokens (one row recomputed), then the timed step
      await m.decideBlock!({ context: at(120), contextPositions: pos(at(120)), block: new Int32Array(0), blockPos0: 120, offsets: new Int32Array(0), contextRows: Int32Array.of(119) }, opts);
      const c2 = at(120 + k);
      const t0 = performance.now();
      await m.decideBlock!({
        context: c2, contextPositions: pos(c2), block: new Int32Array(B).fill(MASK), blockPos0: 120 + k,
        offsets: Int32Array.from({ length: Math.max(0, B - 1) }, (_, i) => i + 1), contextRows: Int32Array.from({ length: k }, (_, i) => 120 + i),
      }, opts);
      (step[R] ??= []).push(performance.now() - t0);
    };
    const arSteps = async (n: number) => {
      for (let i = 0; i < n; i++) {
        if (ar.cacheLength >= 190) await ar.prefill(at(120), opts);
        const t0 = performance.now();
        await ar.decodeStep(ctx[ar.cacheLength], opts);
        arT.push(performance.now() - t0);
      }
    };
    await ar.prefill(at(120), opts);
    if (apart) {
      await arSteps(4 * reps);
      for (const R of ROWS) for (let rep = 0; rep < reps; rep++) await blockStep(R);
    } else {
      for (let rep = 0; rep < reps; rep++) {
        for (const R of ROWS) await blockStep(R);
        await arSteps(4);
      }
    }
    const a = median(arT);
    const one = median(step[1]);
    const row: Record<string, unknown> = { threads, parallelWork, ar_step_ms: round(a) };
    for (const R of ROWS) row[`rows${R}_ms`] = round(median(step[R]));
    for (const R of ROWS.slice(1)) row[`c${R}`] = round((median(step[R]) - one) / (R - 1) / a, 2);
    rows.push(row);
    console.log(JSON.stringify(row));
    m.dispose();
    ar.dispose();
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ command: `npm run bench:rowcost -- ${argv.join(' ')}`.trim(), date: new Date().toISOString(), machine: { ...machine, loadavgAfter: loadavg().map((x) => round(x, 2)) }, model: id, reps, timing: apart ? 'apart' : 'in turns', rows }, null, 1) + '\n');
  console.log(`wrote ${out}`);
}
