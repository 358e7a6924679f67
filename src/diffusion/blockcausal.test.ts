// The sampler with a block-causal model (config.attention "block_causal"): a random tiny model on
// the CPU engine, whose decideBlock reuses the KV cache, against the same model wrapped so that
// every step is computed from scratch (blockLogits uncached + decideRef). Cached decoding must give
// the same tokens, step by step, for generation and for suffix-first infill, with revision on.
// And the commit rule: 'leftToRight' commits only runs from the block's first mask.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCpuModel } from '../engine/cpu';
import { decideRef } from '../engine/reference';
import { randomModelFiles, type TinySpec } from '../engine/testkit';
import type { BlockStep, DecideOptions, Decisions, DiffusionModel } from '../engine/types';
import { generate, infill } from './sampler';
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
    steps,
    decide: () => Promise.reject(new Error('block-causal')),
    logits: () => Promise.reject(new Error('block-causal')),
    dispose: () => {},
    async decideBlock(step: BlockStep, opts: DecideOptions): Promise<Decisions> {
      steps.push(step);
      const V = m.config.vocab_size;
      const logits = await m.blockLogits!(step, true);
      const n = step.offsets.length;
      const d: Decisions = { token: new Int32Array(n), prob: new Float32Array(n), margin: new Float32Array(n), entropy: new Float32Array(n), currentProb: new Float32Array(n) };
      step.offsets.forEach((o, i) => {
        const r = decideRef(logits.subarray(o * V, (o + 1) * V), { ...opts, position: step.blockPos0 + o, current: step.block[o], maskToken: MASK });
        d.token[i] = r.token;
        d.prob[i] = r.prob;
        d.margin[i] = r.margin;
        d.entropy[i] = r.entropy;
        d.currentProb[i] = r.currentProb;
      });
      return d;
    },
  };
}

const prompt = [5, 9, 13, 2, 40, 7, 7, 21];
const suffix = [30, 31, 32, 3, 4];

describe('sampler with a block-causal model', () => {
  const cases: [string, Omit<SamplerKnobs, 'genLength'>][] = [
    ['threshold, leftToRight (the block-causal default)', { schedule: { kind: 'threshold', tau: 0.05 } }],
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
    await infill(ref, { prefix: prompt, suffix, genLength: 12, schedule: { kind: 'threshold', tau: 0.5 } });
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
