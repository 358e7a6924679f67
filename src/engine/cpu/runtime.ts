// The CPU engine's runtime: one WebAssembly.Memory sized once for the model, the kernel module
// instantiated on it, a bump allocator for weights and activations, and one method per kernel
// (assembly/kernels.ts). With threads, the memory is shared and every parallel kernel is split
// between this thread and the pool's workers (threads.ts); without, it runs here alone.
// All pointers are byte offsets into the memory; shapes (rows, cols) row-major; strides in floats.

import { MAX_THREADS, ThreadPool } from './threads';
import { kernelModule, threadsSupported } from './wasm';

interface KernelExports {
  matmul(a: number, lda: number, w: number, c: number, ldc: number, M: number, N: number, K: number, accumulate: number, p0: number, p1: number): void;
  matmul_i8(a: number, lda: number, wq: number, ws: number, c: number, ldc: number, M: number, N: number, K: number, G: number, accumulate: number, scratch: number, p0: number, p1: number): void;
  rmsnorm(x: number, ldx: number, w: number, out: number, ldo: number, dim: number, eps: number, r0: number, r1: number): void;
  rope(x: number, ldx: number, nHeads: number, hd: number, cosT: number, sinT: number, pos0: number, r0: number, r1: number): void;
  swiglu(h: number, ldh: number, F: number, r0: number, r1: number): void;
  run(ctrl: number, tid: number, u0: number, u1: number): void;
  heap_base(): number;
  exp_f32(x: number): number;
  log_f32(x: number): number;
  gumbel_f32(seed: number, step: number, position: number, v: number): number;
}

const OP = { matmul: 1, attention: 2, decide: 3, rmsnorm: 4, rope: 5, swiglu: 6, matmul_i8: 7 } as const;
const OP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k]));

/** Byte offset of the control block (threads.ts) and of the first allocation. */
const CTRL = 4096;
const HEAP0 = 8192;
const ALIGN = 64;
/** Query block of attention_blocked (QB in assembly/kernels.ts). */
const ATTENTION_QB = 16;
/** Ops with less work than this (≈ flops; ~50 µs on one core) run on the calling thread alone. */
const PARALLEL_WORK = 2e6;
const PAGE = 65536;
/** Per-thread scratch of matmul_i8 (floats): 2 × 16 f32 sums, two rows of A as int16 (maxInputs each, 16-byte aligned). */
const i8ScratchFloats = (maxInputs: number) => 32 + 2 * (Math.ceil(maxInputs / 8) * 4);
/** Default largest K of an int8 matmul (RuntimeOptions.maxInputs). */
const MAX_INPUTS = 4096;

/** An int8 weight packed for matmul_i8 (packPanelsI8): byte offsets of the q and scale panels. */
export interface PackedI8 {
  q: number;      // panels of (K, 16) int8
  scales: number; // panels of (K / group, 16) f32
  group: number;  // input columns per scale
}

export interface RuntimeOptions {
  /** Bytes the caller will allocate (weights + activations), not counting per-thread scratch. */
  bytes: number;
  /** Threads including this one; 1 = single-threaded (default: 1). Above 1 needs threadsSupported(). */
  threads?: number;
  /** Longest key sequence attention will see (sizes each thread's attention scratch). */
  maxKeys: number;
  /** Largest head dimension attention will see (default 256). */
  maxHeadDim?: number;
  /** Largest K (input features) of an int8 matmul (default 4096; sizes matmul_i8's scratch). */
  maxInputs?: number;
  /** Ops with less work than this run on the calling thread alone (default PARALLEL_WORK; tests: 0). */
  parallelWork?: number;
}

export class CpuRuntime {
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  /** Kernel calls so far (the CPU counterpart of GPU dispatches). */
  calls = 0;
  /** Benchmarks: when set, wall ms per kernel name are added up here. */
  profile: Map<string, number> | null = null;
  private top = HEAP0;
  private readonly scratch: number;
  private readonly scratchStride: number;
  private disposed = false;

  private constructor(
    readonly memory: WebAssembly.Memory,
    private readonly k: KernelExports,
    private readonly pool: ThreadPool | null,
    readonly threads: number,
    private readonly scratchFloats: number,
    private readonly parallelWork: number,
    /** Largest K matmulI8 takes. */
    readonly maxInputs: number,
  ) {
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    if (k.heap_base() > CTRL) throw new Error(`CPU engine: kernel module has ${k.heap_base()} bytes of static data, more than the ${CTRL} reserved`);
    this.scratchStride = roundUp(scratchFloats * 4, ALIGN);
    this.scratch = this.allocBytes(this.scratchStride * threads);
  }

