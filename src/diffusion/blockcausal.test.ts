// The sampler with a block-causal model (config.attention "block_causal"): a random tiny model on
// the CPU engine, whose decideBlock reuses the KV cache, against the same model wrapped so that
// every step is computed from scratch (blockLogits uncached + decideRef). Cached decoding must give
// the same tokens, step by step, for generation and for suffix-first infill, with revision on.
// And the commit rule: 'leftToRight' commits only runs from the block's first mask.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCpuModel } from '../engine/cpu';
import { decisionsRef } from '../engine/reference';
import { randomModelFiles, type TinySpec } from '../engine/testkit';
import type { BlockStep, DecideOptions, Decisions, DiffusionModel } from '../engine/types';
import { applyStep } from './request';
import { generate, infill, lookupDraft } from './sampler';
import type { SamplerKnobs, StepEvent } from './types';

const SPEC: TinySpec = { kind: 'diffusion', vocab: 61, dim: 32, heads: 4, ffn: 40, layers: 2, maxSeq: 64, tie: true, dtype: 'F16', blockSize: 4 };
const MASK = SPEC.vocab - 1;

let model: DiffusionModel;
beforeAll(async () => {
  model = (await loadCpuModel(await randomModelFiles(SPEC, 33), undefined, { threads: 1 })) as DiffusionModel;
});
afterAll(() => model.dispose());

/** The same model, every step from an empty cache (the uncached definition of a block step). */
function uncached(m: DiffusionModel): DiffusionModel & { steps: BlockStep[] } {
  const steps: BlockStep[] = [];
  return {
    config: m.config,
    rowCost: m.rowCost,
    steps,
    decide: () => Promise.reject(new Error('block-causal')),
    logits: () => Promise.reject(new Error('block-causal')),
    dispose: () => {},
    async decideBlock(step: BlockStep, opts: DecideOptions): Promise<Decisions> {
      steps.push(step);
      const V = m.config.vocab_size;
      const logits = step.block.length > 0 ? await m.blockLogits!(step, true) : new Float32Array(0);
      // context rows (the AR head): the block step that ends the context at that row
      const rows: { logits: Float32Array; position: number; current: number }[] = [];
      for (const r of step.contextRows ?? []) {
        const pos = step.contextPositions[r] + 1;
        const l = await m.blockLogits!({ ...step, context: step.context.slice(0, r + 1), contextPositions: step.contextPositions.slice(0, r + 1), block: Int32Array.of(MASK), blockPos0: pos, contextRows: undefined }, true);
        rows.push({ logits: l.subarray(0, V), position: pos, current: r + 1 < step.context.length ? step.context[r + 1] : (step.block[0] ?? 0) });
      }
      for (const o of step.offsets) rows.push({ logits: logits.subarray(o * V, (o + 1) * V), position: step.blockPos0 + o, current: step.block[o] });
      return decisionsRef(rows, opts, MASK);
    },
  };
}

const prompt = [5, 9, 13, 2, 40, 7, 7, 21];
const suffix = [30, 31, 32, 3, 4];

