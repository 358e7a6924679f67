// The contract between the engine (WebGPU or CPU backend) and the sampler.
// Shapes are written as (rows, cols); every array is row-major.

/** config.json of a shipped model (../shared/MODEL_FORMAT.md). */
export interface ModelConfig {
  format: number;
  kind: 'diffusion' | 'autoregressive';
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

/** Full-sequence bidirectional model (kind "diffusion"). */
export interface DiffusionModel {
  readonly config: ModelConfig;
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
  /** Reset the cache, run the prompt (n,) and return the decision for the next token. */
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
