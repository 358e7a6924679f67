// Deterministic scripted models for the sampler tests (no GPU, no weights). They compute logits from
// a hash of (position, visible tokens) and turn them into Decisions exactly as the engine contract
// says (softmax at the temperature, Gumbel-max from seed+step+position, margin, entropy,
// currentProb), and record every call so tests can check the sampler against what the model said.

import type { AutoregressiveModel, DecideOptions, Decisions, DiffusionModel, ModelConfig } from '../engine/types';

export const VOCAB = 32;
export const MASK = 31;
export const PAD = 30;
export const EOS = 29;

export function fakeConfig(kind: ModelConfig['kind'], maxSeqLen = 64): ModelConfig {
  return {
    format: 1,
    kind,
    vocab_size: VOCAB,
    dim: 8,
    n_layers: 1,
    n_heads: 1,
    ffn_dim: 8,
    max_seq_len: maxSeqLen,
    rope_theta: 10000,
    norm_eps: 1e-5,
    tie_embeddings: true,
    dtype: 'float32',
    special_tokens: { mask: MASK, pad: PAD, eos: EOS },
  };
}

/** 32-bit integer hash of a list of integers (murmur3-style finaliser per element). */
export function hash(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
const unit = (h: number) => (h + 0.5) / 4294967296;

/** Logits of one position given the whole (possibly trimmed) canvas. */
export type LogitsFn = (tokens: Int32Array, position: number) => Float64Array;

/**
 * Default scripted logits: a hash of the position, the candidate token and every visible (non-mask)
 * token, so predictions and confidences vary by position and change as the canvas fills in.
 * eos/pad are impossible unless `ends` says otherwise.
 */
export function hashLogits(opts: { scale?: number; ends?: boolean } = {}): LogitsFn {
  const scale = opts.scale ?? 6;
  return (tokens, position) => {
    let ctx = 17;
    for (let i = 0; i < tokens.length; i++) if (tokens[i] !== MASK) ctx = hash(ctx, i, tokens[i]);
    const out = new Float64Array(VOCAB);
    for (let v = 0; v < VOCAB; v++) out[v] = scale * unit(hash(ctx, position, v)) ** 3;
    out[MASK] = -Infinity;
    if (!opts.ends) out[EOS] = out[PAD] = -Infinity;
    return out;
  };
}

/** Turn logits into the engine's Decisions for one position (reference semantics of decide()). */
export function decideFromLogits(logits: Float64Array, current: number, position: number, opts: DecideOptions) {
  const t = opts.temperature > 0 ? opts.temperature : 1;
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l / t);
  const probs = Array.from(logits, (l) => Math.exp(l / t - max));
  const z = probs.reduce((a, b) => a + b, 0);
  for (let v = 0; v < probs.length; v++) probs[v] /= z;
  let token = 0;
  let best = -Infinity;
  for (let v = 0; v < logits.length; v++) {
    if (logits[v] === -Infinity) continue;
    const g = opts.temperature > 0 ? -Math.log(-Math.log(unit(hash(opts.seed, opts.step, position, v)))) : 0;
    const score = opts.temperature > 0 ? logits[v] / t + g : logits[v];
    if (score > best) [best, token] = [score, v];
  }
  const sorted = [...probs].sort((a, b) => b - a);
  const entropy = -probs.reduce((a, p) => a + (p > 0 ? p * Math.log(p) : 0), 0);
  return { token, prob: probs[token], margin: sorted[0] - sorted[1], entropy, currentProb: probs[current] ?? 0 };
}

export interface DecideCall {
  tokens: Int32Array;
  positions: number[];
  opts: DecideOptions;
  decisions: Decisions;
}

export interface FakeDiffusionOptions {
  maxSeqLen?: number;
  logits?: LogitsFn;
  /** Override what decide() reports as currentProb (e.g. always 0, an adversary for revision). */
  currentProb?: (position: number, computed: number) => number;
  /** Called at the start of every decide() (e.g. to abort), with the 0-based call index. */
  onDecide?: (call: number) => void;
  /** Resolve decide() synchronously-fast (true, default) or never (for hang tests). */
  never?: boolean;
}

