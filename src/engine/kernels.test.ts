// Each kernel against the float64 reference (reference.ts) on random inputs, several shapes
// including odd sizes. Output buffers are filled with NaN first, so an unwritten element fails.
// Error measure: max |gpu - ref| / max |ref| (relError). Bounds:
//   f32 matmul (all variants, all epilogues) ≤ 1e-4 (K ≤ 256: f32 accumulation error ~ sqrt(K)·6e-8)
//   int8 matmul: bit-identical to matmul_blocked on the dequantised weights, and ≤ 1e-4 vs reference
//   rmsnorm, rope, embed ≤ 1e-5;  attention ≤ 1e-4;  decide: same token, probabilities ≤ 1e-4 abs.
import { beforeAll, describe, expect, it } from 'vitest';
import * as ops from './ops';
import { attentionPipelineName, matmulPipelineName, Pipelines, type PipelineName } from './pipelines';
import type { Recorder } from './recorder';
import { attentionRef, decideRef, matmulRef, relError, rmsnormRef, ropeAngle, ropeRef, swigluRef } from './reference';
import { Epilogue, type MatmulKernel } from './shaders';
import { bufferFrom, countNaN, poisoned, randomF32, readF32, rng, testDevice, testRecorder } from './testkit';
import { dequantize } from './weights';

let device: GPUDevice;
let pipes: Pipelines;
let rec: Recorder;

const KERNELS: MatmulKernel[] = ['tiled', 'blocked', 'rows', 'int8'];

beforeAll(async () => {
  device = await testDevice();
  pipes = Pipelines.of(device);
  const names: PipelineName[] = ['embed', 'embed_int8', 'rmsnorm', 'rope', 'decide', attentionPipelineName(8), attentionPipelineName(32), attentionPipelineName(4), attentionPipelineName(16)];
  for (const k of KERNELS) for (const e of [Epilogue.Store, Epilogue.Accumulate, Epilogue.SwiGLU]) names.push(matmulPipelineName(k, e));
  await pipes.prepare(names);
  rec = testRecorder(device);
}, 120_000);

async function run(fn: () => void): Promise<void> {
  rec.begin();
  fn();
  await rec.finish();
}

// (M, N, K): odd sizes, sizes below and above the tiles, K not a multiple of 4 (tiled only).
const SHAPES: [number, number, number][] = [
  [1, 7, 4], [7, 33, 100], [33, 100, 36], [100, 7, 64], [64, 64, 64], [65, 130, 256], [3, 256, 256], [128, 100, 32],
];
const ODD_K: [number, number, number][] = [[1, 1, 1], [7, 33, 7], [33, 65, 33], [100, 17, 99]];

function f32Weight(w: Float32Array, N: number, K: number): ops.Weight {
  return { kind: 'f32', buffer: bufferFrom(device, w), rows: N, cols: K };
}

