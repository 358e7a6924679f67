import { describe, expect, it } from 'vitest';
import { EOS, FakeArModel, FakeDiffusionModel, MASK, PAD } from '../diffusion/fakes';
import { SamplerHost, type TextCodec } from '../diffusion/host';
import type { GenerationEvent } from '../protocol';
import { RunRecord } from './runRecord';

const codec: TextCodec = {
  encode: (s) => Array.from(s, (c) => c.charCodeAt(0) - 96),
  decode: (ids) => ids.filter((t) => t >= 1 && t <= 26).map((t) => String.fromCharCode(96 + t)).join(''),
};
const specials = { mask: MASK, pad: PAD, eos: EOS };

async function record(model: FakeDiffusionModel | FakeArModel, knobs: object) {
  const host = new SamplerHost();
  host.setModel(model, codec, 'm');
  const rec = new RunRecord('r', 'generate', 'm', specials);
  let clock = 0;
  const result = await host.generate({ requestId: 'r', prompt: 'abc', genLength: 8, ...knobs }, (e: GenerationEvent) => rec.onEvent(e, (clock += 10)));
  rec.finish(result);
  return { rec, result };
}

describe('RunRecord', () => {
  it('replays every step into frames: masks shrink, new tokens are marked, the last frame is the result', async () => {
    const { rec, result } = await record(new FakeDiffusionModel(), { schedule: { kind: 'fixed', steps: 4 } });
    expect(rec.stepCount).toBe(result.stats.steps);
    const first = rec.cells(0);
    expect(first.slice(0, 3).map((c) => [c.state, c.text])).toEqual([['fixed', 'a'], ['fixed', 'b'], ['fixed', 'c']]);
    expect(first.slice(3).every((c) => c.state === 'masked')).toBe(true);
    const masked = (f: number) => rec.cells(f).filter((c) => c.state === 'masked' || c.state === 'revised').length;
    for (let f = 1; f <= rec.stepCount; f++) {
      expect(masked(f)).toBeLessThanOrEqual(masked(f - 1));
      const step = rec.steps[f - 1]!;
      const newOnes = rec.cells(f).filter((c) => c.state === 'new').map((c) => c.position);
      const committedReal = step.changes.filter((c) => c.state === 'committed' && c.token !== EOS && c.token !== PAD).map((c) => c.position);
      expect(newOnes).toEqual(committedReal);
    }
    expect(masked(rec.stepCount)).toBe(0);
    expect(rec.cells(rec.stepCount).map((c) => c.token)).toEqual(result.tokens);
    expect(rec.spanText(rec.stepCount)).toBe(result.text);
    const s = rec.stats(rec.stepCount);
    expect(s).toMatchObject({ step: result.stats.steps, totalSteps: result.stats.steps, forwards: result.stats.forwards, tokens: result.stats.tokensGenerated, maskedLeft: 0 });
    expect(rec.stats(2)).toMatchObject({ step: 2, totalSteps: result.stats.steps, elapsedMs: 20, msPerStep: 10 });
    // Out of range frames clamp.
    expect(rec.cells(999)).toEqual(rec.cells(rec.stepCount));
    expect(rec.stats(-5).step).toBe(0);
  });

  it('marks revised positions in the step that re-masked them', async () => {
    const model = new FakeDiffusionModel();
    const { rec, result } = await record(model, { schedule: { kind: 'fixed', steps: 12 }, revision: { rho: 0.99, maxPerStep: 2 } });
    expect(result.stats.revisions).toBeGreaterThan(0);
    const f = rec.steps.findIndex((s) => s.changes.some((c) => c.state === 'revised')) + 1;
    const revised = rec.cells(f).filter((c) => c.state === 'revised');
    expect(revised.length).toBeGreaterThan(0);
    expect(rec.stats(f).revisedNow).toBe(revised.length);
    expect(rec.stats(rec.stepCount).revisions).toBe(result.stats.revisions);
  });

  it('records autoregressive runs: one token per step, one forward per step', async () => {
    const { rec, result } = await record(new FakeArModel(), {});
    expect(rec.stepCount).toBe(result.stats.steps);
    expect(rec.stats(3).forwards).toBe(3);
    expect(rec.cells(rec.stepCount).map((c) => c.token)).toEqual(result.tokens);
  });

  it('before the start event there is nothing to show; failures keep the message', () => {
    const rec = new RunRecord('x', 'infill', 'm', specials);
    expect(rec.cells(0)).toEqual([]);
    expect(rec.stats(0).step).toBe(0);
    rec.fail(Object.assign(new Error('stop'), { name: 'CancelledError' }), true);
    expect(rec.status).toBe('cancelled');
    expect(rec.finished).toBe(true);
  });
});

describe('RunRecord: tokens re-chosen for syntax', () => {
  it('shows the step that replaced a token as "syntax", later frames as committed, earlier ones masked', () => {
    const rec = new RunRecord('s', 'generate', 'm', specials);
    rec.onEvent({ type: 'start', requestId: 's', layout: { tokens: [1, 2, MASK, MASK], spanStart: 2, spanEnd: 4, droppedPrefix: 0, droppedSuffix: 0 }, pieces: ['a', 'b', '', ''] }, 0);
    rec.onEvent({ type: 'step', requestId: 's', step: { step: 0, block: 0, forwardSkipped: false, maskedLeft: 1, changes: [{ position: 2, token: 3, confidence: 0.5, state: 'committed', rejected: 9 }] }, pieces: ['c'] }, 10);
    rec.onEvent({ type: 'step', requestId: 's', step: { step: 1, block: 0, forwardSkipped: false, maskedLeft: 0, changes: [{ position: 3, token: 4, confidence: 0.9, state: 'committed' }] }, pieces: ['d'] }, 20);
    expect(rec.cells(0).map((c) => c.state)).toEqual(['fixed', 'fixed', 'masked', 'masked']);
    expect(rec.cells(1).map((c) => c.state)).toEqual(['fixed', 'fixed', 'syntax', 'masked']);
    expect(rec.cells(1)[2]!.text).toBe('c');
    expect(rec.cells(2).map((c) => c.state)).toEqual(['fixed', 'fixed', 'committed', 'new']);
    expect(rec.cells(1)[2]!.reason).toBe('error'); // (no rejectedFor: an error, as before)
  });

  it('keeps why: a token turned down so the code can end within the span', () => {
    const rec = new RunRecord('s', 'generate', 'm', specials);
    rec.onEvent({ type: 'start', requestId: 's', layout: { tokens: [1, MASK, MASK], spanStart: 1, spanEnd: 3, droppedPrefix: 0, droppedSuffix: 0 }, pieces: ['a', '', ''] }, 0);
    rec.onEvent({ type: 'step', requestId: 's', step: { step: 0, block: 0, forwardSkipped: false, maskedLeft: 0, changes: [
      { position: 1, token: 3, confidence: 0.5, state: 'committed', rejected: 9, rejectedFor: 'error' },
      { position: 2, token: 4, confidence: 0.5, state: 'committed', rejected: 8, rejectedFor: 'end' },
    ] }, pieces: ['c', 'd'] }, 10);
    expect(rec.cells(1).map((c) => [c.state, c.reason])).toEqual([['fixed', undefined], ['syntax', 'error'], ['syntax', 'end']]);
  });
});
