// From safetensors tensors to device weights, uploaded once.
// Layout changes made here (they save dispatches and passes over memory):
//   wqkv (3·dim, dim) = rows of wq, then wk, then wv: one matmul instead of three.
//   w13  (2·ffn, dim) = rows interleaved (w1[0], w3[0], w1[1], w3[1], ...): one matmul whose
//        SwiGLU epilogue writes silu(gate) * up directly (shaders/matmul_epilogue.wgsl).
// Float tensors (F16/BF16/F32) become f32 on the CPU (no shader-f16 path yet). An int8 matrix
// `X.weight` (rows, cols) with scales `X.weight_scale` (rows, groups) (F16 or F32: one scale per
// row and group of cols / groups input columns, docs/MODEL_FORMAT.md) stays int8 on the device
// when cols and the group size are multiples of 4 (the u32-packed kernels), scales widened to f32;
// other int8 layouts are dequantised on the CPU. The embedding of an int8 model stays int8 too:
// the gather (shaders/embed_int8.wgsl) and the tied output matmul read the same buffers.

import type { Weight } from './ops';
import { readF32, readI8, requireTensor, type SafeTensors } from './safetensors';
import type { ModelConfig } from './types';
import type { RefWeights } from './reference';

/** A linear layer's weight on the CPU: (rows = out features, cols = in features). */
export type HostLinear =
  | { kind: 'f32'; rows: number; cols: number; data: Float32Array }
  /** W[r, c] = q[r, c] · scales[r · groups + floor(c / (cols / groups))]; q (rows, cols), scales (rows, groups). */
  | { kind: 'i8'; rows: number; cols: number; groups: number; q: Int8Array; scales: Float32Array };

/** `X.weight` of a safetensors file as a HostLinear (int8 when stored so, with its per-row or per-group scales). */
export function readLinear(st: SafeTensors, name: string): HostLinear {
  const t = requireTensor(st, name);
  if (t.shape.length !== 2) throw new Error(`${name}: expected a 2-d weight, got shape ${JSON.stringify(t.shape)}`);
  const [rows, cols] = t.shape;
  if (t.dtype !== 'I8') return { kind: 'f32', rows, cols, data: readF32(st, name) };
  const scales = readF32(st, `${name}_scale`);
  const q = readI8(st, name);
  const groups = scales.length / rows;
  if (!Number.isInteger(groups) || groups < 1 || cols % groups !== 0) throw new Error(`${name}_scale: ${scales.length} scales do not fit a (${rows}, ${cols}) weight`);
  return { kind: 'i8', rows, cols, groups, q, scales };
}

/** The same weight with int8 dequantised to f32 (for layouts a kernel does not take). */
export function toF32(h: HostLinear): Extract<HostLinear, { kind: 'f32' }> {
  return h.kind === 'f32' ? h : { kind: 'f32', rows: h.rows, cols: h.cols, data: dequantize(h.q, h.scales, h.rows, h.cols) };
}

/** W = q · scale, scales (rows, groups) with groups dividing cols (groups = 1: per row). */
export function dequantize(q: Int8Array, scales: Float32Array, rows: number, cols: number): Float32Array {
  const groups = scales.length / rows;
  if (!Number.isInteger(groups) || cols % groups !== 0) throw new Error(`int8 scales (${scales.length}) do not fit a (${rows}, ${cols}) weight`);
  const g = cols / groups;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = q[r * cols + c] * scales[r * groups + Math.floor(c / g)];
  return out;
}

function asF32(h: HostLinear): Float32Array {
  return h.kind === 'f32' ? h.data : dequantize(h.q, h.scales, h.rows, h.cols);
}

