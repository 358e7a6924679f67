// The sampler with dualCache on a full-attention model: a random tiny model on the CPU engine
// against a wrapper that computes every decideDual from the float64 reference of the DualCache step
// (referenceDualLogits: a refresh's keys and values, the window's rows fresh) and decideRef. Both
// must give the same tokens, step by step; the sampler must refresh exactly when a block starts
// (or something outside it changed) and otherwise run only the block's rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCpuModel } from '../engine/cpu';
import { loadModel, type ModelFiles } from '../engine/load';
import { decisionsRef, referenceDualLogits, referenceForward, type RefWeights } from '../engine/reference';
import { parseSafetensors } from '../engine/safetensors';
import { randomModelFiles, testDevice, tinyConfig, type TinySpec } from '../engine/testkit';
import type { DecideOptions, Decisions, DiffusionModel } from '../engine/types';
import { referenceWeights } from '../engine/weights';
import { generate, infill } from './sampler';
import type { SamplerKnobs } from './types';

const SPEC: TinySpec = { kind: 'diffusion', vocab: 61, dim: 32, heads: 4, ffn: 40, layers: 2, maxSeq: 64, tie: true, dtype: 'F16' };
const cfg = tinyConfig(SPEC);
const MASK = SPEC.vocab - 1;

let model: DiffusionModel;
let w: RefWeights;
let files: ModelFiles;
beforeAll(async () => {
  files = await randomModelFiles(SPEC, 44);
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
  const decisions = (logits: Float64Array, row0: number, tokens: Int32Array, positions: Int32Array, opts: DecideOptions): Decisions =>
    decisionsRef(Array.from(positions, (p) => ({ logits: logits.subarray((p - row0) * V, (p - row0 + 1) * V), position: p, current: tokens[p] })), opts, MASK);
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
    // every window is one block (cut at the canvas' end), and a block's first forward is a refresh
    const blockLength = knobs.blockLength!;
    let last = -1;
    for (const [i, c] of eng.calls.entries()) {
      if (c.window === null) continue;
      const b = Math.floor((c.window[0] - prompt.length) / blockLength);
      const start = prompt.length + b * blockLength;
      expect(c.window).toEqual([start, Math.min(start + blockLength, c.length)]);
      if (b !== last) expect(eng.calls[i - 1].window, `call ${i - 1}: the refresh before block ${b}'s first window`).toBeNull();
      last = b;
    }
    expect(got.stats.dualCache!.refreshes).toBe(eng.calls.filter((c) => c.window === null).length);
    expect(got.stats.dualCache!.windowed).toBe(eng.calls.length - got.stats.dualCache!.refreshes);
    expect(got.stats.dualCache!.windowed).toBeGreaterThan(0);
    expect(got.stats.dualCache!.refreshes).toBeGreaterThanOrEqual(Math.ceil(knobs.genLength! / blockLength));
  });

  it('the WebGPU engine (SwiftShader) runs the same steps to the same tokens', async () => {
    const gpu = (await loadModel(files, await testDevice())) as DiffusionModel;
    try {
      for (const [, knobs] of cases) {
        const a = spied(model);
        const b = spied(gpu);
        const got = await generate(b, { prompt, ...knobs });
        expect(got.tokens).toEqual((await generate(a, { prompt, ...knobs })).tokens);
        expect(b.calls).toEqual(a.calls);
      }
    } finally {
      gpu.dispose();
    }
  }, 60_000);

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
    const bc = (await loadCpuModel(await randomModelFiles({ ...SPEC, blockSize: 4 }, 45), undefined, { threads: 1 })) as DiffusionModel;
    const spy = { calls: 0 };
    const wrapped: DiffusionModel = { ...bc, config: bc.config, decideBlock: bc.decideBlock, decideDual: () => { spy.calls++; return Promise.reject(new Error('not for block-causal models')); } };
    const r = await generate(wrapped, { prompt, genLength: 8, blockLength: 4, commitOrder: 'confidence', schedule: { kind: 'fixed', steps: 4 }, dualCache: true });
    expect(spy.calls).toBe(0);
    expect(r.stats.dualCache).toBeUndefined();
    bc.dispose();
  });

  it('an eos mid-block pads the rest of the span: the next step refreshes with the shorter canvas, then windows again', async () => {
    // the reference model, but the first position of the span is made to decide eos at the block's second step
    const ref = referenceModel();
    const EOS = cfg.special_tokens.eos;
    const at = prompt.length + 3; // inside block 0 (blocks of 8)
    const eos: DiffusionModel & { calls: Call[] } = {
      ...ref,
      calls: ref.calls,
      async decideDual(tokens, positions, opts, window) {
        const d = await ref.decideDual!(tokens, positions, opts, window);
        const i = Array.from(positions).indexOf(at);
        if (i >= 0 && window !== null) {
          d.token[i] = EOS;
          d.prob[i] = 1;
          d.entropy[i] = 0;
        }
        return d;
      },
    };
    const res = await generate(eos, { prompt, genLength: 24, blockLength: 8, schedule: { kind: 'threshold', tau: 0.6 }, dualCache: true, endsInOrder: false });
    const i = eos.calls.findIndex((c, j) => j > 0 && c.length < eos.calls[0].length);
    expect(i, 'a call on the trimmed canvas').toBeGreaterThan(0);
    expect(eos.calls[i].window).toBeNull(); // the pad outside the block changed: refresh
    expect(eos.calls.slice(i + 1).every((c) => c.length === eos.calls[i].length)).toBe(true);
    expect(eos.calls.slice(i + 1).some((c) => c.window !== null)).toBe(true);
    expect(res.finishReason).toBe('eos');
  });

  it("when the engine's cache holds another forward's rows, the step refreshes instead of failing", async () => {
    const eng = spied(model);
    const other = spied(model);
    let n = 0;
    // a stranger's whole forward on the same model before every second window step
    const meddled: DiffusionModel & { calls: Call[] } = {
      ...eng,
      calls: eng.calls,
      async decideDual(t, p, o, w) {
        if (w !== null && n++ % 2 === 1) await other.decide(Int32Array.from([1, 2, 3]), Int32Array.of(0), o);
        return eng.decideDual!(t, p, o, w);
      },
    };
    const knobs: SamplerKnobs = { genLength: 16, blockLength: 8, schedule: { kind: 'fixed', tokensPerStep: 1 }, dualCache: true };
    const got = await generate(meddled, { prompt, ...knobs });
    expect(got.generated.length + (got.finishReason === 'eos' ? 1 : 0)).toBeGreaterThan(0);
    expect(got.tokens.slice(prompt.length)).not.toContain(MASK);
    // each meddled window step was refused by the engine and became a refresh: two blocks' refreshes plus one per meddling
    const meddlings = Math.floor(n / 2);
    expect(meddlings).toBeGreaterThan(2);
    expect(got.stats.dualCache!.refreshes).toBe(2 + meddlings);
    expect(eng.calls.filter((c) => c.window === null).length).toBe(2 + meddlings);
    expect(got.stats.dualCache!.refreshes + got.stats.dualCache!.windowed).toBe(got.stats.forwards);
  });
});
