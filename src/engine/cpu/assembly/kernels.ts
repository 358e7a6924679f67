// ============================================================================================
//  Quicksilver CPU engine: the WebAssembly SIMD kernels (AssemblyScript, 128-bit SIMD).
//  Built by src/engine/cpu/build-wasm.mjs into ../kernels.wasm (one memory, not shared) and
//  ../kernels-mt.wasm (shared memory, for the threaded engine); see ../README.md.
//
//  Rules of this file:
//   - No allocation, no static data, no strings: every pointer is a byte offset into the imported
//     memory, managed by the TypeScript host (src/engine/cpu/runtime.ts). So several instances
//     (one per thread) can share one memory without stepping on each other.
//   - Every kernel takes the range of work units [u0, u1) it should do (rows, panels, heads...),
//     so the host can hand ranges of one operation to several threads.
//   - Shapes are (rows, cols), row-major; strides (ld*) are in floats.
//   - f32 throughout; exp and log are vectorised polynomial approximations (Cephes), a few ulp.
// ============================================================================================

// ---- small SIMD helpers -------------------------------------------------------------------

@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

@inline function ld(p: usize): v128 {
  return v128.load(p);
}

@inline function bcast(p: usize): v128 {
  return f32x4.splat(load<f32>(p));
}

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

@inline function lane(v: v128, j: i32): f32 {
  if (j == 0) return f32x4.extract_lane(v, 0);
  if (j == 1) return f32x4.extract_lane(v, 1);
  if (j == 2) return f32x4.extract_lane(v, 2);
  return f32x4.extract_lane(v, 3);
}

/**
 * e^x per lane (Cephes expf: Cody-Waite reduction, degree-5 polynomial), x clamped to [-87, 88].
 * Rounding to an integer n uses the 1.5·2^23 trick, whose bit pattern also gives 2^n directly
 * (cheaper than nearest + trunc_sat); pmin/pmax map to single instructions (no NaN fix-ups).
 */
@inline function vexp(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, splat(-87.0)), splat(88.0));
  const magic = splat(12582912.0); // 1.5 · 2^23
  const t = f32x4.add(f32x4.mul(x, splat(1.44269504088896341)), magic);
  const fx = f32x4.sub(t, magic);
  let r = f32x4.sub(x, f32x4.mul(fx, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, splat(-2.12194440e-4)));
  let y = splat(1.9875691500e-4);
  y = madd(splat(1.3981999507e-3), y, r);
  y = madd(splat(8.3334519073e-3), y, r);
  y = madd(splat(4.1665795894e-2), y, r);
  y = madd(splat(1.6666665459e-1), y, r);
  y = madd(splat(5.0000001201e-1), y, r);
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, r), r), r), splat(1.0));
  // bits(t) - bits(magic) = n, so 2^n = (bits(t) + 127 - bits(magic)) << 23
  const pow2 = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(y, pow2);
}

/** Natural log per lane of x > 0 (Cephes logf). */
@inline function vlog(x: v128): v128 {
  const bits = x;
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126)));
  // mantissa in [0.5, 1)
  let m = v128.or(v128.and(bits, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));
  const small = f32x4.lt(m, splat(0.707106781186547524));
  e = f32x4.sub(e, v128.and(small, splat(1.0)));
  m = f32x4.sub(f32x4.add(m, v128.and(small, m)), splat(1.0));
  const z = f32x4.mul(m, m);
  let y = splat(7.0376836292e-2);
  y = madd(splat(-1.1514610310e-1), y, m);
  y = madd(splat(1.1676998740e-1), y, m);
  y = madd(splat(-1.2420140846e-1), y, m);
  y = madd(splat(1.4249322787e-1), y, m);
  y = madd(splat(-1.6668057665e-1), y, m);
  y = madd(splat(2.0000714765e-1), y, m);
  y = madd(splat(-2.4999993993e-1), y, m);
  y = madd(splat(3.3333331174e-1), y, m);
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = madd(y, e, splat(-2.12194440e-4));
  y = madd(y, z, splat(-0.5));
  return f32x4.add(f32x4.add(m, y), f32x4.mul(e, splat(0.693359375)));
}

/** Scalar e^x with exactly the vector code (so scalar tails round like the vector body). */
@inline function sexp(x: f32): f32 {
  return f32x4.extract_lane(vexp(splat(x)), 0);
}

@inline function slog(x: f32): f32 {
  return f32x4.extract_lane(vlog(splat(x)), 0);
}

export function exp_f32(x: f32): f32 {
  return sexp(x);
}

export function log_f32(x: f32): f32 {
  return slog(x);
}

// ---- matmul ---------------------------------------------------------------------------------
// C (M, N) = A (M, K) · Wᵀ  (or C += when accumulate), W (N, K) in PyTorch layout, packed once at
// load into panels of 16 output columns: panel p holds W rows 16p .. 16p+15 transposed, element
// (k, j) at w + (p·K + k)·64 + 4j; rows past N are zero. Work unit: one panel.
// Register block: 2 rows of A × 16 columns = 8 f32x4 accumulators (measured best here against
// 4×8, 3×16, 4×12 and k-unrolled variants).

@inline function store16(cp: usize, c0: v128, c1: v128, c2: v128, c3: v128, nt: i32, acc: bool): void {
  if (nt == 16) {
    if (acc) {
      c0 = f32x4.add(c0, ld(cp));
      c1 = f32x4.add(c1, ld(cp + 16));
      c2 = f32x4.add(c2, ld(cp + 32));
      c3 = f32x4.add(c3, ld(cp + 48));
    }
    v128.store(cp, c0);
    v128.store(cp + 16, c1);
    v128.store(cp + 32, c2);
    v128.store(cp + 48, c3);
    return;
  }
  for (let j = 0; j < nt; j++) {
    const v = j < 4 ? c0 : j < 8 ? c1 : j < 12 ? c2 : c3;
    const x = lane(v, j & 3);
    const p = cp + (<usize>j << 2);
    store<f32>(p, acc ? load<f32>(p) + x : x);
  }
}