  static async create(opts: RuntimeOptions): Promise<CpuRuntime> {
    let threads = Math.min(MAX_THREADS, Math.max(1, Math.floor(opts.threads ?? 1)));
    if (threads > 1 && !threadsSupported()) threads = 1;
    const shared = threads > 1;
    const maxInputs = opts.maxInputs ?? MAX_INPUTS;
    const scratchFloats = Math.max(i8ScratchFloats(maxInputs), CpuRuntime.attentionScratchFloats(opts.maxKeys, opts.maxHeadDim ?? 256));
    const scratchBytes = roundUp(scratchFloats * 4, ALIGN) * threads;
    const pages = Math.ceil((HEAP0 + opts.bytes + scratchBytes + ALIGN * 64) / PAGE);
    if (pages > 65536) throw new Error(`CPU engine: the model needs ${(pages * PAGE) / 2 ** 30} GiB, more than WebAssembly's 4 GiB`);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, ...(shared ? { shared: true } : {}) });
    const module = await kernelModule(shared ? 'shared' : 'single');
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const k = instance.exports as unknown as KernelExports;
    const pool = shared ? await ThreadPool.start(threads, module, memory, CTRL) : null;
    return new CpuRuntime(memory, k, pool, threads, scratchFloats, opts.parallelWork ?? PARALLEL_WORK, maxInputs);
  }

  /** Floats of one thread's attention scratch (assembly/kernels.ts attention_blocked). */
  static attentionScratchFloats(maxKeys: number, maxHeadDim: number): number {
    const nKp = Math.ceil(Math.max(1, maxKeys) / 16) * 16;
    return nKp * maxHeadDim + ATTENTION_QB * nKp + ATTENTION_QB;
  }

  /** Bytes of the memory (what the model holds: weights, activations, caches). */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Reserve `bytes` (64-byte aligned); returns the byte offset. */
  allocBytes(bytes: number): number {
    const p = this.top;
    this.top = roundUp(p + bytes, ALIGN);
    if (this.top > this.memory.buffer.byteLength) throw new Error(`CPU engine: out of memory (${this.top} > ${this.memory.buffer.byteLength}); size RuntimeOptions.bytes with CpuRuntime.size`);
    return p;
  }

  /** Reserve n floats; returns the byte offset. */
  alloc(n: number): number {
    return this.allocBytes(n * 4);
  }

  /** Bytes allocated so far (from the first allocation). */
  get allocated(): number {
    return this.top - HEAP0;
  }

  /** Bytes allocBytes() takes for these byte counts (64-byte aligned each). */
  static sizeBytes(...byteCounts: number[]): number {
    return byteCounts.reduce((s, n) => s + roundUp(n, ALIGN), 0);
  }

  /** Bytes alloc() takes for these float counts (the planning side of RuntimeOptions.bytes). */
  static size(...floatCounts: number[]): number {
    return floatCounts.reduce((s, n) => s + roundUp(n * 4, ALIGN), 0);
  }

  /** A copy of `data` in the memory; returns its byte offset. */
  upload(data: Float32Array): number {
    const p = this.alloc(data.length);
    this.f32.set(data, p >> 2);
    return p;
  }

  /** Floats in the packed panels of a (N, K) weight. */
  static panelFloats(N: number, K: number): number {
    return Math.ceil(N / 16) * 16 * K;
  }

  /**
   * Pack a PyTorch-layout weight W (N, K) (`w`, row-major) into the matmul's panel layout:
   * panels of 16 output columns, panel p element (k, j) = W[16p + j, k], zero past N.
   */
  packPanels(w: Float32Array, N: number, K: number): number {
    if (w.length !== N * K) throw new Error(`packPanels: ${w.length} values for a (${N}, ${K}) weight`);
    const p0 = this.alloc(CpuRuntime.panelFloats(N, K));
    const f = this.f32;
    const base = p0 >> 2;
    const panels = Math.ceil(N / 16);
    for (let p = 0; p < panels; p++) {
      const pb = base + p * K * 16;
      for (let j = 0; j < 16; j++) {
        const n = p * 16 + j;
        if (n >= N) {
          for (let k = 0; k < K; k++) f[pb + k * 16 + j] = 0;
          continue;
        }
        const row = n * K;
        for (let k = 0; k < K; k++) f[pb + k * 16 + j] = w[row + k];
      }
    }
    return p0;
  }

  /** Bytes of the int8 panels (q, then scales) of a (N, K) weight with `groups` scales per row. */
  static panelBytesI8(N: number, K: number, groups: number): number[] {
    const n16 = Math.ceil(N / 16) * 16;
    return [n16 * K, n16 * groups * 4];
  }

  /** Whether matmul_i8 takes an int8 (N, K) weight with `groups` scales per row (K and the group size even). */
  static i8Layout(K: number, groups: number): boolean {
    return Number.isInteger(groups) && groups >= 1 && K % groups === 0 && K % 2 === 0 && (K / groups) % 2 === 0;
  }

  /** Byte of q (k, j) within an int8 panel: k in pairs, 32 bytes a pair (assembly/kernels.ts matmul_i8). */
  static i8Offset(k: number, j: number): number {
    return (k >> 1) * 32 + (j >> 3) * 16 + (j & 7) * 2 + (k & 1);
  }

  /**
   * Pack an int8 weight q (N, K) with scales (N, groups) (W = q · scale[n, k / (K / groups)]) into
   * matmul_i8's panels: panel p holds rows 16p .. 16p+15, q (k, j) at byte i8Offset(k, j) (k-pairs
   * of 32 bytes), scales (g, j) = scale[16p + j, g] (f32); zero past N. K and the group even.
   */
  packPanelsI8(q: Int8Array, scales: Float32Array, N: number, K: number): PackedI8 {
    const groups = scales.length / N;
    if (q.length !== N * K || !CpuRuntime.i8Layout(K, groups)) throw new Error(`packPanelsI8: ${q.length} values, ${scales.length} scales for a (${N}, ${K}) weight (K and the group must be even)`);
    if (K > this.maxInputs) throw new Error(`packPanelsI8: K = ${K} exceeds RuntimeOptions.maxInputs ${this.maxInputs}`);
    const [qBytes, sBytes] = CpuRuntime.panelBytesI8(N, K, groups);
    const qp = this.allocBytes(qBytes);
    const sp = this.allocBytes(sBytes);
    const i8 = new Int8Array(this.memory.buffer, qp, qBytes);
    const f = this.f32;
    const panels = Math.ceil(N / 16);
    for (let p = 0; p < panels; p++) {
      const qb = p * K * 16;
      const sb = (sp >> 2) + p * groups * 16;
      for (let j = 0; j < 16; j++) {
        const n = p * 16 + j;
        if (n >= N) {
          for (let k = 0; k < K; k++) i8[qb + CpuRuntime.i8Offset(k, j)] = 0;
          for (let g = 0; g < groups; g++) f[sb + g * 16 + j] = 0;
          continue;
        }
        for (let k = 0; k < K; k++) i8[qb + CpuRuntime.i8Offset(k, j)] = q[n * K + k];
        for (let g = 0; g < groups; g++) f[sb + g * 16 + j] = scales[n * groups + g];
      }
    }
    return { q: qp, scales: sp, group: K / groups };
  }

  /** Row `n` (K values) of a packed int8 weight, dequantised into f32 memory at `dst` (the int8 embedding's gather). */
  gatherRowI8(w: PackedI8, K: number, n: number, dst: number): void {
    const groups = K / w.group;
    const i8 = new Int8Array(this.memory.buffer);
    const f = this.f32;
    const p = n >> 4, j = n & 15;
    const qb = w.q + p * K * 16;
    const sb = (w.scales >> 2) + p * groups * 16 + j;
    const d = dst >> 2;
    for (let k = 0; k < K; k++) f[d + k] = i8[qb + CpuRuntime.i8Offset(k, j)] * f[sb + Math.floor(k / w.group) * 16];
  }

  // ---- kernels ----------------------------------------------------------------------------------

  /** C (M, N) = A (M, K) · Wᵀ, or C += A · Wᵀ when `accumulate`. w: packed panels (packPanels). */
  matmul(a: number, lda: number, w: number, c: number, ldc: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (M === 0 || N === 0) return;
    this.dispatch(OP.matmul, Math.ceil(N / 16), 2 * M * N * K, [a, lda, w, c, ldc, M, N, K, accumulate ? 1 : 0]);
  }

  /**
   * C (M, N) (+)= A (M, K) · Wᵀ with an int8 weight (packPanelsI8): rows of A quantised to int16
   * (one scale a row), int16 × int8 dot products; relative error ~1e-5 against the f32 product.
   */
  matmulI8(a: number, lda: number, w: PackedI8, c: number, ldc: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (M === 0 || N === 0) return;
    this.dispatch(OP.matmul_i8, Math.ceil(N / 16), 2 * M * N * K, [a, lda, w.q, w.scales, c, ldc, M, N, K, w.group, accumulate ? 1 : 0, this.scratch, this.scratchStride]);
  }

  /** out[r] = rmsnorm(x[r]) · w for rows r < rows. In place when out = x. */
  rmsnorm(x: number, ldx: number, w: number, out: number, ldo: number, rows: number, dim: number, eps: number): void {
    this.dispatch(OP.rmsnorm, rows, 4 * rows * dim, [rows, x, ldx, w, out, ldo, dim, eps], [7]);
  }

  /** Rotate-half RoPE in place on columns 0 .. nHeads·hd of rows r < rows, at positions pos0 + r. */
  rope(x: number, ldx: number, rows: number, nHeads: number, hd: number, cosT: number, sinT: number, pos0: number): void {
    this.dispatch(OP.rope, rows, 3 * rows * nHeads * hd, [rows, x, ldx, nHeads, hd, cosT, sinT, pos0]);
  }

  /** Rows of h = [gate F | up F]: gate ← silu(gate) · up, in place. */
  swiglu(h: number, ldh: number, rows: number, F: number): void {
    this.dispatch(OP.swiglu, rows, 25 * rows * F, [rows, h, ldh, F]);
  }

  /**
   * out[i, h] = softmax(q kᵀ · scale) v per head over all nK keys, or keys j <= qPos0 + i (causal;
   * with nCausal, only queries i < nCausal are causal: a block-causal step's clean rows).
   */
  attention(s: {
    q: number; qStride: number; k: number; v: number; kvStride: number; out: number; outStride: number;
    nQ: number; nK: number; nHeads: number; hd: number; qPos0: number; causal: boolean; nCausal?: number; scale: number;
  }): void {
    const nKp = Math.ceil(s.nK / 16) * 16;
    // many queries: blocked (both products on the matmul micro-kernel); a few: one query at a time
    const blocked = s.nQ >= 4;
    const need = blocked ? nKp * s.hd + ATTENTION_QB * nKp + ATTENTION_QB : s.nK;
    if (need * 4 > this.scratchStride) throw new Error(`attention: ${s.nK} keys × head_dim ${s.hd} exceed the scratch (RuntimeOptions.maxKeys / maxHeadDim)`);
    const units = blocked ? s.nHeads * Math.ceil(s.nQ / ATTENTION_QB) : s.nQ * s.nHeads;
    const args = [s.q, s.qStride, s.k, s.v, s.kvStride, s.out, s.outStride, s.nQ, s.nK, s.hd, s.qPos0, s.causal ? (s.nCausal ?? s.nQ) : 0, s.scale, s.nHeads, blocked ? 1 : 0, this.scratch, this.scratchStride];
    const visible = s.causal && (s.nCausal ?? s.nQ) >= s.nQ ? Math.min(s.nK, s.qPos0 + s.nQ) : s.nK;
    this.dispatch(OP.attention, units, 4 * s.nQ * visible * s.nHeads * s.hd + 20 * s.nQ * visible * s.nHeads, args, [12]);
  }

  /**
   * One decision per logits row (shaders/decide.wgsl's definition). req: (rows, 2) i32
   * [position, current token or -1]; out: (rows, 5) [token (i32), prob, margin, entropy, currentProb].
   */
  decide(logits: number, ldl: number, V: number, mask: number, temperature: number, seed: number, step: number, req: number, out: number, rows: number): void {
    const sample = temperature > 0;
    const args = [logits, ldl, V, mask, sample ? 1 / temperature : 1, sample ? 1 : 0, seed | 0, step | 0, req, out, rows];
    this.dispatch(OP.decide, rows, rows * V * (sample ? 60 : 15), args, [4]);
  }

  /** Work units each thread ran in parallel ops so far (tests, benchmarks); [] without threads. */
  unitsByThread(): number[] {
    return this.pool?.unitsByThread() ?? [];
  }

  /** The kernels' own exp, log and Gumbel noise (for tests). */
  get math(): Pick<KernelExports, 'exp_f32' | 'log_f32' | 'gumbel_f32'> {
    return this.k;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool?.dispose();
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  /**
   * Write the op and its arguments (i32, or f32 at the slots `floatSlots`) to the control block
   * and run its `units` work units: here alone when the op is small (`work`, in flop-like units,
   * below PARALLEL_WORK: waking threads costs more than it saves) or there is no pool, else split
   * in chunks claimed by every thread (threads.ts).
   */
  private dispatch(op: number, units: number, work: number, args: number[], floatSlots: number[] = []): void {
    if (this.disposed) throw new Error('CPU engine: runtime disposed');
    const base = (CTRL >> 2) + 4;
    this.i32[base] = op;
    for (let i = 0; i < args.length; i++) {
      if (floatSlots.includes(i)) this.f32[base + 1 + i] = args[i];
      else this.i32[base + 1 + i] = args[i];
    }
    this.calls++;
    if (units <= 0) return;
    const t0 = this.profile ? performance.now() : 0;
    if (this.pool && work >= this.parallelWork && units >= 2) {
      const chunk = Math.max(1, Math.ceil(units / (this.threads * 4)));
      this.pool.run(units, chunk, (u0, u1) => this.k.run(CTRL, 0, u0, u1));
    } else {
      this.k.run(CTRL, 0, 0, units);
    }
    if (this.profile) {
      const name = OP_NAMES[op];
      this.profile.set(name, (this.profile.get(name) ?? 0) + performance.now() - t0);
    }
  }
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
