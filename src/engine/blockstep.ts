// The KV-cache bookkeeping of a block-causal step (types.ts BlockStep), shared by both engines:
// which cached rows are reused, which forwards run, and which rows of the last one are decided.
//
//   cache rows 0 .. reuse-1          kept (same tokens at the same positions as last time)
//   context rows reuse .. C-1        clean, causal, written to the cache: one forward per run of
//                                    consecutive positions (suffix-first infill has two runs)
//   block rows (B)                   noisy: see the whole cache and each other; they ride on the
//                                    last clean run's forward when its positions continue into
//                                    the block, else they are a forward of their own
// The last context row is always recomputed when offset 0 is decided (its hidden state is the
// AR head's), so a step runs at least one row. Block rows leave garbage in cache rows C .. C+B-1,
// which the next step overwrites: the cache is valid for exactly the C context rows.

import type { BlockStep } from './types';

/** One forward of a step: rows at cache rows slot0 .., rotated as positions ropePos0 .., the first nCausal causal. */
export interface BlockForward {
  tokens: Int32Array;
  slot0: number;
  ropePos0: number;
  nCausal: number;
}

export interface BlockPlan {
  /** Cache rows reused. */
  reuse: number;
  forwards: BlockForward[];
  /** (n,) rows of the last forward whose logits answer step.offsets, in order. */
  headRows: Int32Array;
  /** (n,) the block's current token at each offset (for currentProb). */
  current: Int32Array;
  /** (n,) the position each offset decides (the RNG counter). */
  positions: Int32Array;
}

/** An autoregressive prefill's reuse: how many of `tokens` the cache's first `length` tokens hold already, at most all but the last. */
export function commonPrefix(cached: Int32Array, length: number, tokens: ArrayLike<number>): number {
  const most = Math.min(length, tokens.length - 1);
  let n = 0;
  while (n < most && cached[n] === tokens[n]) n++;
  return n;
}

/** What the engine's cache holds: tokens and positions of its first `length` rows. */
export class BlockCache {
  tokens: Int32Array;
  positions: Int32Array;
  length = 0;
  constructor(readonly maxSeqLen: number) {
    this.tokens = new Int32Array(maxSeqLen);
    this.positions = new Int32Array(maxSeqLen);
  }

  /** Plan `step` against the cache (throws on a malformed step); commit() once it has run. */
  plan(step: BlockStep, vocab: number, uncached = false): BlockPlan {
    const { context, contextPositions: cpos, block, blockPos0, offsets } = step;
    const C = context.length;
    const B = block.length;
    if (C < 1) throw new Error('block step: the context needs at least one token');
    if (cpos.length !== C) throw new Error(`block step: ${cpos.length} context positions for ${C} tokens`);
    // An empty block: only context rows are decided (the AR head after drafts, no mask rows).
    if (B < 1 && !(step.contextRows && step.contextRows.length > 0 && offsets.length === 0)) throw new Error('block step: an empty block needs context rows to decide, and no offsets');
    if (C + B > this.maxSeqLen) throw new Error(`block step: ${C} context + ${B} block tokens exceed max_seq_len ${this.maxSeqLen}`);
    if (blockPos0 < 0 || blockPos0 + B > this.maxSeqLen) throw new Error(`block step: block positions ${blockPos0} .. ${blockPos0 + B - 1} outside 0 .. ${this.maxSeqLen - 1}`);
    for (let i = 0; i < C; i++) {
      if (!(context[i] >= 0 && context[i] < vocab)) throw new Error(`block step: context token ${context[i]} at ${i} is outside the vocabulary`);
      if (!(cpos[i] >= 0 && cpos[i] < this.maxSeqLen)) throw new Error(`block step: context position ${cpos[i]} outside 0 .. ${this.maxSeqLen - 1}`);
    }
    for (let i = 0; i < B; i++) if (!(block[i] >= 0 && block[i] < vocab)) throw new Error(`block step: block token ${block[i]} at ${i} is outside the vocabulary`);
    const rows = step.contextRows ?? new Int32Array(0);
    let firstRow = C;
    for (const r of rows) {
      if (!(Number.isInteger(r) && r >= 0 && r < C)) throw new Error(`block step: context row ${r} outside the context of ${C}`);
      firstRow = Math.min(firstRow, r);
    }
    let needLast = false;
    for (const o of offsets) {
      if (!(Number.isInteger(o) && o >= 0 && o < B)) throw new Error(`block step: offset ${o} outside the block of ${B}`);
      if (o === 0) needLast = true;
    }
    if (needLast && cpos[C - 1] !== blockPos0 - 1) throw new Error(`block step: offset 0 needs the last context position to be ${blockPos0 - 1}, got ${cpos[C - 1]}`);

    let common = 0;
    if (!uncached) while (common < Math.min(C, this.length) && this.tokens[common] === context[common] && this.positions[common] === cpos[common]) common++;
    const reuse = Math.min(needLast ? Math.min(common, C - 1) : common, firstRow);
    // runs of consecutive positions among the context rows to compute
    const forwards: BlockForward[] = [];
    let r = reuse;
    while (r < C) {
      let e = r + 1;
      while (e < C && cpos[e] === cpos[e - 1] + 1) e++;
      forwards.push({ tokens: context.slice(r, e), slot0: r, ropePos0: cpos[r], nCausal: e - r });
      r = e;
    }
    const last = forwards[forwards.length - 1];
    let nClean = 0;
    if (last && last.ropePos0 + last.nCausal === blockPos0) {
      const tokens = new Int32Array(last.nCausal + B);
      tokens.set(last.tokens);
      tokens.set(block, last.nCausal);
      last.tokens = tokens;
      nClean = last.nCausal;
    } else {
      if (needLast) throw new Error('block step: offset 0 needs the last context row in the block\'s forward');
      forwards.push({ tokens: Int32Array.from(block), slot0: C, ropePos0: blockPos0, nCausal: 0 });
    }
    const m = rows.length;
    const n = m + offsets.length;
    const headRows = new Int32Array(n);
    const current = new Int32Array(n);
    const positions = new Int32Array(n);
    const lastF = forwards[forwards.length - 1];
    for (let i = 0; i < m; i++) {
      const r = rows[i];
      if (r < lastF.slot0 || r >= lastF.slot0 + (lastF === last ? nClean : 0)) throw new Error(`block step: context row ${r} is not in the block's forward`);
      headRows[i] = r - lastF.slot0;
      current[i] = r + 1 < C ? context[r + 1] : B > 0 ? block[0] : 0; // (empty block: nothing there yet)
      positions[i] = cpos[r] + 1;
    }
    for (let i = 0; i < offsets.length; i++) {
      const o = offsets[i];
      headRows[m + i] = o === 0 ? nClean - 1 : nClean + o - 1;
      current[m + i] = block[o];
      positions[m + i] = blockPos0 + o;
    }
    return { reuse, forwards, headRows, current, positions };
  }

  /** The step ran: the cache holds exactly its context. */
  commit(step: BlockStep): void {
    this.tokens.set(step.context);
    this.positions.set(step.contextPositions);
    this.length = step.context.length;
  }

  /** Forget everything (a failed step, or an AR-style use of the same buffers). */
  clear(): void {
    this.length = 0;
  }
}