/**
 * rows × 16 block of C (or C +=) = A (rows, K) · B (K, 16): A rows at a, a + lda4, ... (bytes);
 * B row k (16 floats) at b + k·bs. Only the first nt columns are stored. 2-row register blocks.
 */
@inline function gemmPanel(a: usize, lda4: usize, b: usize, bs: usize, K: i32, c: usize, ldc4: usize, rows: i32, nt: i32, acc: bool): void {
  let m = 0;
  for (; m + 2 <= rows; m += 2) {
    let a0 = a + <usize>m * lda4;
    let a1 = a0 + lda4;
    let c00 = splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    let bp = b;
    for (let k = 0; k < K; k++) {
      const b0 = ld(bp), b1 = ld(bp + 16), b2 = ld(bp + 32), b3 = ld(bp + 48);
      const x0 = bcast(a0), x1 = bcast(a1);
      c00 = madd(c00, x0, b0);
      c01 = madd(c01, x0, b1);
      c02 = madd(c02, x0, b2);
      c03 = madd(c03, x0, b3);
      c10 = madd(c10, x1, b0);
      c11 = madd(c11, x1, b1);
      c12 = madd(c12, x1, b2);
      c13 = madd(c13, x1, b3);
      bp += bs;
      a0 += 4;
      a1 += 4;
    }
    const cp = c + <usize>m * ldc4;
    store16(cp, c00, c01, c02, c03, nt, acc);
    store16(cp + ldc4, c10, c11, c12, c13, nt, acc);
  }
  if (m < rows) {
    let a0 = a + <usize>m * lda4;
    let c00 = splat(0), c01 = c00, c02 = c00, c03 = c00;
    let bp = b;
    for (let k = 0; k < K; k++) {
      const x0 = bcast(a0);
      c00 = madd(c00, x0, ld(bp));
      c01 = madd(c01, x0, ld(bp + 16));
      c02 = madd(c02, x0, ld(bp + 32));
      c03 = madd(c03, x0, ld(bp + 48));
      bp += bs;
      a0 += 4;
    }
    store16(c + <usize>m * ldc4, c00, c01, c02, c03, nt, acc);
  }
}

const MB: i32 = 64; // rows of A per cache block

export function matmul(a: usize, lda: i32, w: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32, accumulate: i32, p0: i32, p1: i32): void {
  const lda4 = <usize>lda << 2;
  const ldc4 = <usize>ldc << 2;
  const panel = <usize>K << 6;
  const acc = accumulate != 0;
  for (let mb = 0; mb < M; mb += MB) {
    const rows = min(M - mb, MB);
    for (let p = p0; p < p1; p++) {
      const n0 = p << 4;
      gemmPanel(a + <usize>mb * lda4, lda4, w + <usize>p * panel, 64, K, c + <usize>mb * ldc4 + (<usize>n0 << 2), ldc4, rows, min(16, N - n0), acc);
    }
  }
}

// ---- int8 matmul -----------------------------------------------------------------------------
// C (M, N) (+)= A (M, K) · Wᵀ with int8 weights W[n, k] = q[n, k] · scale[n, k / G] (one f32 scale
// per output row and group of G input columns; K and G even, G divides K). Packed once at load
// (runtime.ts packPanelsI8) into panels of 16 output columns, k in pairs:
//   q      panel p, k-pair t = k/2: 32 bytes at wq + p·K·16 + t·32; column j's two values
//          (k even, k odd) at byte (j / 8)·16 + (j % 8)·2 + (k % 2)           (K/2, 2, 16) int8
//   scale  panel p, element (g, j) at ws + ((p·nG + g)·16 + j)·4, nG = K / G  (nG, 16) f32
// rows past N have q = 0. Work unit: one panel.
// Integer dot products: each row of A is quantised to int16 (symmetric, one scale per row,
// sx = max|a| / 32767, into the thread's scratch); i32x4.dot_i16x8_s multiplies one k-pair of 4
// columns per instruction (the weights i8 → i16 extended once for both rows of a register block,
// the rows' k-pairs broadcast); integer sums per group (at most 256 pairs at a time, so
// |Σ| ≤ 512 · 127 · 32767 < 2^31), then C += f32(Σ) · scale · sx. Register block: 2 rows × 16
// columns = 8 i32x4 sums; the f32 sums live in scratch between groups (16 loads/stores per group).
// Per 64 products: 2 loads, 4 extends, 2 broadcasts, 8 dots, 8 adds (f32 kernel: 8 loads, 4
// broadcasts, 16 multiplies, 16 adds) and a quarter of the weight bytes. The activations'
// rounding (≤ sx/2 each) is the only difference from the f32 product on the dequantised
// weights: relative error ~1e-5, against ~3e-3 for the int8 weights themselves.
// Scratch per thread: 2·16 f32 sums, then 2 rows of K int16 (i8ScratchFloats in runtime.ts).

/** Row x (K floats) as int16 at dst, symmetric: x16 = round(x / sx), sx = max|x| / 32767 (1 for a zero row); returns sx. */
function quantRow16(x: usize, K: i32, dst: usize): f32 {
  let m4 = splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) m4 = f32x4.max(m4, f32x4.abs(ld(x + (<usize>k << 2))));
  let m = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
  for (; k < K; k++) m = max(m, Mathf.abs(load<f32>(x + (<usize>k << 2))));
  const sx: f32 = m > 0 ? m / <f32>32767.0 : <f32>1.0;
  const inv = splat(<f32>1.0 / sx);
  k = 0;
  for (; k + 8 <= K; k += 8) {
    const o = x + (<usize>k << 2);
    const ia = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(ld(o), inv)));
    const ib = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(ld(o + 16), inv)));
    v128.store(dst + (<usize>k << 1), i16x8.narrow_i32x4_s(ia, ib));
  }
  const invs: f32 = <f32>1.0 / sx;
  for (; k < K; k++) store<i16>(dst + (<usize>k << 1), <i16><i32>nearest<f32>(load<f32>(x + (<usize>k << 2)) * invs));
  return sx;
}

