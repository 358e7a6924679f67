// Infill candidates (InfillRequest.candidates): the hole decoded as usual (the suffix first in the
// cache) is one candidate; a beam search of the hole's first line reading the prefix alone gives
// the others; the one after which the code that follows reads most likely wins.
//
//   beamFill (width W): beams start empty; each round every live beam asks the AR head for its
//     next token after the prefix (one block step of one row, full logits; the suffix is left out
//     of the cache: with it the v3 model's beams were worse, line similarity 0.387 -> 0.426 held
//     out and 0.362 -> 0.385 outside the corpus without it, training/infill_rank.py --view mixed);
//     each live beam + its W likeliest tokens, the W best go on. A beam ends at eos/pad, at a
//     line break after its first token (so beams differ in the line they write), or at the
//     span's end. Stop when none is live, or when 2W have ended and the best live score is below
//     theirs (scores only fall).
//   lineCuts: the decoded fill, and the fill up to each of its line breaks (a shorter fill).
//   rank: candidates whose text is not only white space, that begin as the decoded fill does
//     (with a line break or not) and, with the syntax check, keep the syntax, by suffixScore = log P(suffix[0, S) | prefix + fill), the AR
//     head reading the text in order (one block step: prefix | fill | suffix at consecutive
//     positions, the suffix rows' decisions giving each suffix token's probability). The fill's
//     own likelihood is left out: the beams already favour likely fills, and with it the ranking
//     prefers the shortest (measured: bench/README.md "Infill").
//
// Costs: a beam round is one one-row step per live beam (the cache keeps what beams share); a
// candidate's score one step of |fill| + S rows over the cached prefix.

import type { DiffusionModel } from '../engine/types';
import { checkDecisions, checkpoint, now, pieceOf, topK } from './runtime';

/** Suffix tokens read after each candidate when ranking (readingScore). */
export const SCORE_SUFFIX_TOKENS = 32;

export interface Beam {
  /** The fill's tokens, without the end token. */
  ids: number[];
  /** Sum of the AR head's log probabilities of its tokens and `end`'s after the prefix. */
  score: number;
  /** The token that ended it (eos, pad, or a line break), absent when it reached the span's end. */
  end?: number;
}

/** Does token t's text hold a line break. */
export type IsBreak = (t: number) => boolean;

/** IsBreak from a decode function (its token texts: runtime.ts pieceOf). */
export function breaksOf(decode: (ids: number[]) => string): IsBreak {
  return (t) => pieceOf(decode, t).includes('\n');
}

/** What ranking did, for SampleStats.candidates. */
export interface CandidateStats {
  /** Candidates ranked (the decoded fill's line cuts and the beams, blank ones and repeats left out). */
  ranked: number;
  /** 0: the decoded fill stands; i > 0: the i-th ranked candidate replaced it. */
  chosen: number;
  /** Forward passes: beam rounds' rows and one per candidate scored. */
  forwards: number;
  ms: number;
}

/** Are two fills the same tokens. */
function sameIds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** log of the softmax's denominator over `row`, the mask token left out. */
function logSumExp(row: Float32Array, mask: number): number {
  let max = -Infinity;
  for (let t = 0; t < row.length; t++) if (t !== mask && row[t]! > max) max = row[t]!;
  let sum = 0;
  for (let t = 0; t < row.length; t++) if (t !== mask) sum += Math.exp(row[t]! - max);
  return max + Math.log(sum);
}

/**
 * Beam search of the hole canvas[spanStart, spanEnd) on the AR head reading the prefix
 * canvas[0, spanStart) alone (the suffix judges the beams later, in rankFills). Ended beams with at
 * least one token (the ending token left out), best first, at most 2 x width; `counter.forwards`
 * counts the steps run.
 */
export async function beamFill(
  model: DiffusionModel, canvas: Int32Array, spanStart: number, spanEnd: number, width: number,
  isBreak: IsBreak, counter: { forwards: number }, signal?: AbortSignal,
): Promise<Beam[]> {
  const { mask, pad, eos } = model.config.special_tokens;
  const prefix = Array.from(canvas.subarray(0, spanStart));
  if (prefix.length === 0) return []; // nothing before the hole for the AR head to read on from
  let live: Beam[] = [{ ids: [], score: 0 }];
  let done: Beam[] = [];
  while (live.length > 0) {
    const grown: Beam[] = [];
    await checkpoint(signal); // a cancel can arrive (the CPU engine's steps do not yield)
    for (const beam of live) {
      const at = spanStart + beam.ids.length; // the position this row predicts
      const logits = await model.blockLogits!({
        context: Int32Array.from([...prefix, ...beam.ids]),
        contextPositions: Int32Array.from({ length: at }, (_, i) => i),
        block: Int32Array.of(mask),
        blockPos0: at,
        offsets: Int32Array.of(0),
      }, false);
      counter.forwards++;
      const row = logits.subarray(0, model.config.vocab_size);
      const lse = logSumExp(row, mask);
      for (const t of topK(row, width, (id) => id !== mask)) grown.push({ ids: [...beam.ids, t], score: beam.score + row[t]! - lse });
    }
    grown.sort((a, b) => b.score - a.score);
    live = [];
    for (const g of grown) {
      const last = g.ids[g.ids.length - 1]!;
      const ended = last === eos || last === pad || (g.ids.length > 1 && isBreak(last));
      if (ended || spanStart + g.ids.length === spanEnd) {
        const ids = ended ? g.ids.slice(0, -1) : g.ids;
        // the same fill ended another way (eos, pad, a line break) is the same candidate: the likelier stays
        if (ids.length > 0 && !done.some((d) => sameIds(d.ids, ids))) done.push(ended ? { ids, score: g.score, end: last } : { ids, score: g.score });
      } else if (live.length < width) live.push(g);
    }
    done.sort((a, b) => b.score - a.score);
    done = done.slice(0, 2 * width);
    if (done.length === 2 * width && (live.length === 0 || live[0]!.score < done[done.length - 1]!.score)) break;
  }
  return done;
}

