// The sampler with dualCache on a full-attention model: a random tiny model on the CPU engine
// against a wrapper that computes every decideDual from the float64 reference of the DualCache step
// (referenceDualLogits: a refresh's keys and values, the window's rows fresh) and decideRef. Both
// must give the same tokens, step by step; the sampler must refresh exactly when a block starts
// (or something outside it changed) and otherwise run only the block's rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCpuModel } from '../engine/cpu';
import { decideRef, referenceDualLogits, referenceForward, type RefWeights } from '../engine/reference';
import { parseSafetensors } from '../engine/safetensors';
import { randomModelFiles, tinyConfig, type TinySpec } from '../engine/testkit';
import type { DecideOptions, Decisions, DiffusionModel } from '../engine/types';
import { referenceWeights } from '../engine/weights';
import { generate, infill } from './sampler';
import type { SamplerKnobs } from './types';

const SPEC: TinySpec = { kind: 'diffusion', vocab: 61, dim: 32, heads: 4, ffn: 40, layers: 2, maxSeq: 64, tie: true, dtype: 'F16' };
const cfg = tinyConfig(SPEC);
const MASK = SPEC.vocab - 1;

let model: DiffusionModel;
let w: RefWeights;
beforeAll(async () => {
  const files = await randomModelFiles(SPEC, 44);
  model = (await loadCpuModel(files, undefined, { threads: 1 })) as DiffusionModel;
  w = referenceWeights(parseSafetensors(files['model.safetensors'] as Uint8Array));
});
afterAll(() => model.dispose());

type Call = { window: readonly [number, number] | null; length: number };

/** decideDual from the float64 reference, recording each call; decide from the whole forward. */
function referenceModel(): DiffusionModel & { calls: Call[] } {
  const calls: Call[] = [];
  let refresh: Int32Array | null = null;
  const V = cfg.vocab_size;
  const decisions = (logits: Float64Array, row0: number, tokens: Int32Array, positions: Int32Array, opts: DecideOptions): Decisions => {
    const d: Decisions = { token: new Int32Array(positions.length), prob: new Float32Array(positions.length), margin: new Float32Array(positions.length), entropy: new Float32Array(positions.length), currentProb: new Float32Array(positions.length) };
    positions.forEach((p, i) => {
      const r = decideRef(logits.subarray((p - row0) * V, (p - row0 + 1) * V), { ...opts, position: p, current: tokens[p], maskToken: MASK });
      d.token[i] = r.token;
      d.prob[i] = r.prob;
      d.margin[i] = r.margin;
      d.entropy[i] = r.entropy;
      d.currentProb[i] = r.currentProb;
    });
    return d;
  };
  return {
    config: cfg,
    calls,
    dispose: () => {},
    logits: () => Promise.reject(new Error('not used')),
    async decide(tokens, positions, opts) {
      refresh = tokens.slice();
      return decisions(referenceForward(cfg, w, tokens), 0, tokens, positions, opts);
    },
    async decideDual(tokens, positions, opts, window) {
      calls.push({ window, length: tokens.length });
      if (!window) return this.decide(tokens, positions, opts);
      return decisions(referenceDualLogits(cfg, w, refresh!, tokens, window[0], window[1]), window[0], tokens, positions, opts);
    },
  };
}

/** The engine's model, recording decideDual's windows. */
function spied(m: DiffusionModel): DiffusionModel & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    config: m.config, calls, dispose: () => {}, logits: (t) => m.logits(t), decide: (t, p, o) => m.decide(t, p, o),
    decideDual: (t, p, o, window) => {
      calls.push({ window, length: t.length });
      return m.decideDual!(t, p, o, window);
    },
  };
}

const prompt = [5, 9, 13, 2, 44, 7, 30, 18, 3];
const cases: [string, SamplerKnobs][] = [
  ['blocks of 8, threshold', { genLength: 24, blockLength: 8, schedule: { kind: 'threshold', tau: 0.6, maxSteps: 24 }, dualCache: true, endsInOrder: false }],
  ['one block, 2 per step, revision', { genLength: 12, blockLength: 12, schedule: { kind: 'fixed', steps: 8 }, dualCache: true, revision: { rho: 0.3, maxPerStep: 1, maxPerPosition: 1 } }],
  ['sampled, blocks of 5', { genLength: 15, blockLength: 5, schedule: { kind: 'fixed', tokensPerStep: 2 }, dualCache: true, temperature: 0.9, seed: 4 }],
];

describe('the sampler with dualCache (full-attention model)', () => {
  it.each(cases)('%s: engine = float64 reference of the approximation, step by step; refreshes only at block starts', async (_, knobs) => {
    const eng = spied(model);
    const ref = referenceModel();
    const got = await generate(eng, { prompt, ...knobs });
    const want = await generate(ref, { prompt, ...knobs });
    expect(got.tokens).toEqual(want.tokens);
    expect(eng.calls).toEqual(ref.calls);
    // every block's first forward is a refresh; the others are windows on the block (cut at the canvas' end)
    const blockLength = knobs.blockLength!;
    let block = -1;
    for (const c of eng.calls) {
      if (c.window === null) block++;
      else {
        const start = prompt.length + block * blockLength;
        expect(c.window).toEqual([start, Math.min(start + blockLength, c.length)]);
      }
    }
    expect(got.stats.dualCache!.refreshes).toBe(eng.calls.filter((c) => c.window === null).length);
    expect(got.stats.dualCache!.windowed).toBe(eng.calls.length - got.stats.dualCache!.refreshes);
    expect(got.stats.dualCache!.windowed).toBeGreaterThan(0);
    expect(got.stats.dualCache!.refreshes).toBeGreaterThanOrEqual(Math.ceil(knobs.genLength! / blockLength));
  });

  it('infill: the suffix is cached too, and the run matches the reference', async () => {
    const knobs: SamplerKnobs = { genLength: 10, blockLength: 5, schedule: { kind: 'fixed', tokensPerStep: 1 }, dualCache: true };
    const req = { prefix: prompt, suffix: [8, 8, 21, 40, 6], ...knobs };
    const eng = spied(model);
    const ref = referenceModel();
    const got = await infill(eng, req);
    expect(got.tokens).toEqual((await infill(ref, req)).tokens);
    expect(eng.calls.every((c) => c.length === prompt.length + 10 + 5)).toBe(true);
    expect(eng.calls.filter((c) => c.window === null).length).toBe(2);
  });

  it('off (the default), or on a block-causal model: no DualCache step at all', async () => {
    const eng = spied(model);
    const res = await generate(eng, { prompt, genLength: 8, blockLength: 4, schedule: { kind: 'fixed', steps: 4 } });
    expect(eng.calls).toEqual([]);
    expect(res.stats.dualCache).toBeUndefined();
  });
});