/** One row × 16 of C (+)= x16 · Wᵀ · sx by int16 dot products over the int8 panel (q at qp, scales at sp). */
function gemvPanelI8(x16: usize, sx: f32, qp: usize, sp: usize, K: i32, G: i32, c: usize, nt: i32, acc: bool): void {
  let c0 = splat(0), c1 = c0, c2 = c0, c3 = c0;
  const sxv = splat(sx);
  let q = qp;
  let sg = sp;
  let xp = x16;
  for (let g0 = 0; g0 < K; g0 += G) {
    const s0 = f32x4.mul(ld(sg), sxv), s1 = f32x4.mul(ld(sg + 16), sxv), s2 = f32x4.mul(ld(sg + 32), sxv), s3 = f32x4.mul(ld(sg + 48), sxv);
    let k = 0;
    while (k < G) {
      const kEnd = min(G, k + 512); // ≤ 256 pairs: |Σ| < 2^31
      let i0 = i32x4.splat(0), i1 = i0, i2 = i0, i3 = i0;
      for (; k < kEnd; k += 2) {
        const xv = v128.load32_splat(xp);
        const va = v128.load(q), vb = v128.load(q + 16);
        i0 = i32x4.add(i0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(va), xv));
        i1 = i32x4.add(i1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(va), xv));
        i2 = i32x4.add(i2, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(vb), xv));
        i3 = i32x4.add(i3, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(vb), xv));
        q += 32;
        xp += 4;
      }
      c0 = madd(c0, f32x4.convert_i32x4_s(i0), s0);
      c1 = madd(c1, f32x4.convert_i32x4_s(i1), s1);
      c2 = madd(c2, f32x4.convert_i32x4_s(i2), s2);
      c3 = madd(c3, f32x4.convert_i32x4_s(i3), s3);
    }
    sg += 64;
  }
  store16(c, c0, c1, c2, c3, nt, acc);
}

/** f32 sums (16 at sum) += f32(i0..i3) · (s0..s3) · sx. */
@inline function flush16(sum: usize, i0: v128, i1: v128, i2: v128, i3: v128, s0: v128, s1: v128, s2: v128, s3: v128, sxv: v128): void {
  v128.store(sum, madd(ld(sum), f32x4.convert_i32x4_s(i0), f32x4.mul(s0, sxv)));
  v128.store(sum + 16, madd(ld(sum + 16), f32x4.convert_i32x4_s(i1), f32x4.mul(s1, sxv)));
  v128.store(sum + 32, madd(ld(sum + 32), f32x4.convert_i32x4_s(i2), f32x4.mul(s2, sxv)));
  v128.store(sum + 48, madd(ld(sum + 48), f32x4.convert_i32x4_s(i3), f32x4.mul(s3, sxv)));
}

/** Two rows × 16 of C (+)= (xa, xb) · Wᵀ: one weight extension for both rows; f32 sums at `sum` (2 × 16). */
function gemm2PanelI8(xa: usize, sxa: f32, xb: usize, sxb: f32, qp: usize, sp: usize, K: i32, G: i32, sum: usize, c: usize, ldc4: usize, nt: i32, acc: bool): void {
  const z = splat(0);
  for (let i: usize = 0; i < 128; i += 16) v128.store(sum + i, z);
  const sav = splat(sxa), sbv = splat(sxb);
  let q = qp;
  let sg = sp;
  let pa = xa, pb = xb;
  for (let g0 = 0; g0 < K; g0 += G) {
    const s0 = ld(sg), s1 = ld(sg + 16), s2 = ld(sg + 32), s3 = ld(sg + 48);
    let k = 0;
    while (k < G) {
      const kEnd = min(G, k + 512); // ≤ 256 pairs: |Σ| < 2^31
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      for (; k < kEnd; k += 2) {
        const va = v128.load(q), vb = v128.load(q + 16);
        const w0 = i16x8.extend_low_i8x16_s(va), w1 = i16x8.extend_high_i8x16_s(va);
        const w2 = i16x8.extend_low_i8x16_s(vb), w3 = i16x8.extend_high_i8x16_s(vb);
        const x = v128.load32_splat(pa), y = v128.load32_splat(pb);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(w0, x));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(w1, x));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(w2, x));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(w3, x));
        b0 = i32x4.add(b0, i32x4.dot_i16x8_s(w0, y));
        b1 = i32x4.add(b1, i32x4.dot_i16x8_s(w1, y));
        b2 = i32x4.add(b2, i32x4.dot_i16x8_s(w2, y));
        b3 = i32x4.add(b3, i32x4.dot_i16x8_s(w3, y));
        q += 32;
        pa += 4;
        pb += 4;
      }
      flush16(sum, a0, a1, a2, a3, s0, s1, s2, s3, sav);
      flush16(sum + 64, b0, b1, b2, b3, s0, s1, s2, s3, sbv);
    }
    sg += 64;
  }
  store16(c, ld(sum), ld(sum + 16), ld(sum + 32), ld(sum + 48), nt, acc);
  store16(c + ldc4, ld(sum + 64), ld(sum + 80), ld(sum + 96), ld(sum + 112), nt, acc);
}

export function matmul_i8(a: usize, lda: i32, wq: usize, ws: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32, G: i32, accumulate: i32, scratch: usize, p0: i32, p1: i32): void {
  const lda4 = <usize>lda << 2;
  const ldc4 = <usize>ldc << 2;
  const nG = K / G;
  const acc = accumulate != 0;
  const sum = scratch;                                   // (2, 16) f32 sums
  const xa = scratch + 128;                              // (K,) int16: row m of A, quantised
  const xb = xa + ((<usize>K * 2 + 15) & ~(<usize>15));  // (K,) int16: row m + 1
  let m = 0;
  for (; m + 2 <= M; m += 2) {
    const sxa = quantRow16(a + <usize>m * lda4, K, xa);
    const sxb = quantRow16(a + <usize>(m + 1) * lda4, K, xb);
    for (let p = p0; p < p1; p++) {
      const n0 = p << 4;
      gemm2PanelI8(xa, sxa, xb, sxb, wq + ((<usize>p * <usize>K) << 4), ws + ((<usize>p * <usize>nG) << 6), K, G, sum, c + <usize>m * ldc4 + (<usize>n0 << 2), ldc4, min(16, N - n0), acc);
    }
  }
  if (m < M) {
    const sx = quantRow16(a + <usize>m * lda4, K, xa);
    for (let p = p0; p < p1; p++) {
      const n0 = p << 4;
      gemvPanelI8(xa, sx, wq + ((<usize>p * <usize>K) << 4), ws + ((<usize>p * <usize>nG) << 6), K, G, c + <usize>m * ldc4 + (<usize>n0 << 2), min(16, N - n0), acc);
    }
  }
}