/** Rows of `parts` one after another (optionally interleaved row by row). int8 stays int8 if all parts are. */
export function joinRows(parts: HostLinear[], interleave = false): HostLinear {
  const cols = parts[0].cols;
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  if (parts.some((p) => p.cols !== cols)) throw new Error('joinRows: column counts differ');
  if (interleave && parts.some((p) => p.rows !== parts[0].rows)) throw new Error('joinRows: interleave needs equal row counts');
  // order[r] = [part, row in part] for output row r
  const order: [number, number][] = [];
  if (interleave) {
    for (let r = 0; r < parts[0].rows; r++) for (let p = 0; p < parts.length; p++) order.push([p, r]);
  } else {
    parts.forEach((p, i) => { for (let r = 0; r < p.rows; r++) order.push([i, r]); });
  }
  const first = parts[0];
  if (first.kind === 'i8' && parts.every((p) => p.kind === 'i8' && p.groups === first.groups)) {
    const G = first.groups;
    const q = new Int8Array(rows * cols);
    const scales = new Float32Array(rows * G);
    order.forEach(([p, r], o) => {
      const part = parts[p] as Extract<HostLinear, { kind: 'i8' }>;
      q.set(part.q.subarray(r * cols, (r + 1) * cols), o * cols);
      scales.set(part.scales.subarray(r * G, (r + 1) * G), o * G);
    });
    return { kind: 'i8', rows, cols, groups: G, q, scales };
  }
  const data = new Float32Array(rows * cols);
  const f = parts.map(asF32);
  order.forEach(([p, r], o) => data.set(f[p].subarray(r * cols, (r + 1) * cols), o * cols));
  return { kind: 'f32', rows, cols, data };
}

/** Every tensor as floats (int8 dequantised), for the reference forward. */
export function referenceWeights(st: SafeTensors): RefWeights {
  const w: RefWeights = new Map();
  for (const [name, t] of st.tensors) {
    if (name.endsWith('_scale')) continue;
    if (t.dtype === 'I8') w.set(name, dequantize(readI8(st, name), readF32(st, `${name}_scale`), t.shape[0], t.shape.slice(1).reduce((a, b) => a * b, 1)));
    else w.set(name, readF32(st, name));
  }
  return w;
}

export interface LayerWeights {
  attnNorm: GPUBuffer;  // (dim,)
  wqkv: Weight;         // (3·dim, dim)
  wo: Weight;           // (dim, dim)
  ffnNorm: GPUBuffer;   // (dim,)
  w13: Weight;          // (2·ffn, dim) interleaved gate/up
  w2: Weight;           // (dim, ffn)
}

export interface ModelWeights {
  tokEmbeddings: Weight;     // (vocab, dim): f32, or int8 (q (vocab, dim/4) u32 words + scales (vocab, groups))
  layers: LayerWeights[];
  norm: GPUBuffer;           // (dim,)
  output: Weight;            // (vocab, dim); the embedding table when tied
  rope: GPUBuffer;           // (max_seq_len, head_dim/2) vec2 (cos, sin)
  /** Every buffer above, for dispose. */
  buffers: GPUBuffer[];
  /** Bytes of weights on the device. */
  bytes: number;
  /** Parameters in the file (scales excluded). */
  parameterCount: number;
}

const STORAGE_COPY_DST = 0x80 | 0x08;

/** Uploads with mappedAtCreation (no staging copy); reports bytes as it goes. */
class Uploader {
  readonly buffers: GPUBuffer[] = [];
  bytes = 0;
  constructor(private readonly device: GPUDevice, private readonly onBytes?: (bytes: number) => void) {}

