// The measurements shared by bench/onnx.bench.ts's runners (Node child processes, and a Worker in
// headless Chromium), full logits (L, vocab) per forward, repetitions interleaved so background
// load hits both sides alike, load / session creation timed separately:
// and, per denoising step, forward + decisions at the masked quarter of positions (ours: decide();
// ORT: run() + argmax/softmax of those rows in JS, the least a sampler on ORT must do):
//   measure         our CPU engine (1 and 2 threads) vs onnxruntime-web's WASM EP (numThreads is
//                   fixed per process/page: ORT reads it once)
//   measureWebGpu   our WebGPU engine vs onnxruntime-web's WebGPU EP (browser only)

import { loadCpuModel, threadsSupported, type CpuEngineModel } from '../src/engine/cpu';
import { requestDevice } from '../src/engine/device';
import { isDiffusionModel, loadModel, type ModelFiles } from '../src/engine/load';
import { relError } from '../src/engine/reference';

/** The parts of onnxruntime-web used here (its types are not a dependency of the project). */
export interface OrtLike {
  env: { wasm: { numThreads?: number; wasmPaths?: string } };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: number[]) => unknown;
  InferenceSession: { create(model: Uint8Array, opts: { executionProviders: string[] }): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array }>>; release(): Promise<void> }> };
}

/** A model in both formats; `lengths` limits which of the run's lengths it is measured at. */
export interface BenchModel {
  id: string;
  onnx: string;
  folder: string;
  lengths?: number[];
}

export interface MeasureOptions {
  ort: OrtLike;
  ortThreads: number;
  /** Bytes of a file under the project root, e.g. 'bench/onnx/qs-random-6m.onnx'. */
  read: (path: string) => Promise<Uint8Array>;
  models: BenchModel[];
  lengths: number[];
  reps: number;
}

export interface Row {
  model: string;
  tokens: number;
  ours_1T_ms?: number;
  ours_2T_ms?: number;
  [ortKey: string]: string | number | undefined;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

export interface Measured {
  rows: Row[];
  logitsRelError: Record<string, number>;
  /** ms to load each model into each engine (ours: files in memory -> ready; ORT: session creation). */
  loadMs: Record<string, number>;
}

const readFiles = async (o: { read: MeasureOptions['read'] }, folder: string): Promise<ModelFiles> => {
  const files: ModelFiles = {};
  for (const f of ['config.json', 'model.safetensors', 'manifest.json']) files[f] = await o.read(`${folder}/${f}`);
  return files;
};

/** Mask every 4th token (diffusion input), the rest a fixed spread of ordinary ids. */
const benchTokens = (L: number, V: number) => Int32Array.from({ length: L }, (_, i) => (i % 4 === 1 ? V - 1 : (i * 37 + 11) % (V - 3)));

/** The masked positions of benchTokens: what a denoising step decides. */
const maskedPositions = (tokens: Int32Array, V: number) => Int32Array.from([...tokens.keys()].filter((i) => tokens[i] === V - 1));

/**
 * What a sampler on top of ORT must do after each forward: for each masked row of the (L, V)
 * logits, argmax (never the mask id) and its softmax probability (our engines do this on the
 * device / in WASM and read back a few numbers per position). Returns the chosen tokens.
 */
export function decideFromLogits(logits: Float32Array, V: number, positions: Int32Array): { token: Int32Array; prob: Float32Array } {
  const token = new Int32Array(positions.length);
  const prob = new Float32Array(positions.length);
  positions.forEach((p, j) => {
    const row = logits.subarray(p * V, (p + 1) * V);
    let best = 0;
    for (let v = 1; v < V - 1; v++) if (row[v] > row[best]) best = v;
    let sum = 0;
    for (let v = 0; v < V - 1; v++) sum += Math.exp(row[v] - row[best]);
    token[j] = best;
    prob[j] = 1 / sum;
  });
  return { token, prob };
}

const GREEDY = { temperature: 0, seed: 0, step: 0 };

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, +(performance.now() - t0).toFixed(1)];
}

