// loadModel: model files (from a base URL, or already in memory) → a model on the device.
//   1. manifest.json (every file's byte size and SHA-256), config.json, model.safetensors,
//      fetched with byte-level progress (or taken from memory)
//   2. each file checked against the manifest: byte size and SHA-256 (crypto.subtle.digest)
//   3. safetensors parsed; weights converted (f16 → f32 on the CPU), fused and uploaded once
//   4. the prefill matmul variant chosen for this adapter (measured once, remembered)
//   5. pipelines compiled once
// No DOM: runs in a Web Worker and in Node (fetch, crypto.subtle and WebGPU are passed in or global).

import { chooseMatmulVariant, type KeyValueStore } from './matmul_choice';
import { GpuAutoregressiveModel, GpuDiffusionModel } from './models';
import { Pipelines } from './pipelines';
import { parseSafetensors } from './safetensors';
import type { MatmulVariant } from './shaders';
import { Transformer } from './transformer';
import type { ModelConfig } from './types';
import { uploadWeights } from './weights';

export type EngineModel = GpuDiffusionModel | GpuAutoregressiveModel;

/** Files of one model by name ('config.json', 'model.safetensors', optionally 'manifest.json'). */
export type ModelFiles = Record<string, ArrayBuffer | Uint8Array | string>;

export interface LoadProgress {
  phase: 'download' | 'verify' | 'upload' | 'tune' | 'compile' | 'ready';
  /** File being downloaded or verified, or the pipeline compiled. */
  file?: string;
  /** Bytes (download: over all files; upload: weight bytes) or items (compile) done, of `total`. */
  loaded: number;
  total: number;
}

export interface LoadOptions {
  /** 'auto' (default): measured per adapter and remembered in `variantStore`. */
  matmulVariant?: MatmulVariant | 'auto';
  /** Where the per-adapter choice is remembered (default: an in-memory map for this worker). */
  variantStore?: KeyValueStore;
  /** Overrides the adapter key of the variant store (default: from device.adapterInfo). */
  adapterKey?: string;
  /** fetch to use for a base URL (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Check sizes and SHA-256 against manifest.json (default true; a missing manifest is an error when true). */
  verify?: boolean;
  /** Called once if the device is lost; the model's calls reject with DeviceLostError after it. */
  onDeviceLost?: (info: { reason: string; message: string }) => void;
}

export class ModelIntegrityError extends Error {
  override readonly name = 'ModelIntegrityError';
}

interface ManifestEntry {
  bytes: number;
  sha256: string;
}

const NEEDED = ['config.json', 'model.safetensors'] as const;