// ---- RMSNorm: out[r] = x[r] / sqrt(mean(x[r]²) + eps) · w. Work unit: one row. ---------------

export function rmsnorm(x: usize, ldx: i32, w: usize, out: usize, ldo: i32, dim: i32, eps: f32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const orow = out + ((<usize>r * <usize>ldo) << 2);
    let s4 = splat(0);
    let d = 0;
    for (; d + 4 <= dim; d += 4) {
      const v = ld(xr + (<usize>d << 2));
      s4 = madd(s4, v, v);
    }
    let ss = hsum(s4);
    for (; d < dim; d++) {
      const v = load<f32>(xr + (<usize>d << 2));
      ss += v * v;
    }
    const inv = <f32>1.0 / Mathf.sqrt(ss / <f32>dim + eps);
    const inv4 = splat(inv);
    d = 0;
    for (; d + 4 <= dim; d += 4) {
      const o = <usize>d << 2;
      v128.store(orow + o, f32x4.mul(f32x4.mul(ld(xr + o), inv4), ld(w + o)));
    }
    for (; d < dim; d++) {
      const o = <usize>d << 2;
      store<f32>(orow + o, load<f32>(xr + o) * inv * load<f32>(w + o));
    }
  }
}

// ---- RoPE, rotate-half: for each head and i < half = hd/2, at position pos0 + r,
//   (x[i], x[i+half]) ← (x[i]·cos − x[i+half]·sin, x[i+half]·cos + x[i]·sin)
// on columns 0 .. nHeads·hd of each row (q and k heads side by side: nHeads = 2·n_heads).
// cos, sin: (max_seq_len, half) tables. Work unit: one row. ---------------------------------

export function rope(x: usize, ldx: i32, nHeads: i32, hd: i32, cosT: usize, sinT: usize, pos0: i32, r0: i32, r1: i32): void {
  const half = hd >> 1;
  for (let r = r0; r < r1; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const tb = (<usize>(pos0 + r) * <usize>half) << 2;
    const ct = cosT + tb;
    const st = sinT + tb;
    for (let h = 0; h < nHeads; h++) {
      const lo = xr + ((<usize>h * <usize>hd) << 2);
      const hi = lo + (<usize>half << 2);
      let i = 0;
      for (; i + 4 <= half; i += 4) {
        const o = <usize>i << 2;
        const x1 = ld(lo + o), x2 = ld(hi + o), c = ld(ct + o), s = ld(st + o);
        v128.store(lo + o, f32x4.sub(f32x4.mul(x1, c), f32x4.mul(x2, s)));
        v128.store(hi + o, f32x4.add(f32x4.mul(x2, c), f32x4.mul(x1, s)));
      }
      for (; i < half; i++) {
        const o = <usize>i << 2;
        const x1 = load<f32>(lo + o), x2 = load<f32>(hi + o), c = load<f32>(ct + o), s = load<f32>(st + o);
        store<f32>(lo + o, x1 * c - x2 * s);
        store<f32>(hi + o, x2 * c + x1 * s);
      }
    }
  }
}

// ---- SwiGLU in place: rows of h = [gate (F) | up (F)]; gate ← silu(gate) · up. Unit: one row. --

export function swiglu(h: usize, ldh: i32, F: i32, r0: i32, r1: i32): void {
  const one = splat(1.0);
  for (let r = r0; r < r1; r++) {
    const g = h + ((<usize>r * <usize>ldh) << 2);
    const u = g + (<usize>F << 2);
    let i = 0;
    for (; i + 4 <= F; i += 4) {
      const o = <usize>i << 2;
      const gv = ld(g + o);
      const s = f32x4.div(gv, f32x4.add(one, vexp(f32x4.neg(gv))));
      v128.store(g + o, f32x4.mul(s, ld(u + o)));
    }
    for (; i < F; i++) {
      const o = <usize>i << 2;
      const gv = load<f32>(g + o);
      store<f32>(g + o, (gv / (<f32>1.0 + sexp(-gv))) * load<f32>(u + o));
    }
  }
}

// ---- attention ------------------------------------------------------------------------------
// out[i, h] = Σ_j softmax_j(q[i,h] · k[j,h] · scale) v[j,h] over visible keys j: all nK
// (bidirectional) or, for the first nCausal queries, j <= qPos0 + i (causal; nCausal = nQ for an
// AR forward, the clean rows of a block-causal step). q (nQ, ·) stride qStride; k, v (nK, ·) stride
// kvStride; head h at columns h·hd. scores: this thread's scratch of nK floats.
// Work unit: one (head, query) pair, t = h·nQ + i (a thread's queries share the head's keys).

