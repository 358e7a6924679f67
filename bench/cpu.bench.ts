// CPU engine benchmark: `npm run bench:cpu [-- --quick] [-- --no-gpu]` (Node).
//   1. matmul GFLOP/s of the WASM SIMD kernel at the model's shapes, 1 and 2 threads
//   2. ms per diffusion forward (decide at min(32, L) positions, the sampler's step) at 128 / 256
//      tokens: CPU engine (1 thread, 2 threads) vs the WebGPU engine on this machine's adapter
//      (SwiftShader here), model shaped like the shipped config (dim 256, 6 layers, 8 heads,
//      ffn 704, vocab 4096), random weights; ratios = WebGPU ms / CPU ms (> 1: the CPU is faster)
//   3. where the CPU time goes (ms per kernel, one forward at 256 tokens)
//   4. AR: prefill 64 tokens and per-token decode with the KV cache, both engines
// Writes bench/results/cpu-<adapter>.json and prints tables. The dev machine has 2 cores shared with
// other jobs: numbers are noisy (±30%); compare ratios measured in the same run.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { loadCpuModel, type CpuAutoregressiveModel, type CpuDiffusionModel } from '../src/engine/cpu';
import { CpuRuntime } from '../src/engine/cpu/runtime';
import { requestDevice } from '../src/engine/device';
import { loadModel, type ModelFiles } from '../src/engine/load';
import type { GpuAutoregressiveModel, GpuDiffusionModel } from '../src/engine/models';
import { randomModelFiles, type TinySpec } from '../src/engine/testkit';
import type { AutoregressiveModel, DiffusionModel } from '../src/engine/types';
import { nodeGPU } from '../src/test/nodeGpu';

const SPEC: Omit<TinySpec, 'kind'> = { vocab: 4096, dim: 256, heads: 8, ffn: 704, layers: 6, maxSeq: 512, tie: true, dtype: 'F16' };

async function timeIt(reps: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]; // median
}

const round = (x: number, d = 1) => +x.toFixed(d);

