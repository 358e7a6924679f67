// Infill candidates (InfillRequest.candidates): the hole decoded as usual (the suffix first in the
// cache) is one candidate; a beam search of the hole's first line reading the prefix alone gives
// others, and the lines already in view (prefix and suffix) the rest; each is scored by how likely
// it reads in place, with the code after it, and the line the likely ones agree on wins.
//
//   beamFill (width W): beams start empty; each round every live beam asks the AR head for its
//     next token after the prefix (one block step of one row, full logits; the suffix is left out
//     of the cache: with it the v3 model's beams were worse, line similarity 0.387 -> 0.426 held
//     out and 0.362 -> 0.385 outside the corpus without it, training/infill_rank.py --view mixed);
//     each live beam + its W likeliest tokens (the first: line breaks only, when the hole begins
//     a line), the W best go on. A beam ends at eos/pad, at a
//     line break after its first token (so beams differ in the line they write), or at the
//     span's end. Stop when none is live, or when 2W have ended and the best live score is below
//     theirs (scores only fall).
//   lineCuts: the decoded fill, and the fill up to each of its line breaks (a shorter fill).
//   copiedLines: every whole line of the prefix and suffix in the canvas, as its tokens from a
//     token that is line breaks and indentation alone (as the one-break token of that indentation:
//     a fill starts with one) up to the next line break (code repeats lines: the hole's line is in
//     view for 6.5% of README's held-out holes at the app's context); not the text before a
//     mid-line hole, nor the suffix's last line when no break ends it, unless the request says
//     the suffix is the text's end and no budget cut it (SamplerKnobs.suffixEndsText).
//   rank: candidates whose text is not only white space, that begin as the decoded fill does
//     (with a line break or not; copied lines, whole lines, whichever way the fill begins; when
//     the request says the hole begins a line, SamplerKnobs.fillBeginsLine, all of them with a
//     line break, the beams' first token a line break too) and,
//     with the syntax check, keep the syntax, by readingScore:
//     log P(suffix[0, S) | prefix + fill) + FILL_WEIGHT x log P(fill | prefix), the AR head
//     reading the text in order (one block step: prefix | fill | suffix at consecutive positions,
//     the rows' decisions giving each token's probability). By the suffix alone a line copied
//     from just ahead wins most holes (the suffix then reads as a repeat), and short fills win;
//     the fill's own likelihood at 0.75 keeps both in check (README "Fill: lines in view").
//   pick (minimum Bayes risk): the first line most like all candidates' on average, each
//     weighing exp(score / MBR_TEMPERATURE) (its own counts too), likeness being lineSimilarity
//     (difflib's ratio, which Fill is judged by), then the best-scoring candidate with that first
//     line (a multi-line fill beats its own first line when it scores better): a line the likely
//     candidates agree on beats a lone top score (README "Fill: the candidates' consensus").
//
// Costs: a beam round is one one-row step per live beam (the cache keeps what beams share); a
// candidate's score one step of 1 + |fill| + S rows over the cached prefix (the prefix's last row
// reads the fill's first token); each distinct line in view is one more candidate; the pick
// compares every pair of first lines (no forward).

import type { DiffusionModel } from '../engine/types';
import { checkDecisions, checkpoint, now, pieceOf, topK } from './runtime';

/** Suffix tokens read after each candidate when ranking (readingScore). */
export const SCORE_SUFFIX_TOKENS = 32;

/** The fill's own log-likelihood's weight beside the suffix's when ranking (rankFills). */
export const FILL_WEIGHT = 0.75;

/** How far the candidates' scores are softened into the weights of the consensus pick (rankFills): higher, more a vote. */
export const MBR_TEMPERATURE = 2.5;

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

/** For a token whose text is line breaks and indentation alone, the token its copied line starts with (copiedLines). */
export type LineStart = (t: number) => number | undefined;

const LINE_STARTS = new WeakMap<(ids: number[]) => string, Map<number, Map<number, number>>>(); // decode -> vocabSize -> starts

/**
 * LineStart over a vocabulary of `vocabSize` from a decode function: "\n    " starts its own line;
 * "\n\n   " (a blank line first) starts the line of "\n   ", when the vocabulary has it (a
 * fill starts with one line break); of tokens with the same text, the lowest id.
 */
