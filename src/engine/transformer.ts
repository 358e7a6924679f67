// The forward pass on the device: records the dispatches of one step into a Recorder.
//
//   x = tok_embeddings[tokens]                                   embed (_int8)  (T, dim)
//   per layer:
//     xn  = rmsnorm(x) · attn_norm                               rmsnorm        (T, dim)
//     qkv = xn · wqkvᵀ                                           matmul         (T, 3·dim)
//     q, k = rope(q, k); cache[pos0 ..] = k, v                   rope_store_kv
//     a   = attention(q, cache, keys 0 .. pos0 + T - 1)          attention      (T, dim)
//     x  += a · woᵀ                                              matmul, ACCUMULATE
//     xn  = rmsnorm(x) · ffn_norm                                rmsnorm
//     h   = silu(xn · w1ᵀ) * (xn · w3ᵀ)                          matmul, SWIGLU (T, ffn)
//     x  += h · w2ᵀ                                              matmul, ACCUMULATE
//   head, for the n requested rows only:
//     xr  = rmsnorm(x[rows]) · norm                              rmsnorm gather (n, dim)
//     logits = xr · outputᵀ                                      matmul         (n, vocab)
//     decisions = decide(logits)                                 decide         (n, 5)
// 8 dispatches per layer + 4: 52 for 6 layers. All buffers come from the pool, sized for
// max_seq_len at construction: a step allocates nothing on the device.

import * as ops from './ops';
import { attentionPipelineName, matmulPipelineName, type PipelineName, type Pipelines } from './pipelines';
import { BufferPool, Recorder } from './recorder';
import { Epilogue, type MatmulKernel, type MatmulVariant } from './shaders';
import type { DecideOptions, Decisions, EngineCounters, ModelConfig } from './types';
import type { ModelWeights } from './weights';

export const DECISION_WORDS = 5; // token, prob, margin, entropy, current_prob

export class Transformer {
  readonly pool: BufferPool;
  readonly rec: Recorder;
  readonly headDim: number;
  private readonly S: number;
  // Activations, all (max_seq_len, ·):
  readonly tokens: GPUBuffer;    // (S,) u32
  readonly rows: GPUBuffer;      // (S,) u32 requested rows
  readonly request: GPUBuffer;   // (S, 2) u32 (position, current token)
  readonly x: GPUBuffer;         // (S, dim) residual stream
  readonly xn: GPUBuffer;        // (S, dim) normalised
  readonly qkv: GPUBuffer;       // (S, 3·dim)
  readonly attn: GPUBuffer;      // (S, dim)
  readonly hidden: GPUBuffer;    // (S, ffn)
  readonly decisions: GPUBuffer; // (S, 5)
  readonly kCache: GPUBuffer[];  // per layer (or one shared) (S, dim)
  readonly vCache: GPUBuffer[];
  // Host-side staging arrays, reused
  private readonly hostTokens: Uint32Array;
  private readonly hostRows: Uint32Array;
  private readonly hostRequest: Uint32Array;

  constructor(
    readonly device: GPUDevice,
    readonly config: ModelConfig,
    readonly weights: ModelWeights,
    readonly pipes: Pipelines,
    readonly variant: MatmulVariant,
    /** Keep every layer's K/V (every model's cache: AR, block-causal, DualCache); false: one buffer shared by the layers. */
    perLayerCache: boolean,
    counters?: EngineCounters,
  ) {
    const c = config;
    this.headDim = c.dim / c.n_heads;
    this.S = c.max_seq_len;
    this.pool = new BufferPool(device);
    this.rec = new Recorder(device, this.pool, counters);
    const S = this.S;
    const f = 4;
    this.tokens = this.pool.get('tokens', S * 4);
    this.rows = this.pool.get('rows', S * 4);
    this.request = this.pool.get('request', S * 8);
    this.x = this.pool.get('x', S * c.dim * f);
    this.xn = this.pool.get('xn', S * c.dim * f);
    this.qkv = this.pool.get('qkv', S * 3 * c.dim * f);
    this.attn = this.pool.get('attn', S * c.dim * f);
    this.hidden = this.pool.get('hidden', S * c.ffn_dim * f);
    this.decisions = this.pool.get('decisions', S * DECISION_WORDS * f);
    const nCaches = perLayerCache ? c.n_layers : 1;
    this.kCache = Array.from({ length: nCaches }, (_, l) => this.pool.get(`k_cache.${l}`, S * c.dim * f));
    this.vCache = Array.from({ length: nCaches }, (_, l) => this.pool.get(`v_cache.${l}`, S * c.dim * f));
    this.hostTokens = new Uint32Array(S);
    this.hostRows = new Uint32Array(S);
    this.hostRequest = new Uint32Array(2 * S);
  }