export function attention(q: usize, qStride: i32, k: usize, v: usize, kvStride: i32, out: usize, outStride: i32, nQ: i32, nK: i32, hd: i32, qPos0: i32, nCausal: i32, scale: f32, scores: usize, t0: i32, t1: i32): void {
  const kvs = <usize>kvStride << 2;
  for (let t = t0; t < t1; t++) {
    const h = t / nQ;
    const i = t - h * nQ;
    const visible = i < nCausal ? min(nK, qPos0 + i + 1) : nK;
    const hoff = (<usize>h * <usize>hd) << 2;
    const qp = q + ((<usize>i * <usize>qStride) << 2) + hoff;
    const op = out + ((<usize>i * <usize>outStride) << 2) + hoff;
    const kb = k + hoff;
    const vb = v + hoff;
    if (visible <= 0) {
      for (let e = 0; e < hd; e++) store<f32>(op + (<usize>e << 2), 0);
      continue;
    }
    // scores, 4 keys at a time
    let mx = <f32>-Infinity;
    let j = 0;
    for (; j + 4 <= visible; j += 4) {
      const k0 = kb + <usize>j * kvs;
      const k1 = k0 + kvs, k2 = k1 + kvs, k3 = k2 + kvs;
      let s0 = splat(0), s1 = s0, s2 = s0, s3 = s0;
      let e = 0;
      for (; e + 4 <= hd; e += 4) {
        const o = <usize>e << 2;
        const qv = ld(qp + o);
        s0 = madd(s0, qv, ld(k0 + o));
        s1 = madd(s1, qv, ld(k1 + o));
        s2 = madd(s2, qv, ld(k2 + o));
        s3 = madd(s3, qv, ld(k3 + o));
      }
      // transpose-reduce: lane r = Σ s_r
      const t01 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 2, 4, 6), v128.shuffle<f32>(s0, s1, 1, 3, 5, 7));
      const t23 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 2, 4, 6), v128.shuffle<f32>(s2, s3, 1, 3, 5, 7));
      let sv = f32x4.add(v128.shuffle<f32>(t01, t23, 0, 2, 4, 6), v128.shuffle<f32>(t01, t23, 1, 3, 5, 7));
      for (; e < hd; e++) {
        const o = <usize>e << 2;
        const qs = load<f32>(qp + o);
        sv = f32x4.add(sv, f32x4(qs * load<f32>(k0 + o), qs * load<f32>(k1 + o), qs * load<f32>(k2 + o), qs * load<f32>(k3 + o)));
      }
      sv = f32x4.mul(sv, splat(scale));
      v128.store(scores + (<usize>j << 2), sv);
      mx = max(mx, max(max(f32x4.extract_lane(sv, 0), f32x4.extract_lane(sv, 1)), max(f32x4.extract_lane(sv, 2), f32x4.extract_lane(sv, 3))));
    }
    for (; j < visible; j++) {
      const kp = kb + <usize>j * kvs;
      let s4 = splat(0);
      let e = 0;
      for (; e + 4 <= hd; e += 4) s4 = madd(s4, ld(qp + (<usize>e << 2)), ld(kp + (<usize>e << 2)));
      let s = hsum(s4);
      for (; e < hd; e++) s += load<f32>(qp + (<usize>e << 2)) * load<f32>(kp + (<usize>e << 2));
      s *= scale;
      store<f32>(scores + (<usize>j << 2), s);
      mx = max(mx, s);
    }
    // exp and sum
    const mx4 = splat(mx);
    let sum4 = splat(0);
    j = 0;
    for (; j + 4 <= visible; j += 4) {
      const p = scores + (<usize>j << 2);
      const ev = vexp(f32x4.sub(ld(p), mx4));
      v128.store(p, ev);
      sum4 = f32x4.add(sum4, ev);
    }
    let sum = hsum(sum4);
    for (; j < visible; j++) {
      const p = scores + (<usize>j << 2);
      const ev = sexp(load<f32>(p) - mx);
      store<f32>(p, ev);
      sum += ev;
    }
    const inv = splat(<f32>1.0 / sum);
    // out = Σ p_j v_j / sum, in column chunks of 32, 16, 4 and 1
    let e = 0;
    for (; e + 32 <= hd; e += 32) {
      let a0 = splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      let vp = vb + (<usize>e << 2);
      for (let jj = 0; jj < visible; jj++) {
        const pj = bcast(scores + (<usize>jj << 2));
        a0 = madd(a0, pj, ld(vp));
        a1 = madd(a1, pj, ld(vp + 16));
        a2 = madd(a2, pj, ld(vp + 32));
        a3 = madd(a3, pj, ld(vp + 48));
        a4 = madd(a4, pj, ld(vp + 64));
        a5 = madd(a5, pj, ld(vp + 80));
        a6 = madd(a6, pj, ld(vp + 96));
        a7 = madd(a7, pj, ld(vp + 112));
        vp += kvs;
      }
      const o = op + (<usize>e << 2);
      v128.store(o, f32x4.mul(a0, inv));
      v128.store(o + 16, f32x4.mul(a1, inv));
      v128.store(o + 32, f32x4.mul(a2, inv));
      v128.store(o + 48, f32x4.mul(a3, inv));
      v128.store(o + 64, f32x4.mul(a4, inv));
      v128.store(o + 80, f32x4.mul(a5, inv));
      v128.store(o + 96, f32x4.mul(a6, inv));
      v128.store(o + 112, f32x4.mul(a7, inv));
    }
    for (; e + 16 <= hd; e += 16) {
      let a0 = splat(0), a1 = a0, a2 = a0, a3 = a0;
      let vp = vb + (<usize>e << 2);
      for (let jj = 0; jj < visible; jj++) {
        const pj = bcast(scores + (<usize>jj << 2));
        a0 = madd(a0, pj, ld(vp));
        a1 = madd(a1, pj, ld(vp + 16));
        a2 = madd(a2, pj, ld(vp + 32));
        a3 = madd(a3, pj, ld(vp + 48));
        vp += kvs;
      }
      const o = op + (<usize>e << 2);
      v128.store(o, f32x4.mul(a0, inv));
      v128.store(o + 16, f32x4.mul(a1, inv));
      v128.store(o + 32, f32x4.mul(a2, inv));
      v128.store(o + 48, f32x4.mul(a3, inv));
    }
    for (; e + 4 <= hd; e += 4) {
      let a0 = splat(0);
      let vp = vb + (<usize>e << 2);
      for (let jj = 0; jj < visible; jj++) {
        a0 = madd(a0, bcast(scores + (<usize>jj << 2)), ld(vp));
        vp += kvs;
      }
      v128.store(op + (<usize>e << 2), f32x4.mul(a0, inv));
    }
    const invs = <f32>1.0 / sum;
    for (; e < hd; e++) {
      let a: f32 = 0;
      let vp = vb + (<usize>e << 2);
      for (let jj = 0; jj < visible; jj++) {
        a += load<f32>(scores + (<usize>jj << 2)) * load<f32>(vp);
        vp += kvs;
      }
      store<f32>(op + (<usize>e << 2), a * invs);
    }
  }
}

