// DualCache steps (dualcache.ts, types.ts decideDual) on both engines, against the float64
// reference (reference.ts referenceDualLogits):
//   - the planner: windows, positions and the refresh's tokens are checked
//   - a refresh = the whole forward = reference; a window whose tokens are the refresh's = the same rows of it
//   - a window whose tokens changed = the stale-cache reference (the approximation, computed
//     exactly), and its distance from an uncached forward is measured, not hidden
//   - decideDual = decideRef on the reference logits; a block-causal model has no decideDual
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DualCache } from './dualcache';
import { loadCpuModel } from './cpu';
import type { ModelFiles } from './load';
import { decideRef, referenceDualLogits, referenceForward, relError, type RefWeights } from './reference';
import { parseSafetensors } from './safetensors';
import { diffusionEngines, randomModelFiles, rng, tinyConfig, type TinySpec } from './testkit';
import type { DiffusionModel } from './types';
import { referenceWeights } from './weights';

const SPEC: TinySpec = { kind: 'diffusion', vocab: 61, dim: 32, heads: 4, ffn: 40, layers: 2, maxSeq: 40, tie: false, dtype: 'F16' };
const cfg = tinyConfig(SPEC);
const MASK = SPEC.vocab - 1;
const V = SPEC.vocab;

function tokens(n: number, seed: number, maskShare = 0): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => (r() < maskShare ? MASK : Math.floor(r(0, SPEC.vocab - 3))));
}
const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);

describe('DualCache.plan', () => {
  it('runs the window against all rows, refuses what the cache cannot serve', () => {
    const c = new DualCache();
    const t = tokens(20, 1, 0.3);
    expect(() => c.plan(t, [5], [4, 8])).toThrow(/refresh first/);
    const all = c.plan(t, [0, 19], null);
    expect([all.start, all.tokens.length, all.nKeys, ...all.headRows]).toEqual([0, 20, 20, 0, 19]);
    c.commit(t);
    const u = t.slice();
    u[5] = 7; // inside the window: fine
    const p = c.plan(u, [6, 5], [4, 8]);
    expect([p.start, p.tokens.length, p.nKeys, ...p.headRows, ...p.current]).toEqual([4, 4, 20, 2, 1, u[6], 7]);
    expect(Array.from(p.tokens)).toEqual(Array.from(u.subarray(4, 8)));
    u[12] = (u[12] + 1) % 50; // outside
    expect(() => c.plan(u, [5], [4, 8])).toThrow(/outside the window differs/);
    expect(() => c.plan(t.slice(0, 19), [5], [4, 8])).toThrow(/19 tokens, the refresh had 20/);
    expect(() => c.plan(t, [9], [4, 8])).toThrow(/position 9 outside the window/);
    expect(() => c.plan(t, [5], [4, 21])).toThrow(/window 4 .. 21/);
    expect(() => c.plan(t, [5], [6, 6])).toThrow(/window 6 .. 6/);
    c.clear();
    expect(() => c.plan(t, [5], [4, 8])).toThrow(/refresh first/);
  });
});

let files: ModelFiles;
let w: RefWeights;
const open: DiffusionModel[] = [];
beforeAll(async () => {
  files = await randomModelFiles(SPEC, 33);
  w = referenceWeights(parseSafetensors(files['model.safetensors'] as Uint8Array));
});
afterAll(() => open.forEach((m) => m.dispose()));

const engines = diffusionEngines(() => files);