export async function loadModel(source: string | ModelFiles, device: GPUDevice, onProgress?: (p: LoadProgress) => void, options: LoadOptions = {}): Promise<EngineModel> {
  const files = await fetchModelFiles(source, onProgress, options);
  const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as ModelConfig;
  checkConfig(config, device);
  const st = parseSafetensors(files['model.safetensors']);
  const weightBytes = [...st.tensors.values()].reduce((s, t) => s + t.byteLength * (t.dtype === 'I8' ? 1 : t.dtype === 'F32' ? 1 : 2), 0);
  device.pushErrorScope('out-of-memory');
  const weights = uploadWeights(device, config, st, (b) => onProgress?.({ phase: 'upload', loaded: Math.min(b, weightBytes), total: weightBytes }));
  const oom = await device.popErrorScope();
  if (oom) {
    for (const b of weights.buffers) b.destroy();
    throw new Error(`not enough GPU memory for the weights (${weights.bytes} bytes): ${oom.message}`);
  }
  onProgress?.({ phase: 'upload', loaded: weightBytes, total: weightBytes });

  let variant: MatmulVariant;
  if (options.matmulVariant && options.matmulVariant !== 'auto') {
    variant = options.matmulVariant;
  } else {
    onProgress?.({ phase: 'tune', loaded: 0, total: 1 });
    const choice = await chooseMatmulVariant(device, { store: options.variantStore, key: options.adapterKey, dim: config.dim, tokens: Math.min(128, config.max_seq_len) });
    variant = choice.variant;
    onProgress?.({ phase: 'tune', loaded: 1, total: 1 });
  }

  const pipes = Pipelines.of(device);
  const names = Transformer.pipelineNames(config, weights, variant);
  let compiled = 0;
  await pipes.prepare(names, (name) => onProgress?.({ phase: 'compile', file: name, loaded: ++compiled, total: names.length }));

  device.pushErrorScope('out-of-memory');
  const model = config.kind === 'autoregressive'
    ? new GpuAutoregressiveModel(device, config, weights, pipes, variant)
    : new GpuDiffusionModel(device, config, weights, pipes, variant);
  const oomActivations = await device.popErrorScope();
  if (oomActivations) {
    model.dispose();
    throw new Error(`not enough GPU memory for the activations of max_seq_len ${config.max_seq_len}: ${oomActivations.message}`);
  }
  void device.lost.then((info) => {
    const plain = { reason: String(info.reason), message: info.message };
    model.markLost(plain);
    options.onDeviceLost?.(plain);
  });
  onProgress?.({ phase: 'ready', loaded: 1, total: 1 });
  return model;
}

/**
 * Steps 1-2 of loadModel, shared with the CPU engine (src/engine/cpu/): the model files from a
 * base URL (download progress) or memory, checked against manifest.json (size and SHA-256) when
 * `options.verify` (default true), and config.json + model.safetensors present.
 */
export async function fetchModelFiles(source: string | ModelFiles, onProgress?: (p: LoadProgress) => void, options: Pick<LoadOptions, 'verify' | 'fetch'> = {}): Promise<Record<string, Uint8Array>> {
  const verify = options.verify ?? true;
  const files = typeof source === 'string' ? await download(source, verify, options.fetch ?? globalThis.fetch.bind(globalThis), onProgress) : toBytes(source);

  if (verify) {
    const manifest = files['manifest.json'];
    if (!manifest) throw new ModelIntegrityError('manifest.json is missing: cannot verify the model files');
    const entries = parseManifest(new TextDecoder().decode(manifest));
    for (const name of NEEDED) {
      const bytes = files[name];
      const entry = entries[name];
      if (!entry) throw new ModelIntegrityError(`manifest.json has no entry for ${name}`);
      onProgress?.({ phase: 'verify', file: name, loaded: 0, total: bytes.byteLength });
      if (bytes.byteLength !== entry.bytes) throw new ModelIntegrityError(`${name}: ${bytes.byteLength} bytes, manifest says ${entry.bytes} (partial download?)`);
      const hash = await sha256Hex(bytes);
      if (hash !== entry.sha256.toLowerCase()) throw new ModelIntegrityError(`${name}: SHA-256 ${hash} does not match the manifest's ${entry.sha256}`);
      onProgress?.({ phase: 'verify', file: name, loaded: bytes.byteLength, total: bytes.byteLength });
    }
  }
  for (const name of NEEDED) if (!files[name]) throw new Error(`model file ${name} is missing`);
  return files;
}

export function isDiffusionModel(m: EngineModel): m is GpuDiffusionModel {
  return m instanceof GpuDiffusionModel;
}

export function isAutoregressiveModel(m: EngineModel): m is GpuAutoregressiveModel {
  return m instanceof GpuAutoregressiveModel;
}

function toBytes(files: ModelFiles): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [name, v] of Object.entries(files)) {
    out[name] = typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Uint8Array ? v : new Uint8Array(v);
  }
  return out;
}