/** log P(suffix | prefix + ids) on the AR head, reading order (suffix: its first tokens, at least one). */
export async function suffixScore(model: DiffusionModel, prefix: ArrayLike<number>, ids: number[], suffix: number[]): Promise<number> {
  const { mask } = model.config.special_tokens;
  const context = Int32Array.from([...Array.from(prefix), ...ids, ...suffix]);
  const first = prefix.length + ids.length - 1; // the row that predicts suffix[0]
  const d = await model.decideBlock!({
    context,
    contextPositions: Int32Array.from(context, (_, i) => i),
    block: new Int32Array(0),
    blockPos0: context.length,
    offsets: new Int32Array(0),
    contextRows: Int32Array.from(suffix, (_, i) => first + i),
  }, { temperature: 0, seed: 0, step: 0 });
  checkDecisions(d, suffix.length, mask);
  let score = 0;
  for (let i = 0; i < suffix.length; i++) score += Math.log(Math.max(d.currentProb[i]!, 1e-30));
  return score;
}

/** The fill up to each line break after its first token, then the whole fill. */
export function lineCuts(ids: number[], isBreak: IsBreak): number[][] {
  const cuts: number[][] = [];
  for (let i = 1; i < ids.length; i++) if (isBreak(ids[i]!)) cuts.push(ids.slice(0, i));
  cuts.push(ids.slice());
  return cuts;
}

/**
 * Rank the decoded fill (canvas[spanStart, spanEnd), up to its first eos/pad) cut at its line
 * ends, and beamFill's beams, by suffixScore over the first SCORE_SUFFIX_TOKENS of the suffix
 * (the file header); with `syntax` (SamplerHooks.syntax), candidates that put an unfixable
 * syntax error after the prefix are left out. Returns the winner's tokens (without the end; the
 * decoded fill when no candidate qualifies) and what was done.
 */
export async function rankFills(
  model: DiffusionModel, canvas: Int32Array, spanStart: number, spanEnd: number, width: number,
  decode: (ids: number[]) => string, signal?: AbortSignal, syntax?: (text: string, from: number) => number,
): Promise<{ ids: number[]; stats: CandidateStats }> {
  const started = now();
  const { pad, eos } = model.config.special_tokens;
  const isBreak = breaksOf(decode);
  const counter = { forwards: 0 };
  const decoded: number[] = [];
  for (let p = spanStart; p < spanEnd && canvas[p] !== pad && canvas[p] !== eos; p++) decoded.push(canvas[p]!);
  // candidates begin as the decoded fill does: on a new line, or on the line before the hole
  const starts = decoded.length > 0 && decode(decoded).trim() !== '' ? isBreak(decoded[0]!) : null;
  const candidates: number[][] = [];
  const beams = await beamFill(model, canvas, spanStart, spanEnd, width, isBreak, counter, signal);
  const prefix = canvas.subarray(0, spanStart);
  const before = syntax ? decode(Array.from(prefix)) : '';
  for (const ids of [...lineCuts(decoded, isBreak), ...beams.map((b) => b.ids)]) {
    if (ids.length === 0 || decode(ids).trim() === '' || (starts !== null && isBreak(ids[0]!) !== starts)) continue;
    if (candidates.some((c) => sameIds(c, ids))) continue;
    // with the syntax check: none that puts an error the text could not recover from (the decoded fill was checked as it was made)
    if (syntax && !sameIds(ids, decoded) && syntax(decode([...Array.from(prefix), ...ids]), before.length) >= 0) continue;
    candidates.push(ids);
  }
  const suffix = Array.from(canvas.subarray(spanEnd, spanEnd + SCORE_SUFFIX_TOKENS));
  let chosen = -1;
  let top = -Infinity;
  for (let i = 0; i < candidates.length; i++) {
    await checkpoint(signal);
    const s = await suffixScore(model, prefix, candidates[i]!, suffix);
    counter.forwards++;
    if (s > top) [top, chosen] = [s, i];
  }
  const ids = chosen < 0 ? decoded : candidates[chosen]!;
  return { ids, stats: { ranked: candidates.length, chosen: sameIds(ids, decoded) ? 0 : chosen + 1, forwards: counter.forwards, ms: now() - started } };
}