  raw(label: string, data: ArrayBufferView): GPUBuffer {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const b = this.device.createBuffer({ label, size, usage: STORAGE_COPY_DST, mappedAtCreation: true });
    new Uint8Array(b.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    b.unmap();
    this.buffers.push(b);
    this.bytes += size;
    this.onBytes?.(this.bytes);
    return b;
  }

  /** int8 stays int8 when the kernels take its layout (cols and the group size multiples of 4). */
  linear(label: string, h: HostLinear): Weight {
    if (h.kind === 'i8' && int8Native(h)) {
      return { kind: 'i8', rows: h.rows, cols: h.cols, group: h.cols / h.groups, buffer: this.raw(label, h.q), scales: this.raw(`${label}_scale`, h.scales) };
    }
    const f = toF32(h);
    return { kind: 'f32', rows: f.rows, cols: f.cols, buffer: this.raw(label, f.data) };
  }
}

/** Whether the WGSL int8 kernels (u32 words of 4 int8, whole words per group) take this layout. */
export function int8Native(h: Extract<HostLinear, { kind: 'i8' }>): boolean {
  return h.cols % 4 === 0 && (h.cols / h.groups) % 4 === 0;
}

/** The rotary table (max_seq_len, head_dim/2) of (cos, sin), computed in float64. */
export function ropeTable(cfg: ModelConfig): Float32Array {
  const hd = cfg.dim / cfg.n_heads;
  const half = hd / 2;
  const t = new Float32Array(cfg.max_seq_len * half * 2);
  for (let p = 0; p < cfg.max_seq_len; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * Math.pow(cfg.rope_theta, (-2 * i) / hd);
      t[(p * half + i) * 2] = Math.cos(angle);
      t[(p * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return t;
}

/** Build and upload every device weight of the model. */
export function uploadWeights(device: GPUDevice, cfg: ModelConfig, st: SafeTensors, onBytes?: (bytes: number) => void): ModelWeights {
  const up = new Uploader(device, onBytes);
  const vec = (name: string, len: number) => {
    const data = readF32(st, name);
    if (data.length !== len) throw new Error(`${name}: expected ${len} values, got ${data.length}`);
    return up.raw(name, data);
  };
  const D = cfg.dim;
  const checkShape = (h: HostLinear, rows: number, cols: number, name: string) => {
    if (h.rows !== rows || h.cols !== cols) throw new Error(`${name}: expected (${rows}, ${cols}), got (${h.rows}, ${h.cols})`);
    return h;
  };
  const tokEmbeddings = up.linear('tok_embeddings.weight', checkShape(readLinear(st, 'tok_embeddings.weight'), cfg.vocab_size, D, 'tok_embeddings.weight'));
  const layers: LayerWeights[] = [];
  for (let l = 0; l < cfg.n_layers; l++) {
    const p = `layers.${l}.`;
    const lin = (n: string, rows: number, cols: number) => checkShape(readLinear(st, p + n), rows, cols, p + n);
    layers.push({
      attnNorm: vec(p + 'attn_norm.weight', D),
      wqkv: up.linear(p + 'wqkv', joinRows([lin('attn.wq.weight', D, D), lin('attn.wk.weight', D, D), lin('attn.wv.weight', D, D)])),
      wo: up.linear(p + 'attn.wo.weight', lin('attn.wo.weight', D, D)),
      ffnNorm: vec(p + 'ffn_norm.weight', D),
      w13: up.linear(p + 'w13', joinRows([lin('ffn.w1.weight', cfg.ffn_dim, D), lin('ffn.w3.weight', cfg.ffn_dim, D)], true)),
      w2: up.linear(p + 'ffn.w2.weight', lin('ffn.w2.weight', D, cfg.ffn_dim)),
    });
  }
  const norm = vec('norm.weight', D);
  const output: Weight = cfg.tie_embeddings
    ? tokEmbeddings
    : up.linear('output.weight', checkShape(readLinear(st, 'output.weight'), cfg.vocab_size, D, 'output.weight'));
  const rope = up.raw('rope', ropeTable(cfg));
  let parameterCount = 0;
  for (const [name, t] of st.tensors) if (!name.endsWith('_scale')) parameterCount += t.shape.reduce((a, b) => a * b, 1);
  return { tokEmbeddings, layers, norm, output, rope, buffers: up.buffers, bytes: up.bytes, parameterCount };
}
