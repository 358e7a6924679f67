// Engine benchmark: `npm run bench:engine` (Node, the `webgpu` package; SwiftShader here).
//   1. matmul GFLOP/s of the model's real shapes, per kernel variant
//   2. attention kernel ms at 128 / 256 / 512 tokens
//   3. ms per full diffusion forward (decide) at 128 / 256 / 512 tokens, model shaped like the
//      shipped config (dim 256, 6 layers, 8 heads, ffn 704, vocab 4096), random weights
//   4. AR: prefill and per-token decode time with the KV cache
//   5. dispatches, readbacks and bytes read back per forward
// Writes bench/results/engine-<adapter>.json and prints a short table. SwiftShader wall times are
// noisy and say nothing about real GPUs: read the ratios (measured in the same run) and counts.
// Options: --quick (fewer lengths and reps).

import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { nodeGPU } from '../src/test/nodeGpu';
import { requestDevice } from '../src/engine/device';
import { loadModel } from '../src/engine/load';
import { measureMatmulVariants } from '../src/engine/matmul_choice';
import { GpuAutoregressiveModel, GpuDiffusionModel } from '../src/engine/models';
import * as ops from '../src/engine/ops';
import { attentionPipelineName, matmulPipelineName, Pipelines } from '../src/engine/pipelines';
import { BufferPool, Recorder } from '../src/engine/recorder';
import { Epilogue, type MatmulKernel } from '../src/engine/shaders';
import { randomModelFiles, type TinySpec } from '../src/engine/testkit';

const SPEC: Omit<TinySpec, 'kind'> = { vocab: 4096, dim: 256, heads: 8, ffn: 704, layers: 6, maxSeq: 512, tie: true, dtype: 'F16' };

/** Device ms per kernel kind (dispatch keys like "L3.qkv.blocked" → "qkv"), largest first. */
function summarise(profile: { key: string; ms: number }[]): { kernel: string; ms: number; share: number }[] {
  const byKernel = new Map<string, number>();
  for (const { key, ms } of profile) {
    const kind = key.replace(/^L\d+\./, '').split('.')[0];
    byKernel.set(kind, (byKernel.get(kind) ?? 0) + ms);
  }
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  return [...byKernel].sort((a, b) => b[1] - a[1]).map(([kernel, ms]) => ({ kernel, ms: +ms.toFixed(2), share: +(ms / total).toFixed(3) }));
}

/** Best-of-`reps` wall ms of fn, after one warm-up call. */
async function timeIt(reps: number, fn: () => Promise<void>): Promise<number> {
  await fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return Math.min(...t); // noise (other processes) only adds time: the minimum is the most stable
}

