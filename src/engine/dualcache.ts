// The bookkeeping of a DualCache step (types.ts DiffusionModel.decideDual), shared by both engines:
// Fast-dLLM's approximate KV cache for full-attention diffusion models (arXiv 2505.22618).
//
//   refresh (window null)   rows 0 .. L-1      one whole bidirectional forward, as decide; every
//                                              layer's keys and values of every row stay in the cache
//   window [s, e)           rows s .. e-1      only these run, at their positions; their keys and
//                                              values replace the cache's there, and they attend to
//                                              all L cached rows: the prefix's and the suffix's are
//                                              the last refresh's (stale where tokens changed since)
//
// Exact when the window's tokens are the refresh's (the rows then compute what the refresh did);
// otherwise an approximation, since rows outside the window do not see the window's new tokens.
// A windowed step needs tokens outside the window to be the refresh's and the same length: the
// sampler refreshes when a block starts or anything outside it changed.

/** One forward of a DualCache step: rows start .. start + T - 1, attending to nKeys cached rows. */
export interface DualPlan {
  /** First cache row (= position) run. */
  start: number;
  /** (T,) the tokens run. */
  tokens: Int32Array;
  /** Keys visible to every row: the whole sequence. */
  nKeys: number;
  /** (n,) rows of the forward whose logits answer `positions`, in order. */
  headRows: Int32Array;
  /** (n,) the token at each requested position (for currentProb). */
  current: Int32Array;
}

/** A window the cache cannot serve (nothing refreshed, or other tokens outside it): refresh instead. */
export class DualCacheMissError extends Error {
  constructor(message: string) {
    super(`dual cache: ${message}; refresh first`);
    this.name = 'DualCacheMissError';
  }
}

/** What the engine's cache holds: the tokens of the last refresh (null: nothing valid). */
export class DualCache {
  private tokens: Int32Array | null = null;

  /** Plan a step (throws on a malformed one, or a window the cache cannot serve); commit() once it has run. */
  plan(tokens: Int32Array, positions: ArrayLike<number>, window: readonly [number, number] | null): DualPlan {
    const L = tokens.length;
    const [start, end] = window ?? [0, L];
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end && end <= L)) {
      throw new Error(`dual cache: window ${start} .. ${end} outside the sequence of ${L}`);
    }
    if (window) {
      const held = this.tokens;
      if (!held) throw new DualCacheMissError('a windowed step needs a refresh');
      if (held.length !== L) throw new DualCacheMissError(`${L} tokens, the refresh had ${held.length}`);
      for (let p = 0; p < L; p++) {
        if ((p < start || p >= end) && held[p] !== tokens[p]) throw new DualCacheMissError(`token at ${p} outside the window differs from the refresh's`);
      }
    }
    const n = positions.length;
    const headRows = new Int32Array(n);
    const current = new Int32Array(n);
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      const p = positions[i];
      if (!(Number.isInteger(p) && p >= start && p < end)) throw new Error(`dual cache: position ${p} outside the window ${start} .. ${end - 1}`);
      if (seen.has(p)) throw new Error(`dual cache: position ${p} requested twice`);
      seen.add(p);
      headRows[i] = p - start;
      current[i] = tokens[p];
    }
    return { start, tokens: tokens.slice(start, end), nKeys: L, headRows, current };
  }

  /** The step ran: the cache holds these tokens' keys and values (the window's are now fresh). */
  commit(tokens: Int32Array): void {
    this.tokens = tokens.slice();
  }

  /** Forget everything (a failed step, or a forward that wrote other rows). */
  clear(): void {
    this.tokens = null;
  }
}
