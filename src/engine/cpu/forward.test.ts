// The CPU engine's whole forward pass, through loadCpuModel (manifest + SHA-256 checked):
//   - random models (diffusion and AR; f16/f32/int8; tied and untied; odd sizes) vs the float64
//     reference forward, 1 and 2 threads
//   - AR: prefill + decodeStep with the KV cache = decisions from the full causal forward
//   - every public/models/*/golden.json (PyTorch float32 logits), rel err ≤ 1e-3
//   - the CPU and WebGPU engines agree on the same sampler run of the shipped tiny model
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../diffusion';
import { loadModel, ModelIntegrityError, type ModelFiles } from '../load';
import { GpuDiffusionModel } from '../models';
import { expectGoldenCase, goldenDirs as dirs, MODELS, modelFiles, readGolden } from '../golden.testkit';
import { decideRef, referenceForward, relError } from '../reference';
import { parseSafetensors } from '../safetensors';
import { randomModelFiles, testDevice, tinyConfig, type TinySpec } from '../testkit';
import type { DiffusionModel } from '../types';
import { referenceWeights } from '../weights';
import { chooseEngine, CpuAutoregressiveModel, CpuDiffusionModel, loadCpuModel, type CpuEngineModel } from './index';

const open: CpuEngineModel[] = [];
afterAll(() => open.forEach((m) => m.dispose()));
async function load(files: ModelFiles, threads: number): Promise<CpuEngineModel> {
  const m = await loadCpuModel(files, undefined, { threads, parallelWork: 0 }); // threads: every kernel call split
  open.push(m);
  return m;
}

const SPECS: [string, TinySpec][] = [
  ['diffusion f16 tied', { kind: 'diffusion', vocab: 67, dim: 48, heads: 3, ffn: 88, layers: 2, maxSeq: 40, tie: true, dtype: 'F16' }],
  ['diffusion f32 untied, odd ffn', { kind: 'diffusion', vocab: 101, dim: 32, heads: 2, ffn: 37, layers: 1, maxSeq: 33, tie: false, dtype: 'F32' }],
  ['diffusion int8', { kind: 'diffusion', vocab: 50, dim: 64, heads: 4, ffn: 96, layers: 2, maxSeq: 24, tie: true, dtype: 'F16', int8: true }],
  ['autoregressive f16', { kind: 'autoregressive', vocab: 70, dim: 40, heads: 5, ffn: 72, layers: 2, maxSeq: 36, tie: true, dtype: 'F16' }],
  // export.py --int8: every matrix int8 with F16 per-group scales, the embedding too (tied: the
  // output matmul reads the int8 table); groups of 16 and 8, odd ffn 88
  ['diffusion int8 per group, int8 embedding (tied)', { kind: 'diffusion', vocab: 67, dim: 48, heads: 3, ffn: 80, layers: 2, maxSeq: 40, tie: true, dtype: 'F16', int8Group: 16 }],
  ['autoregressive int8 per group, untied', { kind: 'autoregressive', vocab: 70, dim: 40, heads: 5, ffn: 88, layers: 2, maxSeq: 36, tie: false, dtype: 'F16', int8Group: 8 }],
];

