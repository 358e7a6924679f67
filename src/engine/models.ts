// DiffusionModel and AutoregressiveModel on the WebGPU engine (contract: types.ts).

import type { Pipelines } from './pipelines';
import { newCounters } from './recorder';
import type { MatmulVariant } from './shaders';
import { Transformer } from './transformer';
import { BlockCache, commonPrefix, type BlockPlan } from './blockstep';
import { DualCache, type DualPlan } from './dualcache';
import type { AutoregressiveModel, BlockStep, DecideOptions, Decisions, DiffusionModel, EngineCounters, ModelConfig } from './types';
import type { ModelWeights } from './weights';

/** Thrown by every call after the device was lost (info.reason: 'destroyed' or 'unknown'). */
export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError';
  constructor(readonly info: { reason: string; message: string }) {
    super(`WebGPU device lost (${info.reason}): ${info.message}`);
  }
}

/** What both model kinds expose beyond the sampler contract. */
export interface EngineModelInfo {
  readonly counters: EngineCounters;
  /** The prefill matmul variant in use ('blocked': register-blocked, 'tiled': shared memory). */
  readonly matmulVariant: MatmulVariant;
  readonly parameterCount: number;
  /** Bytes of weights resident on the device. */
  readonly deviceBytes: number;
  /** The same (both engines name it: the weights' memory, int8 or f32). */
  readonly weightBytes: number;
  /** Set once the device is lost; every later call rejects with DeviceLostError. */
  readonly lost: { reason: string; message: string } | null;
}

abstract class GpuModel implements EngineModelInfo {
  readonly counters: EngineCounters = newCounters();
  protected readonly t: Transformer;
  lost: { reason: string; message: string } | null = null;
  private disposed = false;
  /** Calls are serialised: a step's buffers are shared, so a second step waits for the first. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly device: GPUDevice, readonly config: ModelConfig, protected readonly weights: ModelWeights, pipes: Pipelines, readonly matmulVariant: MatmulVariant, perLayerCache: boolean) {
    this.t = new Transformer(device, config, weights, pipes, matmulVariant, perLayerCache, this.counters);
    // Validation errors become exceptions of the call that caused them (instead of silently wrong
    // results); the error scope is synchronous bookkeeping, cheap next to a forward pass.
    this.t.rec.validate = true;
  }

  get parameterCount(): number {
    return this.weights.parameterCount;
  }

  get deviceBytes(): number {
    return this.weights.bytes;
  }

  get weightBytes(): number {
    return this.weights.bytes;
  }

  /** Bytes of activation/cache/readback buffers the pool holds now (it only grows: the peak). */
  get activationBytes(): number {
    return this.t.pool.bytes;
  }

  /**
   * Benchmarks: time every dispatch of the following steps on the device (one compute pass per
   * dispatch, timestamp queries; needs the 'timestamp-query' feature). Read with lastProfile().
   */
  setProfiling(on: boolean): void {
    this.t.rec.profiling = on;
  }

  /** Device ms per dispatch site of the last profiled step. */
  lastProfile(): { key: string; ms: number }[] {
    return this.t.rec.profile;
  }

  /** Called by the loader when device.lost resolves. */
  markLost(info: { reason: string; message: string }): void {
    this.lost = info;
  }

