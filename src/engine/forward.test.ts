// Whole-model tests: small random models built here, written as safetensors bytes in memory,
// loaded through the real loader (manifest + SHA-256 checked), run on the device and compared
// with the float64 reference forward (reference.ts).
// Bound: logits rel err (max |gpu - ref| / max |ref|) ≤ 1e-4; decisions: same greedy token,
// probabilities within 1e-4.
import { beforeAll, describe, expect, it } from 'vitest';
import { requestDevice } from './device';
import { loadModel, ModelIntegrityError, type ModelFiles } from './load';
import { chooseMatmulVariant, MemoryStore } from './matmul_choice';
import { nodeGPU } from '../test/nodeGpu';
import { DeviceLostError, GpuAutoregressiveModel, GpuDiffusionModel } from './models';
import { decideRef, referenceForward, relError } from './reference';
import { parseSafetensors } from './safetensors';
import { randomModelFiles as tinyModelFiles, rng, testDevice, type TinySpec } from './testkit';
import type { ModelConfig } from './types';
import { referenceWeights } from './weights';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
}, 60_000);

function reference(files: ModelFiles, tokens: ArrayLike<number>): Float64Array {
  const cfg = JSON.parse(files['config.json'] as string) as ModelConfig;
  return referenceForward(cfg, referenceWeights(parseSafetensors(files['model.safetensors'] as Uint8Array)), tokens);
}

function randomTokens(n: number, vocab: number, seed: number, maskShare = 0.3): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => (r() < maskShare ? vocab - 1 : Math.floor(r(0, vocab - 1))));
}

const DIFF: TinySpec = { kind: 'diffusion', vocab: 61, dim: 32, heads: 4, ffn: 44, layers: 2, maxSeq: 48, tie: true, dtype: 'F32' };
const AR: TinySpec = { kind: 'autoregressive', vocab: 53, dim: 48, heads: 6, ffn: 42, layers: 2, maxSeq: 40, tie: false, dtype: 'F16' };

