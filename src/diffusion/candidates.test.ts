// Infill candidates (candidates.ts) on a random tiny block-causal model, CPU engine: the beams and
// the suffix score against log probabilities computed from scratch (uncached block steps,
// float64 log-softmax), width 1 against the AR head's greedy continuation of the prefix alone, and
// the sampler's use of them.
// Token text (decode) is made up: ids divisible by 7 are line breaks.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCpuModel } from '../engine/cpu';
import { randomModelFiles, type TinySpec } from '../engine/testkit';
import type { DiffusionModel } from '../engine/types';
import { execFileSync } from 'node:child_process';
import {
  beamFill, breaksOf, consensusPick, copiedLines, FILL_WEIGHT, firstLine, lineCuts, lineSimilarity, lineStartsOf, MBR_TEMPERATURE, rankFills,
  readingScore, SCORE_SUFFIX_TOKENS,
} from './candidates';
import { RequestError } from './request';
import { CancelledError } from './types';
import { generate, infill } from './sampler';
import type { StepEvent } from './types';

const SPEC: TinySpec = { kind: 'diffusion', vocab: 61, dim: 32, heads: 4, ffn: 40, layers: 2, maxSeq: 96, tie: true, dtype: 'F16', blockSize: 4 };
const MASK = SPEC.vocab - 1;
const PAD = SPEC.vocab - 2;
const EOS = SPEC.vocab - 3;
const decodeSeven = (ids: number[]) => ids.map((t) => (t >= EOS ? '' : t % 7 === 0 ? '\n  ' : `w${t} `)).join('');
const decode = decodeSeven;
const isBreak = breaksOf(decode);

let model: DiffusionModel;
beforeAll(async () => {
  model = (await loadCpuModel(await randomModelFiles(SPEC, 71), undefined, { threads: 1 })) as DiffusionModel;
});
afterAll(() => model.dispose());

/** float64 log-softmax (mask left out) of the AR head at the row that ends `context`, from an empty cache. */
async function logProbsAfter(context: number[], positions: number[]): Promise<Float64Array> {
  const pos = positions[positions.length - 1]! + 1;
  const l = await model.blockLogits!({ context: Int32Array.from(context), contextPositions: Int32Array.from(positions), block: Int32Array.of(MASK), blockPos0: pos, offsets: Int32Array.of(0) }, true);
  let max = -Infinity;
  for (let t = 0; t < SPEC.vocab; t++) if (t !== MASK) max = Math.max(max, l[t]!);
  let sum = 0;
  for (let t = 0; t < SPEC.vocab; t++) if (t !== MASK) sum += Math.exp(l[t]! - max);
  return Float64Array.from({ length: SPEC.vocab }, (_, t) => (t === MASK ? -Infinity : l[t]! - max - Math.log(sum)));
}

const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
const canvasOf = (prefix: number[], n: number, suffix: number[]) => Int32Array.from([...prefix, ...new Array<number>(n).fill(MASK), ...suffix]);
// line breaks: ids divisible by 3 (more of them than decodeSeven's)
const decode3 = (ids: number[]) => ids.map((t) => (t >= EOS ? '' : t % 3 === 0 ? '\n  ' : `w${t} `)).join('');

/**
 * rankFills' candidates built from their definition, for the hole canvas[p, p + n) whose decoded
 * fill is `generated`: its line cuts, 3 beams and the copied lines (the suffix's unended last line
 * when `endsText`), without blanks and repeats, the cuts and beams only when they begin as the fill
 * does, or with `beginsLine` (fillBeginsLine) with a line break, the beams' first token a break.
 * `filtered`: those left out for beginning otherwise.
 */