  /** Run `fn` after earlier calls finish; reject if disposed or the device is lost. */
  protected serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.disposed) throw new Error('model was disposed');
      if (this.lost) throw new DeviceLostError(this.lost);
      try {
        return await fn();
      } catch (err) {
        this.t.rec.abort();
        if (this.lost) throw new DeviceLostError(this.lost);
        throw err;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** One forward over `tokens` from position 0 and every row's logits, (L, vocab). Call inside serial(). */
  protected async allLogits(tokens: Int32Array, causal: boolean): Promise<Float32Array> {
    this.checkTokens(tokens);
    const L = tokens.length;
    const all = Int32Array.from({ length: L }, (_, i) => i);
    const t = this.t;
    t.writeTokens(tokens);
    t.writeRequest(all, all, tokens);
    t.rec.begin();
    t.encodeLayers(L, 0, causal);
    t.encodeHead(L);
    const out = await t.finishLogits(L);
    this.counters.forwards++;
    return out;
  }

  protected checkTokens(tokens: ArrayLike<number>): void {
    if (tokens.length < 1) throw new Error('empty token sequence');
    if (tokens.length > this.config.max_seq_len) throw new Error(`sequence of ${tokens.length} tokens exceeds max_seq_len ${this.config.max_seq_len}`);
    for (let i = 0; i < tokens.length; i++) {
      const v = tokens[i];
      if (!(v >= 0 && v < this.config.vocab_size)) throw new Error(`token ${v} at ${i} is outside the vocabulary`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.t.destroy();
    for (const b of this.weights.buffers) b.destroy();
  }
}

export class GpuDiffusionModel extends GpuModel implements DiffusionModel {
  /** Block-causal models: what the per-layer KV cache holds (blockstep.ts). */
  private readonly blockCache: BlockCache | null;
  /** Full-attention models: the tokens whose keys and values the KV cache holds (dualcache.ts). */
  private readonly dualCache = new DualCache();

  constructor(device: GPUDevice, config: ModelConfig, weights: ModelWeights, pipes: Pipelines, variant: MatmulVariant) {
    const block = config.attention === 'block_causal';
    super(device, config, weights, pipes, variant, true); // per-layer K/V: the block cache, or a DualCache
    this.blockCache = block ? new BlockCache(config.max_seq_len) : null;
    if (this.blockCache) {
      this.decideBlock = (step, opts) => this.serial(() => this.runBlock(step, false, async (plan) => {
        const n = plan.headRows.length;
        const t = this.t;
        if (n === 0) {
          await t.rec.finish();
          return emptyDecisions();
        }
        t.writeRequest(plan.headRows, plan.positions, plan.current);
        t.encodeHead(n);
        t.encodeDecide(n, opts);
        return t.finishDecisions(n);
      }));
      this.blockLogits = (step, uncached) => this.serial(() => {
        const B = step.block.length;
        return this.runBlock({ ...step, offsets: Int32Array.from({ length: B }, (_, i) => i), contextRows: undefined }, uncached, (plan) => {
          this.t.writeRequest(plan.headRows, plan.positions, plan.current);
          this.t.encodeHead(B);
          return this.t.finishLogits(B);
        });
      });
    } else {
      this.decideDual = (tokens, positions, opts, window) => this.serial(async () => {
        const plan = this.runDual(tokens, positions, window);
        const n = plan.headRows.length;
        const t = this.t;
        if (n === 0) {
          await t.rec.finish();
          this.dualCache.commit(tokens);
          return emptyDecisions();
        }
        t.writeRequest(plan.headRows, positions, plan.current);
        t.encodeHead(n);
        t.encodeDecide(n, opts);
        const d = await t.finishDecisions(n);
        this.dualCache.commit(tokens);
        return d;
      });
      this.dualLogits = (tokens, window) => this.serial(async () => {
        const [s, e] = window ?? [0, tokens.length];
        const positions = Int32Array.from({ length: Math.max(0, e - s) }, (_, i) => s + i);
        const plan = this.runDual(tokens, positions, window);
        const n = plan.headRows.length;
        this.t.writeRequest(plan.headRows, positions, plan.current);
        this.t.encodeHead(n);
        const out = await this.t.finishLogits(n);
        this.dualCache.commit(tokens);
        return out;
      });
    }
  }

  decideBlock?: (step: BlockStep, opts: DecideOptions) => Promise<Decisions>;
  blockLogits?: (step: BlockStep, uncached: boolean) => Promise<Float32Array>;
  decideDual?: (tokens: Int32Array, positions: Int32Array, opts: DecideOptions, window: readonly [number, number] | null) => Promise<Decisions>;
  dualLogits?: (tokens: Int32Array, window: readonly [number, number] | null) => Promise<Float32Array>;

  /**
   * Record the forward of a DualCache step (begun, not finished: the caller adds the head, submits,
   * then commits the cache).
   */
  private runDual(tokens: Int32Array, positions: Int32Array, window: readonly [number, number] | null): DualPlan {
    this.checkTokens(tokens);
    const plan = this.dualCache.plan(tokens, positions, window);
    this.dualCache.clear(); // until the forward has run
    const t = this.t;
    t.writeTokens(plan.tokens);
    t.rec.begin();
    t.encodeLayers(plan.tokens.length, plan.start, false, { nKeys: plan.nKeys });
    this.counters.forwards++;
    return plan;
  }

  /**
   * Submit the forwards of a block step but the last, leave the last one recorded (begun, not
   * finished) for `finish` to add the head and submit; the cache counts the step's context as
   * held only once that has gone through.
   */
  private async runBlock<T>(step: BlockStep, uncached: boolean, finish: (plan: BlockPlan) => Promise<T>): Promise<T> {
    const cache = this.blockCache!;
    const plan = cache.plan(step, this.config.vocab_size, uncached);
    cache.clear(); // until the forwards have run
    const t = this.t;
    for (let i = 0; i < plan.forwards.length; i++) {
      const f = plan.forwards[i];
      if (i > 0) await t.rec.finish();
      t.writeTokens(f.tokens);
      t.rec.begin();
      t.encodeLayers(f.tokens.length, f.slot0, true, { nCausal: f.nCausal, ropePos0: f.ropePos0 });
    }
    this.counters.forwards += plan.forwards.length;
    const out = await finish(plan);
    cache.commit(step);
    return out;
  }

  private requireFull(): void {
    if (this.blockCache) throw new Error('a block-causal model decodes with decideBlock (config.attention "block_causal")');
  }

  decide(tokens: Int32Array, positions: Int32Array, opts: DecideOptions): Promise<Decisions> {
    return this.serial(async () => {
      this.requireFull();
      this.checkTokens(tokens);
      const n = positions.length;
      const L = tokens.length;
      if (n > this.config.max_seq_len) throw new Error(`${n} positions requested; at most max_seq_len (${this.config.max_seq_len}) per call`);
      const current = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const p = positions[i];
        if (!(p >= 0 && p < L)) throw new Error(`position ${p} is outside the sequence of ${L}`);
        current[i] = tokens[p];
      }
      if (n === 0) return emptyDecisions();
      const t = this.t;
      this.dualCache.clear();
      t.writeTokens(tokens);
      t.writeRequest(positions, positions, current);
      t.rec.begin();
      t.encodeLayers(L, 0, false);
      t.encodeHead(n);
      t.encodeDecide(n, opts);
      const d = await t.finishDecisions(n);
      this.counters.forwards++;
      this.dualCache.commit(tokens); // a whole forward is also a DualCache refresh
      return d;
    });
  }

  logits(tokens: Int32Array): Promise<Float32Array> {
    return this.serial(async () => {
      this.requireFull();
      this.dualCache.clear();
      const out = await this.allLogits(tokens, false);
      this.dualCache.commit(tokens);
      return out;
    });
  }
}

export class GpuAutoregressiveModel extends GpuModel implements AutoregressiveModel {
  /** Tokens in the KV cache. */
  cacheLength = 0;
  /** The tokens the cache holds, positions 0 .. cacheLength - 1. */
  private readonly cached: Int32Array;
  /** Tokens the last prefill found in the cache already (not run again). */
  prefillReused = 0;

  constructor(device: GPUDevice, config: ModelConfig, weights: ModelWeights, pipes: Pipelines, variant: MatmulVariant) {
    super(device, config, weights, pipes, variant, true);
    this.cached = new Int32Array(config.max_seq_len);
  }

  prefill(tokens: Int32Array, opts: DecideOptions): Promise<Decisions> {
    return this.serial(async () => {
      this.checkTokens(tokens);
      if (tokens.length === 0) throw new Error('prefill: no tokens');
      // the longest prefix the cache holds already (as the diffusion model's block cache does),
      // less the last token: its row gives the decision
      this.cacheLength = this.prefillReused = commonPrefix(this.cached, this.cacheLength, tokens);
      return this.step(tokens.subarray(this.cacheLength), opts);
    });
  }

  decodeStep(token: number, opts: DecideOptions): Promise<Decisions> {
    return this.serial(async () => {
      if (this.cacheLength === 0) throw new Error('decodeStep before prefill');
      this.checkTokens([token]);
      if (this.cacheLength >= this.config.max_seq_len) throw new Error(`KV cache full (max_seq_len ${this.config.max_seq_len})`);
      return this.step([token], opts);
    });
  }

  /** Append tokens at the end of the cache and decide the next token. */
  private async step(tokens: ArrayLike<number>, opts: DecideOptions): Promise<Decisions> {
    const T = tokens.length;
    const pos0 = this.cacheLength;
    if (pos0 + T > this.config.max_seq_len) throw new Error(`sequence exceeds max_seq_len ${this.config.max_seq_len}`);
    this.cacheLength = 0; // until the step has run
    const t = this.t;
    t.writeTokens(tokens);
    // the last row of this step predicts the token at position pos0 + T; nothing is there yet
    t.writeRequest([T - 1], [pos0 + T], [-1]);
    t.rec.begin();
    t.encodeLayers(T, pos0, true);
    t.encodeHead(1);
    t.encodeDecide(1, opts);
    const d = await t.finishDecisions(1);
    this.cached.set(tokens, pos0);
    this.cacheLength = pos0 + T;
    this.counters.forwards++;
    return d;
  }

  /** Full causal logits (L, vocab). Leaves the cache holding exactly `tokens`. */
  logits(tokens: Int32Array): Promise<Float32Array> {
    return this.serial(async () => {
      this.cacheLength = 0;
      const out = await this.allLogits(tokens, true);
      this.cached.set(tokens);
      this.cacheLength = tokens.length;
      return out;
    });
  }
}

function emptyDecisions(): Decisions {
  return { token: new Int32Array(0), prob: new Float32Array(0), margin: new Float32Array(0), entropy: new Float32Array(0), currentProb: new Float32Array(0) };
}
