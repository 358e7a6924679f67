// The CPU engine's WebAssembly SIMD kernels against the float64 reference (src/engine/reference.ts)
// on odd shapes (1, 7, 33, 100, ...: every tail path of the 2×16 register block and the 4-wide
// vectors), single-threaded and with 2 threads (shared memory, worker_threads).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attentionRef, decideRef, matmulRef, pcg4d, relError, rmsnormRef, ropeAngle, ropeRef, swigluRef } from '../reference';
import { rng } from '../testkit';
import { CpuRuntime } from './runtime';
import { dequantize } from '../weights';
import { buildAll } from './build-wasm.mjs';

function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r(lo, hi));
}

/**
 * C (M, ldc) at pc after a matmul that started from c0: its first N columns equal want (M, N)
 * (+ c0 when accumulating) within tol, relative; the columns past N untouched.
 */
function expectMatmulOut(rt: CpuRuntime, pc: number, c0: Float32Array, want: Float64Array, M: number, N: number, ldc: number, acc: boolean, tol: number): void {
  const c = rt.f32.subarray(pc >> 2, (pc >> 2) + M * ldc);
  const got = new Float64Array(M * N);
  const ref = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      got[m * N + n] = c[m * ldc + n];
      ref[m * N + n] = want[m * N + n] + (acc ? c0[m * ldc + n] : 0);
    }
    for (let n = N; n < ldc; n++) expect(c[m * ldc + n]).toBe(c0[m * ldc + n]);
  }
  expect(relError(got, ref), `acc=${acc}`).toBeLessThan(tol);
}

const runtimes: CpuRuntime[] = [];
async function runtime(threads: number, bytes = 32 << 20, maxKeys = 512): Promise<CpuRuntime> {
  const rt = await CpuRuntime.create({ bytes, threads, maxKeys, parallelWork: 0 }); // every op split between the threads
  runtimes.push(rt);
  return rt;
}
afterAll(() => runtimes.forEach((r) => r.dispose()));

describe('kernels.wasm', () => {
  it('the committed .wasm files equal a fresh build of assembly/kernels.ts (else: npm run build:wasm)', async () => {
    const built = (await buildAll()) as Record<string, Uint8Array>;
    for (const [name, bytes] of Object.entries(built)) {
      const committed = new Uint8Array(readFileSync(join(__dirname, name)));
      expect(Buffer.compare(Buffer.from(committed), Buffer.from(bytes)), `${name} is stale`).toBe(0);
    }
  }, 120_000);
});

