// The samplers on the real shipped tiny models (public/models/qs-code-{diffusion,ar}-tiny), through
// the real loader (manifest + SHA-256), the real tokenizer and WebGPU in Node (Dawn + SwiftShader).
// The fakes of sampler.test.ts prove the loop's logic; this proves it holds together with trained
// weights: text comes out, step events replay, the threshold schedule saves forward passes,
// infill keeps its context, and the AR twin's KV cache agrees with full causal recomputation.
// Spans are short (16-24 tokens): SwiftShader runs on the CPU.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type ModelFiles } from '../engine/load';
import { GpuAutoregressiveModel, GpuDiffusionModel } from '../engine/models';
import { decideRef } from '../engine/reference';
import { testDevice } from '../engine/testkit';
import { CodeTokenizer, type TokenizerJSON } from '../tokenizer';
import { generateAutoregressive } from './autoregressive';
import { applyStep } from './request';
import { generate, infill } from './sampler';
import type { CanvasLayout, StepEvent } from './types';

const MODELS = resolve(__dirname, '../../public/models');
const DIFFUSION = 'qs-code-diffusion-tiny';
const AR = 'qs-code-ar-tiny';
const present = [DIFFUSION, AR].every((id) => existsSync(join(MODELS, id, 'model.safetensors')));

async function load(id: string): Promise<{ model: GpuDiffusionModel | GpuAutoregressiveModel; tok: CodeTokenizer }> {
  const files: ModelFiles = {};
  for (const name of ['config.json', 'model.safetensors', 'manifest.json']) files[name] = new Uint8Array(readFileSync(join(MODELS, id, name)));
  const model = await loadModel(files, await testDevice());
  const tok = new CodeTokenizer(JSON.parse(readFileSync(join(MODELS, id, 'tokenizer.json'), 'utf8')) as TokenizerJSON);
  return { model, tok };
}

const TIMEOUT = 180_000;