async function candidatesByDefinition(canvas: Int32Array, p: number, n: number, generated: number[], decode: (ids: number[]) => string, endsText: boolean, beginsLine = false) {
  const isBreak = breaksOf(decode);
  const beams = await beamFill(model, canvas, p, p + n, 3, isBreak, { forwards: 0 }, undefined, beginsLine);
  const starts = beginsLine ? true : generated.length > 0 && decode(generated).trim() !== '' ? isBreak(generated[0]!) : null;
  const copies = copiedLines(canvas, p, p + n, n, isBreak, lineStartsOf(decode, SPEC.vocab), decode, starts === true, endsText);
  const own = [...lineCuts(generated, isBreak), ...beams.map((b) => b.ids)];
  const keys = new Set<string>();
  let filtered = 0;
  const cands = [...own, ...copies].filter((c, k) => {
    const layoutOk = k >= own.length || starts === null || isBreak(c[0]!) === starts; // copied lines whichever way
    if (c.length > 0 && decode(c).trim() !== '' && !layoutOk) filtered++;
    const ok = c.length > 0 && decode(c).trim() !== '' && layoutOk && !keys.has(c.join(','));
    if (ok) keys.add(c.join(','));
    return ok;
  });
  return { cands, copies, starts, filtered };
}

/** The consensus's pick among `cands` by definition: each scored by readingScore (suffix + FILL_WEIGHT x fill), then consensusPick. */
async function consensusByDefinition(prefix: number[], suffix: number[], cands: number[][], decode: (ids: number[]) => string): Promise<number> {
  const s = suffix.slice(0, SCORE_SUFFIX_TOKENS);
  const scores = await Promise.all(cands.map(async (c) => ((r) => r.suffix + FILL_WEIGHT * r.fill)(await readingScore(model, prefix, c, s))));
  return consensusPick(cands.map((c) => firstLine(decode(c))), scores, MBR_TEMPERATURE);
}

const prefixes = [[5, 9, 13, 2, 40, 7, 8, 21], [1, 2, 3, 4, 5, 6], [17, 33, 8, 8, 12, 50, 44, 3, 9], [28, 15], [6, 6, 6, 19, 23], [11, 12, 13, 14, 0, 16]];
const suffix = [30, 31, 32, 3, 4, 11, 12];