/** manifest.json: { files: { name: { bytes, sha256 } } } (training/export.py). */
export function parseManifest(text: string): Record<string, ManifestEntry> {
  const m = JSON.parse(text) as { files?: Record<string, { bytes?: number; size?: number; sha256: string }> };
  if (!m.files || typeof m.files !== 'object') throw new ModelIntegrityError('manifest.json has no "files" object');
  const out: Record<string, ManifestEntry> = {};
  for (const [name, e] of Object.entries(m.files)) out[name] = { bytes: Number(e.bytes ?? e.size), sha256: String(e.sha256) };
  return out;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function download(base: string, verify: boolean, fetchFn: typeof fetch, onProgress?: (p: LoadProgress) => void): Promise<Record<string, Uint8Array>> {
  const url = (name: string) => (base.endsWith('/') ? base : `${base}/`) + name;
  const files: Record<string, Uint8Array> = {};
  let sizes: Record<string, ManifestEntry> = {};
  const res = await fetchFn(url('manifest.json'));
  if (res.ok) {
    files['manifest.json'] = new Uint8Array(await res.arrayBuffer());
    sizes = parseManifest(new TextDecoder().decode(files['manifest.json']));
  } else if (verify) {
    throw new ModelIntegrityError(`manifest.json: HTTP ${res.status} at ${url('manifest.json')}`);
  }
  let total = NEEDED.reduce((s, n) => s + (sizes[n]?.bytes ?? 0), 0);
  let loaded = 0;
  for (const name of NEEDED) {
    const r = await fetchFn(url(name));
    if (!r.ok || !r.body) throw new Error(`${name}: HTTP ${r.status} at ${url(name)}`);
    const expected = sizes[name]?.bytes ?? Number(r.headers.get('content-length') ?? 0);
    if (!sizes[name]) total += expected;
    const chunks: Uint8Array[] = [];
    let got = 0;
    const reader = r.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        // The connection broke mid-file: say so, with how far it got (nothing partial is kept).
        throw new Error(`${name}: the download was cut off after ${got} of ${expected || '?'} bytes (${err instanceof Error ? err.message : String(err)}); try again`);
      }
      const { done, value } = chunk;
      if (done) break;
      chunks.push(value);
      got += value.byteLength;
      loaded += value.byteLength;
      onProgress?.({ phase: 'download', file: name, loaded, total: Math.max(total, loaded) });
    }
    const bytes = new Uint8Array(got);
    let o = 0;
    for (const c of chunks) {
      bytes.set(c, o);
      o += c.byteLength;
    }
    files[name] = bytes;
  }
  return files;
}

function checkConfig(c: ModelConfig, device: GPUDevice): void {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`config.json: ${what}`);
  };
  need(c.kind === 'diffusion' || c.kind === 'autoregressive', `unknown kind ${c.kind}`);
  need(c.dim % c.n_heads === 0, 'dim must be a multiple of n_heads');
  need(c.dim % 4 === 0 && (c.dim / c.n_heads) % 4 === 0, 'dim and head_dim must be multiples of 4');
  need((c.dim / c.n_heads) / 4 <= 64, 'head_dim above 256 is not supported');
  need(c.max_seq_len >= 1, 'max_seq_len must be positive');
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  need(c.vocab_size * c.dim * 4 <= maxBinding, `embedding table exceeds maxStorageBufferBindingSize ${maxBinding}`);
  need(c.max_seq_len * c.vocab_size * 4 <= maxBinding, `logits (max_seq_len × vocab) exceed maxStorageBufferBindingSize ${maxBinding}`);
  need(c.max_seq_len * Math.max(3 * c.dim, c.ffn_dim) * 4 <= maxBinding, `activations (max_seq_len × max(3·dim, ffn_dim)) exceed maxStorageBufferBindingSize ${maxBinding}`);
  need(Math.max(3 * c.dim, 2 * c.ffn_dim, c.vocab_size) * c.dim * 4 <= maxBinding && c.dim * c.ffn_dim * 4 <= maxBinding, `a weight matrix exceeds maxStorageBufferBindingSize ${maxBinding}`);
}