export async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const noGpu = argv.includes('--no-gpu');
  const reps = quick ? 2 : 5;
  const lengths = [128, 256];
  const threadCounts = [1, 2];
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgBefore: loadavg().map((x) => round(x, 2)), node: process.version };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadavgBefore.join(' ')}, Node ${machine.node}`);

  // ---- 1. matmul ----
  const D = SPEC.dim;
  const shapes = [
    { name: 'qkv', M: 256, N: 3 * D, K: D },
    { name: 'w13', M: 256, N: 2 * SPEC.ffn, K: D },
    { name: 'w2', M: 256, N: D, K: SPEC.ffn },
    { name: 'output (32 rows)', M: 32, N: SPEC.vocab, K: D },
    { name: 'decode qkv (1 row)', M: 1, N: 3 * D, K: D },
  ];
  const matmulRows: Record<string, string | number>[] = [];
  const rts = await Promise.all(threadCounts.map((threads) => CpuRuntime.create({ bytes: 24 << 20, threads, maxKeys: 4 })));
  for (const s of shapes) {
    const row: Record<string, string | number> = { shape: `${s.name} ${s.M}x${s.N}x${s.K}` };
    for (const [i, rt] of rts.entries()) {
      const a = rt.upload(Float32Array.from({ length: s.M * s.K }, (_, j) => ((j * 7919) % 17) / 17 - 0.5));
      const w = rt.packPanels(Float32Array.from({ length: s.N * s.K }, (_, j) => ((j * 104729) % 13) / 13 - 0.5), s.N, s.K);
      const c = rt.alloc(s.M * s.N);
      const inner = s.M === 1 ? 200 : 10;
      const ms = (await timeIt(reps, () => { for (let r = 0; r < inner; r++) rt.matmul(a, s.K, w, c, s.N, s.M, s.N, s.K, false); })) / inner;
      row[`${threadCounts[i]}T GFLOP/s`] = round((2 * s.M * s.N * s.K) / ms / 1e6);
    }
    matmulRows.push(row);
  }
  rts.forEach((rt) => rt.dispose());
  console.log('\nWASM SIMD matmul (2x16 register block, packed panels)');
  console.table(matmulRows);

  // ---- 2. diffusion forward ----
  const diffFiles: ModelFiles = await randomModelFiles({ ...SPEC, kind: 'diffusion' }, 1);
  const inputs = (L: number) => ({
    tokens: Int32Array.from({ length: L }, (_, i) => (i % 3 === 0 ? SPEC.vocab - 1 : (i * 31) % 4000)),
    positions: Int32Array.from({ length: Math.min(32, L) }, (_, i) => i * 3),
  });
  const forward: Record<string, number>[] = lengths.map((L) => ({ tokens: L }));
  let breakdown: { kernel: string; ms: number; share: number }[] = [];
  let helperShare = 0;
  for (const threads of threadCounts) {
    const model = (await loadCpuModel(diffFiles, undefined, { threads })) as CpuDiffusionModel;
    for (const [i, L] of lengths.entries()) {
      const { tokens, positions } = inputs(L);
      forward[i][`cpu_${threads}T_ms`] = round(await timeIt(reps, () => model.decide(tokens, positions, { temperature: 0.8, seed: 1, step: 0 })));
    }
    if (threads > 1) {
      const units = model.runtime.unitsByThread();
      const total = units.reduce((a, b) => a + b, 0);
      helperShare = total ? units.slice(1).reduce((a, b) => a + b, 0) / total : 0;
      console.log(`${threads} threads: work units run per thread ${JSON.stringify(units)} (helpers' share ${(100 * helperShare).toFixed(0)}%)`);
    }
    if (threads === threadCounts.at(-1)) {
      const { tokens, positions } = inputs(256);
      model.runtime.profile = new Map();
      const t0 = performance.now();
      await model.decide(tokens, positions, { temperature: 0.8, seed: 1, step: 0 });
      const total = performance.now() - t0;
      const prof = model.runtime.profile;
      model.runtime.profile = null;
      const kernels = [...prof.values()].reduce((a, b) => a + b, 0);
      breakdown = [...prof].sort((a, b) => b[1] - a[1]).map(([kernel, ms]) => ({ kernel, ms: round(ms, 2), share: round(ms / total, 3) }));
      breakdown.push({ kernel: '(host: embed, copies, dispatch)', ms: round(total - kernels, 2), share: round((total - kernels) / total, 3) });
    }
    model.dispose();
  }

  let adapterName = 'no-webgpu';
  let adapterInfo: unknown = null;
  let device: GPUDevice | null = null;
  if (!noGpu) {
    try {
      const acquired = await requestDevice(nodeGPU());
      device = acquired.device;
      adapterInfo = acquired.info;
      adapterName = (acquired.info.architecture || acquired.info.vendor || 'unknown').replace(/[^a-z0-9_-]/gi, '_');
      console.log(`\nWebGPU adapter: ${acquired.info.vendor} ${acquired.info.architecture} ${acquired.info.description} (fallback: ${acquired.info.isFallbackAdapter})`);
    } catch (e) {
      console.log(`\nno WebGPU: ${(e as Error).message}`);
    }
  }
  const gpuReps = quick ? 1 : 3;
  if (device) {
    const model = (await loadModel(diffFiles, device, undefined, { matmulVariant: 'blocked' })) as GpuDiffusionModel;
    for (const [i, L] of lengths.entries()) {
      const { tokens, positions } = inputs(L);
      forward[i].webgpu_ms = round(await timeIt(gpuReps, () => model.decide(tokens, positions, { temperature: 0.8, seed: 1, step: 0 })));
      for (const threads of threadCounts) forward[i][`webgpu/cpu_${threads}T`] = round(forward[i].webgpu_ms / forward[i][`cpu_${threads}T_ms`], 1);
    }
    model.dispose();
  }
  for (const row of forward) row['cpu_1T/2T'] = round(row.cpu_1T_ms / row.cpu_2T_ms, 2);
  console.log('\ndiffusion forward + decide at min(32, L) positions, ms (median); webgpu/cpu > 1: the CPU engine is faster');
  console.table(forward);
  console.log('\nCPU engine, one forward at 256 tokens (2 threads), wall ms by kernel');
  console.table(breakdown);

  // ---- 4. autoregressive ----
  const arFiles = await randomModelFiles({ ...SPEC, kind: 'autoregressive' }, 2);
  const prompt = Int32Array.from({ length: 64 }, (_, i) => (i * 17) % 4000);
  const opts = { temperature: 0, seed: 0, step: 0 };
  const steps = quick ? 8 : 32;
  const arRows: Record<string, string | number>[] = [];
  const measureAr = async (name: string, model: AutoregressiveModel, prefillReps: number) => {
    const prefillMs = await timeIt(prefillReps, () => model.prefill(prompt, opts));
    let tok = 1;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) tok = (await model.decodeStep(tok, opts)).token[0];
    arRows.push({ engine: name, prefill64_ms: round(prefillMs), decode_ms_per_token: round((performance.now() - t0) / steps, 2) });
  };
  for (const threads of threadCounts) {
    const m = (await loadCpuModel(arFiles, undefined, { threads })) as CpuAutoregressiveModel;
    await measureAr(`cpu ${threads}T`, m, reps);
    m.dispose();
  }
  if (device) {
    const m = (await loadModel(arFiles, device, undefined, { matmulVariant: 'blocked' })) as GpuAutoregressiveModel;
    await measureAr('webgpu', m, 1);
    m.dispose();
  }
  console.log(`\nautoregressive: prefill 64 tokens, then ${steps} decode steps with the KV cache`);
  console.table(arRows);

  const result = {
    date: new Date().toISOString(),
    machine: { ...machine, loadavgAfter: loadavg().map((x) => round(x, 2)) },
    webgpuAdapter: adapterInfo,
    note: 'ms are medians; the machine is shared (noisy): compare ratios from the same run. webgpu/cpu > 1 means the CPU engine is faster.',
    model: SPEC,
    matmulGflops: matmulRows,
    forward,
    helperThreadShareOfWork: round(helperShare, 3),
    cpuBreakdown256: breakdown,
    autoregressive: arRows,
  };
  mkdirSync('bench/results', { recursive: true });
  const out = `bench/results/cpu-${adapterName}.json`;
  writeFileSync(out, JSON.stringify(result, null, 1));
  console.log(`\nwrote ${out}`);
  device?.destroy();
}
