// The syntax hook in verified decoding (syntaxGate.ts), on a random tiny block-causal model (CPU
// engine) with a stand-in "syntax": one token id is the error. The gate must keep every other
// decision, replace that token by the AR head's best other token, say so in the step events, and
// count its extra forwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCpuModel } from '../engine/cpu';
import { randomModelFiles, type TinySpec } from '../engine/testkit';
import type { DiffusionModel } from '../engine/types';
import { pythonSyntaxError, pythonTail } from './pythonSyntax';
import { generate } from './sampler';
import type { StepEvent } from './types';

const SPEC: TinySpec = { kind: 'diffusion', vocab: 61, dim: 32, heads: 4, ffn: 40, layers: 2, maxSeq: 64, tie: true, dtype: 'F16', blockSize: 4 };

let model: DiffusionModel;
beforeAll(async () => {
  model = (await loadCpuModel(await randomModelFiles(SPEC, 33), undefined, { threads: 1 })) as DiffusionModel;
});
afterAll(() => model.dispose());

const prompt = [5, 9, 13, 2, 40, 7, 7, 21];
const knobs = { prompt, genLength: 24, commitOrder: 'verify' as const, schedule: { kind: 'threshold' as const, tau: 0.05 } };

/** One character per token: 'X' for the "bad" token, '' for the specials. */
const decodeWith = (bad: number) => (ids: number[]) => ids.map((t) => (t >= SPEC.vocab - 3 ? '' : t === bad ? 'X' : 'a')).join('');
/** The stand-in syntax: the first 'X' at or after `from` is the error. */
const syntax = (text: string, from: number) => text.indexOf('X', from);

describe('syntax gate (verify decoding)', () => {
  it('replaces the token that breaks the syntax and nothing before it; the events and stats say so', async () => {
    const plain = await generate(model, knobs);
    const span = plain.generated;
    // the most frequent generated token plays the syntax error
    const counts = new Map<number, number>();
    for (const t of span) counts.set(t, (counts.get(t) ?? 0) + 1);
    const bad = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const first = span.indexOf(bad);
    const events: StepEvent[] = [];
    const gated = await generate(model, knobs, { decode: decodeWith(bad), syntax, onStep: (e) => events.push(e) });
    expect(gated.generated.slice(0, first)).toEqual(span.slice(0, first));
    expect(gated.generated[first]).not.toBe(bad);
    expect(gated.generated.includes(bad)).toBe(false);
    const rejections = events.flatMap((e) => e.changes.filter((c) => c.rejected !== undefined));
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.every((c) => c.rejected === bad && c.token !== bad && c.state === 'committed' && c.rejectedFor === 'error')).toBe(true);
    expect(rejections[0]!.position).toBe(gated.layout.spanStart + first);
    expect(gated.stats.syntax).toMatchObject({ rejected: rejections.length, forwards: rejections.length });
    expect(gated.stats.forwards).toBe(gated.stats.steps + rejections.length);
  });

  it('an error the new tokens did not cause (in the prompt) is left alone', async () => {
    const plain = await generate(model, knobs);
    const decode = (ids: number[]) => ids.map((_, i) => (i === 0 ? 'X' : 'a')).join('');
    const gated = await generate(model, knobs, { decode, syntax });
    expect(gated.tokens).toEqual(plain.tokens);
    expect(gated.stats.syntax?.rejected).toBe(0);
  });

  it('when every token breaks the syntax, decoding still ends, within the budget of the run', async () => {
    const gated = await generate(model, knobs, { decode: (ids) => 'X'.repeat(ids.length), syntax: (t, from) => (t.length > from ? from : -1) });
    expect(gated.generated.length + (gated.finishReason === 'eos' ? 1 : 0)).toBeGreaterThan(0);
    expect(gated.stats.syntax!.rejected).toBe(0); // no alternative helps: the model's own tokens stay
    expect(gated.stats.syntax!.forwards).toBeLessThanOrEqual(16);
  });
});