for (const threads of [1, 2]) {
  describe(`CPU engine forward, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
    it.each(SPECS)('%s: logits = float64 reference', async (_, spec) => {
      const files = await randomModelFiles(spec, 11);
      const model = await load(files, threads);
      expect(model.threads).toBe(threads);
      const w = referenceWeights(parseSafetensors(files['model.safetensors'] as Uint8Array));
      for (const L of [1, 7, spec.maxSeq]) {
        const tokens = Int32Array.from({ length: L }, (_, i) => (i * 13 + 5) % spec.vocab);
        const got = await model.logits(tokens);
        const want = referenceForward(tinyConfig(spec), w, tokens);
        // int8 files: matmul_i8 rounds the activations to int16 (one scale a row): ~1e-4 here
        expect(relError(got, want), `L=${L}`).toBeLessThan(spec.int8 || spec.int8Group ? 5e-4 : 2e-5);
      }
    });
  });
}

describe('CPU engine: int8 weights stay int8', () => {
  it('an int8 file holds its weights in int8 panels: weight memory < 0.3 × its dequantised f32 twin\'s, the same logits within 5e-4', async () => {
    const spec: TinySpec = { kind: 'diffusion', vocab: 256, dim: 64, heads: 4, ffn: 128, layers: 2, maxSeq: 32, tie: true, dtype: 'F16', int8Group: 32 };
    const files = await randomModelFiles(spec, 5);
    const q = (await load(files, 1)) as CpuDiffusionModel;
    // the same weights, dequantised, as an F32 file
    const w = referenceWeights(parseSafetensors(files['model.safetensors'] as Uint8Array));
    const { writeSafetensors } = await import('../safetensors');
    const t: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    const st = parseSafetensors(files['model.safetensors'] as Uint8Array);
    for (const [name, info] of st.tensors) if (!name.endsWith('_scale')) t[name] = { dtype: 'F32', shape: info.shape, data: Float32Array.from(w.get(name)!) };
    const f = (await loadCpuModel({ 'config.json': JSON.stringify({ ...tinyConfig(spec), dtype: 'float32' }), 'model.safetensors': writeSafetensors(t) }, undefined, { threads: 1, verify: false })) as CpuDiffusionModel;
    open.push(f);
    expect(q.weightBytes).toBeLessThan(0.3 * f.weightBytes);
    expect(q.deviceBytes).toBeLessThan(f.deviceBytes);
    const tokens = Int32Array.from({ length: 20 }, (_, i) => (i * 31 + 2) % 250);
    expect(relError(await q.logits(tokens), await f.logits(tokens))).toBeLessThan(5e-4);
  });
});

describe('CPU engine: models', () => {
  it('diffusion decide = decideRef on the logits (greedy and sampled), mask never chosen', async () => {
    const spec = SPECS[0][1];
    const model = (await load(await randomModelFiles(spec, 3), 2)) as CpuDiffusionModel;
    const V = spec.vocab;
    const mask = V - 1;
    const tokens = Int32Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? mask : (i * 7) % (V - 3)));
    const positions = Int32Array.from([0, 3, 4, 29, 12, 1]);
    const logits = await model.logits(tokens);
    for (const temperature of [0, 1]) {
      const d = await model.decide(tokens, positions, { temperature, seed: 42, step: 3 });
      positions.forEach((p, i) => {
        const want = decideRef(logits.subarray(p * V, (p + 1) * V), { temperature, seed: 42, step: 3, position: p, current: tokens[p], maskToken: mask });
        expect(d.token[i]).toBe(want.token);
        expect(d.token[i]).not.toBe(mask);
        expect(d.prob[i]).toBeCloseTo(want.prob, 5);
        expect(d.margin[i]).toBeCloseTo(want.margin, 5);
        expect(d.entropy[i]).toBeCloseTo(want.entropy, 4);
        expect(d.currentProb[i]).toBeCloseTo(want.currentProb, 5);
      });
    }
    expect((await model.decide(tokens, new Int32Array(0), { temperature: 0, seed: 0, step: 0 })).token.length).toBe(0);
    await expect(model.decide(tokens, Int32Array.from([30]), { temperature: 0, seed: 0, step: 0 })).rejects.toThrow(/outside the sequence/);
    await expect(model.logits(Int32Array.from([V]))).rejects.toThrow(/outside the vocabulary/);
    await expect(model.logits(new Int32Array(spec.maxSeq + 1))).rejects.toThrow(/max_seq_len/);
    expect(model.counters.forwards).toBeGreaterThan(0);
  });

  for (const threads of [1, 2]) {
    it(`autoregressive: prefill + decodeStep (KV cache) = the full causal forward (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
      const spec = SPECS[3][1];
      const files = await randomModelFiles(spec, 5);
      const model = (await load(files, threads)) as CpuAutoregressiveModel;
      const V = spec.vocab;
      const seq = Int32Array.from({ length: 20 }, (_, i) => (i * 11 + 2) % (V - 3));
      const full = await model.logits(seq);
      for (const temperature of [0, 0.8]) {
        const opts = (step: number) => ({ temperature, seed: 9, step });
        const check = (d: Awaited<ReturnType<typeof model.prefill>>, row: number, step: number) => {
          const want = decideRef(full.subarray(row * V, (row + 1) * V), { temperature, seed: 9, step, position: row + 1, current: -1, maskToken: V - 1 });
          expect(d.token[0], `row ${row}`).toBe(want.token);
          expect(d.prob[0]).toBeCloseTo(want.prob, 5);
          expect(d.entropy[0]).toBeCloseTo(want.entropy, 4);
          expect(d.currentProb[0]).toBe(0);
        };
        const prompt = 6;
        check(await model.prefill(seq.subarray(0, prompt), opts(0)), prompt - 1, 0);
        for (let i = prompt; i < seq.length; i++) check(await model.decodeStep(seq[i], opts(i)), i, i);
        expect(model.cacheLength).toBe(seq.length);
      }
      // the cache really is used: a prefix-only prefill followed by steps reproduces a longer prefill
      const a = await model.prefill(seq.subarray(0, 12), { temperature: 0, seed: 0, step: 0 });
      await model.prefill(seq.subarray(0, 3), { temperature: 0, seed: 0, step: 0 });
      let b = a;
      for (let i = 3; i < 12; i++) b = await model.decodeStep(seq[i], { temperature: 0, seed: 0, step: 0 });
      expect(b.token[0]).toBe(a.token[0]);
      expect(Math.abs(b.prob[0] - a.prob[0])).toBeLessThan(1e-5);
      // a prefill runs only what the cache does not hold already (a shared prefix is kept)
      const other = Int32Array.from([...seq.subarray(0, 9), 1, 4, 1, 5]);
      const fullOther = await model.logits(other); // the cache now holds `other`
      const at = (logits: Float32Array, row: number) => decideRef(logits.subarray(row * V, (row + 1) * V), { temperature: 0, seed: 0, step: 0, position: row + 1, current: -1, maskToken: V - 1 });
      const c = await model.prefill(seq.subarray(0, 12), { temperature: 0, seed: 0, step: 0 });
      expect(model.prefillReused).toBe(9);
      expect([c.token[0], c.prob[0]]).toEqual([at(full, 11).token, expect.closeTo(at(full, 11).prob, 5)]);
      const d = await model.prefill(other, { temperature: 0, seed: 0, step: 0 });
      expect(model.prefillReused).toBe(9);
      expect([d.token[0], d.prob[0]]).toEqual([at(fullOther, 12).token, expect.closeTo(at(fullOther, 12).prob, 5)]);
      await model.prefill(other, { temperature: 0, seed: 0, step: 0 });
      expect(model.prefillReused).toBe(other.length - 1); // the same prompt again: only its last token runs
      await expect(new CpuAutoregressiveModel((model as unknown as { t: never }).t).decodeStep(1, { temperature: 0, seed: 0, step: 0 })).rejects.toThrow(/before prefill/);
    });
  }

  it('rejects files that do not match the manifest', async () => {
    const files = await randomModelFiles(SPECS[0][1], 1);
    const bad = { ...files, 'model.safetensors': (files['model.safetensors'] as Uint8Array).slice(0, -4) };
    await expect(loadCpuModel(bad, undefined, { threads: 1 })).rejects.toBeInstanceOf(ModelIntegrityError);
  });

  it('chooseEngine: the override wins; auto picks the CPU without WebGPU or on a fallback adapter', () => {
    expect(chooseEngine('cpu', { ok: true, isFallbackAdapter: false }, true).engine).toBe('cpu');
    expect(chooseEngine('webgpu', { ok: true, isFallbackAdapter: true }, true).engine).toBe('webgpu');
    expect(chooseEngine('auto', { ok: false, reason: 'no-navigator-gpu' }, true)).toEqual({ engine: 'cpu', reason: 'auto: no WebGPU (no-navigator-gpu)' });
    expect(chooseEngine('auto', { ok: true, isFallbackAdapter: true, description: 'swiftshader' }, true).engine).toBe('cpu');
    expect(chooseEngine('auto', { ok: true, isFallbackAdapter: false }, true).engine).toBe('webgpu');
    expect(chooseEngine('auto', { ok: true, isFallbackAdapter: true }, false).engine).toBe('webgpu');
  });
});

