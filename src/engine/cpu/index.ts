// The CPU engine (WebAssembly, 128-bit SIMD; threads when cross-origin isolated): a second backend
// behind the same model interface as the WebGPU engine (../types.ts). Public entry points:
//   loadCpuModel(source, onProgress?, options?)  model files → CpuDiffusionModel | CpuAutoregressiveModel
//   chooseEngine(requested, probe)               which engine runs, and why (the worker's rule)
// See README.md in this folder.

import { fetchModelFiles, type LoadProgress, type ModelFiles } from '../load';
import { parseSafetensors } from '../safetensors';
import type { ModelConfig } from '../types';
import { CpuAutoregressiveModel, CpuDiffusionModel } from './models';
import { CpuTransformer } from './transformer';
import { threadsSupported, wasmSimdSupported } from './wasm';

export { CpuAutoregressiveModel, CpuDiffusionModel, type CpuModelInfo } from './models';
export { CpuRuntime } from './runtime';
export { threadsSupported, wasmSimdSupported } from './wasm';
export { chooseEngine, type EngineDecision, type EngineName, type EngineRequest, type GpuProbe } from './choose';

export type CpuEngineModel = CpuDiffusionModel | CpuAutoregressiveModel;

export interface CpuLoadOptions {
  /** Threads including the calling one. 'auto' (default): hardwareConcurrency (at most 8) when
   *  threadsSupported() (cross-origin isolated), else 1. */
  threads?: number | 'auto';
  /** Check sizes and SHA-256 against manifest.json (default true). */
  verify?: boolean;
  /** fetch to use for a base URL (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Kernel calls with less work than this (≈ flops) stay on the calling thread (tests: 0 = always split). */
  parallelWork?: number;
}

/** Threads 'auto' resolves to here. */
export function defaultThreads(): number {
  if (!threadsSupported()) return 1;
  const hc = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, Math.min(8, hc ?? 1));
}

/**
 * Load a model on the CPU engine: `source` is a base URL or in-memory files, exactly as for the
 * WebGPU loadModel (same download progress and manifest checks: ../load.ts fetchModelFiles).
 * Progress phases: download, verify, upload (weights packed into WebAssembly memory), ready.
 */
export async function loadCpuModel(source: string | ModelFiles, onProgress?: (p: LoadProgress) => void, options: CpuLoadOptions = {}): Promise<CpuEngineModel> {
  if (!wasmSimdSupported()) throw new Error('CPU engine: this browser has no WebAssembly SIMD (128-bit)');
  const files = await fetchModelFiles(source, onProgress, options);
  const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as ModelConfig;
  const st = parseSafetensors(files['model.safetensors']);
  const weightBytes = [...st.tensors.values()].reduce((s, t) => s + t.byteLength, 0);
  onProgress?.({ phase: 'upload', loaded: 0, total: weightBytes });
  const threads = options.threads === undefined || options.threads === 'auto' ? defaultThreads() : options.threads;
  const t = await CpuTransformer.create(config, st, { threads, kvCache: true, parallelWork: options.parallelWork });
  onProgress?.({ phase: 'upload', loaded: weightBytes, total: weightBytes });
  const model = config.kind === 'autoregressive' ? new CpuAutoregressiveModel(t) : new CpuDiffusionModel(t);
  onProgress?.({ phase: 'ready', loaded: 1, total: 1 });
  return model;
}