describe('syntax gate: the text can always end cleanly within the span', () => {
  // Token texts that open and close Python constructs; the random model strings them together.
  const PIECES = ['def', ' f', '(', 'x', ')', ':', '\n    ', '"""', ' +', ' y', '[', ']', ' return', '\n        ', ' #', ' (', "'", ' if', ' z', ',', ' 1', '.', ' =', ' {', '}', ' and', '\n', '#'];
  const decode = (ids: number[]) => ids.map((t) => (t >= SPEC.vocab - 3 ? '' : PIECES[t % PIECES.length])).join('');
  const head = [0, 1, 2, 3, 4, 5]; // "def f(x):"

  it('with the tail, every run ends with nothing open; without it, most do not', async () => {
    let plainOpen = 0;
    let forEnd = 0;
    for (const [seed, genLength] of [[1, 12], [2, 16], [3, 20], [4, 9], [5, 24], [6, 14]] as const) {
      const k = { ...knobs, prompt: [...head, ...prompt.slice(0, seed % 3)], genLength, seed, temperature: 1 };
      const plain = await generate(model, k);
      if (pythonTail(decode(plain.tokens.slice(0, plain.layout.spanEnd))).cost > 0) plainOpen++;
      const events: StepEvent[] = [];
      let canvas: number[] = [];
      const gated = await generate(model, k, { decode, syntax: pythonSyntaxError, tail: pythonTail, onStart: (l) => (canvas = l.tokens.slice()), onStep: (e) => events.push(e) });
      const text = decode(gated.tokens.slice(0, gated.layout.spanEnd));
      expect(pythonTail(text).cost, JSON.stringify(text)).toBe(0);
      // after every step, the tokens left could still end it
      for (const e of events) {
        for (const c of e.changes) if (c.state === 'committed') canvas[c.position] = c.token;
        const done = Math.max(...e.changes.filter((c) => c.state === 'committed' && c.token !== model.config.special_tokens.pad).map((c) => c.position), gated.layout.spanStart - 1) + 1;
        expect(pythonTail(decode(canvas.slice(0, done))).cost).toBeLessThanOrEqual(gated.layout.spanEnd - done);
      }
      const rejections = events.flatMap((e) => e.changes.filter((c) => c.rejected !== undefined));
      expect(gated.stats.syntax!.rejected).toBe(rejections.length);
      expect(gated.stats.syntax!.forEnd).toBeLessThanOrEqual(gated.stats.syntax!.rejected);
      expect(rejections.filter((c) => c.rejectedFor === 'end').length).toBe(gated.stats.syntax!.forEnd);
      forEnd += gated.stats.syntax!.forEnd;
    }
    expect(plainOpen).toBeGreaterThanOrEqual(4);
    expect(forEnd).toBeGreaterThan(0);
  });

  it('not when the prompt itself can no longer end cleanly (no extra forwards spent on it)', async () => {
    const stuck = [...head, PIECES.indexOf('\n'), PIECES.indexOf('#')]; // a comment at the def's column
    expect(pythonTail(decode(stuck)).cost).toBeGreaterThan(1000);
    const res = await generate(model, { ...knobs, prompt: stuck, genLength: 16 }, { decode, syntax: pythonSyntaxError, tail: pythonTail });
    expect(res.stats.syntax!.forEnd).toBe(0);
    expect(res.stats.syntax!.forwards).toBeLessThanOrEqual(16);
  });

  it('not with a suffix after the span (it may close what the span opens)', async () => {
    const { infill } = await import('./sampler');
    const res = await infill(model, { prefix: [...head, 6], suffix: [4, 6], genLength: 10, commitOrder: 'verify', schedule: { kind: 'threshold', tau: 0.05 } }, { decode, syntax: pythonSyntaxError, tail: pythonTail });
    expect(res.stats.syntax!.forEnd).toBe(0);
  });
});
