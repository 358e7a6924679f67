// The contract between the engine (WebGPU or CPU backend) and the sampler.
// Shapes are written as (rows, cols); every array is row-major.

/** config.json of a shipped model (docs/MODEL_FORMAT.md). */
export interface ModelConfig {
  format: number;
  kind: 'diffusion' | 'autoregressive';
  /**
   * Format 2. "full": bidirectional (format-1 diffusion); "causal": AR; "block_causal": a
   * diffusion model decoded block by block against a causal KV cache (BlockStep). Absent: the
   * kind's format-1 default.
   */
  attention?: 'full' | 'causal' | 'block_causal';
  /** block_causal: the decoding block the model was tuned for (the sampler's default). */
  block_size?: number;
  /** Row i predicts token i + 1 (AR heads, and block-causal diffusion initialised from one). */
  shift?: boolean;
  vocab_size: number;
  dim: number;
  n_layers: number;
  n_heads: number;
  ffn_dim: number;
  max_seq_len: number;
  rope_theta: number;
  norm_eps: number;
  tie_embeddings: boolean;
  dtype: string;
  special_tokens: { mask: number; pad: number; eos: number };
  training?: Record<string, unknown>;
  eval?: Record<string, unknown>;
}

/** Options for turning logits into one decision per position, on the device. */
export interface DecideOptions {
  /** Softmax temperature. 0 means greedy argmax (no noise). */
  temperature: number;
  /** Seed of the counter-based RNG used for Gumbel-max sampling when temperature > 0. */
  seed: number;
  /** Step counter mixed into the RNG so each step draws fresh noise, reproducibly. */
  step: number;
}

/**
 * What the device reads back for each requested position: a few numbers, never vocab-size logits.
 * All arrays have length = number of requested positions, in request order.
 */
export interface Decisions {
  /** (n,) chosen token: argmax, or Gumbel-max sample at the given temperature. Never the mask token. */
  token: Int32Array;
  /** (n,) softmax probability (at the temperature; T=0 uses T=1) of the chosen token. */
  prob: Float32Array;
  /** (n,) top1 - top2 probability. */
  margin: Float32Array;
  /** (n,) entropy of the softmax distribution, in nats. */
  entropy: Float32Array;
  /** (n,) probability of the token currently at that position in the input (for revision / remasking). */
  currentProb: Float32Array;
}

/**
 * One cached step of a block-causal diffusion model. The clean context is the model's causal
 * KV cache (committed text; for infill the suffix first, at its true positions, then the prefix);
 * the block's rows see all of it and each other. With shift, offset 0 of the block is predicted by
 * the last context row (the AR head) and offset j > 0 by block row j - 1.
 */
export interface BlockStep {
  /** (C,) clean tokens in cache order, C >= 1. Rows already cached (same tokens and positions) are reused. */
  context: Int32Array;
  /** (C,) their positions. */
  contextPositions: Int32Array;
  /** (B,) the block now: mask or committed tokens, at positions blockPos0 .. blockPos0 + B - 1. */
  block: Int32Array;
  blockPos0: number;
  /** (n,) block offsets to decide. Offset 0 needs contextPositions[C - 1] = blockPos0 - 1. */
  offsets: Int32Array;
  /**
   * (m,) context rows whose AR-head decision is wanted too (row r predicts the token after
   * context[r]: drafted tokens verified against the AR head). Their decisions come first, then
   * the offsets'. They must be rows of the last run of consecutive positions.
   */
  contextRows?: Int32Array;
}

/** Full-sequence bidirectional model (kind "diffusion"). */
export interface DiffusionModel {
  readonly config: ModelConfig;
  /**
   * Block-causal models (config.attention "block_causal") only: one cached block step, decisions
   * at step.offsets in order (current token: the block's token there).
   */
  decideBlock?(step: BlockStep, opts: DecideOptions): Promise<Decisions>;
  /**
   * Block-causal models: what one more row of a block step costs, in steps of one row, where the
   * engine knows it (the sampler sizes its drafts by it: GenerateRequest.rowCost). Absent: rows
   * are taken as free (a GPU runs 1 or 64 rows in about the same time).
   */
  readonly rowCost?: number;
  /**
   * Block-causal models only, for tests: logits (B, vocab), row j the prediction of the block's
   * position blockPos0 + j (offset 0 from the last context row, j from block row j - 1; offsets
   * and contextRows ignored), computed from an empty cache (uncached: true) or reusing what the
   * cache holds.
   */
  blockLogits?(step: BlockStep, uncached: boolean): Promise<Float32Array>;
  /**
   * Full-attention models only: one step of Fast-dLLM's DualCache (arXiv 2505.22618), an
   * approximation (dualcache.ts). window null (a refresh): one forward over `tokens`, as decide,
   * that keeps every layer's keys and values of every row. window [start, end): only those rows
   * run; their keys and values replace the kept ones there, and they attend to every kept row (the
   * prefix's and suffix's from the last refresh, stale where the window's tokens changed since).
   * Tokens outside the window must be the refresh's; positions must lie inside the window.
   */
  decideDual?(tokens: Int32Array, positions: Int32Array, opts: DecideOptions, window: readonly [number, number] | null): Promise<Decisions>;
  /** Full-attention models, for tests: decideDual's logits, (end - start, vocab) for the window's rows (all L on a refresh). */
  dualLogits?(tokens: Int32Array, window: readonly [number, number] | null): Promise<Float32Array>;
  /**
   * One forward pass over `tokens` (length L <= max_seq_len) and decisions at `positions`.
   * tokens: (L,), positions: (n,) indices into tokens.
   */
  decide(tokens: Int32Array, positions: Int32Array, opts: DecideOptions): Promise<Decisions>;
  /** Full float32 logits, (L, vocab_size). For tests and golden checks only. */
  logits(tokens: Int32Array): Promise<Float32Array>;
  dispose(): void;
}

/** Causal model with a key-value cache (kind "autoregressive"). */
export interface AutoregressiveModel {
  readonly config: ModelConfig;
  /** Run the prompt (n,) into the cache (keeping the prefix it holds already) and return the decision for the next token. */
  prefill(tokens: Int32Array, opts: DecideOptions): Promise<Decisions>;
  /** Append one token to the cache and return the decision for the token after it. */
  decodeStep(token: number, opts: DecideOptions): Promise<Decisions>;
  /** Full float32 causal logits, (L, vocab_size). For tests only. */
  logits(tokens: Int32Array): Promise<Float32Array>;
  dispose(): void;
}

/** Counters reported by benchmarks and the UI; they carry over from SwiftShader to real GPUs. */
export interface EngineCounters {
  forwards: number;
  dispatches: number;
  readbacks: number;
  bytesReadBack: number;
}