describe('matmul', () => {
  for (const kernel of ['tiled', 'blocked', 'rows'] as const) {
    const shapes = kernel === 'tiled' ? [...SHAPES, ...ODD_K] : SHAPES;
    it(`${kernel}: out = A·Wᵀ, rel err ≤ 1e-4`, async () => {
      for (const [M, N, K] of shapes) {
        const a = randomF32(M * K, M * 1000 + K);
        const w = randomF32(N * K, N * 7 + K);
        const out = poisoned(device, M * N);
        await run(() => ops.matmul(rec, pipes, `mm.${kernel}.${M}.${N}.${K}`, kernel, bufferFrom(device, a), f32Weight(w, N, K), out, M, Epilogue.Store));
        const got = await readF32(device, out, M * N);
        expect(countNaN(got), `${kernel} ${M}x${N}x${K} unwritten`).toBe(0);
        expect(relError(got, matmulRef(a, w, M, N, K)), `${kernel} ${M}x${N}x${K}`).toBeLessThanOrEqual(1e-4);
      }
    });

    it(`${kernel}: accumulate epilogue out += A·Wᵀ and SwiGLU epilogue`, async () => {
      for (const [M, N, K] of [[5, 18, 12], [40, 70, 64], [1, 130, 32]] as const) {
        const a = randomF32(M * K, 3 + M);
        const w = randomF32(N * K, 5 + N);
        const base = randomF32(M * N, 9);
        const out = bufferFrom(device, base);
        await run(() => ops.matmul(rec, pipes, `acc.${kernel}.${M}.${N}`, kernel, bufferFrom(device, a), f32Weight(w, N, K), out, M, Epilogue.Accumulate));
        const ref = matmulRef(a, w, M, N, K).map((v, i) => v + base[i]);
        expect(relError(await readF32(device, out, M * N), ref)).toBeLessThanOrEqual(1e-4);

        // SwiGLU: weight rows interleaved (gate_j, up_j); out (M, N/2).
        const out2 = poisoned(device, (M * N) / 2);
        await run(() => ops.matmul(rec, pipes, `swiglu.${kernel}.${M}.${N}`, kernel, bufferFrom(device, a), f32Weight(w, N, K), out2, M, Epilogue.SwiGLU));
        const full = matmulRef(a, w, M, N, K);
        const gate = new Float64Array((M * N) / 2);
        const up = new Float64Array((M * N) / 2);
        for (let m = 0; m < M; m++) for (let j = 0; j < N / 2; j++) {
          gate[m * (N / 2) + j] = full[m * N + 2 * j];
          up[m * (N / 2) + j] = full[m * N + 2 * j + 1];
        }
        const got = await readF32(device, out2, (M * N) / 2);
        expect(countNaN(got)).toBe(0);
        expect(relError(got, swigluRef(gate, up))).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('int8: per-row and per-group scales dequantised in the kernel equal dequantise-then-float exactly', async () => {
    // G = K: one scale per row; G < K: groups (ending inside a 32-row workgroup tile's k range too)
    for (const [M, N, K, G] of [[1, 7, 4, 4], [7, 33, 100, 100], [33, 100, 36, 36], [65, 130, 256, 256], [1, 9, 64, 32], [9, 70, 192, 64], [40, 33, 100, 20], [70, 130, 256, 4]] as const) {
      const r = rng(N * K + G);
      const q = Int8Array.from({ length: N * K }, () => Math.round(r(-127.49, 127.49)));
      const scales = Float32Array.from({ length: (N * K) / G }, () => r(0.001, 0.02));
      const deq = Float32Array.from(q, (v, i) => v * scales[Math.floor(i / K) * (K / G) + Math.floor((i % K) / G)]); // rounded to f32
      const a = randomF32(M * K, M + K);
      const wq: ops.Weight = { kind: 'i8', buffer: bufferFrom(device, q), scales: bufferFrom(device, scales), rows: N, cols: K, group: G };
      const outQ = poisoned(device, M * N);
      const outF = poisoned(device, M * N);
      await run(() => {
        ops.matmul(rec, pipes, `i8.${M}.${N}.${K}.${G}`, 'int8', bufferFrom(device, a), wq, outQ, M, Epilogue.Store);
        ops.matmul(rec, pipes, `i8f.${M}.${N}.${K}.${G}`, 'blocked', bufferFrom(device, a), f32Weight(deq, N, K), outF, M, Epilogue.Store);
      });
      const gotQ = await readF32(device, outQ, M * N);
      const gotF = await readF32(device, outF, M * N);
      expect(countNaN(gotQ)).toBe(0);
      expect(Array.from(gotQ), `int8 ${M}x${N}x${K} vs blocked f32 on dequantised weights`).toEqual(Array.from(gotF));
      expect(relError(gotQ, matmulRef(a, deq, M, N, K))).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe('rmsnorm', () => {
  it('normalises rows (and gathers rows), rel err ≤ 1e-5', async () => {
    for (const [rows, dim] of [[1, 4], [7, 36], [33, 256], [100, 64]] as const) {
      const x = randomF32(rows * dim, rows + dim, 3);
      const w = randomF32(dim, dim, 2);
      const out = poisoned(device, rows * dim);
      const ident = Uint32Array.from({ length: rows }, (_, i) => i);
      await run(() => ops.rmsnorm(rec, pipes, `norm.${rows}.${dim}`, bufferFrom(device, x), bufferFrom(device, w), bufferFrom(device, ident), out, rows, dim, 1e-5, false));
      const got = await readF32(device, out, rows * dim);
      expect(countNaN(got)).toBe(0);
      expect(relError(got, rmsnormRef(x, w, ident, dim, 1e-5))).toBeLessThanOrEqual(1e-5);

      const pick = Uint32Array.from([rows - 1, 0, Math.floor(rows / 2)]);
      const out2 = poisoned(device, 3 * dim);
      await run(() => ops.rmsnorm(rec, pipes, `normg.${rows}.${dim}`, bufferFrom(device, x), bufferFrom(device, w), bufferFrom(device, pick), out2, 3, dim, 1e-5, true));
      expect(relError(await readF32(device, out2, 3 * dim), rmsnormRef(x, w, pick, dim, 1e-5))).toBeLessThanOrEqual(1e-5);
    }
  });
});

function ropeTable(maxSeq: number, headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const t = new Float32Array(maxSeq * half * 2);
  for (let p = 0; p < maxSeq; p++) for (let i = 0; i < half; i++) {
    const a = ropeAngle(p, i, headDim, theta);
    t[(p * half + i) * 2] = Math.cos(a);
    t[(p * half + i) * 2 + 1] = Math.sin(a);
  }
  return t;
}

describe('rope + KV store', () => {
  it('rotate-half on q and k, k and v written at cache rows pos0.., rel err ≤ 1e-5', async () => {
    for (const [T, nHeads, headDim, pos0] of [[1, 1, 4, 0], [7, 2, 8, 3], [33, 4, 32, 100], [100, 8, 32, 0]] as const) {
      const dim = nHeads * headDim;
      const maxSeq = 256;
      const qkv = randomF32(T * 3 * dim, T + dim);
      const qkvBuf = bufferFrom(device, qkv);
      const kc = poisoned(device, maxSeq * dim);
      const vc = poisoned(device, maxSeq * dim);
      await run(() => ops.ropeStoreKv(rec, pipes, `rope.${T}.${dim}`, bufferFrom(device, ropeTable(maxSeq, headDim, 10000)), qkvBuf, kc, vc, T, pos0, dim, headDim));
      const ref = Float64Array.from(qkv);
      ropeRef(ref, T, 3 * dim, 0, pos0, nHeads, headDim, 10000);
      ropeRef(ref, T, 3 * dim, dim, pos0, nHeads, headDim, 10000);
      const gotQkv = await readF32(device, qkvBuf, T * 3 * dim);
      const gotK = (await readF32(device, kc, maxSeq * dim)).subarray(pos0 * dim, (pos0 + T) * dim);
      const gotV = (await readF32(device, vc, maxSeq * dim)).subarray(pos0 * dim, (pos0 + T) * dim);
      const refQ = [], refK = [], refV = [], q = [];
      for (let t = 0; t < T; t++) for (let d = 0; d < dim; d++) {
        refQ.push(ref[t * 3 * dim + d]); q.push(gotQkv[t * 3 * dim + d]);
        refK.push(ref[t * 3 * dim + dim + d]);
        refV.push(qkv[t * 3 * dim + 2 * dim + d]);
      }
      expect(countNaN(gotK) + countNaN(gotV)).toBe(0);
      expect(relError(q, refQ)).toBeLessThanOrEqual(1e-5);
      expect(relError(gotK, refK)).toBeLessThanOrEqual(1e-5);
      expect(relError(gotV, refV)).toBe(0);
    }
  });
});

describe('attention', () => {
  const cases = [
    // nQueries, nKeys, nHeads, headDim, qPos0, causal
    [1, 1, 1, 4, 0, false], [7, 7, 2, 8, 0, false], [33, 20, 4, 8, 0, false], [100, 100, 8, 32, 0, true],
    [7, 7, 2, 8, 0, true], [1, 37, 4, 8, 36, true], [5, 41, 2, 32, 36, true], [64, 33, 2, 8, 0, false],
    [130, 130, 2, 8, 0, true], [131, 70, 1, 16, 0, false],
  ] as const;
  it('online softmax equals full softmax; causal, KV-cache offsets and padding (n_keys), rel err ≤ 1e-4', async () => {
    for (const [nQ, nK, nHeads, headDim, qPos0, causal] of cases) {
      const dim = nHeads * headDim;
      const maxSeq = Math.max(nK, qPos0 + nQ) + 3;
      const qStride = 3 * dim;
      const q = randomF32(nQ * qStride, nQ * 3 + nK, 2);
      const k = randomF32(maxSeq * dim, nK + 11, 2);
      const v = randomF32(maxSeq * dim, nK + 13);
      const out = poisoned(device, nQ * dim);
      const shape = { nQueries: nQ, nKeys: nK, nHeads, headDim, qStride, qPos0, causal };
      await run(() => ops.attention(rec, pipes, `att.${nQ}.${nK}.${dim}.${qPos0}.${causal}`, bufferFrom(device, q), bufferFrom(device, k), bufferFrom(device, v), out, shape));
      const got = await readF32(device, out, nQ * dim);
      expect(countNaN(got)).toBe(0);
      expect(relError(got, attentionRef(q, k, v, shape)), JSON.stringify(shape)).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe('embed', () => {
  it('gathers embedding rows exactly', async () => {
    const vocab = 37;
    const dim = 12;
    const table = randomF32(vocab * dim, 1);
    const tokens = Uint32Array.from([0, 36, 5, 5, 17, 1, 2]);
    const x = poisoned(device, tokens.length * dim);
    await run(() => ops.embed(rec, pipes, 'embed', bufferFrom(device, tokens), f32Weight(table, vocab, dim), x, tokens.length, dim, vocab));
    const got = await readF32(device, x, tokens.length * dim);
    const ref = Array.from(tokens).flatMap((t) => Array.from(table.subarray(t * dim, (t + 1) * dim)));
    expect(Array.from(got)).toEqual(ref);
  });

  it('gathers int8 rows with per-group scales exactly as dequantised (ids past vocab clamped)', async () => {
    for (const [vocab, dim, G] of [[37, 12, 4], [37, 12, 12], [100, 64, 32], [33, 192, 64]] as const) {
      const r = rng(vocab * dim + G);
      const q = Int8Array.from({ length: vocab * dim }, () => Math.round(r(-127.49, 127.49)));
      const scales = Float32Array.from({ length: (vocab * dim) / G }, () => r(0.001, 0.02));
      const deq = dequantize(q, scales, vocab, dim);
      const tokens = Uint32Array.from([0, vocab - 1, 5, 5, 17, 1, 2, vocab + 3]);
      const x = poisoned(device, tokens.length * dim);
      const table: ops.Weight = { kind: 'i8', buffer: bufferFrom(device, q), scales: bufferFrom(device, scales), rows: vocab, cols: dim, group: G };
      await run(() => ops.embed(rec, pipes, `embed8.${vocab}.${dim}.${G}`, bufferFrom(device, tokens), table, x, tokens.length, dim, vocab));
      const got = await readF32(device, x, tokens.length * dim);
      const ref = Array.from(tokens).flatMap((t) => Array.from(deq.subarray(Math.min(t, vocab - 1) * dim, (Math.min(t, vocab - 1) + 1) * dim)));
      expect(Array.from(got), `${vocab}x${dim} G=${G}`).toEqual(ref);
    }
  });
});

describe('decide', () => {
  it('greedy and Gumbel-max decisions match the reference; mask never chosen', async () => {
    for (const [nRows, vocab] of [[1, 7], [5, 100], [3, 4096], [17, 33]] as const) {
      const logits = randomF32(nRows * vocab, vocab + nRows, 4);
      const mask = vocab - 1;
      // make the mask token the largest logit of row 0: it must still not be chosen
      logits[mask] = 50;
      const request = new Uint32Array(nRows * 2);
      for (let r = 0; r < nRows; r++) {
        request[2 * r] = 3 * r + 1;                                  // position
        request[2 * r + 1] = r === 1 ? 0xffffffff : r === 2 ? mask : (r * 5) % vocab; // current
      }
      for (const [temperature, seed, step] of [[0, 0, 0], [1, 42, 3], [0.7, 7, 0]] as const) {
        const out = poisoned(device, nRows * 5);
        await run(() => ops.decide(rec, pipes, `decide.${nRows}.${vocab}.${temperature}`, bufferFrom(device, logits), bufferFrom(device, request), out, { nRows, vocab, temperature, seed, step, maskToken: mask }));
        const got = await readF32(device, out, nRows * 5);
        const tokens = new Int32Array(got.buffer);
        for (let r = 0; r < nRows; r++) {
          const cur = request[2 * r + 1] === 0xffffffff ? -1 : request[2 * r + 1];
          const ref = decideRef(logits.subarray(r * vocab, (r + 1) * vocab), { temperature, seed, step, position: request[2 * r], current: cur, maskToken: mask });
          const where = `row ${r} vocab ${vocab} T ${temperature}`;
          expect(tokens[r * 5], where).toBe(ref.token);
          expect(tokens[r * 5]).not.toBe(mask);
          expect(got[r * 5 + 1], where).toBeCloseTo(ref.prob, 4);
          expect(got[r * 5 + 2], where).toBeCloseTo(ref.margin, 4);
          expect(Math.abs(got[r * 5 + 3] - ref.entropy), where).toBeLessThanOrEqual(1e-4 * Math.max(1, ref.entropy));
          expect(got[r * 5 + 4], where).toBeCloseTo(ref.currentProb, 4);
        }
      }
    }
  });
});