describe.each(engines)('DualCache steps on the %s engine', (_, make) => {
  let model: DiffusionModel;
  beforeAll(async () => {
    model = await make();
    open.push(model);
  }, 60_000);

  it('a refresh is the whole forward; an unchanged window is exactly its rows', async () => {
    const t = tokens(27, 2, 0.4);
    const full = referenceForward(cfg, w, t);
    expect(relError(await model.dualLogits!(t, null), full)).toBeLessThan(2e-4);
    for (const [s, e] of [[9, 17], [0, 4], [20, 27]] as const) {
      expect(relError(await model.dualLogits!(t, [s, e]), full.slice(s * V, e * V)), `window ${s}..${e}`).toBeLessThan(2e-4);
    }
  });

  it('a changed window = the stale-cache reference; its distance from an uncached forward is reported', async () => {
    const t = tokens(30, 3, 0.6);
    await model.dualLogits!(t, null);
    const u = t.slice();
    const [s, e] = [8, 16];
    const r = rng(4);
    for (let p = s; p < e; p++) if (u[p] === MASK && r() < 0.7) u[p] = Math.floor(r(0, SPEC.vocab - 3));
    expect(Array.from(u)).not.toEqual(Array.from(t));
    const got = await model.dualLogits!(u, [s, e]);
    const stale = referenceDualLogits(cfg, w, t, u, s, e);
    expect(relError(got, stale)).toBeLessThan(2e-4);
    // the approximation really differs from an uncached forward of u (rows outside the window did not see the change)
    const exact = referenceForward(cfg, w, u).slice(s * V, e * V);
    const approx = relError(stale, exact);
    console.log(`DualCache approximation, random model, 8-row window with ${u.filter((x, i) => x !== t[i]).length} new tokens: rel. error vs uncached ${approx.toExponential(2)}`);
    expect(approx).toBeGreaterThan(1e-3);
    // a second window step on top of the first (the window's K/V were replaced) = the same reference
    const u2 = u.slice();
    u2[s] = (u2[s] + 1) % 50;
    expect(relError(await model.dualLogits!(u2, [s, e]), referenceDualLogits(cfg, w, t, u2, s, e))).toBeLessThan(2e-4);
  });

  it('decideDual = decideRef on the reference logits (greedy and sampled); malformed steps are refused', async () => {
    const t = tokens(25, 5, 0.5);
    const opts = (temperature: number) => ({ temperature, seed: 9, step: 3 });
    const refresh = await model.decideDual!(t, Int32Array.of(3, 11), opts(0), null);
    const full = referenceForward(cfg, w, t);
    for (const [i, p] of [3, 11].entries()) expect(refresh.token[i]).toBe(decideRef(full.subarray(p * V, (p + 1) * V), { ...opts(0), position: p, current: t[p], maskToken: MASK }).token);
    const u = t.slice();
    u[13] = 4;
    const want = referenceDualLogits(cfg, w, t, u, 12, 20);
    for (const temperature of [0, 0.8]) {
      const positions = [15, 12, 13];
      const d = await model.decideDual!(u, Int32Array.from(positions), opts(temperature), [12, 20]);
      positions.forEach((p, i) => {
        const r = decideRef(want.subarray((p - 12) * V, (p - 11) * V), { ...opts(temperature), position: p, current: u[p], maskToken: MASK });
        expect(d.token[i], `position ${p}`).toBe(r.token);
        expect(d.prob[i]).toBeCloseTo(r.prob, 4);
        expect(d.currentProb[i]).toBeCloseTo(r.currentProb, 4);
      });
    }
    const v = u.slice();
    v[2] = (v[2] + 1) % 50;
    await expect(model.decideDual!(v, Int32Array.of(12), opts(0), [12, 20])).rejects.toThrow(/refresh first/);
    // a refused step leaves the cache as it was: the window still answers
    await expect(model.decideDual!(u, Int32Array.of(25), opts(0), [12, 20])).rejects.toThrow(/outside the window/);
    expect(relError(await model.dualLogits!(u, [12, 20]), want)).toBeLessThan(2e-4);
    // any whole forward (decide) is a refresh too
    await model.decide(v, Int32Array.of(0), opts(0));
    const after = await model.dualLogits!(v, [12, 20]);
    expect(relError(after, referenceForward(cfg, w, v).slice(12 * V, 20 * V))).toBeLessThan(2e-4);
  });
});

describe('block-causal models', () => {
  it('have no decideDual (their cache is exact: decideBlock)', async () => {
    const bc = await randomModelFiles({ ...SPEC, blockSize: 4, tie: true }, 34);
    const m = (await loadCpuModel(bc, undefined, { threads: 1 })) as DiffusionModel;
    open.push(m);
    expect(m.decideBlock).toBeTypeOf('function');
    expect(m.decideDual).toBeUndefined();
  });
});