  /** The logits buffer (S, vocab), created on first use (8 MiB for 512 × 4096). */
  private logitsBuffer(): GPUBuffer {
    return this.pool.get('logits', this.S * this.config.vocab_size * 4);
  }

  /** Every pipeline this model can use (compile before the first step). */
  static pipelineNames(config: ModelConfig, weights: ModelWeights, variant: MatmulVariant): PipelineName[] {
    const kernels = new Set<MatmulKernel>([variant, 'rows']);
    const all = [weights.output, ...weights.layers.flatMap((l) => [l.wqkv, l.wo, l.w13, l.w2])];
    for (const w of all) {
      kernels.add(ops.matmulKernelFor(w, 1, variant));
      kernels.add(ops.matmulKernelFor(w, ops.ROWS_MAX + 1, variant));
    }
    const names: PipelineName[] = [weights.tokEmbeddings.kind === 'i8' ? 'embed_int8' : 'embed', 'rmsnorm', 'rope', 'decide', attentionPipelineName(config.dim / config.n_heads)];
    for (const k of kernels) for (const e of [Epilogue.Store, Epilogue.Accumulate, Epilogue.SwiGLU]) names.push(matmulPipelineName(k, e));
    return names;
  }

  /** Upload the step's token ids (T,). */
  writeTokens(tokens: ArrayLike<number>): void {
    if (tokens.length > this.S) throw new Error(`sequence of ${tokens.length} tokens exceeds max_seq_len ${this.S}`);
    for (let i = 0; i < tokens.length; i++) this.hostTokens[i] = tokens[i];
    this.device.queue.writeBuffer(this.tokens, 0, this.hostTokens, 0, Math.max(1, tokens.length));
  }

  /** Upload requested rows (n,) and their (position, current token) pairs for decide. */
  writeRequest(rows: ArrayLike<number>, positions: ArrayLike<number>, current: ArrayLike<number>): void {
    const n = rows.length;
    for (let i = 0; i < n; i++) {
      this.hostRows[i] = rows[i];
      this.hostRequest[2 * i] = positions[i];
      this.hostRequest[2 * i + 1] = current[i] < 0 ? 0xffffffff : current[i];
    }
    this.device.queue.writeBuffer(this.rows, 0, this.hostRows, 0, Math.max(1, n));
    this.device.queue.writeBuffer(this.request, 0, this.hostRequest, 0, Math.max(2, 2 * n));
  }

  private mm(key: string, a: GPUBuffer, w: ops.Weight, out: GPUBuffer, M: number, epilogue: Epilogue): void {
    const kernel = ops.matmulKernelFor(w, M, this.variant);
    ops.matmul(this.rec, this.pipes, `${key}.${kernel}`, kernel, a, w, out, M, epilogue);
  }

