// Choosing the prefill matmul variant per adapter: a short measurement at first load, remembered
// in a pluggable key-value store (keyed by adapter), so later loads skip it.
//   'blocked': 8×8 register blocks, no workgroup memory (fast on SwiftShader / CPUs)
//   'tiled':   64×64 workgroup-memory tiles (the classic GPU design)
// In a browser worker localStorage does not exist: the default store is an in-memory map, and an
// app can pass its own store (IndexedDB, or a persistence callback on MemoryStore).

import { matmulPipelineName, Pipelines } from './pipelines';
import * as ops from './ops';
import { BufferPool, Recorder } from './recorder';
import { Epilogue, type MatmulVariant } from './shaders';

export interface KeyValueStore {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/** An in-memory store; `persist` (optional) is called on every set, `initial` preloads entries. */
export class MemoryStore implements KeyValueStore {
  private readonly map: Map<string, string>;
  constructor(private readonly persist?: (key: string, value: string) => void, initial?: Record<string, string>) {
    this.map = new Map(Object.entries(initial ?? {}));
  }
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  set(key: string, value: string): void {
    this.map.set(key, value);
    this.persist?.(key, value);
  }
}

/** The store used when the caller gives none: lives as long as the worker / process. */
export const sharedVariantStore = new MemoryStore();

/** A string naming the adapter behind `device`. */
export function adapterKey(device: GPUDevice): string {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!info) return 'unknown-adapter';
  return [info.vendor, info.architecture, info.device, info.description].map((s) => s || '-').join('|');
}

const STORE_PREFIX = 'quicksilver/matmul-variant/v1/';

export interface VariantChoice {
  variant: MatmulVariant;
  /** Best ms per run of each variant, when measured now (null when remembered). */
  measuredMs: Record<MatmulVariant, number> | null;
  key: string;
}

/**
 * The faster prefill matmul on this adapter for a (tokens × dim) · (dim × dim)ᵀ product.
 * Measures once (about 3 runs each at M = 128) and remembers the answer under the adapter key.
 */
export async function chooseMatmulVariant(device: GPUDevice, opts: { store?: KeyValueStore; key?: string; dim?: number; tokens?: number } = {}): Promise<VariantChoice> {
  const store = opts.store ?? sharedVariantStore;
  const key = STORE_PREFIX + (opts.key ?? adapterKey(device));
  const remembered = await store.get(key);
  if (remembered === 'blocked' || remembered === 'tiled') return { variant: remembered, measuredMs: null, key };

  const measuredMs = await measureMatmulVariants(device, opts.tokens ?? 128, Math.max(opts.dim ?? 256, 64), 3);
  const variant: MatmulVariant = measuredMs.blocked <= measuredMs.tiled ? 'blocked' : 'tiled';
  await store.set(key, variant);
  return { variant, measuredMs, key };
}

/** Best-of-`reps` wall time (ms) of one (M, K) · (N = K, K)ᵀ matmul per variant, after a warm-up. */
export async function measureMatmulVariants(device: GPUDevice, M: number, K: number, reps: number, N = K): Promise<Record<MatmulVariant, number>> {
  const pipes = Pipelines.of(device);
  const variants: MatmulVariant[] = ['blocked', 'tiled'];
  await pipes.prepare(variants.map((v) => matmulPipelineName(v, Epilogue.Store)));
  const pool = new BufferPool(device);
  const rec = new Recorder(device, pool);
  const a = pool.get('a', M * K * 4);
  const w: ops.Weight = { kind: 'f32', buffer: pool.get('w', N * K * 4), rows: N, cols: K };
  const out = pool.get('out', M * N * 4);
  const fill = new Float32Array(Math.max(M, N) * K).map((_, i) => ((i * 7919) % 13) / 13 - 0.5);
  device.queue.writeBuffer(a, 0, fill, 0, M * K);
  device.queue.writeBuffer(w.buffer, 0, fill, 0, N * K);
  const result = {} as Record<MatmulVariant, number>;
  try {
    for (const v of variants) {
      let best = Infinity;
      for (let r = 0; r <= reps; r++) {
        const t0 = performance.now();
        rec.begin();
        ops.matmul(rec, pipes, `tune.${v}`, v, a, w, out, M, Epilogue.Store);
        await rec.finish();
        await device.queue.onSubmittedWorkDone();
        if (r > 0) best = Math.min(best, performance.now() - t0); // r = 0 warms up
      }
      result[v] = best;
    }
  } finally {
    rec.destroy();
    pool.destroy();
  }
  return result;
}
