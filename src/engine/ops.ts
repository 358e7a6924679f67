// One function per kernel: fills the kernel's params struct, picks the workgroup grid and records
// the dispatch. Shapes are in elements; every buffer is a whole GPUBuffer (offsets via params).

import { attentionPipelineName, matmulPipelineName, type Pipelines } from './pipelines';
import { f32bits, type Recorder } from './recorder';
import type { Epilogue, MatmulKernel, MatmulVariant } from './shaders';

/** A weight matrix W (rows = out features N, cols = in features K), PyTorch [out, in] layout. */
export type Weight =
  | { kind: 'f32'; buffer: GPUBuffer; rows: number; cols: number }
  /**
   * int8 packed four per u32 (row-major bytes), f32 scales (rows, cols / group):
   * W[n, k] = q[n, k] · scale[n, k / group]; group = cols: one scale per row.
   */
  | { kind: 'i8'; buffer: GPUBuffer; scales: GPUBuffer; rows: number; cols: number; group: number };

/** Up to this many rows of A, the few-row (decode) matmul is used. */
export const ROWS_MAX = 4;

/** The matmul kernel for A (M, K) · Wᵀ given the prefill variant chosen for this adapter. */
export function matmulKernelFor(w: Weight, M: number, prefill: MatmulVariant): MatmulKernel {
  if (w.kind === 'i8') return 'int8';
  if (w.cols % 4 !== 0) return 'tiled';       // the vec4 kernels need K % 4 == 0
  if (M <= ROWS_MAX) return 'rows';
  return prefill;
}

export function matmulWorkgroups(kernel: MatmulKernel, M: number, N: number): [number, number] {
  switch (kernel) {
    case 'tiled': return [Math.ceil(N / 64), Math.ceil(M / 64)];
    case 'rows': return [Math.ceil(N / 256), M];
    default: return [Math.ceil(N / 64), Math.ceil(M / 32)];
  }
}

/** out (M, N) [or (M, N/2) for SwiGLU] = A (M, K) · Wᵀ, with the epilogue. */
export function matmul(rec: Recorder, pipes: Pipelines, key: string, kernel: MatmulKernel, a: GPUBuffer, w: Weight, out: GPUBuffer, M: number, epilogue: Epilogue): void {
  if (kernel === 'int8' && w.kind !== 'i8') throw new Error(`matmul ${key}: int8 kernel needs an int8 weight`);
  if (kernel !== 'int8' && w.kind === 'i8') throw new Error(`matmul ${key}: int8 weight needs the int8 kernel`);
  if (kernel !== 'tiled' && w.cols % 4 !== 0) throw new Error(`matmul ${key}: ${kernel} needs K % 4 == 0 (K = ${w.cols})`);
  const N = w.rows;
  const K = w.cols;
  if (w.kind === 'i8' && (K % w.group !== 0 || w.group % 4 !== 0)) throw new Error(`matmul ${key}: int8 group ${w.group} must be a multiple of 4 dividing K = ${K}`);
  const buffers = w.kind === 'i8' ? [a, w.buffer, w.scales, out] : [a, w.buffer, out];
  rec.dispatch(key, pipes.get(matmulPipelineName(kernel, epilogue)), [M, N, K, w.kind === 'i8' ? w.group : 0], buffers, matmulWorkgroups(kernel, M, N));
}

/** x (n_tokens, dim) = table[tokens]; an int8 table (vocab, dim) is dequantised per element (shaders/embed_int8.wgsl). */
export function embed(rec: Recorder, pipes: Pipelines, key: string, tokens: GPUBuffer, table: Weight, x: GPUBuffer, nTokens: number, dim: number, vocab: number): void {
  const grid: [number] = [Math.ceil((nTokens * dim) / 4 / 64)];
  if (table.kind === 'i8') rec.dispatch(key, pipes.get('embed_int8'), [nTokens, dim, vocab, table.group], [tokens, table.buffer, table.scales, x], grid);
  else rec.dispatch(key, pipes.get('embed'), [nTokens, dim, vocab, 0], [tokens, table.buffer, x], grid);
}

/** out (n_rows, dim) = RMSNorm(x[rows[r]] or x[r]) * weight. `rows` must be a buffer even when not gathering. */
export function rmsnorm(rec: Recorder, pipes: Pipelines, key: string, x: GPUBuffer, weight: GPUBuffer, rows: GPUBuffer, out: GPUBuffer, nRows: number, dim: number, eps: number, gather: boolean): void {
  rec.dispatch(key, pipes.get('rmsnorm'), [nRows, dim, gather ? 1 : 0, f32bits(eps)], [x, weight, rows, out], [Math.ceil(nRows / 64)]);
}

/**
 * Rotate q (in place) and k of qkv (n_tokens, 3·dim) by the angles of positions ropePos0 + t,
 * store k, v at cache rows pos0 .. pos0 + n_tokens - 1.
 */
export function ropeStoreKv(rec: Recorder, pipes: Pipelines, key: string, rope: GPUBuffer, qkv: GPUBuffer, kCache: GPUBuffer, vCache: GPUBuffer, nTokens: number, pos0: number, dim: number, headDim: number, ropePos0 = pos0): void {
  rec.dispatch(key, pipes.get('rope'), [nTokens, pos0, dim, headDim, ropePos0, 0, 0, 0], [rope, qkv, kCache, vCache], [Math.ceil((nTokens * dim) / 2 / 64)]);
}

export interface AttentionShape {
  nQueries: number;
  /** Valid keys in the cache (rows 0 .. nKeys - 1). */
  nKeys: number;
  nHeads: number;
  headDim: number;
  /** Floats between query rows in `q` (3·dim for the fused QKV buffer). */
  qStride: number;
  /** Cache row of query 0 (causal masking). */
  qPos0: number;
  causal: boolean;
  /** With causal: only queries 0 .. nCausal - 1 are causal, the rest see every key (default: all). */
  nCausal?: number;
}

/** out (n_queries, dim) = multi-head attention of q over the cache. */
export function attention(rec: Recorder, pipes: Pipelines, key: string, q: GPUBuffer, kCache: GPUBuffer, vCache: GPUBuffer, out: GPUBuffer, s: AttentionShape): void {
  const dim = s.nHeads * s.headDim;
  const params = [s.nQueries, s.nKeys, s.qStride, dim, s.qPos0, s.causal ? (s.nCausal ?? s.nQueries) : 0, f32bits(1 / Math.sqrt(s.headDim)), 0];
  rec.dispatch(key, pipes.get(attentionPipelineName(s.headDim)), params, [q, kCache, vCache, out], [Math.ceil(s.nQueries / 128), s.nHeads]);
}

export interface DecideParams {
  nRows: number;
  vocab: number;
  temperature: number;
  seed: number;
  step: number;
  /** Token never chosen and excluded from the distribution; -1 for none. */
  maskToken: number;
}

/** out (n_rows, 5) = [token bits, prob, margin, entropy, current_prob] from logits (n_rows, vocab). */
export function decide(rec: Recorder, pipes: Pipelines, key: string, logits: GPUBuffer, request: GPUBuffer, out: GPUBuffer, p: DecideParams): void {
  const sample = p.temperature > 0;
  const params = [p.nRows, p.vocab, sample ? 1 : 0, p.maskToken < 0 ? 0xffffffff : p.maskToken, f32bits(sample ? 1 / p.temperature : 1), p.seed >>> 0, p.step >>> 0, 0];
  rec.dispatch(key, pipes.get('decide'), params, [logits, request, out], [p.nRows]);
}
