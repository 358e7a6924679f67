// Which engine runs a model: the rule shared by the worker (src/worker/) and its tests.
// Dependency-free (no kernels, no WebGPU), so the worker's registry can import it cheaply.

import { wasmSimdSupported } from './wasm';

export type EngineRequest = 'auto' | 'webgpu' | 'cpu';
export type EngineName = 'webgpu' | 'cpu';

/** What the WebGPU probe found (the worker's probe(): src/engine/device.ts). */
export type GpuProbe =
  | { ok: true; isFallbackAdapter: boolean; description?: string }
  | { ok: false; reason: string; message?: string };

export interface EngineDecision {
  engine: EngineName;
  /** One line for the load response / UI, e.g. "auto: the WebGPU adapter is a software fallback (swiftshader)". */
  reason: string;
}

/**
 * The selection rule. 'cpu' and 'webgpu' are the user's override and always win (a forced
 * 'webgpu' without WebGPU then fails to load, with the probe's error). 'auto': the CPU engine when
 * there is no WebGPU or the adapter is a fallback (software, e.g. SwiftShader: the CPU engine is
 * ~10x faster there), else WebGPU. Without WebAssembly SIMD, WebGPU whenever it exists.
 */
export function chooseEngine(requested: EngineRequest, gpu: GpuProbe, simd = wasmSimdSupported()): EngineDecision {
  if (requested === 'cpu') return { engine: 'cpu', reason: 'cpu: requested' };
  if (requested === 'webgpu') return { engine: 'webgpu', reason: 'webgpu: requested' };
  if (!simd && gpu.ok) return { engine: 'webgpu', reason: 'auto: no WebAssembly SIMD for the CPU engine' };
  if (!gpu.ok) return { engine: 'cpu', reason: `auto: no WebGPU (${gpu.reason}${gpu.message ? `: ${gpu.message}` : ''})` };
  if (gpu.isFallbackAdapter) return { engine: 'cpu', reason: `auto: the WebGPU adapter is a software fallback${gpu.description ? ` (${gpu.description})` : ''}` };
  return { engine: 'webgpu', reason: `auto: hardware WebGPU adapter${gpu.description ? ` (${gpu.description})` : ''}` };
}
