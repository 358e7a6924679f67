// Block-causal cached steps (blockstep.ts, types.ts BlockStep) on both engines, against the
// float64 reference (reference.ts referenceBlockLogits):
//   - the planner: which rows are reused and which forwards run
//   - uncached block logits = reference, for a generation layout and a suffix-first infill layout
//   - a run of cached steps (context growing, block changing, a rewind) = uncached = reference
//   - decideBlock = decideRef on the reference logits; malformed steps are refused
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockCache } from './blockstep';
import { CPU_ROW_COST } from './cpu/models';
import type { ModelFiles } from './load';
import { decideRef, referenceBlockLogits, relError, type RefWeights } from './reference';
import { parseSafetensors } from './safetensors';
import { diffusionEngines, randomModelFiles, rng, tinyConfig, type TinySpec } from './testkit';
import type { BlockStep, DiffusionModel } from './types';
import { referenceWeights } from './weights';

const SPEC: TinySpec = { kind: 'diffusion', vocab: 59, dim: 32, heads: 4, ffn: 40, layers: 2, maxSeq: 48, tie: true, dtype: 'F16', blockSize: 4 };
const cfg = tinyConfig(SPEC);
const MASK = SPEC.vocab - 1;

function step(context: number[], contextPositions: number[], block: number[], blockPos0: number, offsets: number[] = []): BlockStep {
  return { context: Int32Array.from(context), contextPositions: Int32Array.from(contextPositions), block: Int32Array.from(block), blockPos0, offsets: Int32Array.from(offsets) };
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
function tokens(n: number, seed: number, maskShare = 0): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() < maskShare ? MASK : Math.floor(r(0, SPEC.vocab - 3))));
}

describe('BlockCache.plan', () => {
  it('reuses the common prefix, recomputes the last context row for offset 0, splits runs of positions', () => {
    const c = new BlockCache(48);
    const ctx = tokens(10, 1);
    let p = c.plan(step(ctx, range(0, 10), [MASK, MASK, MASK, MASK], 10, [0, 1]), 59);
    expect(p.reuse).toBe(0);
    expect(p.forwards.map((f) => [f.slot0, f.ropePos0, f.nCausal, f.tokens.length])).toEqual([[0, 0, 10, 14]]);
    expect(Array.from(p.headRows)).toEqual([9, 10]);
    c.commit(step(ctx, range(0, 10), [MASK], 10));
    // same context, offset 0 not asked: only the block runs
    p = c.plan(step(ctx, range(0, 10), [5, MASK, MASK, MASK], 10, [1, 2]), 59);
    expect(p.reuse).toBe(10);
    expect(p.forwards.map((f) => [f.slot0, f.ropePos0, f.nCausal, f.tokens.length])).toEqual([[10, 10, 0, 4]]);
    expect(Array.from(p.headRows)).toEqual([0, 1]);
    // context grew by the committed block: 4 clean rows + the next block
    const grown = [...ctx, 5, 6, 7, 8];
    p = c.plan(step(grown, range(0, 14), [MASK, MASK, MASK, MASK], 14, [0]), 59);
    expect(p.reuse).toBe(10);
    expect(p.forwards.map((f) => [f.slot0, f.ropePos0, f.nCausal, f.tokens.length])).toEqual([[10, 10, 4, 8]]);
    expect(Array.from(p.headRows)).toEqual([3]);
    // suffix first (positions 20..23), then the prefix 0..5: two runs, the block rides on the second
    p = c.plan(step([...tokens(4, 2), ...tokens(6, 3)], [...range(20, 24), ...range(0, 6)], [MASK, MASK], 6, [0, 1]), 59);
    expect(p.reuse).toBe(0);
    expect(p.forwards.map((f) => [f.slot0, f.ropePos0, f.nCausal, f.tokens.length])).toEqual([[0, 20, 4, 4], [4, 0, 6, 8]]);
    // context rows (the AR head on drafted tokens): recomputed, and answered first
    c.commit(step(grown, range(0, 14), [MASK], 14));
    p = c.plan({ ...step(grown, range(0, 14), [MASK, MASK, MASK], 14, [1, 2]), contextRows: Int32Array.of(11, 12, 13) }, 59);
    expect(p.reuse).toBe(11);
    expect(p.forwards.map((f) => [f.slot0, f.ropePos0, f.nCausal, f.tokens.length])).toEqual([[11, 11, 3, 6]]);
    expect(Array.from(p.headRows)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(p.positions)).toEqual([12, 13, 14, 15, 16]);
    expect(Array.from(p.current.slice(0, 3))).toEqual([grown[12], grown[13], MASK]);
    expect(() => c.plan({ ...step(grown, range(0, 14), [MASK], 14, []), contextRows: Int32Array.of(14) }, 59)).toThrow(/context row 14/);
    expect(() => c.plan(step([], [], [MASK], 0, [0]), 59)).toThrow(/at least one token/);
    expect(() => c.plan(step([1, 2], [0, 1], [MASK], 5, [0]), 59)).toThrow(/last context position/);
    expect(() => c.plan(step([1, 2], [0, 1], [MASK], 2, [1]), 59)).toThrow(/outside the block/);
    expect(() => c.plan(step(tokens(46, 4), range(0, 46), [MASK, MASK, MASK], 46, [0]), 59)).toThrow(/max_seq_len/);
    expect(() => c.plan(step([1, 99], [0, 1], [MASK], 2, [0]), 59)).toThrow(/vocabulary/);
  });
});