// ---- shipped models -------------------------------------------------------------------------



describe('CPU engine: golden logits from PyTorch', () => {
  if (dirs.length === 0) {
    it.skip('no public/models/*/golden.json', () => {});
    return;
  }
  for (const dir of dirs) {
    it(`${dir}: CPU engine logits match PyTorch (rel err ≤ 1e-3), 2 threads`, async () => {
      const files = modelFiles(dir);
      const cases = readGolden(dir);
      const model = await loadCpuModel(files, undefined, { threads: 2, parallelWork: 0, verify: 'manifest.json' in files });
      open.push(model);
      // an int8 model stays int8 in WebAssembly memory (int8 panels + f32 scales)
      if (model.config.dtype === 'int8') expect(model.weightBytes).toBeLessThan(1.3 * model.parameterCount);
      for (const [ci, c] of cases.entries()) {
        await expectGoldenCase(model instanceof CpuDiffusionModel ? model : { config: model.config, logits: (t) => model.logits(t) }, c, `${dir} case ${ci}`);
      }
    }, 120_000);
  }
});

describe('CPU engine vs WebGPU engine (SwiftShader)', () => {
  const tiny = 'qs-code-diffusion-tiny';
  const hasTiny = existsSync(join(MODELS, tiny, 'model.safetensors'));
  it.skipIf(!hasTiny)(`${tiny}: the same sampler run (same seed) gives the same tokens on both engines`, async () => {
    const files = modelFiles(tiny);
    const cpu = await loadCpuModel(files, undefined, { threads: 2 });
    open.push(cpu);
    const device = await testDevice();
    const gpu = await loadModel(files, device, undefined, { matmulVariant: 'blocked' });
    try {
      expect(gpu).toBeInstanceOf(GpuDiffusionModel);
      const V = cpu.config.vocab_size;
      // 1. one block step (the shipped tiny model is block-causal): logits agree and so do the
      //    decisions, greedy and sampled
      const [c, d] = [cpu as DiffusionModel, gpu as DiffusionModel];
      const ctx = Int32Array.from({ length: 80 }, (_, i) => (i * 37 + 11) % 4000);
      const block = Int32Array.from({ length: 24 }, (_, i) => (i % 4 === 1 ? (i * 5) % 4000 : V - 1));
      const step = { context: ctx, contextPositions: Int32Array.from(ctx, (_, i) => i), block, blockPos0: 80, offsets: Int32Array.from({ length: 24 }, (_, i) => i) };
      const [lc, lg] = [await c.blockLogits!(step, true), await d.blockLogits!(step, true)];
      expect(relError(lc, lg)).toBeLessThan(1e-4);
      const positions = step.offsets;
      for (const temperature of [0, 0.9]) {
        const opts = { temperature, seed: 77, step: 4 };
        const [dc, dg] = [await c.decideBlock!(step, opts), await d.decideBlock!(step, opts)];
        expect(Array.from(dc.token), `T=${temperature}`).toEqual(Array.from(dg.token));
        for (let i = 0; i < positions.length; i++) {
          expect(Math.abs(dc.prob[i] - dg.prob[i])).toBeLessThan(1e-4);
          expect(Math.abs(dc.entropy[i] - dg.entropy[i])).toBeLessThan(1e-3);
        }
      }
      // 2. a whole sampler run (drafts sized by one row cost for both: the CPU engine has its own,
      //    the WebGPU engine none, and sampled text depends on the steps)
      expect(c.rowCost).toBeGreaterThan(0);
      expect(d.rowCost).toBeUndefined();
      const request = { prompt: [5, 17, 300, 42, 7, 99, 1000, 12], genLength: 32, temperature: 0.8, seed: 1234, rowCost: 0.4 };
      const rc = await generate(cpu as DiffusionModel, request);
      const rg = await generate(gpu as DiffusionModel, request);
      expect(rc.stats.forwards).toBeGreaterThan(0);
      expect(rc.tokens.slice(request.prompt.length).some((t) => t !== V - 1)).toBe(true); // something was generated
      expect(rc.tokens).toEqual(rg.tokens);
    } finally {
      gpu.dispose();
    }
  }, 240_000);
});