describe.skipIf(!present)('samplers on the real tiny models', () => {
  let diffusion: GpuDiffusionModel;
  let ar: GpuAutoregressiveModel;
  let tok: CodeTokenizer;

  beforeAll(async () => {
    const d = await load(DIFFUSION);
    const a = await load(AR);
    if (!(d.model instanceof GpuDiffusionModel)) throw new Error(`${DIFFUSION} is not a diffusion model`);
    if (!(a.model instanceof GpuAutoregressiveModel)) throw new Error(`${AR} is not an autoregressive model`);
    diffusion = d.model;
    ar = a.model;
    tok = d.tok;
  }, TIMEOUT);

  it('a Python prompt yields tokens that decode to text; step events replay, masked until the last', async () => {
    const prompt = tok.encode('import os\n\n\ndef read_file(path):');
    const genLength = 16;
    let layout: CanvasLayout | undefined;
    const events: StepEvent[] = [];
    const r = await generate(
      diffusion,
      // semi-autoregressive blocks of 8, 2 steps each: a weak model is less prone to ending the
      // span at once with eos/pad when it decodes left to right
      { prompt, genLength, temperature: 0, schedule: { kind: 'fixed', steps: 4 }, blockLength: 8, commitOrder: 'leftToRight' },
      { onStart: (l) => (layout = l), onStep: (e) => events.push(e), decode: (ids) => tok.decode(ids) },
    );
    const { mask } = diffusion.config.special_tokens;

    expect(r.generated.length).toBeGreaterThan(0);
    for (const t of r.generated) expect(tok.isSpecial(t), `token ${t}`).toBe(false);
    expect(r.text).toBe(tok.decode(r.generated));
    expect(r.text!.length).toBeGreaterThan(0);
    expect(r.tokens.slice(0, prompt.length)).toEqual(prompt);
    expect(r.tokens).not.toContain(mask);

    // Replay: every intermediate canvas still holds masks in the span, the last holds none.
    expect(layout).toBeDefined();
    // 2 steps per block; an eos/pad committed in block 0 pads the rest of the span, and block 1
    // then has nothing left to decode
    expect(events.length).toBe(r.stats.steps);
    const blocks = events.map((e) => e.block);
    expect(r.finishReason === 'eos' ? [[0], [0, 0], [0, 0, 1], [0, 0, 1, 1]] : [[0, 0, 1, 1]]).toContainEqual(blocks);
    let canvas = layout!.tokens;
    for (const [i, e] of events.entries()) {
      canvas = applyStep(canvas, e);
      const masksLeft = canvas.slice(layout!.spanStart, layout!.spanEnd).filter((t) => t === mask).length;
      expect(masksLeft, `step ${i}`).toBe(e.maskedLeft);
      if (i < events.length - 1) expect(masksLeft, `step ${i} of ${events.length}`).toBeGreaterThan(0);
      else expect(masksLeft).toBe(0);
    }
    expect(canvas).toEqual(r.tokens);
  }, TIMEOUT);

  it('the threshold schedule commits several tokens per forward pass', async () => {
    // The tiny model (0.36M parameters, a few minutes of CPU training) is unsure of everything: on a
    // fresh span its top probabilities are about 0.04-0.11, so τ = 0.05 is "confident" at its scale
    // (a better-trained model only clears a fixed τ more often). At τ = 0.9 it commits one token per
    // pass, like the fixed schedule.
    const prompt = tok.encode('class Stack:\n    def __init__(self):');
    const genLength = 24;
    const tau = 0.05;
    const before = diffusion.counters.forwards;
    const events: StepEvent[] = [];
    const r = await generate(diffusion, { prompt, genLength, temperature: 0, schedule: { kind: 'threshold', tau } }, { onStep: (e) => events.push(e) });
    // the rule itself: all committed >= tau, or just the single most confident one (the last step
    // of the cap commits everything, but the cap, genLength, is never reached here)
    for (const e of events) {
      const pad = diffusion.config.special_tokens.pad;
      const committed = e.changes.filter((c) => c.state === 'committed' && !(c.token === pad && c.confidence === 1)); // not the pad written after an eos
      if (committed.length > 1) for (const c of committed) expect(c.confidence, `step ${e.step} position ${c.position}`).toBeGreaterThanOrEqual(tau);
    }
    expect(r.stats.forwards).toBe(diffusion.counters.forwards - before);
    expect(r.stats.tokensGenerated).toBe(r.generated.length);
    expect(r.stats.tokensGenerated).toBeGreaterThan(0);
    expect(r.stats.forwards).toBeLessThan(r.stats.tokensGenerated);
    expect(r.stats.tokensPerStep).toBeGreaterThan(1);
    expect(events.length).toBe(r.stats.steps);
  }, TIMEOUT);

  it('infill keeps the prefix and the suffix token-exact', async () => {
    const prefix = tok.encode('def area(width, height):\n    """Area of a rectangle."""');
    const suffix = tok.encode('\n    return result\n');
    const genLength = 16;
    const r = await infill(diffusion, { prefix, suffix, genLength, temperature: 0, schedule: { kind: 'fixed', steps: 8 } });
    expect(r.layout.spanStart).toBe(prefix.length);
    expect(r.layout.spanEnd).toBe(prefix.length + genLength);
    expect(r.tokens).toHaveLength(prefix.length + genLength + suffix.length);
    expect(r.tokens.slice(0, prefix.length)).toEqual(prefix);
    expect(r.tokens.slice(r.layout.spanEnd)).toEqual(suffix);
    expect(r.tokens).not.toContain(diffusion.config.special_tokens.mask);
    expect(r.generated).toEqual(r.tokens.slice(prefix.length, prefix.length + r.generated.length));
  }, TIMEOUT);

  it('AR with the KV cache picks the same greedy tokens as full causal logits recomputed each step', async () => {
    const prompt = tok.encode('    def test_empty_set(self):');
    const genLength = 16;
    const events: StepEvent[] = [];
    const r = await generateAutoregressive(ar, { prompt, genLength, temperature: 0 }, { onStep: (e) => events.push(e) });
    expect(r.stats.forwards).toBe(events.length);
    const { mask } = ar.config.special_tokens;
    const V = ar.config.vocab_size;
    let compared = 0;
    // Each step p: the whole sequence so far through the causal forward (no cache reuse), last row.
    for (const e of events) {
      const committed = e.changes[0];
      const p = committed.position;
      const logits = await ar.logits(Int32Array.from(r.tokens.slice(0, p)));
      expect(logits.length).toBe(p * V);
      const row = logits.subarray((p - 1) * V, p * V);
      const ref = decideRef(row, { temperature: 0, seed: 0, step: e.step, position: p, current: -1, maskToken: mask });
      const sorted = Array.from(row).filter((_, t) => t !== mask).sort((a, b) => b - a);
      // where the top two logits are (numerically) tied either choice is right; elsewhere exact
      if (sorted[0] - sorted[1] > 1e-3 * Math.max(1, Math.abs(sorted[0]))) {
        expect(committed.token, `position ${p}`).toBe(ref.token);
        compared++;
      }
      expect(committed.confidence, `position ${p}`).toBeCloseTo(ref.prob, 3);
    }
    expect(compared).toBeGreaterThan(events.length / 2);
    expect(r.generated.length + (r.finishReason === 'eos' ? 1 : 0)).toBe(events.length);
  }, TIMEOUT);
});