for (const threads of [1, 2]) {
  describe(`CPU kernels, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
    it.each([
      [1, 1, 1], [1, 7, 33], [7, 33, 100], [33, 100, 7], [100, 17, 64], [2, 16, 16], [64, 48, 256], [130, 200, 33],
    ])('matmul M=%i N=%i K=%i (store and accumulate, strided A and C)', async (M, N, K) => {
      const rt = await runtime(threads);
      const lda = K + 3;
      const ldc = N + 5;
      const a = rand(M * lda, M * 1000 + N);
      const w = rand(N * K, K * 7 + 1);
      const c0 = rand(M * ldc, 99);
      const aDense = new Float64Array(M * K);
      for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) aDense[m * K + k] = a[m * lda + k];
      const want = matmulRef(aDense, w, M, N, K);
      const pa = rt.upload(a);
      const pw = rt.packPanels(w, N, K);
      for (const acc of [false, true]) {
        const pc = rt.upload(c0);
        rt.matmul(pa, lda, pw, pc, ldc, M, N, K, acc);
        expectMatmulOut(rt, pc, c0, want, M, N, ldc, acc, 1e-5);
      }
    });

    it.each([
      // M odd and even (2-row blocks and the single-row tail); groups of 2 .. K (one scale per row);
      // K over 512 in one group (the integer sums flushed every 256 pairs)
      [1, 1, 4, 4], [1, 37, 64, 32], [3, 33, 100, 20], [4, 16, 64, 64], [7, 33, 200, 40], [33, 100, 192, 64],
      [100, 17, 96, 24], [130, 200, 130, 130], [2, 64, 512, 64], [1, 20, 1200, 1200], [2, 18, 1030, 2],
    ])('matmul_i8 M=%i N=%i K=%i G=%i = reference on the dequantised weights within 1e-4 (int16 × int8 dot products; store and accumulate)', async (M, N, K, G) => {
      const rt = await runtime(threads);
      const lda = K + 3;
      const ldc = N + 5;
      const a = rand(M * lda, M * 1000 + N);
      if (M === 2) for (let k = 0; k < K; k++) a[lda + k] = 0; // a zero row (sx = 1)
      const r = rng(K * 13 + G);
      const q = Int8Array.from({ length: N * K }, () => Math.round(r(-127.49, 127.49)));
      const scales = Float32Array.from({ length: (N * K) / G }, () => r(0.001, 0.02));
      const w = dequantize(q, scales, N, K);
      const c0 = rand(M * ldc, 99);
      const aDense = new Float64Array(M * K);
      for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) aDense[m * K + k] = a[m * lda + k];
      const want = matmulRef(aDense, w, M, N, K);
      const pa = rt.upload(a);
      const pq = rt.packPanelsI8(q, scales, N, K);
      expect(pq.group).toBe(G);
      for (const acc of [false, true]) {
        const pc = rt.upload(c0);
        rt.matmulI8(pa, lda, pq, pc, ldc, M, N, K, acc);
        // int16 activations: each within sx/2 = max|a| / 65534 of a
        expectMatmulOut(rt, pc, c0, want, M, N, ldc, acc, 1e-4);
      }
      // the int8 embedding's gather: one dequantised row
      const dst = rt.alloc(K);
      for (const n of [0, N - 1, Math.floor(N / 2)]) {
        rt.gatherRowI8(pq, K, n, dst);
        expect(Array.from(rt.f32.subarray(dst >> 2, (dst >> 2) + K))).toEqual(Array.from(w.subarray(n * K, (n + 1) * K)));
      }
    });

    it.each([[1, 4], [7, 33], [33, 100], [5, 256]])('rmsnorm rows=%i dim=%i (and in place)', async (rows, dim) => {
      const rt = await runtime(threads);
      const x = rand(rows * dim, rows + dim, -3, 3);
      const w = rand(dim, 5, 0.5, 1.5);
      const want = rmsnormRef(x, w, Array.from({ length: rows }, (_, i) => i), dim, 1e-5);
      const px = rt.upload(x);
      const pw = rt.upload(w);
      const po = rt.alloc(rows * dim);
      rt.rmsnorm(px, dim, pw, po, dim, rows, dim, 1e-5);
      expect(relError(rt.f32.subarray(po >> 2, (po >> 2) + rows * dim), want)).toBeLessThan(1e-5);
      rt.rmsnorm(px, dim, pw, px, dim, rows, dim, 1e-5);
      expect(relError(rt.f32.subarray(px >> 2, (px >> 2) + rows * dim), want)).toBeLessThan(1e-5);
    });

    it.each([[1, 1, 4, 0], [7, 3, 12, 5], [33, 8, 32, 100], [5, 2, 64, 3]])('rope rows=%i heads=%i hd=%i pos0=%i', async (rows, heads, hd, pos0) => {
      const rt = await runtime(threads);
      const stride = heads * hd + 3;
      const x = rand(rows * stride, rows * 31 + hd);
      const half = hd / 2;
      const maxSeq = pos0 + rows;
      const cos = new Float32Array(maxSeq * half);
      const sin = new Float32Array(maxSeq * half);
      for (let p = 0; p < maxSeq; p++) for (let i = 0; i < half; i++) {
        cos[p * half + i] = Math.cos(ropeAngle(p, i, hd, 10000));
        sin[p * half + i] = Math.sin(ropeAngle(p, i, hd, 10000));
      }
      const want = Float64Array.from(x);
      ropeRef(want, rows, stride, 0, pos0, heads, hd, 10000);
      const px = rt.upload(x);
      rt.rope(px, stride, rows, heads, hd, rt.upload(cos), rt.upload(sin), pos0);
      expect(relError(rt.f32.subarray(px >> 2, (px >> 2) + rows * stride), want)).toBeLessThan(1e-6);
    });

    it.each([[1, 1], [7, 33], [20, 176]])('swiglu rows=%i F=%i', async (rows, F) => {
      const rt = await runtime(threads);
      const h = rand(rows * 2 * F, F + rows, -6, 6);
      const gate = new Float64Array(rows * F);
      const up = new Float64Array(rows * F);
      for (let r = 0; r < rows; r++) for (let i = 0; i < F; i++) {
        gate[r * F + i] = h[r * 2 * F + i];
        up[r * F + i] = h[r * 2 * F + F + i];
      }
      const want = swigluRef(gate, up);
      const ph = rt.upload(h);
      rt.swiglu(ph, 2 * F, rows, F);
      const got = new Float64Array(rows * F);
      for (let r = 0; r < rows; r++) for (let i = 0; i < F; i++) got[r * F + i] = rt.f32[(ph >> 2) + r * 2 * F + i];
      expect(relError(got, want)).toBeLessThan(1e-5);
    });

    it.each([
      [1, 1, 1, 4, false, 0], [7, 7, 2, 12, false, 0], [33, 33, 4, 16, true, 0], [5, 37, 3, 32, true, 32],
      [1, 100, 8, 32, true, 99], [100, 100, 2, 36, false, 0], [3, 9, 1, 8, true, 2], [20, 50, 2, 4, true, 30],
      [40, 40, 3, 16, true, 0], [17, 81, 2, 64, false, 0],
    ])('attention nQ=%i nK=%i heads=%i hd=%i causal=%s qPos0=%i', async (nQ, nK, heads, hd, causal, qPos0) => {
      const rt = await runtime(threads);
      const dim = heads * hd;
      const qStride = 3 * dim + 1;
      const kvStride = dim + 2;
      const q = rand(nQ * qStride, nQ + nK, -2, 2);
      const k = rand(nK * kvStride, hd + 1, -2, 2);
      const v = rand(nK * kvStride, hd + 2);
      const dense = (src: Float32Array, rows: number, stride: number) => {
        const out = new Float64Array(rows * dim);
        for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) out[r * dim + c] = src[r * stride + c];
        return out;
      };
      const want = attentionRef(dense(q, nQ, qStride), dense(k, nK, kvStride), dense(v, nK, kvStride), { nQueries: nQ, nKeys: nK, nHeads: heads, headDim: hd, qStride: dim, qPos0, causal });
      const po = rt.alloc(nQ * dim);
      rt.attention({ q: rt.upload(q), qStride, k: rt.upload(k), v: rt.upload(v), kvStride, out: po, outStride: dim, nQ, nK, nHeads: heads, hd, qPos0, causal, scale: 1 / Math.sqrt(hd) });
      expect(relError(rt.f32.subarray(po >> 2, (po >> 2) + nQ * dim), want)).toBeLessThan(1e-5);
    });

    it.each([[1, 5], [7, 33], [4, 4096], [3, 1001]])('decide rows=%i vocab=%i, greedy and sampled, mask never chosen', async (rows, V) => {
      const rt = await runtime(threads);
      const logits = rand(rows * V, rows * V, -4, 4);
      const mask = V - 1;
      for (let r = 0; r < rows; r++) logits[r * V + mask] = 50; // a huge mask logit must not matter
      if (V > 3) logits[2] = logits[3]; // a tie in row 0
      const req = new Int32Array(rows * 2);
      for (let r = 0; r < rows; r++) {
        req[2 * r] = 3 * r + 1;
        req[2 * r + 1] = r === 1 ? mask : r === 2 ? -1 : (r * 7) % V;
      }
      const pl = rt.upload(logits);
      const pr = rt.alloc(rows * 2);
      rt.i32.set(req, pr >> 2);
      const po = rt.alloc(rows * 5);
      for (const temperature of [0, 0.7, 1.5]) {
        rt.decide(pl, V, V, mask, temperature, 1234, 5, pr, po, rows);
        for (let r = 0; r < rows; r++) {
          const want = decideRef(logits.subarray(r * V, (r + 1) * V), { temperature, seed: 1234, step: 5, position: req[2 * r], current: req[2 * r + 1], maskToken: mask });
          const o = (po >> 2) + r * 5;
          expect(rt.i32[o], `token T=${temperature} row ${r}`).toBe(want.token);
          expect(rt.f32[o + 1]).toBeCloseTo(want.prob, 5);
          expect(rt.f32[o + 2]).toBeCloseTo(want.margin, 5);
          expect(rt.f32[o + 3]).toBeCloseTo(want.entropy, 4);
          expect(rt.f32[o + 4]).toBeCloseTo(want.currentProb, 5);
        }
      }
    });
  });
}

describe('CPU kernels: threads', () => {
  it('with 2 threads the helper thread really takes work units (claimed chunks)', async () => {
    const rt = await runtime(2);
    const M = 128, N = 512, K = 256;
    const a = rt.upload(rand(M * K, 1));
    const w = rt.packPanels(rand(N * K, 2), N, K);
    const c = rt.alloc(M * N);
    const want = matmulRef(rt.f32.subarray(a >> 2, (a >> 2) + M * K), rand(N * K, 2), M, N, K);
    for (let i = 0; i < 200 && (rt.unitsByThread()[1] ?? 0) === 0; i++) rt.matmul(a, K, w, c, N, M, N, K, false);
    const [main, helper] = rt.unitsByThread();
    expect(helper, `units by thread: ${main}, ${helper}`).toBeGreaterThan(0);
    expect(relError(rt.f32.subarray(c >> 2, (c >> 2) + M * N), want)).toBeLessThan(1e-5);
  });
});

describe('CPU kernels: attention paths agree', () => {
  it('blocked (nQ >= 4) and one-query-at-a-time (nQ < 4) attention give the same rows', async () => {
    const rt = await runtime(1);
    const heads = 2, hd = 20, nK = 37, dim = heads * hd;
    const q = rt.upload(rand(8 * dim, 1));
    const k = rt.upload(rand(nK * dim, 2));
    const v = rt.upload(rand(nK * dim, 3));
    const big = rt.alloc(8 * dim);
    const small = rt.alloc(8 * dim);
    const common = { q, qStride: dim, k, v, kvStride: dim, outStride: dim, nK, nHeads: heads, hd, causal: true, scale: 0.3 };
    rt.attention({ ...common, out: big, nQ: 8, qPos0: 29 });
    for (let i = 0; i < 8; i += 2) rt.attention({ ...common, q: q + 4 * i * dim, out: small + 4 * i * dim, nQ: 2, qPos0: 29 + i });
    expect(relError(rt.f32.subarray(big >> 2, (big >> 2) + 8 * dim), rt.f32.subarray(small >> 2, (small >> 2) + 8 * dim))).toBeLessThan(1e-6);
  });
});

describe('CPU kernel math', () => {
  it('exp, log and the Gumbel noise match float64 (the same pcg4d hash as shaders/decide.wgsl)', async () => {
    const rt = await runtime(1, 1 << 20, 4);
    for (const x of [-86, -20, -1.5, -1e-3, 0, 1e-4, 0.5, 1, 3.7, 20, 80]) {
      expect(Math.abs(rt.math.exp_f32(x) / Math.exp(x) - 1)).toBeLessThan(4e-7);
    }
    for (const x of [1e-30, 1e-7, 0.01, 0.5, 0.70710677, 0.9999999, 1, 1.5, 1000, 3e30]) {
      expect(Math.abs(rt.math.log_f32(x) - Math.log(Math.fround(x)))).toBeLessThan(4e-7 * Math.max(1, Math.abs(Math.log(x))));
    }
    const r = rng(3);
    for (let i = 0; i < 2000; i++) {
      const [seed, step, pos, v] = [Math.floor(r(0, 2 ** 32)), Math.floor(r(0, 1000)), Math.floor(r(0, 512)), Math.floor(r(0, 4096))];
      // u rounded to f32 as the WGSL does (f32(h >> 8) + 0.5 rounds for h >> 8 >= 2^23); logs in f64
      const h = pcg4d(seed, step, pos, v)[0];
      const u = Math.fround(Math.fround(h >>> 8) + 0.5) / 16777216;
      if (u >= 1) continue; // g = +inf in both engines
      const want = -Math.log(-Math.log(u));
      expect(Math.abs(rt.math.gumbel_f32(seed | 0, step, pos, v) - want)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want)));
    }
  });
});