export function lineStartsOf(decode: (ids: number[]) => string, vocabSize: number): LineStart {
  let byVocab = LINE_STARTS.get(decode);
  if (!byVocab) LINE_STARTS.set(decode, (byVocab = new Map()));
  let starts = byVocab.get(vocabSize);
  if (!starts) {
    const one = new Map<string, number>();
    for (let t = 0; t < vocabSize; t++) if (/^\n[ \t]*$/.test(pieceOf(decode, t)) && !one.has(pieceOf(decode, t))) one.set(pieceOf(decode, t), t);
    starts = new Map();
    for (let t = 0; t < vocabSize; t++) {
      const text = pieceOf(decode, t);
      const line = /^\n+[ \t]*$/.test(text) ? one.get(text.slice(text.lastIndexOf('\n'))) : undefined;
      if (line !== undefined) starts.set(t, line);
    }
    byVocab.set(vocabSize, starts);
  }
  const map = starts;
  return (t) => map.get(t);
}

/** What ranking did, for SampleStats.candidates. */
export interface CandidateStats {
  /** Candidates ranked (the decoded fill's line cuts, the beams and the lines in view; blank ones and repeats left out). */
  ranked: number;
  /** 0: the decoded fill stands; i > 0: the i-th ranked candidate replaced it. */
  chosen: number;
  /** Forward passes: beam rounds' rows and one per candidate scored. */
  forwards: number;
  ms: number;
}

/** The line a fill is judged by: its leading line break dropped, up to the next, trailing white space cut (eval.py first_line). */
export function firstLine(text: string): string {
  return (text.startsWith('\n') ? text.slice(1) : text).split('\n')[0]!.trimEnd();
}

/**
 * Ratcliff/Obershelp likeness of two strings, 2M / (|a| + |b|) in code points (1 when both are
 * empty): M counts the characters of the longest common substring (the first in a, then in b, of
 * those as long) plus, recursively, those matched the same way left and right of it. Python's
 * difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() (difflib's default also skips
 * characters frequent in strings of 200 or more).
 */
export function lineSimilarity(a: string, b: string): number {
  const A = Array.from(a, (c) => c.codePointAt(0)!);
  const B = Array.from(b, (c) => c.codePointAt(0)!);
  if (A.length + B.length === 0) return 1;
  let matched = 0;
  const todo: [number, number, number, number][] = [[0, A.length, 0, B.length]];
  let prev = new Int32Array(B.length + 1); // prev[j + 1]: the common run ending at A[i - 1], B[j]
  let row = new Int32Array(B.length + 1);
  while (todo.length > 0) {
    const [alo, ahi, blo, bhi] = todo.pop()!;
    let bi = alo, bj = blo, size = 0;
    prev.fill(0, blo, bhi + 1);
    for (let i = alo; i < ahi; i++) {
      row[blo] = 0;
      for (let j = blo; j < bhi; j++) {
        const k = (row[j + 1] = A[i] === B[j] ? prev[j]! + 1 : 0);
        if (k > size) [bi, bj, size] = [i - k + 1, j - k + 1, k];
      }
      [prev, row] = [row, prev];
    }
    if (size === 0) continue;
    matched += size;
    todo.push([alo, bi, blo, bj], [bi + size, ahi, bj + size, bhi]);
  }
  return (2 * matched) / (A.length + B.length);
}

/**
 * The minimum-Bayes-risk pick among candidates with first lines `lines`, scored `scores` (NaN
 * counts as -Infinity): the line with the highest sum over all candidates j of
 * exp((scores[j] - max) / temperature) x lineSimilarity (every weight 1 when no score is finite),
 * then of the candidates with that first line the best-scoring (so a longer fill can beat its own
 * first line); ties to the first. temperature <= 0: the best score. -1 when there are none.
 */