// Blocked attention for many queries: work unit = (head h, block of QB queries), t = h·nBlocks + b.
// Per unit, both products run on the matmul's 2×16 register block (gemmPanel):
//   S (QB, keys) = Q_block · K_hᵀ, with K_h packed into 16-key panels (hd × 16) in scratch
//                  (reused while a thread stays on one head);
//   softmax of each row over its visible keys (scale folded into the exponent), zero past them;
//   O (QB, hd)   = P · V_h, V read in place (16-column panels of V's rows, stride kvStride);
//   O rows scaled by 1 / Σ.
// Scratch: [K panels: roundUp(nK, 16) · hd][S: QB · roundUp(nK, 16)][1/Σ: QB] floats.
// Note: the P·V panels read 16 columns of V at every e0, so for hd % 16 != 0 they read (and
// discard) up to 15 floats past a row's head: the memory after V must exist (the host keeps slack).

const QB: i32 = 16;

export function attention_blocked(q: usize, qStride: i32, k: usize, v: usize, kvStride: i32, out: usize, outStride: i32, nQ: i32, nK: i32, hd: i32, qPos0: i32, nCausal: i32, scale: f32, scratch: usize, t0: i32, t1: i32): void {
  const nBlocks = (nQ + QB - 1) / QB;
  const kvs = <usize>kvStride << 2;
  const qs4 = <usize>qStride << 2;
  const os4 = <usize>outStride << 2;
  const nKp = (nK + 15) & ~15;
  const kt = scratch;
  const sp = kt + ((<usize>nKp * <usize>hd) << 2);
  const lds = <usize>nKp << 2;
  const inv = sp + ((<usize>QB * <usize>nKp) << 2);
  const panelBytes = <usize>hd << 6;
  let packedHead = -1;
  let packedKeys = 0;
  for (let t = t0; t < t1; t++) {
    const h = t / nBlocks;
    const i0 = (t - h * nBlocks) * QB;
    const rows = min(QB, nQ - i0);
    const visMax = i0 + rows <= nCausal ? min(nK, qPos0 + i0 + rows) : nK;
    const hoff = (<usize>h * <usize>hd) << 2;
    const qb = q + <usize>i0 * qs4 + hoff;
    const ob = out + <usize>i0 * os4 + hoff;
    if (visMax <= 0) {
      for (let r = 0; r < rows; r++) for (let e = 0; e < hd; e++) store<f32>(ob + <usize>r * os4 + (<usize>e << 2), 0);
      continue;
    }
    // pack keys [0, visMax) of head h: panel j>>4, element (e, j&15); zero the last panel's tail
    if (h != packedHead || packedKeys < visMax) {
      const kh = k + hoff;
      for (let j = 0; j < visMax; j++) {
        const src = kh + <usize>j * kvs;
        const dst = kt + <usize>(j >> 4) * panelBytes + (<usize>(j & 15) << 2);
        for (let e = 0; e < hd; e++) store<f32>(dst + (<usize>e << 6), load<f32>(src + (<usize>e << 2)));
      }
      for (let j = visMax; j < ((visMax + 15) & ~15); j++) {
        const dst = kt + <usize>(j >> 4) * panelBytes + (<usize>(j & 15) << 2);
        for (let e = 0; e < hd; e++) store<f32>(dst + (<usize>e << 6), 0);
      }
      packedHead = h;
      packedKeys = visMax;
    }
    // S = Q_block · K_hᵀ (raw dot products)
    const nPanels = (visMax + 15) >> 4;
    for (let p = 0; p < nPanels; p++) {
      gemmPanel(qb, qs4, kt + <usize>p * panelBytes, 64, hd, sp + (<usize>p << 6), lds, rows, 16, false);
    }
    // softmax per row over its visible keys; P = 0 for visible <= j < visMax
    const scale4 = splat(scale);
    for (let r = 0; r < rows; r++) {
      const vis = i0 + r < nCausal ? min(nK, qPos0 + i0 + r + 1) : nK;
      const row = sp + <usize>r * lds;
      let mx = <f32>-Infinity;
      let j = 0;
      let mx4 = splat(-Infinity);
      for (; j + 4 <= vis; j += 4) mx4 = f32x4.pmax(mx4, ld(row + (<usize>j << 2)));
      mx = max(max(f32x4.extract_lane(mx4, 0), f32x4.extract_lane(mx4, 1)), max(f32x4.extract_lane(mx4, 2), f32x4.extract_lane(mx4, 3)));
      for (; j < vis; j++) mx = max(mx, load<f32>(row + (<usize>j << 2)));
      const m4 = splat(mx);
      let sum4 = splat(0);
      j = 0;
      for (; j + 4 <= vis; j += 4) {
        const p = row + (<usize>j << 2);
        const e = vexp(f32x4.mul(f32x4.sub(ld(p), m4), scale4));
        v128.store(p, e);
        sum4 = f32x4.add(sum4, e);
      }
      let sum = hsum(sum4);
      for (; j < vis; j++) {
        const p = row + (<usize>j << 2);
        const e = sexp((load<f32>(p) - mx) * scale);
        store<f32>(p, e);
        sum += e;
      }
      for (; j < visMax; j++) store<f32>(row + (<usize>j << 2), 0);
      store<f32>(inv + (<usize>r << 2), <f32>1.0 / sum);
    }
    // O = P · V_h, then rows scaled by 1/Σ
    const vh = v + hoff;
    for (let e0 = 0; e0 < hd; e0 += 16) {
      gemmPanel(sp, lds, vh + (<usize>e0 << 2), kvs, visMax, ob + (<usize>e0 << 2), os4, rows, min(16, hd - e0), false);
    }
    for (let r = 0; r < rows; r++) {
      const o = ob + <usize>r * os4;
      const iv = load<f32>(inv + (<usize>r << 2));
      const iv4 = splat(iv);
      let e = 0;
      for (; e + 4 <= hd; e += 4) v128.store(o + (<usize>e << 2), f32x4.mul(ld(o + (<usize>e << 2)), iv4));
      for (; e < hd; e++) store<f32>(o + (<usize>e << 2), load<f32>(o + (<usize>e << 2)) * iv);
    }
  }
}