export async function measure(o: MeasureOptions): Promise<Measured> {
  const rows: Row[] = [];
  const logitsRelError: Record<string, number> = {};
  const loadMs: Record<string, number> = {};
  const ortKey = `ort_${o.ortThreads}T_ms`;
  for (const m of o.models) {
    const files = await readFiles(o, m.folder);
    const ours: [number, CpuEngineModel][] = [];
    for (const threads of threadsSupported() ? [1, 2] : [1]) {
      const [model, ms] = await timed(() => loadCpuModel(files, undefined, { threads }));
      ours.push([threads, model]);
      loadMs[`${m.id} ours ${threads}T`] = ms;
    }
    const onnxBytes = await o.read(m.onnx);
    const [session, ortMs] = await timed(() => o.ort.InferenceSession.create(onnxBytes, { executionProviders: ['wasm'] }));
    loadMs[`${m.id} ort wasm ${o.ortThreads}T`] = ortMs;
    const maxSeq = ours[0][1].config.max_seq_len;
    const V = ours[0][1].config.vocab_size;
    for (const L of o.lengths) {
      if (L > maxSeq || (m.lengths && !m.lengths.includes(L))) continue;
      const tokens = benchTokens(L, V);
      const feeds = { tokens: new o.ort.Tensor('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, L]) };
      const runOrt = async () => (await session.run(feeds)).logits.data;
      // warm-up + identity check
      const theirs = await runOrt();
      for (const [threads, model] of ours) {
        const mine = await model.logits(tokens);
        logitsRelError[`${m.id} L=${L} ours ${threads}T vs ort`] = relError(mine, theirs);
      }
      const positions = maskedPositions(tokens, V);
      const times: Record<string, number[]> = {};
      const add = (k: string, ms: number) => (times[k] ??= []).push(ms);
      for (let r = 0; r < o.reps; r++) {
        for (const [threads, model] of ours) {
          add(`ours_${threads}T_ms`, (await timed(() => model.logits(tokens)))[1]);
          add(`step_ours_${threads}T_ms`, (await timed(() => model.decide(tokens, positions, GREEDY)))[1]);
        }
        add(ortKey, (await timed(runOrt))[1]);
        add(`step_${ortKey}`, (await timed(async () => decideFromLogits(await runOrt(), V, positions)))[1]);
      }
      const row: Row = { model: m.id, tokens: L };
      for (const [k, v] of Object.entries(times)) row[k] = +median(v).toFixed(1);
      for (const [threads] of ours) {
        row[`ours_${threads}T/ort_${o.ortThreads}T`] = +((row[`ours_${threads}T_ms`] as number) / (row[ortKey] as number)).toFixed(3);
        row[`step ours_${threads}T/ort_${o.ortThreads}T`] = +((row[`step_ours_${threads}T_ms`] as number) / (row[`step_${ortKey}`] as number)).toFixed(3);
      }
      rows.push(row);
    }
    await session.release();
    for (const [, model] of ours) model.dispose();
  }
  return { rows, logitsRelError, loadMs };
}

export interface GpuMeasureOptions extends Omit<MeasureOptions, 'ortThreads'> {
  gpu: GPU;
}

/** Our WebGPU engine vs onnxruntime-web's WebGPU EP (each on its own device of the same adapter). */
export async function measureWebGpu(o: GpuMeasureOptions): Promise<Measured & { adapter: string }> {
  const rows: Row[] = [];
  const logitsRelError: Record<string, number> = {};
  const loadMs: Record<string, number> = {};
  const { device, info } = await requestDevice(o.gpu);
  try {
    for (const m of o.models) {
      const files = await readFiles(o, m.folder);
      const [ours, oursMs] = await timed(() => loadModel(files, device));
      loadMs[`${m.id} ours webgpu`] = oursMs;
      const onnxBytes = await o.read(m.onnx);
      const [session, ortMs] = await timed(() => o.ort.InferenceSession.create(onnxBytes, { executionProviders: ['webgpu'] }));
      loadMs[`${m.id} ort webgpu`] = ortMs;
      const { max_seq_len: maxSeq, vocab_size: V } = ours.config;
      for (const L of o.lengths) {
        if (L > maxSeq || (m.lengths && !m.lengths.includes(L))) continue;
        const tokens = benchTokens(L, V);
        const feeds = { tokens: new o.ort.Tensor('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, L]) };
        const runOrt = async () => (await session.run(feeds)).logits.data;
        const runOurs = () => ours.logits(tokens);
        logitsRelError[`${m.id} L=${L} ours webgpu vs ort webgpu`] = relError(await runOurs(), await runOrt()); // also the warm-up
        const positions = maskedPositions(tokens, V);
        const times: Record<string, number[]> = { ours_webgpu_ms: [], ort_webgpu_ms: [], step_ours_webgpu_ms: [], step_ort_webgpu_ms: [] };
        for (let r = 0; r < o.reps; r++) {
          times.ours_webgpu_ms.push((await timed(runOurs))[1]);
          if (isDiffusionModel(ours)) times.step_ours_webgpu_ms.push((await timed(() => ours.decide(tokens, positions, GREEDY)))[1]);
          times.ort_webgpu_ms.push((await timed(runOrt))[1]);
          times.step_ort_webgpu_ms.push((await timed(async () => decideFromLogits(await runOrt(), V, positions)))[1]);
        }
        const row: Row = { model: m.id, tokens: L };
        for (const [k, v] of Object.entries(times)) if (v.length) row[k] = +median(v).toFixed(1);
        row['ours_webgpu/ort_webgpu'] = +((row.ours_webgpu_ms as number) / (row.ort_webgpu_ms as number)).toFixed(3);
        if (row.step_ours_webgpu_ms !== undefined) row['step ours_webgpu/ort_webgpu'] = +((row.step_ours_webgpu_ms as number) / (row.step_ort_webgpu_ms as number)).toFixed(3);
        rows.push(row);
      }
      await session.release();
      ours.dispose();
    }
  } finally {
    device.destroy();
  }
  return { rows, logitsRelError, loadMs, adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim() };
}