export function consensusPick(lines: string[], scores: number[], temperature: number): number {
  const s = scores.map((x) => (Number.isNaN(x) ? -Infinity : x));
  const best = (among: (i: number) => boolean) => s.reduce((b, x, i) => (among(i) && (b < 0 || x > s[b]!) ? i : b), -1);
  if (lines.length === 0 || !(temperature > 0)) return best(() => true);
  const top = Math.max(...s);
  const weights = s.map((x) => (top === -Infinity ? 1 : Math.exp((x - top) / temperature)));
  let chosen = 0;
  let chosenGain = -Infinity;
  for (let i = 0; i < lines.length; i++) {
    let gain = 0;
    for (let j = 0; j < lines.length; j++) gain += weights[j]! * (lines[i] === lines[j] ? 1 : lineSimilarity(lines[i]!, lines[j]!));
    if (gain > chosenGain) [chosenGain, chosen] = [gain, i];
  }
  return best((i) => lines[i] === lines[chosen]);
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
 * counts the steps run. `firstBreak`: the first token is a line break (the hole begins a line;
 * its probability is still the model's over every token).
 */
export async function beamFill(
  model: DiffusionModel, canvas: Int32Array, spanStart: number, spanEnd: number, width: number,
  isBreak: IsBreak, counter: { forwards: number }, signal?: AbortSignal, firstBreak = false,
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
      const may = (id: number) => id !== mask && (!firstBreak || beam.ids.length > 0 || isBreak(id));
      for (const t of topK(row, width, may)) grown.push({ ids: [...beam.ids, t], score: beam.score + row[t]! - lse });
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

/**
 * log P(ids | prefix) and log P(suffix | prefix + ids) on the AR head, reading order, from one
 * forward of prefix | ids | suffix (suffix: its first tokens, at least one; without a prefix the
 * fill's first token has no row before it and is not scored).
 */
export async function readingScore(
  model: DiffusionModel, prefix: ArrayLike<number>, ids: number[], suffix: number[],
): Promise<{ fill: number; suffix: number }> {
  const { mask } = model.config.special_tokens;
  const context = Int32Array.from([...Array.from(prefix), ...ids, ...suffix]);
  const from = Math.max(prefix.length - 1, 0); // the first row scored: it predicts ids[0]
  const first = prefix.length + ids.length - 1; // the row that predicts suffix[0]
  const rows = context.length - 1 - from;
  if (rows === 0) return { fill: 0, suffix: 0 }; // one token in all: nothing is read after anything
  const d = await model.decideBlock!({
    context,
    contextPositions: Int32Array.from(context, (_, i) => i),
    block: new Int32Array(0),
    blockPos0: context.length,
    offsets: new Int32Array(0),
    contextRows: Int32Array.from({ length: rows }, (_, i) => from + i), // row r: P(context[r + 1])
  }, { temperature: 0, seed: 0, step: 0 });
  checkDecisions(d, rows, mask);
  const score = { fill: 0, suffix: 0 };
  for (let i = 0; i < rows; i++) score[from + i < first ? 'fill' : 'suffix'] += Math.log(Math.max(d.currentProb[i]!, 1e-30));
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
 * The whole lines in view around the hole canvas[spanStart, spanEnd): in the prefix, then in the
 * suffix, each from a token that `lineStart` maps (as the token it maps to) up to the next line
 * break, at most maxLen tokens and not only white space. A line cut by a region's end is no
 * candidate: the prefix's last line only when `holeBeginsLine` (the fill begins with a line break,
 * so the line ends at the hole; else it is the text before a mid-line cursor), the suffix's
 * unended last line only when `suffixEndsText` (the canvas holds the text to its end, which has
 * no final line break; else the budget cut that line).
 */
export function copiedLines(
  canvas: Int32Array, spanStart: number, spanEnd: number, maxLen: number, isBreak: IsBreak, lineStart: LineStart,
  decode: (ids: number[]) => string, holeBeginsLine: boolean, suffixEndsText = false,
): number[][] {
  const lines: number[][] = [];
  for (const [a, b, wholeAtEnd] of [[0, spanStart, holeBeginsLine], [spanEnd, canvas.length, suffixEndsText]] as const) {
    for (let i = a; i < b; i++) {
      const first = lineStart(canvas[i]!);
      if (first === undefined) continue;
      let j = i + 1;
      while (j < b && !isBreak(canvas[j]!)) j++;
      const ids = [first, ...canvas.subarray(i + 1, j)];
      if ((j < b || wholeAtEnd) && j - i <= maxLen && decode(ids).trim() !== '') lines.push(ids);
    }
  }
  return lines;
}

/**
 * Rank the decoded fill (canvas[spanStart, spanEnd), up to its first eos/pad) cut at its line
 * ends, beamFill's beams and copiedLines, by readingScore (the suffix's log-likelihood over its
 * first SCORE_SUFFIX_TOKENS + FILL_WEIGHT x the fill's), the pick being their consensus
 * (consensusPick at `temperature` over their first lines; the file header). Options:
 * - `syntax` (SamplerHooks.syntax): candidates that put an unfixable syntax error after the prefix are left out;
 * - `temperature`: the consensus's (MBR_TEMPERATURE; <= 0: the best score);
 * - `suffixEndsText`: the canvas's suffix runs to the end of the text, so its last line is whole
 *   even without a line break (copiedLines);
 * - `fillBeginsLine`: the hole begins a line: every candidate begins with a line break, the
 *   beams' first token too, and the prefix's last line is whole (copiedLines);
 * - `signal`: cancels between forwards.
 * Returns the winner's tokens (without the end; the decoded fill when no candidate qualifies, even
 * one that goes on with the line before) and what was done.
 */
export async function rankFills(
  model: DiffusionModel, canvas: Int32Array, spanStart: number, spanEnd: number, width: number,
  decode: (ids: number[]) => string,
  { signal, syntax, temperature = MBR_TEMPERATURE, suffixEndsText = false, fillBeginsLine = false }: {
    signal?: AbortSignal; syntax?: (text: string, from: number) => number; temperature?: number; suffixEndsText?: boolean; fillBeginsLine?: boolean;
  } = {},
): Promise<{ ids: number[]; stats: CandidateStats }> {
  const started = now();
  const { pad, eos } = model.config.special_tokens;
  const isBreak = breaksOf(decode);
  const counter = { forwards: 0 };
  const decoded: number[] = [];
  for (let p = spanStart; p < spanEnd && canvas[p] !== pad && canvas[p] !== eos; p++) decoded.push(canvas[p]!);
  // candidates begin as the hole does (fillBeginsLine), else as the decoded fill: on a new line, or on the line before the hole
  const starts = fillBeginsLine ? true : decoded.length > 0 && decode(decoded).trim() !== '' ? isBreak(decoded[0]!) : null;
  const candidates: number[][] = [];
  const beams = await beamFill(model, canvas, spanStart, spanEnd, width, isBreak, counter, signal, fillBeginsLine);
  const prefix = canvas.subarray(0, spanStart);
  const before = syntax ? decode(Array.from(prefix)) : '';
  const copies = copiedLines(canvas, spanStart, spanEnd, spanEnd - spanStart, isBreak, lineStartsOf(decode, model.config.vocab_size), decode, starts === true, suffixEndsText);
  const own = [...lineCuts(decoded, isBreak), ...beams.map((b) => b.ids)];
  for (const [k, ids] of [...own, ...copies].entries()) {
    // the cuts and beams begin as the hole or the decoded fill does (else the shortest, a word added to the line before, wins); copied lines are whole lines
    if (ids.length === 0 || decode(ids).trim() === '' || (k < own.length && starts !== null && isBreak(ids[0]!) !== starts)) continue;
    if (candidates.some((c) => sameIds(c, ids))) continue;
    // with the syntax check: none that puts an error the text could not recover from (the decoded fill was checked as it was made)
    if (syntax && !sameIds(ids, decoded) && syntax(decode([...Array.from(prefix), ...ids]), before.length) >= 0) continue;
    candidates.push(ids);
  }
  const suffix = Array.from(canvas.subarray(spanEnd, spanEnd + SCORE_SUFFIX_TOKENS));
  const scores: number[] = [];
  for (const ids of candidates) {
    await checkpoint(signal);
    const r = await readingScore(model, prefix, ids, suffix);
    scores.push(r.suffix + FILL_WEIGHT * r.fill);
    counter.forwards++;
  }
  const chosen = consensusPick(candidates.map((c) => firstLine(decode(c))), scores, temperature);
  const ids = chosen < 0 ? decoded : candidates[chosen]!;
  return { ids, stats: { ranked: candidates.length, chosen: sameIds(ids, decoded) ? 0 : chosen + 1, forwards: counter.forwards, ms: now() - started } };
}