// ---- decide ---------------------------------------------------------------------------------
// One decision per logits row, the definition of shaders/decide.wgsl: z = logit / T (T = 0:
// greedy, z = logit); p = softmax(z) over the vocabulary without the mask token; token = argmax z
// or argmax (z + Gumbel(seed, step, position, v)) with the same pcg4d hash as the WGSL; ties to
// the lowest id. req: (rows, 2) i32 [position, current token or -1]; out: (rows, 5) f32
// [token (i32 bits), prob, margin, entropy (nats), current_prob]. Work unit: one row.

/** pcg4d (Jarzynski & Olano 2020) on 4 lanes at once: returns the x output. */
@inline function pcg4dX(x0: v128, y0: v128, z0: v128, w0: v128): v128 {
  const mul = i32x4.splat(1664525);
  const inc = i32x4.splat(1013904223);
  let x = i32x4.add(i32x4.mul(x0, mul), inc);
  let y = i32x4.add(i32x4.mul(y0, mul), inc);
  let z = i32x4.add(i32x4.mul(z0, mul), inc);
  let w = i32x4.add(i32x4.mul(w0, mul), inc);
  x = i32x4.add(x, i32x4.mul(y, w));
  y = i32x4.add(y, i32x4.mul(z, x));
  z = i32x4.add(z, i32x4.mul(x, y));
  w = i32x4.add(w, i32x4.mul(y, z));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  y = v128.xor(y, i32x4.shr_u(y, 16));
  z = v128.xor(z, i32x4.shr_u(z, 16));
  w = v128.xor(w, i32x4.shr_u(w, 16));
  x = i32x4.add(x, i32x4.mul(y, w));
  y = i32x4.add(y, i32x4.mul(z, x));
  z = i32x4.add(z, i32x4.mul(x, y));
  return x;
}

/** Standard Gumbel noise -log(-log u), u = ((h >> 8) + 0.5) / 2^24, for 4 vocabulary ids. */
@inline function vgumbel(seed: v128, step: v128, pos: v128, ids: v128): v128 {
  const h = pcg4dX(seed, step, pos, ids);
  const u = f32x4.mul(f32x4.add(f32x4.convert_i32x4_u(i32x4.shr_u(h, 8)), splat(0.5)), splat(<f32>1.0 / <f32>16777216.0));
  return f32x4.neg(vlog(f32x4.neg(vlog(u))));
}

export function gumbel_f32(seed: i32, step: i32, position: i32, v: i32): f32 {
  return f32x4.extract_lane(vgumbel(i32x4.splat(seed), i32x4.splat(step), i32x4.splat(position), i32x4.splat(v)), 0);
}

@inline function ranksAbove(a: f32, ia: i32, b: f32, ib: i32): bool {
  return a > b || (a == b && <u32>ia < <u32>ib);
}

export function decide(logits: usize, ldl: i32, V: i32, mask: i32, invT: f32, sample: i32, seed: i32, step: i32, req: usize, out: usize, r0: i32, r1: i32): void {
  const NONE: i32 = -1;
  for (let r = r0; r < r1; r++) {
    const row = logits + ((<usize>r * <usize>ldl) << 2);
    const position = load<i32>(req + (<usize>r << 3));
    const current = load<i32>(req + (<usize>r << 3) + 4);
    // pass 1: top two (values; top1 id, ties to the lowest id), skipping the mask token
    let top1: f32 = -Infinity, top2: f32 = -Infinity;
    let top1Id = NONE;
    for (let v = 0; v < V; v++) {
      if (v == mask) continue;
      const z = load<f32>(row + (<usize>v << 2)) * invT;
      if (z > top1 || top1Id == NONE) {
        top2 = top1;
        top1 = z;
        top1Id = v;
      } else if (z > top2) top2 = z;
    }
    const mx = top1;
    // pass 2: Σ e^(z - max) and Σ e^(z - max)(z - max), the mask lane zeroed
    const invT4 = splat(invT);
    const mx4 = splat(mx);
    const mask4 = i32x4.splat(mask);
    let ids = i32x4(0, 1, 2, 3);
    const four = i32x4.splat(4);
    let sum4 = splat(0), ent4 = splat(0);
    let v = 0;
    for (; v + 4 <= V; v += 4) {
      const d = f32x4.sub(f32x4.mul(ld(row + (<usize>v << 2)), invT4), mx4);
      const e = v128.andnot(vexp(d), i32x4.eq(ids, mask4));
      sum4 = f32x4.add(sum4, e);
      ent4 = madd(ent4, e, f32x4.max(d, splat(-87.0)));
      ids = i32x4.add(ids, four);
    }
    let sum = hsum(sum4), ent = hsum(ent4);
    for (; v < V; v++) {
      if (v == mask) continue;
      const d = load<f32>(row + (<usize>v << 2)) * invT - mx;
      const e = sexp(d);
      sum += e;
      ent += e * max(d, <f32>-87.0);
    }
    // pass 3: Gumbel-max
    let token = top1Id;
    let zToken = top1;
    if (sample != 0) {
      const seed4 = i32x4.splat(seed), step4 = i32x4.splat(step), pos4 = i32x4.splat(position);
      let best4 = splat(-Infinity);
      let bestId4 = i32x4.splat(NONE);
      let bestZ4 = splat(-Infinity);
      ids = i32x4(0, 1, 2, 3);
      v = 0;
      for (; v + 4 <= V; v += 4) {
        const z = f32x4.mul(ld(row + (<usize>v << 2)), invT4);
        const score = f32x4.add(z, vgumbel(seed4, step4, pos4, ids));
        const better = v128.andnot(f32x4.gt(score, best4), i32x4.eq(ids, mask4));
        best4 = v128.bitselect(score, best4, better);
        bestId4 = v128.bitselect(ids, bestId4, better);
        bestZ4 = v128.bitselect(z, bestZ4, better);
        ids = i32x4.add(ids, four);
      }
      let best: f32 = -Infinity;
      let bestId = NONE;
      let bestZ: f32 = -Infinity;
      for (let l = 0; l < 4; l++) {
        const s = lane(best4, l);
        const id = l == 0 ? i32x4.extract_lane(bestId4, 0) : l == 1 ? i32x4.extract_lane(bestId4, 1) : l == 2 ? i32x4.extract_lane(bestId4, 2) : i32x4.extract_lane(bestId4, 3);
        if (id != NONE && (bestId == NONE || ranksAbove(s, id, best, bestId))) {
          best = s;
          bestId = id;
          bestZ = lane(bestZ4, l);
        }
      }
      for (; v < V; v++) {
        if (v == mask) continue;
        const z = load<f32>(row + (<usize>v << 2)) * invT;
        const s = z + gumbel_f32(seed, step, position, v);
        if (bestId == NONE || s > best) {
          best = s;
          bestId = v;
          bestZ = z;
        }
      }
      token = bestId;
      zToken = bestZ;
    }
    const invSum = <f32>1.0 / sum;
    let currentProb: f32 = 0;
    if (current >= 0 && current < V && current != mask) {
      currentProb = sexp(load<f32>(row + (<usize>current << 2)) * invT - mx) * invSum;
    }
    const o = out + <usize>r * 20;
    store<i32>(o, token);
    store<f32>(o + 4, sexp(zToken - mx) * invSum);
    store<f32>(o + 8, (sexp(top1 - mx) - sexp(top2 - mx)) * invSum);
    store<f32>(o + 12, slog(sum) - ent * invSum);
    store<f32>(o + 16, currentProb);
  }
}

