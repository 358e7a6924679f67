// The syntax hook in verified decoding (syntaxGate.ts), on a random tiny block-causal model (CPU
// engine) with a stand-in "syntax": one token id is the error. The gate must keep every other
// decision, replace that token by the AR head's best other token, say so in the step events, and
// count its extra forwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCpuModel } from '../engine/cpu';
import { randomModelFiles, type TinySpec } from '../engine/testkit';
import type { DiffusionModel } from '../engine/types';
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
    expect(rejections.every((c) => c.rejected === bad && c.token !== bad && c.state === 'committed')).toBe(true);
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