  /**
   * Record the layers for T tokens at cache rows pos0 .. pos0 + T - 1 (tokens already written),
   * rotated as positions ropePos0 + t. Keys visible: cache rows 0 .. pos0 + T - 1 (and, if causal,
   * only up to each query's row; with nCausal, only the first nCausal queries are causal: a
   * block-causal step, clean rows then the noisy block); with nKeys, cache rows 0 .. nKeys - 1 (a
   * DualCache window: rows after it are cached too).
   */
  encodeLayers(T: number, pos0: number, causal: boolean, opts: { nCausal?: number; ropePos0?: number; nKeys?: number } = {}): void {
    const c = this.config;
    const D = c.dim;
    const { rec, pipes } = this;
    ops.embed(rec, pipes, 'embed', this.tokens, this.weights.tokEmbeddings, this.x, T, D, c.vocab_size);
    this.weights.layers.forEach((w, l) => {
      const k = this.kCache[l % this.kCache.length];
      const v = this.vCache[l % this.vCache.length];
      ops.rmsnorm(rec, pipes, `L${l}.attn_norm`, this.x, w.attnNorm, this.rows, this.xn, T, D, c.norm_eps, false);
      this.mm(`L${l}.qkv`, this.xn, w.wqkv, this.qkv, T, Epilogue.Store);
      ops.ropeStoreKv(rec, pipes, `L${l}.rope`, this.weights.rope, this.qkv, k, v, T, pos0, D, this.headDim, opts.ropePos0 ?? pos0);
      ops.attention(rec, pipes, `L${l}.attention`, this.qkv, k, v, this.attn, {
        nQueries: T, nKeys: opts.nKeys ?? pos0 + T, nHeads: c.n_heads, headDim: this.headDim, qStride: 3 * D, qPos0: pos0, causal, nCausal: opts.nCausal,
      });
      this.mm(`L${l}.wo`, this.attn, w.wo, this.x, T, Epilogue.Accumulate);
      ops.rmsnorm(rec, pipes, `L${l}.ffn_norm`, this.x, w.ffnNorm, this.rows, this.xn, T, D, c.norm_eps, false);
      this.mm(`L${l}.w13`, this.xn, w.w13, this.hidden, T, Epilogue.SwiGLU);
      this.mm(`L${l}.w2`, this.hidden, w.w2, this.x, T, Epilogue.Accumulate);
    });
  }

  /** Record final norm of the n requested rows (written with writeRequest) and their logits (n, vocab). */
  encodeHead(n: number): GPUBuffer {
    const c = this.config;
    const logits = this.logitsBuffer();
    ops.rmsnorm(this.rec, this.pipes, 'final_norm', this.x, this.weights.norm, this.rows, this.xn, n, c.dim, c.norm_eps, true);
    this.mm('output', this.xn, this.weights.output, logits, n, Epilogue.Store);
    return logits;
  }

  /** Record decide over the n rows of logits. */
  encodeDecide(n: number, opts: DecideOptions): void {
    const c = this.config;
    ops.decide(this.rec, this.pipes, 'decide', this.logitsBuffer(), this.request, this.decisions, {
      nRows: n, vocab: c.vocab_size, temperature: opts.temperature, seed: opts.seed, step: opts.step, maskToken: c.special_tokens.mask,
    });
  }

  /** Submit the step and read back the n decisions. */
  async finishDecisions(n: number): Promise<Decisions> {
    const raw = await this.rec.finish({ buffer: this.decisions, size: n * DECISION_WORDS * 4 });
    return unpackDecisions(raw!, n);
  }

  /** Submit the step and read back logits (n, vocab). */
  async finishLogits(n: number): Promise<Float32Array> {
    const raw = await this.rec.finish({ buffer: this.logitsBuffer(), size: n * this.config.vocab_size * 4 });
    return new Float32Array(raw!);
  }

  destroy(): void {
    this.rec.destroy();
    this.pool.destroy();
  }
}

export function unpackDecisions(raw: ArrayBuffer, n: number): Decisions {
  const f = new Float32Array(raw);
  const u = new Int32Array(raw);
  const d: Decisions = {
    token: new Int32Array(n),
    prob: new Float32Array(n),
    margin: new Float32Array(n),
    entropy: new Float32Array(n),
    currentProb: new Float32Array(n),
  };
  for (let i = 0; i < n; i++) {
    d.token[i] = u[i * DECISION_WORDS];
    d.prob[i] = f[i * DECISION_WORDS + 1];
    d.margin[i] = f[i * DECISION_WORDS + 2];
    d.entropy[i] = f[i * DECISION_WORDS + 3];
    d.currentProb[i] = f[i * DECISION_WORDS + 4];
  }
  return d;
}
