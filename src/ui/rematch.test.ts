import { describe, expect, it } from 'vitest';
import { rematch, rematchSummary, type Lane } from './rematch';

describe('Race rematches', () => {
  it('alternate the first lane from the visible pair on, within the budget and the pair limit', async () => {
    const calls: Lane[] = [];
    const run = async (lane: Lane) => (calls.push(lane), { tokensPerSecond: lane === 'diffusion' ? 200 : 100, ms: 50 });
    // visible pair: diffusion first, 100 ms; budget 1000: pairs while spent + slowest <= 1000
    const r = await rematch(100, 'diffusion', run, undefined, 1000, 4);
    expect(calls).toEqual(['ar', 'diffusion', 'diffusion', 'ar', 'ar', 'diffusion', 'diffusion', 'ar']);
    expect(r).toEqual({ diffusion: [200, 200, 200, 200], ar: [100, 100, 100, 100] });
    // the twin went first in the visible pair: the next pair starts with diffusion
    calls.length = 0;
    await rematch(100, 'ar', run, undefined, 1000, 2);
    expect(calls).toEqual(['diffusion', 'ar', 'ar', 'diffusion']);
  });

  it('runs no pair that would not fit, and stops on a failed run or an abort', async () => {
    const run = async () => ({ tokensPerSecond: 10, ms: 400 });
    // a visible pair of 600 ms: one more (600 + 600 > 1000) would not fit
    expect(await rematch(600, 'diffusion', run)).toEqual({ diffusion: [], ar: [] });
    // 300 ms, then pairs of 800: one fits (300 + 300 <= 1000), then 1100 + 800 does not
    expect((await rematch(300, 'diffusion', run)).ar).toHaveLength(1);
    let n = 0;
    const failing = async () => (++n === 3 ? null : { tokensPerSecond: 5, ms: 1 });
    expect(await rematch(10, 'diffusion', failing)).toEqual({ diffusion: [5], ar: [5] });
    const ctl = new AbortController();
    const aborting = async () => (ctl.abort(), { tokensPerSecond: 5, ms: 1 });
    expect(await rematch(10, 'diffusion', aborting, ctl.signal)).toEqual({ diffusion: [], ar: [] });
  });

  it('summarises three or more rematch pairs: the ratio of the medians and the range of pair ratios', () => {
    expect(rematchSummary({ diffusion: [1, 1], ar: [1, 1] })).toBeNull();
    const s = rematchSummary({ diffusion: [300, 100, 200, 100], ar: [100, 100, 400, 200] })!;
    expect(s.pairs).toBe(4);
    expect(s.median).toBeCloseTo(150 / 150);
    expect(s.low).toBeCloseTo(0.5);
    expect(s.high).toBeCloseTo(3);
  });
});
