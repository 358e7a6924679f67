// The measurements shared by bench/onnx.bench.ts's runners (Node child processes, and a Worker in
// headless Chromium), full logits (L, vocab) per forward, repetitions interleaved so background
// load hits both sides alike, load / session creation timed separately:
// and, per denoising step, forward + decisions at the masked quarter of positions (ours: decide();
// ORT: run() + argmax/softmax of those rows in JS, the least a sampler on ORT must do):
//   measure         our CPU engine (1 and 2 threads) vs onnxruntime-web's WASM EP (numThreads is
//                   fixed per process/page: ORT reads it once)
//   measureWebGpu   our WebGPU engine vs onnxruntime-web's WebGPU EP (browser only)

import { loadCpuModel, threadsSupported } from '../src/engine/cpu';
import { requestDevice } from '../src/engine/device';
import { loadModel, type ModelFiles } from '../src/engine/load';
import { relError } from '../src/engine/reference';
import type { DiffusionModel } from '../src/engine/types';

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

/** Our engine(s) on one side, ORT with one execution provider on the other. */
interface Sides {
  /** Column prefix of ORT's numbers, e.g. 'ort_1T' or 'ort_webgpu'. */
  ort: string;
  ep: 'wasm' | 'webgpu';
  /** Load the model into each of our engines, labelled like 'ours_1T' or 'ours_webgpu'. */
  loadOurs: (files: ModelFiles, m: BenchModel) => Promise<[string, DiffusionModel][]>;
}

/**
 * For each model and length: logits identity (also the warm-up), then `reps` interleaved rounds of
 * a full-logits forward and a denoising step on every side. Columns `<side>_ms`, `step_<side>_ms`
 * (medians) and the ratios `<ours>/<ort>`, `step <ours>/<ort>`.
 */
async function compare(o: Omit<MeasureOptions, 'ortThreads'>, sides: Sides): Promise<Measured> {
  const rows: Row[] = [];
  const logitsRelError: Record<string, number> = {};
  const loadMs: Record<string, number> = {};
  for (const m of o.models) {
    const files = await readFiles(o, m.folder);
    const ours: [string, DiffusionModel][] = [];
    for (const [label, model] of await sides.loadOurs(files, m)) {
      if (model.config.kind !== 'diffusion') throw new Error(`${m.id} is not a diffusion model`);
      ours.push([label, model]);
    }
    const onnxBytes = await o.read(m.onnx);
    const [session, ortMs] = await timed(() => o.ort.InferenceSession.create(onnxBytes, { executionProviders: [sides.ep] }));
    loadMs[`${m.id} ${sides.ort}`] = ortMs;
    const { max_seq_len: maxSeq, vocab_size: V } = ours[0][1].config;
    for (const L of o.lengths) {
      if (L > maxSeq || (m.lengths && !m.lengths.includes(L))) continue;
      const tokens = benchTokens(L, V);
      const positions = maskedPositions(tokens, V);
      const feeds = { tokens: new o.ort.Tensor('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, L]) };
      const runOrt = async () => (await session.run(feeds)).logits.data;
      const theirs = await runOrt();
      for (const [label, model] of ours) logitsRelError[`${m.id} L=${L} ${label} vs ${sides.ort}`] = relError(await model.logits(tokens), theirs);
      const times: Record<string, number[]> = {};
      const add = async (k: string, f: () => Promise<unknown>) => (times[k] ??= []).push((await timed(f))[1]);
      for (let r = 0; r < o.reps; r++) {
        for (const [label, model] of ours) {
          await add(`${label}_ms`, () => model.logits(tokens));
          await add(`step_${label}_ms`, () => model.decide(tokens, positions, GREEDY));
        }
        await add(`${sides.ort}_ms`, runOrt);
        await add(`step_${sides.ort}_ms`, async () => decideFromLogits(await runOrt(), V, positions));
      }
      const row: Row = { model: m.id, tokens: L };
      for (const [k, v] of Object.entries(times)) row[k] = +median(v).toFixed(1);
      for (const [label] of ours) {
        for (const step of ['', 'step_']) {
          const ratio = (row[`${step}${label}_ms`] as number) / (row[`${step}${sides.ort}_ms`] as number);
          row[`${step ? 'step ' : ''}${label}/${sides.ort}`] = +ratio.toFixed(3);
        }
      }
      rows.push(row);
    }
    await session.release();
    for (const [, model] of ours) model.dispose();
  }
  return { rows, logitsRelError, loadMs };
}

/** Our CPU engine (1 and, where threads work, 2 threads) vs ORT's WASM EP with o.ortThreads threads. */
export async function measure(o: MeasureOptions): Promise<Measured> {
  const loadMs: Record<string, number> = {};
  const result = await compare(o, {
    ort: `ort_${o.ortThreads}T`,
    ep: 'wasm',
    loadOurs: async (files, m) => {
      const out: [string, DiffusionModel][] = [];
      for (const threads of threadsSupported() ? [1, 2] : [1]) {
        const [model, ms] = await timed(() => loadCpuModel(files, undefined, { threads }));
        out.push([`ours_${threads}T`, model as DiffusionModel]);
        loadMs[`${m.id} ours_${threads}T`] = ms;
      }
      return out;
    },
  });
  return { ...result, loadMs: { ...loadMs, ...result.loadMs } };
}

export interface GpuMeasureOptions extends Omit<MeasureOptions, 'ortThreads'> {
  gpu: GPU;
}

/** Our WebGPU engine vs onnxruntime-web's WebGPU EP (each on its own device of the same adapter). */
export async function measureWebGpu(o: GpuMeasureOptions): Promise<Measured & { adapter: string }> {
  const loadMs: Record<string, number> = {};
  const { device, info } = await requestDevice(o.gpu);
  try {
    const result = await compare(o, {
      ort: 'ort_webgpu',
      ep: 'webgpu',
      loadOurs: async (files, m) => {
        const [model, ms] = await timed(() => loadModel(files, device));
        loadMs[`${m.id} ours_webgpu`] = ms;
        return [['ours_webgpu', model as DiffusionModel]];
      },
    });
    return { ...result, loadMs: { ...loadMs, ...result.loadMs }, adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim() };
  } finally {
    device.destroy();
  }
}