// ---- the entry point of every thread ------------------------------------------------------
// Control block at ctrl (i32 slots): [0..3] the host's thread protocol (src/engine/cpu/threads.ts;
// never touched here), [4] op, [5..] the op's arguments (f32 ones as bits), written by
// src/engine/cpu/runtime.ts. run() does work units [u0, u1) of that op; `tid` picks the thread's
// scratch (attention scores). The host hands out unit ranges (statically or claimed).

export const OP_MATMUL: i32 = 1;
export const OP_ATTENTION: i32 = 2;
export const OP_DECIDE: i32 = 3;
export const OP_RMSNORM: i32 = 4;
export const OP_ROPE: i32 = 5;
export const OP_SWIGLU: i32 = 6;
export const OP_MATMUL_I8: i32 = 7;

@inline function arg(ctrl: usize, i: i32): i32 {
  return load<i32>(ctrl + 20 + (<usize>i << 2));
}

@inline function argf(ctrl: usize, i: i32): f32 {
  return load<f32>(ctrl + 20 + (<usize>i << 2));
}

export function run(ctrl: usize, tid: i32, u0: i32, u1: i32): void {
  const op = load<i32>(ctrl + 16);
  if (u0 >= u1) return;
  if (op == OP_MATMUL) {
    matmul(<usize>arg(ctrl, 0), arg(ctrl, 1), <usize>arg(ctrl, 2), <usize>arg(ctrl, 3), arg(ctrl, 4), arg(ctrl, 5), arg(ctrl, 6), arg(ctrl, 7), arg(ctrl, 8), u0, u1);
  } else if (op == OP_ATTENTION) {
    const scratch = <usize>arg(ctrl, 15) + <usize>tid * <usize>arg(ctrl, 16);
    if (arg(ctrl, 14) != 0) attention_blocked(<usize>arg(ctrl, 0), arg(ctrl, 1), <usize>arg(ctrl, 2), <usize>arg(ctrl, 3), arg(ctrl, 4), <usize>arg(ctrl, 5), arg(ctrl, 6), arg(ctrl, 7), arg(ctrl, 8), arg(ctrl, 9), arg(ctrl, 10), arg(ctrl, 11), argf(ctrl, 12), scratch, u0, u1);
    else attention(<usize>arg(ctrl, 0), arg(ctrl, 1), <usize>arg(ctrl, 2), <usize>arg(ctrl, 3), arg(ctrl, 4), <usize>arg(ctrl, 5), arg(ctrl, 6), arg(ctrl, 7), arg(ctrl, 8), arg(ctrl, 9), arg(ctrl, 10), arg(ctrl, 11), argf(ctrl, 12), scratch, u0, u1);
  } else if (op == OP_DECIDE) {
    decide(<usize>arg(ctrl, 0), arg(ctrl, 1), arg(ctrl, 2), arg(ctrl, 3), argf(ctrl, 4), arg(ctrl, 5), arg(ctrl, 6), arg(ctrl, 7), <usize>arg(ctrl, 8), <usize>arg(ctrl, 9), u0, u1);
  } else if (op == OP_RMSNORM) {
    rmsnorm(<usize>arg(ctrl, 1), arg(ctrl, 2), <usize>arg(ctrl, 3), <usize>arg(ctrl, 4), arg(ctrl, 5), arg(ctrl, 6), argf(ctrl, 7), u0, u1);
  } else if (op == OP_ROPE) {
    rope(<usize>arg(ctrl, 1), arg(ctrl, 2), arg(ctrl, 3), arg(ctrl, 4), <usize>arg(ctrl, 5), <usize>arg(ctrl, 6), arg(ctrl, 7), u0, u1);
  } else if (op == OP_SWIGLU) {
    swiglu(<usize>arg(ctrl, 1), arg(ctrl, 2), arg(ctrl, 3), u0, u1);
  } else if (op == OP_MATMUL_I8) {
    const scratch = <usize>arg(ctrl, 11) + <usize>tid * <usize>arg(ctrl, 12);
    matmul_i8(<usize>arg(ctrl, 0), arg(ctrl, 1), <usize>arg(ctrl, 2), <usize>arg(ctrl, 3), <usize>arg(ctrl, 4), arg(ctrl, 5), arg(ctrl, 6), arg(ctrl, 7), arg(ctrl, 8), arg(ctrl, 9), arg(ctrl, 10), scratch, u0, u1);
  }
}

/** First byte the host may use (after any static data of this module). */
export function heap_base(): usize {
  return __heap_base;
}
