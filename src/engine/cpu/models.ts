// DiffusionModel and AutoregressiveModel on the CPU engine (contract: ../types.ts), the same
// behaviour as the WebGPU engine's models.ts: token checks, request positions, the AR cache.

import { BlockCache, commonPrefix, type BlockPlan } from '../blockstep';
import { DualCache } from '../dualcache';
import type { AutoregressiveModel, BlockStep, DecideOptions, Decisions, DiffusionModel, EngineCounters, ModelConfig } from '../types';
import type { CpuRuntime } from './runtime';
import type { CpuTransformer } from './transformer';

/** What both CPU model kinds expose beyond the sampler contract (mirrors EngineModelInfo). */
export interface CpuModelInfo {
  readonly engine: 'cpu';
  readonly counters: EngineCounters;
  /** Kernel design, for the load response: 'wasm-simd128 2x16' (+ threads). */
  readonly matmulVariant: string;
  /** Threads in use (1: single-threaded). */
  readonly threads: number;
  readonly parameterCount: number;
  /** Bytes of WebAssembly memory held (weights, activations, caches). */
  readonly deviceBytes: number;
  /** Bytes the weights take (int8 panels + scales, or f32 panels and the float embedding table). */
  readonly weightBytes: number;
}

abstract class CpuModel implements CpuModelInfo {
  readonly engine = 'cpu' as const;
  readonly counters: EngineCounters = { forwards: 0, dispatches: 0, readbacks: 0, bytesReadBack: 0 };
  private disposed = false;

  constructor(protected readonly t: CpuTransformer) {}

  get config(): ModelConfig {
    return this.t.config;
  }

  get threads(): number {
    return this.t.rt.threads;
  }

  /** The kernels' runtime (benchmarks set runtime.profile). */
  get runtime(): CpuRuntime {
    return this.t.rt;
  }

  get matmulVariant(): string {
    return `wasm-simd128 2x16${this.threads > 1 ? `, ${this.threads} threads` : ''}`;
  }

  get parameterCount(): number {
    return this.t.parameterCount;
  }

  get deviceBytes(): number {
    return this.t.rt.bytes;
  }

  get weightBytes(): number {
    return this.t.weightBytes;
  }