export async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const reps = quick ? 1 : 3;
  const { device, info } = await requestDevice(nodeGPU());
  const adapter = (info.architecture || info.vendor || 'unknown').replace(/[^a-z0-9_-]/gi, '_');
  console.log(`adapter: ${info.vendor} ${info.architecture} ${info.description} (fallback: ${info.isFallbackAdapter})`);
  const pipes = Pipelines.of(device);
  const kernels: MatmulKernel[] = ['blocked', 'tiled', 'int8', 'rows'];
  await pipes.prepare([...kernels.map((k) => matmulPipelineName(k, Epilogue.Store)), attentionPipelineName(SPEC.dim / SPEC.heads)]);
  const pool = new BufferPool(device);
  const rec = new Recorder(device, pool);

  // ---- 1. matmul GFLOP/s at the model's shapes (T = 256 tokens; decode: 1 token) ----
  const T = quick ? 128 : 256;
  const D = SPEC.dim;
  const shapes: { name: string; M: number; N: number; K: number }[] = [
    { name: 'qkv', M: T, N: 3 * D, K: D },
    { name: 'wo', M: T, N: D, K: D },
    { name: 'w13', M: T, N: 2 * SPEC.ffn, K: D },
    { name: 'w2', M: T, N: D, K: SPEC.ffn },
    { name: 'output', M: 64, N: SPEC.vocab, K: D },
  ];
  const fill = (name: string, n: number) => {
    const b = pool.get(name, n * 4);
    device.queue.writeBuffer(b, 0, new Float32Array(n).map((_, i) => ((i * 7919) % 17) / 17 - 0.5));
    return b;
  };
  const matmulRows: Record<string, string | number>[] = [];
  for (const s of shapes) {
    const a = fill(`a.${s.name}`, s.M * s.K);
    const wf: ops.Weight = { kind: 'f32', buffer: fill(`w.${s.name}`, s.N * s.K), rows: s.N, cols: s.K };
    const wq: ops.Weight = { kind: 'i8', buffer: fill(`q.${s.name}`, (s.N * s.K) / 4), scales: fill(`s.${s.name}`, s.N), rows: s.N, cols: s.K, group: s.K };
    const out = pool.get(`o.${s.name}`, s.M * s.N * 4);
    const row: Record<string, string | number> = { shape: `${s.name} ${s.M}x${s.N}x${s.K}` };
    for (const k of ['blocked', 'tiled', 'int8'] as const) {
      const ms = await timeIt(reps, async () => {
        rec.begin();
        ops.matmul(rec, pipes, `mm.${s.name}.${k}`, k, a, k === 'int8' ? wq : wf, out, s.M, Epilogue.Store);
        await rec.finish();
        await device.queue.onSubmittedWorkDone();
      });
      row[k] = +((2 * s.M * s.N * s.K) / ms / 1e6).toFixed(3);
    }
    // decode shape: one row
    const ms1 = await timeIt(reps, async () => {
      rec.begin();
      ops.matmul(rec, pipes, `mm.${s.name}.rows`, 'rows', a, wf, out, 1, Epilogue.Store);
      await rec.finish();
      await device.queue.onSubmittedWorkDone();
    });
    row.rows_M1 = +((2 * s.N * s.K) / ms1 / 1e6).toFixed(3);
    row.blocked_over_tiled = +((row.blocked as number) / (row.tiled as number)).toFixed(2);
    row.int8_over_blocked = +((row.int8 as number) / (row.blocked as number)).toFixed(2);
    matmulRows.push(row);
  }
  console.log('\nmatmul GFLOP/s (rows_M1: the decode kernel on one token; ratios of GFLOP/s in this run)');
  console.table(matmulRows);

  // ---- 2. attention kernel ----
  const lengths = quick ? [128, 256] : [128, 256, 512];
  const attRows: Record<string, number>[] = [];
  const qkv = fill('att.qkv', 512 * 3 * D);
  const kc = fill('att.k', 512 * D);
  const vc = fill('att.v', 512 * D);
  const ao = pool.get('att.o', 512 * D * 4);
  for (const L of lengths) {
    const ms = await timeIt(reps, async () => {
      rec.begin();
      ops.attention(rec, pipes, `att.${L}`, qkv, kc, vc, ao, { nQueries: L, nKeys: L, nHeads: SPEC.heads, headDim: D / SPEC.heads, qStride: 3 * D, qPos0: 0, causal: false });
      await rec.finish();
      await device.queue.onSubmittedWorkDone();
    });
    attRows.push({ tokens: L, ms: +ms.toFixed(1), GFLOPs: +((4 * L * L * D) / ms / 1e6).toFixed(3) });
  }
  console.log('\nattention (one layer, all heads)');
  console.table(attRows);

  // ---- 3. diffusion forward ----
  const variants = await measureMatmulVariants(device, 128, D, reps);
  const fastest = variants.blocked <= variants.tiled ? 'blocked' : 'tiled';
  const slowest = fastest === 'blocked' ? 'tiled' : 'blocked';
  console.log(`\nvariant measurement (128x256x256, ms): blocked ${variants.blocked.toFixed(1)}, tiled ${variants.tiled.toFixed(1)} -> ${fastest}`);
  const diffFiles = await randomModelFiles({ ...SPEC, kind: 'diffusion' }, 1);
  const forwardRows: Record<string, string | number>[] = [];
  let perForward: Record<string, number> = {};
  let breakdown: { kernel: string; ms: number; share: number }[] = [];
  let breakdownTokens = 0;
  for (const variant of [fastest, slowest] as const) {
    const model = (await loadModel(diffFiles, device, undefined, { matmulVariant: variant })) as GpuDiffusionModel;
    for (const L of variant === fastest ? lengths : [128]) {
      const tokens = Int32Array.from({ length: L }, (_, i) => (i % 3 === 0 ? SPEC.vocab - 1 : (i * 31) % 4000));
      const positions = Int32Array.from({ length: Math.min(32, L) }, (_, i) => i * 3);
      const c0 = { ...model.counters };
      const ms = await timeIt(reps, async () => {
        await model.decide(tokens, positions, { temperature: 0.8, seed: 1, step: 0 });
      });
      const n = model.counters.forwards - c0.forwards;
      perForward = {
        dispatches: (model.counters.dispatches - c0.dispatches) / n,
        readbacks: (model.counters.readbacks - c0.readbacks) / n,
        bytesReadBack: (model.counters.bytesReadBack - c0.bytesReadBack) / n,
      };
      // Peak device memory: weights + every pool buffer (the pool grows to the largest shape seen).
      const peakDeviceBytes = model.deviceBytes + model.activationBytes;
      forwardRows.push({ variant, tokens: L, positions: positions.length, ms: +ms.toFixed(0), peakDeviceBytes });
      if (variant === fastest && L === lengths.at(-1) && device.features.has('timestamp-query')) {
        model.setProfiling(true);
        await model.decide(tokens, positions, { temperature: 0.8, seed: 1, step: 0 });
        model.setProfiling(false);
        breakdown = summarise(model.lastProfile());
        breakdownTokens = L;
      }
    }
    model.dispose();
  }
  const base = forwardRows[0].ms as number;
  for (const r of forwardRows) r.ratio_vs_first = +((r.ms as number) / base).toFixed(2);
  console.log('\ndiffusion forward + decide (dim 256, 6 layers, vocab 4096)');
  console.table(forwardRows);
  console.log('per forward:', perForward);
  if (breakdown.length) {
    console.log(`\ndevice time by kernel, one forward at ${breakdownTokens} tokens (timestamp queries, one pass per dispatch)`);
    console.table(breakdown);
  }

  // ---- 4. AR decode ----
  const arModel = (await loadModel(await randomModelFiles({ ...SPEC, kind: 'autoregressive' }, 2), device, undefined, { matmulVariant: fastest })) as GpuAutoregressiveModel;
  const prompt = Int32Array.from({ length: 64 }, (_, i) => (i * 17) % 4000);
  const opts = { temperature: 0, seed: 0, step: 0 };
  await arModel.prefill(prompt, opts);
  let t0 = performance.now();
  await arModel.prefill(prompt, opts);
  const prefillMs = performance.now() - t0;
  const steps = quick ? 8 : 32;
  const c0 = { ...arModel.counters };
  t0 = performance.now();
  let tok = 1;
  for (let i = 0; i < steps; i++) tok = (await arModel.decodeStep(tok, opts)).token[0];
  const decodeMs = (performance.now() - t0) / steps;
  const arCounters = {
    dispatches: (arModel.counters.dispatches - c0.dispatches) / steps,
    readbacks: (arModel.counters.readbacks - c0.readbacks) / steps,
    bytesReadBack: (arModel.counters.bytesReadBack - c0.bytesReadBack) / steps,
  };
  let decodeBreakdown: { kernel: string; ms: number; share: number }[] = [];
  if (device.features.has('timestamp-query')) {
    arModel.setProfiling(true);
    await arModel.decodeStep(tok, opts);
    arModel.setProfiling(false);
    decodeBreakdown = summarise(arModel.lastProfile());
  }
  arModel.dispose();
  const arRows = [
    { what: 'prefill 64 tokens', ms: +prefillMs.toFixed(0) },
    { what: `decode, per token (${steps} tokens after 64)`, ms: +decodeMs.toFixed(1) },
    { what: 'decode token / diffusion forward at 128', ms: +(decodeMs / base).toFixed(3) },
  ];
  console.log('\nautoregressive');
  console.table(arRows);
  console.log('per decode step:', arCounters);
  if (decodeBreakdown.length) {
    const gpuMs = decodeBreakdown.reduce((a, b) => a + b.ms, 0);
    console.log(`device time of one decode step: ${gpuMs.toFixed(1)} ms of ${decodeMs.toFixed(1)} ms wall (the rest: submit, readback, host)`);
    console.table(decodeBreakdown.slice(0, 6));
  }

  const result = {
    adapter: info,
    date: new Date().toISOString(),
    note: 'SwiftShader wall times are noisy; compare ratios measured in the same run. GFLOP/s = 2·M·N·K / time.',
    loadAverageAtEnd: loadavg(),
    quick,
    model: SPEC,
    matmulGflops: matmulRows,
    attention: attRows,
    variantMeasurementMs: variants,
    chosenVariant: fastest,
    forward: forwardRows,
    perForward,
    breakdown: { tokens: breakdownTokens, byKernel: breakdown },
    autoregressive: { prefill64Ms: prefillMs, decodeMsPerToken: decodeMs, perDecodeStep: arCounters, decodeBreakdown },
  };
  mkdirSync('bench/results', { recursive: true });
  const out = `bench/results/engine-${adapter}.json`;
  writeFileSync(out, JSON.stringify(result, null, 1));
  console.log(`\nwrote ${out}`);
  rec.destroy();
  pool.destroy();
  device.destroy();
}
