// Helpers for the engine's tests and benchmarks (Node + the `webgpu` package on SwiftShader).
// Not used by the app.

import { nodeGPU } from '../test/nodeGpu';
import { requestDevice } from './device';
import { loadCpuModel } from './cpu';
import type { ModelFiles } from './load';
import { loadModel, sha256Hex } from './load';
import { BufferPool, Recorder, STORAGE } from './recorder';
import { f16ToF32, f32ToF16, writeSafetensors, type SafeDtype, type TensorToWrite } from './safetensors';
import type { DiffusionModel, ModelConfig } from './types';

let shared: Promise<GPUDevice> | undefined;

/** One device for the whole test file (device creation and pipeline compilation are slow). */
export function testDevice(): Promise<GPUDevice> {
  process.env.VK_ICD_FILENAMES ||= '/usr/lib/chromium/vk_swiftshader_icd.json';
  shared ??= requestDevice(nodeGPU()).then((d) => d.device);
  return shared;
}

/** Deterministic uniform random numbers in [lo, hi) (mulberry32). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = 0, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r(-scale, scale));
}

/** A storage buffer holding `data`. */
export function bufferFrom(device: GPUDevice, data: Float32Array | Uint32Array | Int32Array | Int8Array | Uint8Array): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
  const b = device.createBuffer({ size, usage: STORAGE, mappedAtCreation: true });
  new Uint8Array(b.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  b.unmap();
  return b;
}

/** A storage buffer of n floats, all NaN: elements a kernel fails to write stay NaN. */
export function poisoned(device: GPUDevice, n: number): GPUBuffer {
  return bufferFrom(device, new Float32Array(n).fill(NaN));
}

export async function readF32(device: GPUDevice, buffer: GPUBuffer, n: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: Math.max(16, Math.ceil((n * 4) / 16) * 16), usage: 0x01 | 0x08 });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, Math.ceil((n * 4) / 4) * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x1);
  const out = new Float32Array(staging.getMappedRange().slice(0, n * 4));
  staging.unmap();
  staging.destroy();
  return out;
}

/** A recorder that checks validation errors, for kernel tests. */
export function testRecorder(device: GPUDevice): Recorder {
  const rec = new Recorder(device, new BufferPool(device));
  rec.validate = true;
  return rec;
}

export function countNaN(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) n++;
  return n;
}

// ---- Random models in the shipped file format (docs/MODEL_FORMAT.md) ----

export interface TinySpec {
  kind: ModelConfig['kind'];
  vocab: number;
  dim: number;
  heads: number;
  ffn: number;
  layers: number;
  maxSeq: number;
  tie: boolean;
  dtype: SafeDtype;
  /** Store linear weights as int8 with per-row F32 scales (the embedding stays float). */
  int8?: boolean;
  /** Store every matrix (the embedding too) as int8 with F16 scales per group of this many input columns (export.py --int8). */
  int8Group?: number;
  /** Diffusion only: a block-causal model (format 2, shift) with this default block size. */
  blockSize?: number;
}

export function tinyConfig(s: TinySpec): ModelConfig {
  return {
    format: 1, kind: s.kind, vocab_size: s.vocab, dim: s.dim, n_layers: s.layers, n_heads: s.heads, ffn_dim: s.ffn,
    max_seq_len: s.maxSeq, rope_theta: 10000, norm_eps: 1e-5, tie_embeddings: s.tie, dtype: s.int8 || s.int8Group ? 'int8' : s.dtype === 'F16' ? 'float16' : 'float32',
    special_tokens: { mask: s.vocab - 1, pad: s.vocab - 2, eos: s.vocab - 3 },
    ...(s.blockSize ? { format: 2, attention: 'block_causal' as const, block_size: s.blockSize, shift: true } : {}),
  };
}