describe('sampler with a block-causal model', () => {
  const cases: [string, Omit<SamplerKnobs, 'genLength'>][] = [
    ['threshold, verify (the block-causal default)', { schedule: { kind: 'threshold', tau: 0.05 } }],
    ['threshold, leftToRight', { schedule: { kind: 'threshold', tau: 0.05 }, commitOrder: 'leftToRight' }],
    ['fixed steps, by confidence, revision', { schedule: { kind: 'fixed', steps: 12 }, commitOrder: 'confidence', revision: { rho: 0.5, maxPerStep: 2 } }],
    ['sampled, blocks of 8', { schedule: { kind: 'threshold', tau: 0.1 }, temperature: 0.9, seed: 7, blockLength: 8 }],
  ];
  for (const [name, knobs] of cases) {
    it(`cached = uncached, generate and infill: ${name}`, async () => {
      for (const run of [
        (m: DiffusionModel) => generate(m, { prompt, genLength: 20, ...knobs }),
        (m: DiffusionModel) => infill(m, { prefix: prompt, suffix, genLength: 12, ...knobs }),
      ]) {
        const ref = uncached(model);
        const want = await run(ref);
        const got = await run(model);
        expect(got.tokens).toEqual(want.tokens);
        expect(got.stats.steps).toBe(want.stats.steps);
        expect(ref.steps.length).toBeGreaterThan(0);
      }
    });
  }

  it('infill puts the suffix first in the context, at its true positions', async () => {
    const ref = uncached(model);
    await infill(ref, { prefix: prompt, suffix, genLength: 12, schedule: { kind: 'threshold', tau: 0.5 }, commitOrder: 'leftToRight' });
    const first = ref.steps[0];
    expect(Array.from(first.contextPositions)).toEqual([20, 21, 22, 23, 24, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(first.context)).toEqual([...suffix, ...prompt]);
    expect(first.blockPos0).toBe(prompt.length);
    expect(first.block.length).toBe(4); // the model's block_size
  });

  it("leftToRight commits only a run from the block's first mask; confidence order may skip", async () => {
    const runs = async (commitOrder: 'leftToRight' | 'confidence') => {
      const events: StepEvent[] = [];
      await generate(model, { prompt, genLength: 16, schedule: { kind: 'fixed', tokensPerStep: 2 }, commitOrder, endsInOrder: false }, { onStep: (e) => events.push(e) });
      return events;
    };
    const start = prompt.length;
    let masks = new Set(Array.from({ length: 16 }, (_, i) => start + i));
    for (const e of await runs('leftToRight')) {
      const committed = e.changes.filter((c) => c.state === 'committed').map((c) => c.position).sort((a, b) => a - b);
      const firstMask = Math.min(...masks);
      expect(committed[0]).toBe(firstMask);
      committed.forEach((p, i) => expect(p).toBe(firstMask + i));
      committed.forEach((p) => masks.delete(p));
      for (const c of e.changes) if (c.state === 'committed' && c.token === SPEC.vocab - 2) masks = new Set([...masks].filter((p) => p < c.position));
    }
    // by confidence, some step commits a position that is not the first mask (random weights)
    masks = new Set(Array.from({ length: 16 }, (_, i) => start + i));
    let outOfOrder = false;
    for (const e of await runs('confidence')) {
      const committed = e.changes.filter((c) => c.state === 'committed').map((c) => c.position);
      if (committed.length && !committed.includes(Math.min(...masks))) outOfOrder = true;
      committed.forEach((p) => masks.delete(p));
    }
    expect(outOfOrder).toBe(true);
  });

  it('refuses a span with nothing before it', async () => {
    await expect(infill(model, { prefix: [], suffix, genLength: 4 })).rejects.toThrow(/at least one token before the span/);
  });
});

/**
 * A fake block-causal model: every decided row (context rows and block offsets) answers
 * tokenAt(its position) with the same prob / margin / entropy; its steps are kept in `calls`.
 */
function fakeBlockModel(tokenAt: (p: number) => number, d: { prob: number; margin: number; entropy: number }): { fake: DiffusionModel; calls: BlockStep[] } {
  const calls: BlockStep[] = [];
  const fake: DiffusionModel = {
    config: { ...model.config },
    decide: () => Promise.reject(new Error('no')),
    logits: () => Promise.reject(new Error('no')),
    dispose: () => {},
    async decideBlock(step) {
      calls.push(step);
      const rows = Array.from(step.contextRows ?? []);
      const pos = [...rows.map((r) => step.contextPositions[r] + 1), ...Array.from(step.offsets, (o) => step.blockPos0 + o)];
      const n = pos.length;
      return { token: Int32Array.from(pos, tokenAt), prob: new Float32Array(n).fill(d.prob), margin: new Float32Array(n).fill(d.margin), entropy: new Float32Array(n).fill(d.entropy), currentProb: new Float32Array(n) };
    },
  };
  return { fake, calls };
}

describe("commitOrder 'verify' (self-speculative)", () => {
  /** Greedy decoding of the AR head alone: one block step per token, offset 0 only. */
  async function arHeadGreedy(m: DiffusionModel, prompt: number[], n: number): Promise<number[]> {
    const text = [...prompt];
    const { pad, eos } = m.config.special_tokens;
    for (let i = 0; i < n; i++) {
      const d = await m.decideBlock!({ context: Int32Array.from(text), contextPositions: Int32Array.from(text, (_, j) => j), block: Int32Array.of(MASK), blockPos0: text.length, offsets: Int32Array.of(0) }, { temperature: 0, seed: 0, step: i });
      text.push(d.token[0]);
      if (d.token[0] === pad || d.token[0] === eos) break;
    }
    return text.slice(prompt.length);
  }

  it('gives exactly the AR head\'s greedy tokens, cached or not, for any draft threshold', async () => {
    const want = await arHeadGreedy(model, prompt, 24);
    for (const [tau, draftLength] of [[0.01, 'adaptive'], [0.3, 'adaptive'], [1, 'adaptive'], [0.01, 'block']] as const) {
      for (const m of [model, uncached(model)]) {
        const r = await generate(m, { prompt, genLength: 24, commitOrder: 'verify', draftLength, lookup: 0, schedule: { kind: 'threshold', tau } });
        const end = want.findIndex((t) => t === SPEC.vocab - 2 || t === SPEC.vocab - 3);
        expect(r.generated).toEqual(end < 0 ? want : want.slice(0, end));
        expect(r.stats.forwards).toBeLessThanOrEqual(24);
      }
    }
  });

  it('commits a block of drafts per forward when the AR head agrees with them', async () => {
    // a fake block-causal model whose drafts always match its AR head: token(p) = (7p) mod 50
    const tokenAt = (p: number) => (7 * p) % 50;
    const { fake, calls } = fakeBlockModel(tokenAt, { prob: 0.95, margin: 0.9, entropy: 0.1 });
    const r = await generate(fake, { prompt: [1, 2, 3], genLength: 33, commitOrder: 'verify', blockLength: 8, lookup: 0, schedule: { kind: 'threshold', tau: 0.9 } });
    expect(r.generated).toEqual(Array.from({ length: 33 }, (_, i) => tokenAt(3 + i)));
    // step 1: 1 token + 7 drafts; then 8 per step (7 drafts + the AR token)
    expect(r.stats.forwards).toBe(5);
    expect(calls[1].contextRows!.length).toBe(8);
    expect(calls.map((c) => c.block.length)).toEqual([8, 8, 8, 8, 1]);   // the last: 1 position after the drafts
    // drafts below tau are not drafted: one token per step, and (adaptive) 2 mask rows after the first
    calls.length = 0;
    const slow = await generate(fake, { prompt: [1, 2, 3], genLength: 10, commitOrder: 'verify', blockLength: 8, lookup: 0, schedule: { kind: 'threshold', tau: 0.99 } });
    expect(slow.stats.forwards).toBe(10);
    expect(slow.generated).toEqual(Array.from({ length: 10 }, (_, i) => tokenAt(3 + i)));
    // (adaptive) mask rows that drafted nothing are left out for 1, then 3, then 7 steps; 2 rows
    // probe in between: the AR head's row alone decides those steps
    expect(calls.map((c) => c.block.length)).toEqual([8, 0, 2, 0, 0, 0, 2, 0, 0, 0]);
    calls.length = 0;
    await generate(fake, { prompt: [1, 2, 3], genLength: 10, commitOrder: 'verify', draftLength: 'block', blockLength: 8, lookup: 0, schedule: { kind: 'threshold', tau: 0.99 } });
    expect(calls.slice(0, 3).map((c) => c.block.length)).toEqual([8, 8, 8]);
    // entropyBound: the drafts are the run whose summed entropy less its largest is <= gamma
    // (entropy 0.1 each: 3 drafts under 0.25, all 7 under 10); the text is the AR head's either way
    for (const [gamma, drafts] of [[0.25, 3], [10, 7]] as const) {
      calls.length = 0;
      const eb = await generate(fake, { prompt: [1, 2, 3], genLength: 17, commitOrder: 'verify', blockLength: 8, lookup: 0, draftLength: 'block', schedule: { kind: 'entropyBound', gamma } });
      expect(eb.generated).toEqual(Array.from({ length: 17 }, (_, i) => tokenAt(3 + i)));
      expect(calls[1].contextRows!.length, `gamma ${gamma}`).toBe(drafts + 1);
    }
  });

  it('with drafts copied from the text (lookup), still exactly the AR head\'s greedy tokens, in fewer forwards when the text repeats', async () => {
    // prompts that repeat themselves, and one that does not; a random model's greedy text loops too
    const prompts = [[5, 9, 11, 5, 9, 11, 5, 9], [3, 4, 5, 6, 7, 8, 9, 10], [12, 13, 12, 13, 12]];
    let saved = 0;
    let emptyBlocks = 0;
    for (const p of prompts) {
      const want = await arHeadGreedy(model, p, 32);
      const end = want.findIndex((t) => t === SPEC.vocab - 2 || t === SPEC.vocab - 3);
      const off = await generate(model, { prompt: p, genLength: 32, commitOrder: 'verify', lookup: 0, schedule: { kind: 'threshold', tau: 0.3 } });
      for (const [lookup, m] of [[16, model], [3, model], [16, uncached(model)]] as const) {
        const r = await generate(m, { prompt: p, genLength: 32, commitOrder: 'verify', lookup, schedule: { kind: 'threshold', tau: 0.3 } });
        expect(r.generated).toEqual(end < 0 ? want : want.slice(0, end));
        expect(r.stats.drafts!.fromBlock + r.stats.drafts!.fromLookup).toBe(r.generated.length + (r.finishReason === 'eos' ? 1 : 0) - r.stats.forwards);
        if (lookup === 16 && m === model) saved += off.stats.forwards - r.stats.forwards;
        if ('steps' in m) emptyBlocks += m.steps.filter((s: BlockStep) => s.block.length === 0).length;
      }
    }
    expect(saved).toBeGreaterThan(0);
    expect(emptyBlocks).toBeGreaterThan(0); // steps with no mask rows (the block drafted nothing) were checked too
  });

  it('lookup: a periodic text is copied 8, then 16 tokens at a time when the block is never sure', async () => {
    // a fake whose AR head continues the period-5 pattern and whose block rows are unsure (prob 0.5)
    const tokenAt = (p: number) => 20 + (p % 5);
    const { fake, calls } = fakeBlockModel(tokenAt, { prob: 0.5, margin: 0.1, entropy: 1 });
    const prompt = Array.from({ length: 7 }, (_, p) => tokenAt(p));
    const want = Array.from({ length: 40 }, (_, i) => tokenAt(7 + i));
    const r = await generate(fake, { prompt, genLength: 40, commitOrder: 'verify', blockLength: 8, schedule: { kind: 'threshold', tau: 0.9 } });
    expect(r.generated).toEqual(want);
    // each step: the drafts copied (after [20 21], going on with its own copy) + the AR token;
    // 8 at first, 16 once a copy was kept whole, then the 13 left before the span's last token
    expect(calls.map((c) => c.contextRows!.length)).toEqual([9, 17, 14]);
    expect(r.stats.forwards).toBe(3);
    expect(r.stats.drafts).toEqual({ fromBlock: 0, fromLookup: 37 });
    const off = await generate(fake, { prompt, genLength: 40, commitOrder: 'verify', blockLength: 8, lookup: 0, schedule: { kind: 'threshold', tau: 0.9 } });
    expect(off.generated).toEqual(want);
    expect(off.stats.forwards).toBe(40);
  });

  it('rowCost: drafts only as far as they pay; no mask rows at all once a row costs half a step', async () => {
    const drafted = (calls: BlockStep[]) => calls.reduce((n, c) => n + c.contextRows!.length - 1, 0);
    // drafts always right, no repeats to copy: the block's drafts are all there is
    const tokenAt = (p: number) => (7 * p) % 50;
    const { fake, calls } = fakeBlockModel(tokenAt, { prob: 0.95, margin: 0.9, entropy: 0.1 });
    const want = Array.from({ length: 33 }, (_, i) => tokenAt(3 + i));
    const run = (rowCost: number) => generate(fake, { prompt: [1, 2, 3], genLength: 33, commitOrder: 'verify', blockLength: 8, rowCost, schedule: { kind: 'threshold', tau: 0.9 } });
    const free = await run(0);
    const cheap = await run(0.2);
    expect(cheap.generated).toEqual(want);
    calls.length = 0;
    const dear = await run(0.6);
    expect(dear.generated).toEqual(want);
    expect(calls.every((c) => c.block.length === 0)).toBe(true); // a block draft costs 2r = 1.2 steps
    expect(dear.stats.forwards).toBe(33);
    // r = 0.2: a block draft (0.4) pays while 2 of 3 are kept, 2 drafts at first, more as they hold
    expect(cheap.stats.forwards).toBeGreaterThan(free.stats.forwards);
    expect(cheap.stats.forwards).toBeLessThan(20);
    // copies that are always wrong ("1 2 x" with a new x each time): tried once, then no more
    const wrong = (p: number) => (p % 3 === 2 ? 10 + Math.floor(p / 3) : 1 + (p % 3));
    const w = fakeBlockModel(wrong, { prob: 0.5, margin: 0.1, entropy: 1 });
    const prompt = Array.from({ length: 6 }, (_, p) => wrong(p));
    const wantW = Array.from({ length: 30 }, (_, i) => wrong(6 + i));
    const copies = async (rowCost: number) => {
      w.calls.length = 0;
      const r = await generate(w.fake, { prompt, genLength: 30, commitOrder: 'verify', blockLength: 8, rowCost, lookupMatch: 2, schedule: { kind: 'threshold', tau: 0.9 } });
      expect(r.generated).toEqual(wantW);
      expect(r.stats.drafts!.fromLookup).toBe(0);
      return drafted(w.calls);
    };
    expect(await copies(0)).toBeGreaterThan(15); // every "1 2" copies: 8 tokens, then 2 each time
    expect(await copies(0.6)).toBe(1); // one copy of 1 token (2 of 3 > 0.6), rejected: 2 of 4 < 0.6
    // a copy that holds grows: period 5, 1 token first, then longer
    const per = (p: number) => 20 + (p % 5);
    const f = fakeBlockModel(per, { prob: 0.5, margin: 0.1, entropy: 1 });
    const r = await generate(f.fake, { prompt: Array.from({ length: 7 }, (_, p) => per(p)), genLength: 40, commitOrder: 'verify', blockLength: 8, rowCost: 0.6, schedule: { kind: 'threshold', tau: 0.9 } });
    expect(r.generated).toEqual(Array.from({ length: 40 }, (_, i) => per(7 + i)));
    const k = f.calls.map((c) => c.contextRows!.length - 1);
    expect(k[0]).toBe(1);
    expect(Math.max(...k)).toBeGreaterThan(4);
    expect(r.stats.forwards).toBeLessThan(20);
  });

  it('lookupMatch 1: copies after the last token alone when no 2 tokens match; the same text in fewer forwards', async () => {
    // "x 21 22 23" with a new x each time: after "x 21" only [21] was seen before, and what
    // followed it (22 23) holds; the block's rows are unsure, so copies are the only drafts
    const tokenAt = (p: number) => (p % 4 === 0 ? 24 + p / 4 : 20 + (p % 4));
    const { fake, calls } = fakeBlockModel(tokenAt, { prob: 0.5, margin: 0.1, entropy: 1 });
    const prompt = Array.from({ length: 8 }, (_, p) => tokenAt(p));
    const want = Array.from({ length: 32 }, (_, i) => tokenAt(8 + i));
    const run = async (lookupMatch: number, rowCost = 0) => {
      calls.length = 0;
      const r = await generate(fake, { prompt, genLength: 32, commitOrder: 'verify', blockLength: 8, rowCost, lookupMatch, schedule: { kind: 'threshold', tau: 0.9 } });
      expect(r.generated).toEqual(want);
      expect(r.stats.drafts!.fromLookup).toBe(r.generated.length - r.stats.forwards);
      return r;
    };
    const one = await run(1);
    // each period of 4: "21" alone (nothing matches after a new x), then after [x 21] the copy of
    // what followed [21] ("22 23 x_old") keeps 22 23 and the AR head adds the new x: 2 steps
    expect(one.stats.forwards).toBeLessThanOrEqual(17);
    const two = await run(2);
    // 2-token matches only: "21", then "22" (nothing after [x 21]), then "23 x" (after [21 22]): 3 steps
    expect(two.stats.forwards).toBeGreaterThanOrEqual(24);
    // where a row costs 0.45 steps, copies after one token (from 2 of 5 kept) are never tried;
    // at 0.3 they are, and pay here
    const rows = async (lookupMatch: number, rowCost: number) => {
      const r = await run(lookupMatch, rowCost);
      return [r.stats.forwards, calls.map((c) => c.contextRows!.length)];
    };
    expect(await rows(1, 0.45)).toEqual(await rows(2, 0.45));
    expect((await run(1, 0.3)).stats.forwards).toBeLessThan((await run(2, 0.3)).stats.forwards);
    await expect(generate(fake, { prompt, genLength: 4, commitOrder: 'verify', lookupMatch: 0 })).rejects.toThrow(/lookupMatch/);
  });

  it('stops where hooks.stop says the text is over, with the same tokens before it and no forward after', async () => {
    for (const lookup of [0, 16]) {
      const req = { prompt, genLength: 32, commitOrder: 'verify', lookup, schedule: { kind: 'threshold', tau: 0.3 } } as const;
      const full = await generate(model, req);
      // (this random model's greedy text is one token over and over) the text is over at 7 tokens
      const cut = 6;
      const decode = (ids: number[]) => 'x'.repeat(ids.length);
      const events: StepEvent[] = [];
      let start: number[] = [];
      const r = await generate(model, req, { decode, stop: (text) => text.length > cut, onStart: (l) => (start = l.tokens), onStep: (e) => events.push(e) });
      expect(r.generated).toEqual(full.generated.slice(0, r.generated.length));
      expect(r.generated.length).toBeGreaterThan(cut); // the token that ended it is kept (drafts after it may be too)
      expect(r.generated.length).toBeLessThanOrEqual(cut + 1 + 16);
      expect(r.finishReason).toBe('stop');
      expect(r.stats.forwards).toBeLessThan(full.stats.forwards);
      expect(r.tokens.slice(prompt.length + r.generated.length)).toEqual(new Array(32 - r.generated.length).fill(SPEC.vocab - 2));
      expect(events.reduce(applyStep, start)).toEqual(r.tokens);
    }
  });

  it('refuses candidates > 1 with a stop: they rank whole fills', async () => {
    const req = { prefix: prompt, suffix: [3, 4, 5], genLength: 8, candidates: 4 };
    await expect(infill(model, req, { decode: (ids) => ids.join(' '), stop: () => false })).rejects.toThrow(/cannot be combined with stopAt/);
    await expect(infill(model, req, { decode: (ids) => ids.join(' ') })).resolves.toBeDefined();
  });

  it('refuses models that are not block-causal', async () => {
    const { FakeDiffusionModel } = await import('./fakes');
    await expect(generate(new FakeDiffusionModel(), { prompt: [1], genLength: 4, commitOrder: 'verify' })).rejects.toThrow(/block-causal/);
  });
});

describe('lookupDraft (prompt lookup)', () => {
  const c = (a: number[]) => Int32Array.from(a);
  it('copies what followed the latest earlier match of the last 3 tokens, else 2, else 1 (minMatch), up to max', () => {
    //            0  1  2  3  4  5  6  7  8  9 10 11
    const text = [1, 2, 3, 9, 7, 2, 3, 8, 4, 1, 2, 3];
    expect(lookupDraft(c(text), 12, [], 9)).toEqual([9, 7, 2, 3, 8, 4, 1, 2, 3]); // [1 2 3] at 0
    expect(lookupDraft(c(text), 12, [], 11)).toEqual([9, 7, 2, 3, 8, 4, 1, 2, 3, 9, 7]); // on with its own copy
    expect(lookupDraft(c(text), 12, [], 2)).toEqual([9, 7]);
    expect(lookupDraft(c([5, 2, 3, 8, 4, 1, 2, 3]), 8, [], 4)).toEqual([8, 4, 1, 2]); // [2 3] at 1 (no [1 2 3] before)
    expect(lookupDraft(c([3, 6, 4, 3, 5, 4]), 6, [], 3)).toEqual([3, 5, 4]); // only [4] matches, at 2
    expect(lookupDraft(c([3, 6, 4, 3, 5, 4]), 6, [], 3, 2)).toEqual([]); // minMatch 2: no match
    expect(lookupDraft(c([5, 2, 3, 8, 4, 1, 2, 3]), 8, [], 4, 3)).toEqual([]); // minMatch 3: no [1 2 3] before
    expect(lookupDraft(c([3, 4, 6, 3, 4, 5, 3, 4]), 8, [], 3)).toEqual([5, 3, 4]); // [3 4]: the latest match, at 3
    expect(lookupDraft(c([1, 2, 3, 4]), 4, [], 8)).toEqual([]);
    expect(lookupDraft(c([7, 1, 7]), 3, [], 4)).toEqual([1, 7, 1, 7]); // [7] at 0, on with its own copy
    expect(lookupDraft(c(text), 12, [], 0)).toEqual([]);
    // only canvas[0, c) counts: what is after c (masks, the span) is not text
    expect(lookupDraft(c([1, 2, 1, 2, 9, 9]), 4, [], 3)).toEqual([1, 2, 1]);
  });
  it('looks in the suffix (infill) when the text before has no match', () => {
    expect(lookupDraft(c([4, 5, 6, 7]), 4, [9, 6, 7, 8, 10, 11], 3)).toEqual([8, 10, 11]);
    expect(lookupDraft(c([4, 5, 6, 7]), 4, [9, 6, 7], 3)).toEqual([]);
    expect(lookupDraft(c([4, 5, 6, 7]), 4, [9, 7, 8, 10], 3)).toEqual([8, 10]); // [7] in the suffix
    expect(lookupDraft(c([4, 5, 6, 7]), 4, [9, 7, 8, 10], 3, 2)).toEqual([]);
  });
});
