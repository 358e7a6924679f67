// The measurement shared by bench/onnx.bench.ts's two runners (Node child processes, and a Worker in
// headless Chromium): the CPU engine (1 and 2 threads) next to onnxruntime-web's WASM execution
// provider (numThreads fixed per process/page: ORT reads it once) on the same model and tokens,
// full logits (L, vocab) per forward, repetitions interleaved so background load hits all alike.

import { loadCpuModel, threadsSupported, type CpuEngineModel } from '../src/engine/cpu';
import { relError } from '../src/engine/reference';
import type { ModelFiles } from '../src/engine/load';

/** The parts of onnxruntime-web used here (its types are not a dependency of the project). */
export interface OrtLike {
  env: { wasm: { numThreads?: number; wasmPaths?: string } };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: number[]) => unknown;
  InferenceSession: { create(model: Uint8Array, opts: { executionProviders: string[] }): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array }>>; release(): Promise<void> }> };
}

export interface MeasureOptions {
  ort: OrtLike;
  ortThreads: number;
  /** Bytes of a file under the project root, e.g. 'bench/onnx/qs-random-6m.onnx'. */
  read: (path: string) => Promise<Uint8Array>;
  models: { id: string; onnx: string; folder: string }[];
  lengths: number[];
  reps: number;
}

export interface Row {
  model: string;
  tokens: number;
  ours_1T_ms: number;
  ours_2T_ms?: number;
  [ortKey: string]: string | number | undefined;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

export async function measure(o: MeasureOptions): Promise<{ rows: Row[]; logitsRelError: Record<string, number> }> {
  const rows: Row[] = [];
  const logitsRelError: Record<string, number> = {};
  const ortKey = `ort_${o.ortThreads}T_ms`;
  for (const m of o.models) {
    const files: ModelFiles = {};
    for (const f of ['config.json', 'model.safetensors', 'manifest.json']) files[f] = await o.read(`${m.folder}/${f}`);
    const ours: [number, CpuEngineModel][] = [];
    for (const threads of threadsSupported() ? [1, 2] : [1]) ours.push([threads, await loadCpuModel(files, undefined, { threads })]);
    const session = await o.ort.InferenceSession.create(await o.read(m.onnx), { executionProviders: ['wasm'] });
    const maxSeq = ours[0][1].config.max_seq_len;
    const V = ours[0][1].config.vocab_size;
    for (const L of o.lengths) {
      if (L > maxSeq) continue;
      const tokens = Int32Array.from({ length: L }, (_, i) => (i % 4 === 1 ? V - 1 : (i * 37 + 11) % (V - 3)));
      const feeds = { tokens: new o.ort.Tensor('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, L]) };
      const runOrt = async () => (await session.run(feeds)).logits.data;
      // warm-up + identity check
      const theirs = await runOrt();
      for (const [threads, model] of ours) {
        const mine = await model.logits(tokens);
        logitsRelError[`${m.id} L=${L} ours ${threads}T vs ort`] = relError(mine, theirs);
      }
      const times: Record<string, number[]> = {};
      for (let r = 0; r < o.reps; r++) {
        for (const [threads, model] of ours) {
          const t0 = performance.now();
          await model.logits(tokens);
          (times[`ours_${threads}T_ms`] ??= []).push(performance.now() - t0);
        }
        const t0 = performance.now();
        await runOrt();
        (times[ortKey] ??= []).push(performance.now() - t0);
      }
      const row: Row = { model: m.id, tokens: L, ours_1T_ms: 0 };
      for (const [k, v] of Object.entries(times)) row[k] = +median(v).toFixed(1);
      for (const [threads] of ours) row[`ours_${threads}T/ort_${o.ortThreads}T`] = +((row[`ours_${threads}T_ms`] as number) / (row[ortKey] as number)).toFixed(3);
      rows.push(row);
    }
    await session.release();
    for (const [, model] of ours) model.dispose();
  }
  return { rows, logitsRelError };
}
