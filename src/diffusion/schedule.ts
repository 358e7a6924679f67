// Pure pieces of the schedule: how many tokens to commit per step, the block split, and the
// confidence measure. No state, no model; tested directly.

import type { Decisions } from '../engine/types';
import type { ConfidenceMeasure } from './types';

/**
 * LLaDA's `get_num_transfer_tokens` for one sequence: split `maskCount` tokens over `steps` steps,
 * `floor(maskCount / steps)` each and one more on the first `maskCount % steps` steps.
 * Its first entry, `ceil(maskCount / steps)`, is what the sampler commits when `steps` steps are
 * left; recomputing it each step gives exactly this split when nothing else changes the masked count.
 */
export function numTransferTokens(maskCount: number, steps: number): number[] {
  const base = Math.floor(maskCount / steps);
  const remainder = maskCount % steps;
  return Array.from({ length: steps }, (_, i) => base + (i < remainder ? 1 : 0));
}

/** Cut [start, end) into consecutive blocks of `blockLength` (the last may be shorter). */
export function splitBlocks(start: number, end: number, blockLength: number): Array<[number, number]> {
  const blocks: Array<[number, number]> = [];
  for (let s = start; s < end; s += blockLength) blocks.push([s, Math.min(s + blockLength, end)]);
  return blocks;
}

/** Confidence of decision `i` under `measure` (see ConfidenceMeasure); NaN counts as -Infinity. */
export function confidenceOf(d: Decisions, i: number, measure: ConfidenceMeasure): number {
  const c = measure === 'prob' ? d.prob[i] : measure === 'margin' ? d.margin[i] : Math.exp(-d.entropy[i]);
  return Number.isNaN(c) ? -Infinity : c;
}

/** Order for "most confident first": higher confidence, then lower position (deterministic ties). */
export function byConfidenceDesc(a: { position: number; confidence: number }, b: { position: number; confidence: number }): number {
  return b.confidence - a.confidence || a.position - b.position;
}