describe('diffusion forward', () => {
  for (const variant of ['blocked', 'tiled'] as const) {
    it(`logits equal the reference (${variant} matmul), L = 1, 7, 33, 48`, async () => {
      const files = await tinyModelFiles(DIFF);
      const model = await loadModel(files, device, undefined, { matmulVariant: variant });
      expect(model).toBeInstanceOf(GpuDiffusionModel);
      for (const L of [1, 7, 33, 48]) {
        const tokens = randomTokens(L, DIFF.vocab, L);
        const got = await model.logits(tokens);
        const err = relError(got, reference(files, tokens));
        expect(err, `L=${L}`).toBeLessThanOrEqual(1e-4);
      }
      model.dispose();
    });
  }

  it('decide matches decisions computed from reference logits; counters; no per-step allocations', async () => {
    const files = await tinyModelFiles(DIFF, 2);
    const progress: string[] = [];
    const model = (await loadModel(files, device, (p) => progress.push(p.phase), { matmulVariant: 'auto', adapterKey: 'test-adapter' })) as GpuDiffusionModel;
    expect(progress).toContain('verify');
    expect(progress).toContain('upload');
    expect(progress.at(-1)).toBe('ready');
    const tokens = randomTokens(29, DIFF.vocab, 5, 0.5);
    const positions = Int32Array.from([0, 3, 28, 10, 11, 2]);
    const ref = reference(files, tokens);
    const V = DIFF.vocab;
    const t = (model as unknown as { t: { pool: { allocations: number }; rec: { bindGroupsCreated: number } } }).t;
    let allocations = -1;
    let bindGroups = -1;
    for (const [step, opts] of [{ temperature: 0, seed: 0, step: 0 }, { temperature: 0.8, seed: 9, step: 1 }, { temperature: 1.3, seed: 9, step: 2 }].entries()) {
      const before = { ...model.counters };
      const d = await model.decide(tokens, positions, opts);
      expect(model.counters.forwards - before.forwards).toBe(1);
      expect(model.counters.readbacks - before.readbacks).toBe(1);
      expect(model.counters.bytesReadBack - before.bytesReadBack).toBe(positions.length * 5 * 4);
      expect(model.counters.dispatches - before.dispatches).toBe(8 * DIFF.layers + 4);
      positions.forEach((p, i) => {
        const r = decideRef(ref.subarray(p * V, (p + 1) * V), { ...opts, position: p, current: tokens[p], maskToken: V - 1 });
        expect(d.token[i], `pos ${p} T ${opts.temperature}`).toBe(r.token);
        expect(d.prob[i]).toBeCloseTo(r.prob, 4);
        expect(d.margin[i]).toBeCloseTo(r.margin, 4);
        expect(d.entropy[i]).toBeCloseTo(r.entropy, 3);
        expect(d.currentProb[i]).toBeCloseTo(r.currentProb, 4);
      });
      if (step === 1) {
        allocations = t.pool.allocations;
        bindGroups = t.rec.bindGroupsCreated;
      }
    }
    expect(t.pool.allocations).toBe(allocations);
    expect(t.rec.bindGroupsCreated).toBe(bindGroups);
    model.dispose();
  });

  it('int8 weights (per-row scales) equal the reference on the dequantised weights', async () => {
    const spec = { ...DIFF, int8: true, tie: false };
    const files = await tinyModelFiles(spec, 3);
    const model = await loadModel(files, device, undefined, { matmulVariant: 'blocked' });
    for (const L of [5, 40]) {
      const tokens = randomTokens(L, spec.vocab, L + 1);
      expect(relError(await model.logits(tokens), reference(files, tokens)), `L=${L}`).toBeLessThanOrEqual(1e-4);
    }
    model.dispose();
  });

  it.each([
    ['tied (the int8 table is the embedding and the output), G = 16', { ...DIFF, int8Group: 16, ffn: 48 }, 16],
    ['untied, G = 8 (ffn 44: w2 in groups of 4)', { ...DIFF, int8Group: 8, tie: false }, 4],
    ['autoregressive, G = 16, odd ffn 80', { ...AR, int8Group: 16, ffn: 80 }, 16],
  ] as [string, TinySpec, number][])('int8 per-group scales, int8 embedding (%s): stays int8 on the device, = reference on the dequantised weights', async (_, spec) => {
    const files = await tinyModelFiles(spec, 4);
    const model = await loadModel(files, device, undefined, { matmulVariant: 'blocked' });
    const T = spec.kind === 'autoregressive' ? 'prefill' : 'logits';
    for (const L of [1, 5, spec.maxSeq]) {
      const tokens = randomTokens(L, spec.vocab, L + 2, spec.kind === 'autoregressive' ? 0 : 0.3);
      expect(relError(await model.logits(tokens), reference(files, tokens)), `${T} L=${L}`).toBeLessThanOrEqual(1e-4);
    }
    // weights on the device: int8 matrices + f32 scales + f32 norms, well under the f32 bytes
    const floats = [...parseSafetensors(files['model.safetensors'] as Uint8Array).tensors.entries()].filter(([n]) => !n.endsWith('_scale')).reduce((s, [, t]) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    expect(model.weightBytes).toBeLessThan(0.45 * 4 * floats);
    model.dispose();
  });

  it('loads from a base URL with byte-level download progress', async () => {
    const files = await tinyModelFiles(DIFF, 6);
    const requested: string[] = [];
    const fakeFetch = (async (input: string | URL | Request) => {
      const url = String(input);
      requested.push(url);
      const name = url.slice(url.lastIndexOf('/') + 1);
      const body = files[name];
      if (body === undefined) return new Response('not found', { status: 404 });
      return new Response(typeof body === 'string' ? body : (body as Uint8Array).slice());
    }) as typeof fetch;
    const events: { phase: string; loaded: number; total: number }[] = [];
    const model = await loadModel('https://example.test/models/tiny', device, (p) => events.push(p), { fetch: fakeFetch, matmulVariant: 'blocked' });
    expect(requested).toEqual(['manifest.json', 'config.json', 'model.safetensors'].map((n) => `https://example.test/models/tiny/${n}`));
    const downloads = events.filter((e) => e.phase === 'download');
    const total = (files['config.json'] as string).length + (files['model.safetensors'] as Uint8Array).byteLength;
    expect(downloads.length).toBeGreaterThan(0);
    expect(downloads.at(-1)).toMatchObject({ loaded: total, total });
    for (let i = 1; i < downloads.length; i++) expect(downloads[i].loaded).toBeGreaterThanOrEqual(downloads[i - 1].loaded);
    const tokens = randomTokens(12, DIFF.vocab, 3);
    expect(relError(await model.logits(tokens), reference(files, tokens))).toBeLessThanOrEqual(1e-4);
    model.dispose();
    const noManifest = (async (input: string | URL | Request) => (String(input).endsWith('manifest.json') ? new Response('', { status: 404 }) : fakeFetch(input))) as typeof fetch;
    await expect(loadModel('https://example.test/m/', device, undefined, { fetch: noManifest })).rejects.toThrow(ModelIntegrityError);
  });

  it('rejects files that do not match the manifest', async () => {
    const files = await tinyModelFiles(DIFF);
    const st = (files['model.safetensors'] as Uint8Array).slice();
    st[st.length - 1] ^= 1;
    await expect(loadModel({ ...files, 'model.safetensors': st }, device)).rejects.toThrow(ModelIntegrityError);
    await expect(loadModel({ ...files, 'model.safetensors': st.subarray(0, st.length - 4) }, device)).rejects.toThrow(/bytes/);
  });
});

describe('autoregressive forward', () => {
  it('causal logits equal the reference (F16 weights, untied, ffn not a multiple of 4)', async () => {
    const files = await tinyModelFiles(AR, 4);
    const model = await loadModel(files, device, undefined, { matmulVariant: 'blocked' });
    expect(model).toBeInstanceOf(GpuAutoregressiveModel);
    for (const L of [1, 6, 40]) {
      const tokens = randomTokens(L, AR.vocab - 1, 100 + L, 0);
      expect(relError(await model.logits(tokens), reference(files, tokens)), `L=${L}`).toBeLessThanOrEqual(1e-4);
    }
    model.dispose();
  });

  it('prefill + decodeStep with the KV cache equal the full causal forward', async () => {
    const files = await tinyModelFiles(AR, 5);
    const model = (await loadModel(files, device, undefined, { matmulVariant: 'tiled' })) as GpuAutoregressiveModel;
    const seq = randomTokens(17, AR.vocab - 1, 77, 0);
    const V = AR.vocab;
    const full = await model.logits(seq); // GPU full causal forward
    expect(relError(full, reference(files, seq))).toBeLessThanOrEqual(1e-4);
    const prompt = 5;
    for (const opts of [{ temperature: 0, seed: 0, step: 0 }, { temperature: 0.9, seed: 3, step: 4 }]) {
      const decisions = [await model.prefill(seq.subarray(0, prompt), opts)];
      for (let i = prompt; i < seq.length; i++) decisions.push(await model.decodeStep(seq[i], opts));
      decisions.forEach((d, j) => {
        const row = prompt - 1 + j; // logits row that predicts position row + 1
        const r = decideRef(full.subarray(row * V, (row + 1) * V), { ...opts, position: row + 1, current: -1, maskToken: V - 1 });
        expect(d.token[0], `row ${row}`).toBe(r.token);
        expect(d.prob[0]).toBeCloseTo(r.prob, 4);
        expect(d.entropy[0]).toBeCloseTo(r.entropy, 3);
        expect(d.currentProb[0]).toBe(0);
      });
    }
    expect(model.cacheLength).toBe(seq.length);
    // a prefill runs only what the cache does not hold already (a shared prefix is kept)
    const other = Int32Array.from([...seq.subarray(0, 9), ...randomTokens(4, AR.vocab - 1, 78, 0)]);
    const want = reference(files, other);
    const opts = { temperature: 0, seed: 0, step: 0 };
    const d = await model.prefill(other, opts);
    expect(model.prefillReused).toBe(9);
    const r = decideRef(want.subarray(12 * V, 13 * V), { ...opts, position: 13, current: -1, maskToken: V - 1 });
    expect(d.token[0]).toBe(r.token);
    expect(d.prob[0]).toBeCloseTo(r.prob, 4);
    model.dispose();
  });
});

describe('device and adapter', () => {
  it('chooses the matmul variant by measurement once per adapter key, then remembers it', async () => {
    const persisted: [string, string][] = [];
    const store = new MemoryStore((k, v) => persisted.push([k, v]));
    const first = await chooseMatmulVariant(device, { store, key: 'adapter-A', dim: 64, tokens: 64 });
    expect(['blocked', 'tiled']).toContain(first.variant);
    expect(first.measuredMs).not.toBeNull();
    expect(persisted).toEqual([[first.key, first.variant]]);
    const again = await chooseMatmulVariant(device, { store, key: 'adapter-A' });
    expect(again).toEqual({ variant: first.variant, measuredMs: null, key: first.key });
    const preset = new MemoryStore(undefined, { [first.key.replace('adapter-A', 'adapter-B')]: 'tiled' });
    expect((await chooseMatmulVariant(device, { store: preset, key: 'adapter-B' })).variant).toBe('tiled');
  });

  it('reports device loss: onDeviceLost is called and later calls reject with DeviceLostError', async () => {
    const { device: own } = await requestDevice(nodeGPU());
    let reported: { reason: string } | null = null;
    const model = (await loadModel(await tinyModelFiles(DIFF), own, undefined, { matmulVariant: 'blocked', onDeviceLost: (i) => (reported = i) })) as GpuDiffusionModel;
    const tokens = randomTokens(9, DIFF.vocab, 1);
    await model.decide(tokens, Int32Array.from([1, 2]), { temperature: 0, seed: 0, step: 0 });
    own.destroy();
    await own.lost;
    await new Promise((r) => setTimeout(r, 0));
    expect(reported).toMatchObject({ reason: 'destroyed' });
    expect(model.lost).toMatchObject({ reason: 'destroyed' });
    await expect(model.decide(tokens, Int32Array.from([1]), { temperature: 0, seed: 0, step: 0 })).rejects.toThrow(DeviceLostError);
  });
});