  /** Run fn (synchronous kernels) after checks; counts kernel calls as dispatches. */
  protected step<T>(fn: () => T): Promise<T> {
    try {
      if (this.disposed) throw new Error('model was disposed');
      const before = this.t.rt.calls;
      const out = fn();
      this.counters.dispatches += this.t.rt.calls - before;
      this.counters.forwards++;
      return Promise.resolve(out);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  protected checkTokens(tokens: ArrayLike<number>): void {
    if (tokens.length < 1) throw new Error('empty token sequence');
    if (tokens.length > this.config.max_seq_len) throw new Error(`sequence of ${tokens.length} tokens exceeds max_seq_len ${this.config.max_seq_len}`);
    for (let i = 0; i < tokens.length; i++) {
      const v = tokens[i];
      if (!(Number.isInteger(v) && v >= 0 && v < this.config.vocab_size)) throw new Error(`token ${v} at ${i} is outside the vocabulary`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.t.dispose();
  }
}

/**
 * What one more row of a verify step costs on this engine, in single-row steps: 0.4-0.6 for the
 * small v2 pair, int8 or float32, one thread, measured on a 2-core CPU (bench/README.md "Row
 * cost"); rows are arithmetic here, not weight streaming. A constant, not measured at each load:
 * the same request then takes the same steps every time (timelines, sampled runs). Measured at
 * load it varied 0.40-0.50 from load to load on this shared machine.
 */
export const CPU_ROW_COST = 0.45;

export class CpuDiffusionModel extends CpuModel implements DiffusionModel {
  /** Block-causal models: what the KV cache holds (blockstep.ts). */
  private readonly blockCache: BlockCache | null;
  /** Full-attention models: the tokens whose keys and values the KV cache holds (dualcache.ts). */
  private readonly dualCache = new DualCache();

  constructor(t: CpuTransformer) {
    super(t);
    this.blockCache = t.config.attention === 'block_causal' ? new BlockCache(t.config.max_seq_len) : null;
    if (this.blockCache) {
      this.rowCost = CPU_ROW_COST;
      this.decideBlock = (step, opts) => this.step(() => {
        const plan = this.runBlock(step, false);
        const n = plan.headRows.length;
        if (n === 0) return emptyDecisions();
        this.t.head(plan.headRows);
        return this.t.decide(plan.positions, plan.current, opts);
      });
      this.blockLogits = (step, uncached) => this.step(() => {
        const B = step.block.length;
        const all = { ...step, offsets: Int32Array.from({ length: B }, (_, i) => i), contextRows: undefined };
        const plan = this.runBlock(all, uncached);
        this.t.head(plan.headRows);
        return this.t.readLogits(B);
      });
    } else if (t.kvCache) {
      this.decideDual = (tokens, positions, opts, window) => this.step(() => {
        const plan = this.runDual(tokens, positions, window);
        if (plan.headRows.length === 0) return emptyDecisions();
        this.t.head(plan.headRows);
        return this.t.decide(positions, plan.current, opts);
      });
      this.dualLogits = (tokens, window) => this.step(() => {
        const [s, e] = window ?? [0, tokens.length];
        const plan = this.runDual(tokens, Int32Array.from({ length: Math.max(0, e - s) }, (_, i) => s + i), window);
        this.t.head(plan.headRows);
        return this.t.readLogits(plan.headRows.length);
      });
    }
  }

  decideBlock?: (step: BlockStep, opts: DecideOptions) => Promise<Decisions>;
  decideDual?: (tokens: Int32Array, positions: Int32Array, opts: DecideOptions, window: readonly [number, number] | null) => Promise<Decisions>;
  dualLogits?: (tokens: Int32Array, window: readonly [number, number] | null) => Promise<Float32Array>;
  /** One more row of a block step, in single-row steps (CPU_ROW_COST). */
  rowCost?: number;
  blockLogits?: (step: BlockStep, uncached: boolean) => Promise<Float32Array>;

  /** The forwards of a block step (the residual stream of the last one stays in x). */
  private runBlock(step: BlockStep, uncached: boolean): BlockPlan {
    const cache = this.blockCache!;
    const plan = cache.plan(step, this.config.vocab_size, uncached);
    cache.clear(); // until the forwards have run
    for (const f of plan.forwards) this.t.layersForward(f.tokens, f.slot0, true, { nCausal: f.nCausal, ropePos0: f.ropePos0 });
    this.counters.forwards += plan.forwards.length - 1;
    cache.commit(step);
    return plan;
  }

  private requireFull(): void {
    if (this.blockCache) throw new Error('a block-causal model decodes with decideBlock (config.attention "block_causal")');
  }

  decide(tokens: Int32Array, positions: Int32Array, opts: DecideOptions): Promise<Decisions> {
    return this.step(() => {
      this.requireFull();
      this.checkTokens(tokens);
      const n = positions.length;
      const L = tokens.length;
      const current = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const p = positions[i];
        if (!(p >= 0 && p < L)) throw new Error(`position ${p} is outside the sequence of ${L}`);
        current[i] = tokens[p];
      }
      if (n === 0) return emptyDecisions();
      this.forwardAll(tokens);
      this.t.head(positions);
      return this.t.decide(positions, current, opts);
    });
  }

  /** The forward of a DualCache step (the residual stream of its rows stays in x). */
  private runDual(tokens: Int32Array, positions: Int32Array, window: readonly [number, number] | null) {
    this.checkTokens(tokens);
    const plan = this.dualCache.plan(tokens, positions, window);
    this.dualCache.clear(); // until the forward has run
    this.t.layersForward(plan.tokens, plan.start, false, { nKeys: plan.nKeys });
    this.dualCache.commit(tokens);
    return plan;
  }

  /** A whole bidirectional forward; with a KV cache it is also a DualCache refresh. */
  private forwardAll(tokens: Int32Array): void {
    this.dualCache.clear();
    this.t.layersForward(tokens, 0, false);
    if (this.t.kvCache) this.dualCache.commit(tokens);
  }

  logits(tokens: Int32Array): Promise<Float32Array> {
    return this.step(() => {
      this.requireFull();
      this.checkTokens(tokens);
      const L = tokens.length;
      this.forwardAll(tokens);
      this.t.head(Int32Array.from({ length: L }, (_, i) => i));
      return this.t.readLogits(L);
    });
  }
}

export class CpuAutoregressiveModel extends CpuModel implements AutoregressiveModel {
  /** Tokens in the KV cache. */
  cacheLength = 0;
  /** The tokens the cache holds, positions 0 .. cacheLength - 1. */
  private readonly cached = new Int32Array(this.config.max_seq_len);
  /** Tokens the last prefill found in the cache already (not run again). */
  prefillReused = 0;

  prefill(tokens: Int32Array, opts: DecideOptions): Promise<Decisions> {
    return this.step(() => {
      this.checkTokens(tokens);
      if (tokens.length === 0) throw new Error('prefill: no tokens');
      // the longest prefix the cache holds already (as the diffusion model's block cache does),
      // less the last token: its row gives the decision
      this.cacheLength = this.prefillReused = commonPrefix(this.cached, this.cacheLength, tokens);
      return this.append(tokens.subarray(this.cacheLength), opts);
    });
  }

  decodeStep(token: number, opts: DecideOptions): Promise<Decisions> {
    return this.step(() => {
      if (this.cacheLength === 0) throw new Error('decodeStep before prefill');
      this.checkTokens([token]);
      if (this.cacheLength >= this.config.max_seq_len) throw new Error(`KV cache full (max_seq_len ${this.config.max_seq_len})`);
      return this.append([token], opts);
    });
  }

  /** Append tokens to the cache and decide the token after them (RNG position = its position). */
  private append(tokens: ArrayLike<number>, opts: DecideOptions): Decisions {
    const T = tokens.length;
    const pos0 = this.cacheLength;
    if (pos0 + T > this.config.max_seq_len) throw new Error(`sequence exceeds max_seq_len ${this.config.max_seq_len}`);
    this.cacheLength = 0; // until the forward has run
    this.t.layersForward(tokens, pos0, true);
    this.cached.set(tokens, pos0);
    this.cacheLength = pos0 + T;
    this.t.head([T - 1]);
    return this.t.decide([pos0 + T], [-1], opts);
  }

  /** Full causal logits (L, vocab). Leaves the cache holding exactly `tokens`. */
  logits(tokens: Int32Array): Promise<Float32Array> {
    return this.step(() => {
      this.checkTokens(tokens);
      const L = tokens.length;
      this.cacheLength = 0;
      this.t.layersForward(tokens, 0, true);
      this.cached.set(tokens);
      this.cacheLength = L;
      this.t.head(Int32Array.from({ length: L }, (_, i) => i));
      return this.t.readLogits(L);
    });
  }
}

function emptyDecisions(): Decisions {
  return { token: new Int32Array(0), prob: new Float32Array(0), margin: new Float32Array(0), entropy: new Float32Array(0), currentProb: new Float32Array(0) };
}