/** Random weights in the format of docs/MODEL_FORMAT.md, plus config and manifest, as files. */
export async function randomModelFiles(s: TinySpec, seed = 1): Promise<ModelFiles> {
  const r = rng(seed);
  const t: Record<string, TensorToWrite> = {};
  const dense = (name: string, rows: number, cols: number, scale: number) => {
    const data = Array.from({ length: rows * cols }, () => r(-scale, scale));
    if (s.int8Group) {
      // training/quantize.py group_for: the largest multiple of 4 ≤ int8Group dividing cols, else cols
      let G = cols;
      for (let g = Math.min(s.int8Group, cols); g >= 4; g--) if (cols % g === 0 && g % 4 === 0) { G = g; break; }
      const groups = cols / G;
      const q = new Int8Array(rows * cols);
      const sc = new Float32Array(rows * groups);
      for (let i = 0; i < rows; i++) {
        for (let g = 0; g < groups; g++) {
          const part = data.slice(i * cols + g * G, i * cols + (g + 1) * G);
          // a float16 scale, as export.py writes (q·scale is then exact in f32)
          sc[i * groups + g] = f16ToF32(f32ToF16(Math.max(...part.map(Math.abs)) / 127 * 1.001));
          part.forEach((v, j) => (q[i * cols + g * G + j] = Math.max(-127, Math.min(127, Math.round(v / sc[i * groups + g])))));
        }
      }
      t[name] = { dtype: 'I8', shape: [rows, cols], data: q };
      t[`${name}_scale`] = { dtype: 'F16', shape: [rows, groups], data: sc };
    } else if (s.int8 && name !== 'tok_embeddings.weight') {
      const q = new Int8Array(rows * cols);
      const sc = new Float32Array(rows);
      for (let i = 0; i < rows; i++) {
        const row = data.slice(i * cols, (i + 1) * cols);
        sc[i] = Math.max(...row.map(Math.abs)) / 127;
        row.forEach((v, j) => (q[i * cols + j] = Math.round(v / sc[i])));
      }
      t[name] = { dtype: 'I8', shape: [rows, cols], data: q };
      t[`${name}_scale`] = { dtype: 'F32', shape: [rows], data: sc };
    } else {
      t[name] = { dtype: s.dtype, shape: [rows, cols], data };
    }
  };
  const norm = (name: string) => (t[name] = { dtype: s.dtype, shape: [s.dim], data: Array.from({ length: s.dim }, () => r(0.5, 1.5)) });
  const a = 1 / Math.sqrt(s.dim);
  dense('tok_embeddings.weight', s.vocab, s.dim, 1);
  for (let l = 0; l < s.layers; l++) {
    const p = `layers.${l}.`;
    norm(p + 'attn_norm.weight');
    for (const m of ['wq', 'wk', 'wv', 'wo']) dense(`${p}attn.${m}.weight`, s.dim, s.dim, 2 * a);
    norm(p + 'ffn_norm.weight');
    dense(p + 'ffn.w1.weight', s.ffn, s.dim, 2 * a);
    dense(p + 'ffn.w3.weight', s.ffn, s.dim, 2 * a);
    dense(p + 'ffn.w2.weight', s.dim, s.ffn, 2 / Math.sqrt(s.ffn));
  }
  norm('norm.weight');
  if (!s.tie) dense('output.weight', s.vocab, s.dim, a);
  const files: ModelFiles = {
    'config.json': JSON.stringify(tinyConfig(s)),
    'model.safetensors': writeSafetensors(t),
  };
  const manifest: Record<string, { bytes: number; sha256: string }> = {};
  for (const [name, v] of Object.entries(files)) {
    const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : (v as Uint8Array);
    manifest[name] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  }
  files['manifest.json'] = JSON.stringify({ files: manifest });
  return files;
}


/**
 * The diffusion model in `files()` on both engines, as `describe.each` rows: the CPU engine (1
 * thread) and the WebGPU engine on the test device. `files` is read when a row loads (beforeAll).
 */
export function diffusionEngines(files: () => ModelFiles): [string, () => Promise<DiffusionModel>][] {
  return [
    ['cpu', async () => (await loadCpuModel(files(), undefined, { threads: 1 })) as DiffusionModel],
    ['webgpu', async () => (await loadModel(files(), await testDevice())) as DiffusionModel],
  ];
}