let files: ModelFiles;
let w: RefWeights;
const open: DiffusionModel[] = [];
beforeAll(async () => {
  files = await randomModelFiles(SPEC, 21);
  w = referenceWeights(parseSafetensors(files['model.safetensors'] as Uint8Array));
});
afterAll(() => open.forEach((m) => m.dispose()));

const engines = diffusionEngines(() => files);

function ref(s: BlockStep): Float64Array {
  return referenceBlockLogits(cfg, w, s.context, s.contextPositions, s.block, s.blockPos0);
}

describe.each(engines)('block-causal steps on the %s engine', (_, make) => {
  let model: DiffusionModel;
  beforeAll(async () => {
    model = await make();
    open.push(model);
  }, 60_000);

  it('reports what a row costs where the engine knows it: the CPU engine, the same at every load', async () => {
    if (_ === 'cpu') expect(model.rowCost).toBe(CPU_ROW_COST);
    else expect(model.rowCost).toBeUndefined(); // a GPU: rows taken as free
    expect(CPU_ROW_COST).toBeGreaterThan(0);
    expect(CPU_ROW_COST).toBeLessThan(1);
  });

  it('refuses the full-canvas calls and malformed steps', async () => {
    expect(model.decideBlock).toBeTypeOf('function');
    await expect(model.decide(Int32Array.from([1, 2]), Int32Array.from([0]), { temperature: 0, seed: 0, step: 0 })).rejects.toThrow(/decideBlock/);
    await expect(model.decideBlock!(step([1, 2], [0, 1], [MASK], 7, [0]), { temperature: 0, seed: 0, step: 0 })).rejects.toThrow(/last context position/);
  });

  it('uncached block logits = float64 reference: generation and suffix-first infill layouts', async () => {
    const gen = step(tokens(13, 5), range(0, 13), tokens(6, 6, 0.5), 13);
    expect(relError(await model.blockLogits!(gen, true), ref(gen))).toBeLessThan(2e-4);
    // infill: suffix (positions 30..38) first, prefix 0..11, hole block at 12
    const fim = step([...tokens(9, 7), ...tokens(12, 8)], [...range(30, 39), ...range(0, 12)], tokens(8, 9, 0.7), 12);
    expect(relError(await model.blockLogits!(fim, true), ref(fim))).toBeLessThan(2e-4);
  });

  it('cached steps = uncached = reference, through growth, block changes and a rewind', async () => {
    const base = tokens(9, 10);
    const blocks = [tokens(4, 11, 1), tokens(4, 12, 0.5), tokens(4, 13, 0)];
    const steps: BlockStep[] = [
      step(base, range(0, 9), blocks[0], 9),
      step(base, range(0, 9), blocks[1], 9),
      step([...base, ...blocks[2]], range(0, 13), tokens(4, 14, 1), 13),          // grown by a block
      step([...base, ...blocks[2], 3, 4, 5, 6], range(0, 17), tokens(4, 15, 0.5), 17),
      step([...base.slice(0, 5), 1, 2], range(0, 7), tokens(5, 16, 0.6), 7),    // rewound (new prompt)
    ];
    for (const [i, s] of steps.entries()) {
      const cached = await model.blockLogits!(s, false);
      const want = ref(s);
      expect(relError(cached, want), `step ${i} cached`).toBeLessThan(2e-4);
      const uncached = await model.blockLogits!(s, true);
      expect(relError(cached, uncached), `step ${i} cached vs uncached`).toBeLessThan(1e-5);
    }
  });

  it('decideBlock = decideRef on the reference logits (greedy and sampled), cache reused', async () => {
    const V = SPEC.vocab;
    const s0 = step(tokens(11, 17), range(0, 11), [MASK, 7, MASK, MASK, 9], 11, [0, 2, 3, 1, 4]);
    const want = ref(s0);
    for (const temperature of [0, 0.8]) {
      const d = await model.decideBlock!(s0, { temperature, seed: 5, step: 2 });
      Array.from(s0.offsets).forEach((o, i) => {
        const r = decideRef(want.subarray(o * V, (o + 1) * V), { temperature, seed: 5, step: 2, position: 11 + o, current: s0.block[o], maskToken: MASK });
        expect(d.token[i], `offset ${o}`).toBe(r.token);
        expect(d.prob[i]).toBeCloseTo(r.prob, 4);
        expect(d.currentProb[i]).toBeCloseTo(r.currentProb, 4);
      });
    }
    const d = await model.decideBlock!({ ...s0, offsets: new Int32Array(0) }, { temperature: 0, seed: 0, step: 0 });
    expect(d.token.length).toBe(0);
  });

  it('context rows answer with the AR head (= a block step that ends the context there)', async () => {
    const V = SPEC.vocab;
    const ctx = tokens(15, 18);
    const s = { ...step(ctx, range(0, 15), [MASK, MASK, MASK], 15, [0, 2]), contextRows: Int32Array.of(12, 13, 14) };
    const d = await model.decideBlock!(s, { temperature: 0, seed: 3, step: 1 });
    expect(d.token.length).toBe(5);
    for (const [i, r] of [12, 13, 14].entries()) {
      const want = referenceBlockLogits(cfg, w, ctx.slice(0, r + 1), range(0, r + 1), [MASK], r + 1).subarray(0, V);
      const ref = decideRef(want, { temperature: 0, seed: 3, step: 1, position: r + 1, current: r + 1 < 15 ? ctx[r + 1] : MASK, maskToken: MASK });
      expect(d.token[i], `row ${r}`).toBe(ref.token);
      expect(d.currentProb[i]).toBeCloseTo(ref.currentProb, 4);
    }
    // offset 0 is the same prediction as the last context row
    expect(d.token[3]).toBe(d.token[2]);
  });

  it('an empty block: only the context rows are decided (the AR head after drafts); the next step still matches the reference', async () => {
    const V = SPEC.vocab;
    const ctx = tokens(16, 19);
    for (const rows of [[15], [12, 13, 14, 15]]) {
      const d = await model.decideBlock!({ ...step(ctx, range(0, 16), [], 16, []), contextRows: Int32Array.from(rows) }, { temperature: 0, seed: 3, step: 1 });
      expect(d.token.length).toBe(rows.length);
      for (const [i, r] of rows.entries()) {
        const want = referenceBlockLogits(cfg, w, ctx.slice(0, r + 1), range(0, r + 1), [MASK], r + 1).subarray(0, V);
        const ref = decideRef(want, { temperature: 0, seed: 3, step: 1, position: r + 1, current: r + 1 < 16 ? ctx[r + 1] : 0, maskToken: MASK });
        expect(d.token[i], `row ${r}`).toBe(ref.token);
        expect(d.prob[i]).toBeCloseTo(ref.prob, 4);
      }
    }
    // the cache now holds the 16 rows: a block step after them reuses them and is still exact
    const next = step([...ctx, 4], range(0, 17), [MASK, MASK], 17, [0, 1]);
    expect(relError(await model.blockLogits!(next, false), ref(next))).toBeLessThan(2e-4);
    // an empty block with nothing to decide is refused
    expect(() => new BlockCache(48).plan(step(ctx, range(0, 16), [], 16, []), V)).toThrow(/empty block needs context rows/);
  });
});