describe('infill candidates', () => {
  it("readingScore's suffix part is log P(suffix | prefix + fill) in reading order", async () => {
    const prefix = prefixes[0]!;
    for (const ids of [[], [3], [10, 11, 12, 40], [20, 21, 22, 23, 24, 25, 26]]) {
      const text = [...prefix, ...ids, ...suffix];
      let want = 0;
      for (let i = prefix.length + ids.length; i < text.length; i++) want += (await logProbsAfter(text.slice(0, i), range(0, i)))[text[i]!]!;
      expect((await readingScore(model, prefix, ids, suffix)).suffix).toBeCloseTo(want, 3);
    }
    // the fill counts: another one gives another score
    expect((await readingScore(model, prefix, [10, 11], suffix)).suffix).not.toBeCloseTo((await readingScore(model, prefix, [40, 41], suffix)).suffix, 3);
  });

  it('readingScore: log P(fill | prefix) and log P(suffix | prefix + fill) from one forward', async () => {
    for (const [prefix, ids] of [[prefixes[0]!, [10, 11, 12, 40]], [prefixes[3]!, [3]], [[], [10, 11, 12]]] as const) {
      const text = [...prefix, ...ids, ...suffix];
      const want = { fill: 0, suffix: 0 };
      // without a prefix the fill's first token has no row before it
      for (let i = Math.max(prefix.length, 1); i < text.length; i++) {
        want[i < prefix.length + ids.length ? 'fill' : 'suffix'] += (await logProbsAfter(text.slice(0, i), range(0, i)))[text[i]!]!;
      }
      const got = await readingScore(model, prefix, [...ids], suffix);
      expect(got.fill).toBeCloseTo(want.fill, 3);
      expect(got.suffix).toBeCloseTo(want.suffix, 3);
      expect(want.fill).toBeLessThan(0);
    }
  });

  it("the ranking's constants are eval.py ranked_fill's (its numbers in README measure this rule: \"Fill: the candidates' consensus\")", () => {
    const py = readFileSync(new URL('../../training/eval.py', import.meta.url), 'utf8');
    expect(Number(/^FILL_WEIGHT = ([\d.]+)$/m.exec(py)?.[1])).toBe(FILL_WEIGHT);
    expect(Number(/def ranked_fill\([^)]*score_tokens=(\d+)/s.exec(py)?.[1])).toBe(SCORE_SUFFIX_TOKENS);
    expect(Number(/^MBR_TEMPERATURE = ([\d.]+)$/m.exec(py)?.[1])).toBe(MBR_TEMPERATURE);
  });

  it("lineSimilarity is Python difflib's ratio (autojunk off) on random strings, ties included", () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pairs: [string, string][] = [['', ''], ['a', ''], ['abcd', 'bcde'], ['    return x', '    return y + 1'], ['s = "😀"', 's = "😃"'], ['x = "é😀ü"', 'x = "😀"']];
    for (let k = 0; k < 300; k++) {
      // few letters, so that many common substrings tie for the longest
      const alphabet = k % 2 ? 'ab ' : 'abc(x) =_\t';
      const str = () => Array.from({ length: Math.floor(rand() * 40) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      pairs.push([str(), str()]);
    }
    const py = 'import difflib, json, sys\nprint(json.dumps([difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() for a, b in json.load(sys.stdin)]))';
    const want = JSON.parse(execFileSync('python3', ['-c', py], { input: JSON.stringify(pairs) }).toString()) as number[];
    expect(want.length).toBe(pairs.length);
    for (const [i, [a, b]] of pairs.entries()) expect(lineSimilarity(a, b), JSON.stringify([a, b])).toBeCloseTo(want[i]!, 12);
    expect(firstLine('\n    x = 1  \n    y')).toBe('    x = 1');
    expect(firstLine('x)\n')).toBe('x)');
  });

  it('consensusPick: a vote when scores are soft, the best score when sharp, ties to the first', () => {
    const lines = ['    a = f(x)', '    a = f(y)', '    return', '    a = g(x)'];
    const scores = [-3, -3.2, -1, -3.1];
    expect(consensusPick(lines, scores, 1e-3)).toBe(2); // all weight on the best score
    expect(consensusPick(lines, scores, 1e3)).toBe(0); // equal weights: the line most like the others
    // by definition: the sum of weight x likeness over every line
    const gain = (i: number, T: number) => lines.reduce((g, l, j) => g + Math.exp((scores[j]! + 1) / T) * (i === j ? 1 : lineSimilarity(lines[i]!, l)), 0);
    for (const T of [0.5, 1, 2.5, 8]) {
      const gains = lines.map((_, i) => gain(i, T));
      expect(consensusPick(lines, scores, T)).toBe(gains.indexOf(Math.max(...gains)));
    }
    expect(consensusPick(['x', 'x', 'y'], [0, 0, 0], 1)).toBe(0);
    // of the candidates with the chosen first line, the best-scoring (a whole fill beats its own first line)
    expect(consensusPick(['a = 1', 'a = 1', 'b = 2'], [-20, 0, -3], 2.5)).toBe(1);
    expect(consensusPick(['a = 1', 'a = 1', 'b = 2'], [0, -20, -3], 2.5)).toBe(0);
    // no candidates; temperature 0: the best score; NaN as -Infinity; no finite score: a plain vote
    expect(consensusPick([], [], 2.5)).toBe(-1);
    expect(consensusPick(lines, scores, 0)).toBe(2);
    expect(consensusPick(lines, [NaN, -3.2, -1, NaN], 1e-3)).toBe(2);
    expect(consensusPick(lines, [-Infinity, -Infinity, -Infinity, -Infinity], 2.5)).toBe(consensusPick(lines, [0, 0, 0, 0], 2.5));
  });

  it('copiedLines: the whole lines of the prefix and the suffix, from a line start to the next break, short and not blank', () => {
    // 7, 14, 21, 35: "\n  " (line starts, as 7: the lowest id of that text); 22 a break that starts no line ("x\n"); 23: a blank
    // line first, "\n\n  ": its line starts as 7's; 24: "\n\n      ", no one-break token with that indentation
    const dec = (ids: number[]) => ids.map((t) => (t === 22 ? 'x\n' : t === 23 ? '\n\n  ' : t === 24 ? '\n\n      ' : t === 5 ? '  ' : t > 0 && t % 7 === 0 ? '\n  ' : `w${t} `)).join('');
    const starts = lineStartsOf(dec, SPEC.vocab);
    expect([7, 14, 23, 24, 22, 5].map(starts)).toEqual([7, 7, 7, undefined, undefined, undefined]);
    const canvas = Int32Array.from([1, 7, 2, 3, 14, 5, 21, 4, 22, 9, 23, 10, 11, 24, 12, /* span */ MASK, MASK, MASK, /* suffix */ 35, 6, 8, 11, 12, 7, 1]);
    // [7, 2, 3]; [14, 5] is blank; [21, 4] ends at the break 22; [22, 9] and [24, 12] start no line; [23, 10, 11] starts as 7;
    // [35, 6, 8, 11, 12] is too long; [7, 1] runs to the canvas's end (the budget cut it)
    for (const whole of [true, false]) expect(copiedLines(canvas, 15, 18, 3, breaksOf(dec), starts, dec, whole)).toEqual([[7, 2, 3], [7, 4], [7, 10, 11]]);
    expect(copiedLines(canvas, 15, 18, 5, breaksOf(dec), starts, dec, true)).toContainEqual([7, 6, 8, 11, 12]);
    // the prefix's last line ends at the hole: whole when the fill begins a line, else the text before a mid-line cursor
    const cut = Int32Array.from([1, 7, 2, 3, 7, 4, MASK, MASK, 9, 7, 6, 7, 8]);
    expect(copiedLines(cut, 6, 8, 3, breaksOf(dec), starts, dec, true)).toEqual([[7, 2, 3], [7, 4], [7, 6]]);
    expect(copiedLines(cut, 6, 8, 3, breaksOf(dec), starts, dec, false)).toEqual([[7, 2, 3], [7, 6]]);
    // the suffix's unended last line ([7, 8]) is whole when the canvas holds the text to its end (a file with no final break)
    expect(copiedLines(cut, 6, 8, 3, breaksOf(dec), starts, dec, false, true)).toEqual([[7, 2, 3], [7, 6], [7, 8]]);
    expect(copiedLines(canvas, 15, 18, 3, breaksOf(dec), starts, dec, false, true)).toEqual([[7, 2, 3], [7, 4], [7, 10, 11], [7, 1]]);
  });

  it('beams: best first, each ended at eos/pad, a line break or the span end, scored on the prefix alone', async () => {
    for (const prefix of prefixes.slice(0, 3)) {
      const n = 6;
      const spanEnd = prefix.length + n;
      const counter = { forwards: 0 };
      const beams = await beamFill(model, canvasOf(prefix, n, suffix), prefix.length, spanEnd, 3, isBreak, counter);
      expect(beams.length).toBeGreaterThan(1);
      expect(beams.length).toBeLessThanOrEqual(6);
      expect(counter.forwards).toBeGreaterThan(1);
      expect(new Set(beams.map((b) => b.ids.join(','))).size).toBe(beams.length);
      for (let i = 1; i < beams.length; i++) expect(beams[i]!.score).toBeLessThanOrEqual(beams[i - 1]!.score);
      for (const b of beams) {
        expect(b.ids.length).toBeGreaterThan(0);
        expect(b.ids.slice(1).some(isBreak)).toBe(false);
        expect(b.ids.some((t) => t === PAD || t === EOS || t === MASK)).toBe(false);
        if (b.end === undefined) expect(b.ids.length).toBe(n);
        else expect(b.end === PAD || b.end === EOS || (isBreak(b.end) && b.ids.length >= 1)).toBe(true);
        const seq = b.end === undefined ? b.ids : [...b.ids, b.end];
        let want = 0;
        for (let i = 0; i < seq.length; i++) want += (await logProbsAfter([...prefix, ...seq.slice(0, i)], range(0, prefix.length + i)))[seq[i]!]!;
        expect(b.score).toBeCloseTo(want, 3);
      }
      // the suffix is not read: another suffix, the same beams
      const other = await beamFill(model, canvasOf(prefix, n, [44, 45, 46]), prefix.length, spanEnd, 3, isBreak, { forwards: 0 });
      expect(other.map((b) => [b.ids, b.end])).toEqual(beams.map((b) => [b.ids, b.end]));
      other.forEach((b, i) => expect(b.score).toBeCloseTo(beams[i]!.score, 4));
    }
    // no prefix: nothing to read on from, no beams
    expect(await beamFill(model, canvasOf([], 4, suffix), 0, 4, 3, isBreak, { forwards: 0 })).toEqual([]);
  });

  it("firstBreak: every beam begins with a line break, the likeliest such first tokens, scored by the model's full distribution", async () => {
    let restricted = 0;
    for (const prefix of prefixes.slice(0, 4)) {
      const n = 6;
      const free = await beamFill(model, canvasOf(prefix, n, suffix), prefix.length, prefix.length + n, 3, isBreak, { forwards: 0 });
      const beams = await beamFill(model, canvasOf(prefix, n, suffix), prefix.length, prefix.length + n, 3, isBreak, { forwards: 0 }, undefined, true);
      expect(beams.length).toBeGreaterThan(0);
      const first = await logProbsAfter(prefix, range(0, prefix.length));
      // the first round keeps the 3 likeliest breaks (ties to the lower id); every beam starts with one of them
      const top3 = Array.from(first.keys()).filter(isBreak).sort((a, b) => first[b]! - first[a]! || a - b).slice(0, 3);
      for (const b of beams) {
        expect(top3).toContain(b.ids[0]);
        const seq = b.end === undefined ? b.ids : [...b.ids, b.end];
        let want = 0;
        for (let i = 0; i < seq.length; i++) want += (await logProbsAfter([...prefix, ...seq.slice(0, i)], range(0, prefix.length + i)))[seq[i]!]!;
        expect(b.score).toBeCloseTo(want, 3);
      }
      // unconstrained, some beams begin otherwise here: the restriction had work to do
      if (free.some((b) => !isBreak(b.ids[0]!))) restricted++;
    }
    expect(restricted).toBeGreaterThan(0);
  });

  it('width 1 is the greedy continuation of the prefix alone, up to its first line break', async () => {
    for (const prefix of prefixes) {
      const n = 8;
      const decoded = await generate(model, { prompt: prefix, genLength: n, schedule: { kind: 'threshold', tau: 0.3 }, lookup: 0 });
      const beams = await beamFill(model, canvasOf(prefix, n, suffix), prefix.length, prefix.length + n, 1, isBreak, { forwards: 0 });
      const g = decoded.generated;
      const cut = g.findIndex((t, i) => i > 0 && isBreak(t));
      const want = cut < 0 ? g : g.slice(0, cut);
      if (want.length === 0) expect(beams).toEqual([]);
      else expect(beams[0]!.ids).toEqual(want);
    }
  });

  it('lineCuts: the fill up to each line break after its first token, then all of it', () => {
    expect(lineCuts([7, 1, 2, 14, 3, 21], isBreak)).toEqual([[7, 1, 2], [7, 1, 2, 14, 3], [7, 1, 2, 14, 3, 21]]);
    expect(lineCuts([1, 2], isBreak)).toEqual([[1, 2]]);
  });

  it('the sampler returns the consensus of the qualifying candidates scored by suffix and fill; its tokens arrive as one last step', async () => {
    let replaced = 0;
    let filtered = 0; // candidates left out for beginning otherwise than the decoded fill
    let copied = 0; // lines in view offered as candidates
    let lastLines = 0; // the suffix's unended last line offered (the canvas holds the text to its end)
    // the second suffix's text ends without a line break: under decode3 its last line [12, 13] is whole
    const cases = [decodeSeven, decode3].flatMap((d) => [suffix, [...suffix, 13]].flatMap((suffix) => prefixes.map((p) => [p, d, suffix] as const)));
    for (const [prefix, decode, suffix] of cases) {
      const isBreak = breaksOf(decode);
      const n = 8;
      // the suffix is the text's end (as the app's Fill says)
      const knobs = { prefix, suffix, genLength: n, schedule: { kind: 'threshold' as const, tau: 0.3 }, suffixEndsText: true };
      const plain = await infill(model, knobs, { decode });
      const events: StepEvent[] = [];
      let start: number[] = [];
      const ranked = await infill(model, { ...knobs, candidates: 3 }, { decode, onStart: (l) => (start = l.tokens.slice()), onStep: (e) => events.push(e) });
      const stats = ranked.stats.candidates!;
      expect(ranked.stats.forwards).toBe(plain.stats.forwards + stats.forwards);
      for (const e of events) for (const c of e.changes) if (c.state === 'committed') start[c.position] = c.token;
      expect(start).toEqual(ranked.tokens);
      // the candidates, built here from their definition; the whole suffix is in the canvas (no
      // budget cut it): its last line is whole, ended or not
      const g = plain.generated;
      const def = await candidatesByDefinition(canvasOf(prefix, n, suffix), prefix.length, n, g, decode, true);
      const { cands, copies, starts } = def;
      filtered += def.filtered;
      copied += copies.length;
      lastLines += copies.length - (await candidatesByDefinition(canvasOf(prefix, n, suffix), prefix.length, n, g, decode, false)).copies.length;
      const copiedKeys = new Set(copies.map((c) => c.join(',')));
      expect(stats.ranked).toBe(cands.length);
      if (cands.length > 0) {
        expect(ranked.generated).toEqual(cands[await consensusByDefinition(prefix, suffix, cands, decode)]);
        for (const c of cands) if (starts !== null && !copiedKeys.has(c.join(','))) expect(isBreak(c[0]!)).toBe(starts);
      } else expect(ranked.generated).toEqual(g);
      if (stats.chosen > 0) {
        replaced++;
        expect(ranked.generated).not.toEqual(g);
        expect(events.length).toBe(plain.stats.steps + 1);
      } else {
        expect(ranked.tokens).toEqual(plain.tokens);
        expect(events.length).toBe(plain.stats.steps);
      }
    }
    // on random weights the decoded fill is not always the one the suffix follows best
    expect(replaced).toBeGreaterThan(0);
    expect(filtered).toBeGreaterThan(0);
    expect(copied).toBeGreaterThan(0);
    expect(lastLines).toBeGreaterThan(0);
  });

  it("the suffix's unended last line is a candidate only when the request says the suffix ends the text and no budget cut it", async () => {
    const prefix = prefixes[0]!;
    const n = 8;
    // a suffix whose last line [12, 13] has no break after it: by default (a window of the text?) not copied;
    // said to end the text, one candidate more (the same canvas and decoding: only the copies differ)
    const unended = { prefix, suffix: [...suffix, 13], genLength: n, candidates: 3, schedule: { kind: 'threshold' as const, tau: 0.3 } };
    const unsaid = await infill(model, unended, { decode: decode3 });
    const said = await infill(model, { ...unended, suffixEndsText: true }, { decode: decode3 });
    expect(said.stats.candidates!.ranked - unsaid.stats.candidates!.ranked).toBe(1);
    // lines [15, 16, 17] (15 is a break that starts a line) after the suffix; the budget keeps 80 of its
    // tokens, so the canvas ends with a line no other repeats, [15, 20, 22], whose line break was cut
    const tail = Array.from({ length: 90 }, (_, i) => 15 + ((i + 2) % 3));
    tail.splice(71, 2, 20, 22);
    const long = [...suffix, ...tail];
    const knobs = { prefix, suffix: long, genLength: n, truncate: true, schedule: { kind: 'threshold' as const, tau: 0.3 }, suffixEndsText: true };
    const plain = await infill(model, knobs, { decode: decode3 });
    const ranked = await infill(model, { ...knobs, candidates: 3 }, { decode: decode3 });
    expect(plain.layout.droppedSuffix).toBeGreaterThan(0);
    const canvas = Int32Array.from(plain.tokens); // the canvas after decoding: prefix and suffix as laid out
    expect(Array.from(canvas.subarray(canvas.length - 4))).toEqual([17, 15, 20, 22]);
    // the candidates from their definition, the cut line left out; with it, one more
    const count = async (endsText: boolean) => (await candidatesByDefinition(canvas, prefix.length, n, plain.generated, decode3, endsText)).cands.length;
    expect(await count(true)).toBe((await count(false)) + 1);
    expect(ranked.stats.candidates!.ranked).toBe(await count(false));
  });

  it('fillBeginsLine: every candidate begins with a line break, whichever way the decoded fill begins; the prefix\'s last line is whole', async () => {
    let midLine = 0; // decoded fills that went on with the line before
    let lastLines = 0; // the prefix's last line offered as a whole line (only because the hole begins a line)
    let filled = 0;
    for (const prefix of prefixes) {
      const n = 8;
      const knobs = { prefix, suffix, genLength: n, schedule: { kind: 'threshold' as const, tau: 0.3 } };
      const plain = await infill(model, knobs, { decode });
      const g = plain.generated;
      if (g.length > 0 && !isBreak(g[0]!)) midLine++;
      const told = await infill(model, { ...knobs, candidates: 3, fillBeginsLine: true }, { decode });
      expect(told.generated.length === 0 || isBreak(told.generated[0]!)).toBe(true);
      if (told.generated.length > 0) filled++;
      // by definition: the beams with a break first, then the cuts, beams and copies that begin with one (copies: the prefix's last line too)
      const canvas = canvasOf(prefix, n, suffix);
      const { cands, copies } = await candidatesByDefinition(canvas, prefix.length, n, g, decode, false, true);
      lastLines += copies.length - copiedLines(canvas, prefix.length, prefix.length + n, n, isBreak, lineStartsOf(decode, SPEC.vocab), decode, false).length;
      expect(told.stats.candidates!.ranked).toBe(cands.length);
      for (const c of cands) expect(isBreak(c[0]!)).toBe(true);
      if (cands.length > 0) expect(told.generated).toEqual(cands[await consensusByDefinition(prefix, suffix, cands, decode)]);
    }
    expect(midLine).toBeGreaterThan(0); // some fills began mid-line, so the knob had work to do
    expect(lastLines).toBeGreaterThan(0);
    expect(filled).toBeGreaterThan(0);
  });

  it("rankFills picks by consensusPick at its temperature: near 0 the best score, high a vote that picks otherwise", async () => {
    let voted = 0;
    for (const prefix of prefixes) {
      const plain = await infill(model, { prefix, suffix, genLength: 8, schedule: { kind: 'threshold', tau: 0.3 }, lookup: 0 });
      const canvas = Int32Array.from(plain.tokens);
      const picks = [];
      for (const T of [1e-6, MBR_TEMPERATURE, 1e6]) picks.push((await rankFills(model, canvas, prefix.length, prefix.length + 8, 3, decode, { temperature: T })).ids);
      // (the candidates are rebuilt from their definition in the test above; here the picks' scores alone)
      const s = suffix.slice(0, SCORE_SUFFIX_TOKENS);
      const score = async (ids: number[]) => ((r) => r.suffix + FILL_WEIGHT * r.fill)(await readingScore(model, prefix, ids, s));
      const [sharp, , vote] = picks as [number[], number[], number[]];
      // a vote's pick scores no better than the best score's
      expect(await score(vote)).toBeLessThanOrEqual(await score(sharp) + 1e-9);
      if (firstLine(decode(vote)) !== firstLine(decode(sharp))) voted++;
    }
    expect(voted).toBeGreaterThan(0);
  });

  it('rankFills with one beam and no line breaks: the decoded fill against the prefix-only greedy fill, the reading score decides', async () => {
    const flat = (ids: number[]) => ids.map((t) => `w${t} `).join('');
    let both = 0;
    for (const prefix of prefixes) {
      const plain = await infill(model, { prefix, suffix, genLength: 6, schedule: { kind: 'threshold', tau: 0.3 }, lookup: 0 });
      if (plain.generated.length === 0) continue;
      const r = await rankFills(model, Int32Array.from(plain.tokens), prefix.length, prefix.length + 6, 1, flat);
      const greedy = (await generate(model, { prompt: prefix, genLength: 6, schedule: { kind: 'threshold', tau: 0.3 }, lookup: 0 })).generated;
      const cut = greedy.findIndex((t) => t === PAD || t === EOS);
      const beam = cut < 0 ? greedy : greedy.slice(0, cut);
      if (beam.length === 0 || beam.join() === plain.generated.join()) {
        expect(r).toMatchObject({ ids: plain.generated, stats: { ranked: 1, chosen: 0 } });
        continue;
      }
      both++;
      const s = suffix.slice(0, SCORE_SUFFIX_TOKENS);
      const score = async (ids: number[]) => {
        const r = await readingScore(model, prefix, ids, s);
        return r.suffix + FILL_WEIGHT * r.fill;
      };
      const [a, b] = [await score(plain.generated), await score(beam)];
      expect(r.stats.ranked).toBe(2);
      expect(r.ids).toEqual(b > a ? beam : plain.generated);
      expect(r.stats.chosen).toBe(b > a ? 2 : 0);
    }
    expect(both).toBeGreaterThan(0); // the suffix in view changes the decoded fill on these prefixes
  });

  it('a cancel during the beam search stops it', async () => {
    const controller = new AbortController();
    let calls = 0;
    const counting: DiffusionModel = {
      config: model.config,
      decide: (t, p, o) => model.decide(t, p, o),
      logits: (t) => model.logits(t),
      dispose: () => {},
      decideBlock: (step, o) => model.decideBlock!(step, o),
      blockLogits: (step, uncached) => {
        if (++calls === 2) controller.abort();
        return model.blockLogits!(step, uncached);
      },
    };
    await expect(infill(counting, { prefix: prefixes[0]!, suffix, genLength: 8, candidates: 4 }, { decode, signal: controller.signal })).rejects.toThrow(CancelledError);
    expect(calls).toBeLessThanOrEqual(5); // one round of at most 4 beams after the abort
  });

  it('with the syntax check, candidates that break the syntax are not ranked', async () => {
    let tried = 0;
    for (const prefix of prefixes) {
      const plain = await infill(model, { prefix, suffix, genLength: 8, schedule: { kind: 'threshold', tau: 0.3 } }, { decode });
      const canvas = Int32Array.from(plain.tokens);
      const free = await rankFills(model, canvas, prefix.length, prefix.length + 8, 3, decode);
      const banned = free.ids.find((t) => !plain.generated.includes(t) && !isBreak(t));
      if (free.stats.chosen === 0 || banned === undefined) continue;
      tried++;
      // a made-up rule: the word w<banned> is an error wherever it is written after the prefix
      const syntax = (text: string, from: number) => text.indexOf(`w${banned} `, from);
      const checked = await rankFills(model, canvas, prefix.length, prefix.length + 8, 3, decode, { syntax });
      expect(checked.ids.includes(banned)).toBe(false);
      expect(checked.stats.ranked).toBeLessThan(free.stats.ranked);
    }
    expect(tried).toBeGreaterThan(0);
  });

  it('checks the knob; needs a block-causal model, a suffix and decode', async () => {
    for (const bad of [0, 33, 1.5, -1]) {
      await expect(infill(model, { prefix: [1, 2], suffix, genLength: 4, candidates: bad }, { decode })).rejects.toThrow(RequestError);
    }
    const full = { ...model, config: { ...model.config, attention: 'full' as const } } as DiffusionModel;
    await expect(infill(full, { prefix: [1, 2], suffix, genLength: 4, candidates: 4 }, { decode })).rejects.toThrow(/block-causal/);
    await expect(infill(model, { prefix: [1, 2], suffix, genLength: 4, candidates: 4 })).rejects.toThrow(/hooks.decode/);
    // no suffix: nothing to rank by, the decoded fill is the result
    const plain = await infill(model, { prefix: [1, 2, 3], suffix: [], genLength: 4 });
    const none = await infill(model, { prefix: [1, 2, 3], suffix: [], genLength: 4, candidates: 4 }, { decode });
    expect(none.tokens).toEqual(plain.tokens);
    expect(none.stats.candidates).toBeUndefined();
  });
});