export class FakeDiffusionModel implements DiffusionModel {
  readonly config: ModelConfig;
  readonly calls: DecideCall[] = [];
  private readonly logitsFn: LogitsFn;
  constructor(private readonly o: FakeDiffusionOptions = {}) {
    this.config = fakeConfig('diffusion', o.maxSeqLen);
    this.logitsFn = o.logits ?? hashLogits();
  }

  async decide(tokens: Int32Array, positions: Int32Array, opts: DecideOptions): Promise<Decisions> {
    this.o.onDecide?.(this.calls.length);
    if (this.o.never) return new Promise<Decisions>(() => {});
    const n = positions.length;
    const d: Decisions = {
      token: new Int32Array(n),
      prob: new Float32Array(n),
      margin: new Float32Array(n),
      entropy: new Float32Array(n),
      currentProb: new Float32Array(n),
    };
    positions.forEach((p, i) => {
      if (p < 0 || p >= tokens.length) throw new Error(`position ${p} outside the ${tokens.length} tokens`);
      const r = decideFromLogits(this.logitsFn(tokens, p), tokens[p], p, opts);
      d.token[i] = r.token;
      d.prob[i] = r.prob;
      d.margin[i] = r.margin;
      d.entropy[i] = r.entropy;
      d.currentProb[i] = this.o.currentProb ? this.o.currentProb(p, r.currentProb) : r.currentProb;
    });
    this.calls.push({ tokens: tokens.slice(), positions: Array.from(positions), opts: { ...opts }, decisions: d });
    return d;
  }
  async logits(): Promise<Float32Array> {
    throw new Error('not used by the sampler');
  }
  dispose(): void {}
}

export interface FakeArOptions {
  maxSeqLen?: number;
  /** Emit eos as the n-th generated token (0-based); never if absent. */
  eosAt?: number;
  onCall?: (call: number) => void;
}

/** Causal fake: logits hash the whole context so far (the "KV cache" is the token list). */
export class FakeArModel implements AutoregressiveModel {
  readonly config: ModelConfig;
  readonly calls: Array<{ kind: 'prefill' | 'decodeStep'; input: number[]; opts: DecideOptions; token: number }> = [];
  private context: number[] = [];
  private promptLength = 0;
  constructor(private readonly o: FakeArOptions = {}) {
    this.config = fakeConfig('autoregressive', o.maxSeqLen);
  }
  async prefill(tokens: Int32Array, opts: DecideOptions): Promise<Decisions> {
    this.context = Array.from(tokens);
    this.promptLength = tokens.length;
    return this.next('prefill', Array.from(tokens), opts);
  }
  async decodeStep(token: number, opts: DecideOptions): Promise<Decisions> {
    this.context.push(token);
    return this.next('decodeStep', [token], opts);
  }
  private next(kind: 'prefill' | 'decodeStep', input: number[], opts: DecideOptions): Decisions {
    this.o.onCall?.(this.calls.length);
    const ctx = Int32Array.from(this.context);
    const logits = hashLogits()(ctx, ctx.length);
    if (this.o.eosAt !== undefined && this.context.length - this.promptLength === this.o.eosAt) logits[EOS] = 100;
    const r = decideFromLogits(logits, MASK, ctx.length, opts);
    this.calls.push({ kind, input, opts: { ...opts }, token: r.token });
    return {
      token: Int32Array.of(r.token),
      prob: Float32Array.of(r.prob),
      margin: Float32Array.of(r.margin),
      entropy: Float32Array.of(r.entropy),
      currentProb: Float32Array.of(r.currentProb),
    };
  }
  async logits(): Promise<Float32Array> {
    throw new Error('not used by the sampler');
  }
  dispose(): void {}
}
