// ============================================================================================
//  THE REFERENCE — plain, readable float64 CPU implementations of every kernel and of the
//  whole forward pass. Tests compare the WebGPU engine against these. Not used at run time.
//  Shapes are (rows, cols), row-major; the math follows training/model.py.
// ============================================================================================

import type { DecideOptions, Decisions, ModelConfig } from './types';

type Vec = ArrayLike<number>;

/** out (M, N) = a (M, K) · wᵀ, w (N, K). */
export function matmulRef(a: Vec, w: Vec, M: number, N: number, K: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k] * w[n * K + k];
      out[m * N + n] = s;
    }
  }
  return out;
}

export function siluRef(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** out (M, F) = silu(gate) * up, gate and up (M, F). */
export function swigluRef(gate: Vec, up: Vec): Float64Array {
  const out = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = siluRef(gate[i]) * up[i];
  return out;
}

/** out (rows.length, dim): RMSNorm of x[rows[r]] times weight. */
export function rmsnormRef(x: Vec, weight: Vec, rows: ArrayLike<number>, dim: number, eps: number): Float64Array {
  const out = new Float64Array(rows.length * dim);
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r] * dim;
    let ss = 0;
    for (let d = 0; d < dim; d++) ss += x[src + d] * x[src + d];
    const inv = 1 / Math.sqrt(ss / dim + eps);
    for (let d = 0; d < dim; d++) out[r * dim + d] = x[src + d] * inv * weight[d];
  }
  return out;
}

/** Rotary angles: table[pos][i] = pos · theta^(-2i/head_dim), i < head_dim/2. */
export function ropeAngle(pos: number, i: number, headDim: number, theta: number): number {
  return pos * Math.pow(theta, (-2 * i) / headDim);
}

/**
 * Rotate-half RoPE of rows x (T, stride) in place: for each head h and i < half,
 * (x[i], x[i+half]) ← (x[i] cos - x[i+half] sin, x[i+half] cos + x[i] sin), angle at pos0 + t.
 * Only columns colOffset .. colOffset + nHeads·headDim of each row are touched.
 */
export function ropeRef(x: Float64Array, T: number, stride: number, colOffset: number, pos0: number, nHeads: number, headDim: number, theta: number): void {
  const half = headDim / 2;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < nHeads; h++) {
      for (let i = 0; i < half; i++) {
        const a = ropeAngle(pos0 + t, i, headDim, theta);
        const c = Math.cos(a);
        const s = Math.sin(a);
        const lo = t * stride + colOffset + h * headDim + i;
        const hi = lo + half;
        const x1 = x[lo];
        const x2 = x[hi];
        x[lo] = x1 * c - x2 * s;
        x[hi] = x2 * c + x1 * s;
      }
    }
  }
}

export interface AttentionRefShape {
  nQueries: number;
  nKeys: number;
  nHeads: number;
  headDim: number;
  qStride: number;
  qPos0: number;
  causal: boolean;
}

/** out (nQueries, dim): softmax(q kᵀ / sqrt(hd)) v per head over visible keys (two-pass, full scores). */
export function attentionRef(q: Vec, k: Vec, v: Vec, s: AttentionRefShape): Float64Array {
  const dim = s.nHeads * s.headDim;
  const out = new Float64Array(s.nQueries * dim);
  const scale = 1 / Math.sqrt(s.headDim);
  for (let i = 0; i < s.nQueries; i++) {
    const visible = s.causal ? Math.min(s.nKeys, s.qPos0 + i + 1) : s.nKeys;
    for (let h = 0; h < s.nHeads; h++) {
      const scores = new Float64Array(visible);
      let max = -Infinity;
      for (let j = 0; j < visible; j++) {
        let d = 0;
        for (let e = 0; e < s.headDim; e++) d += q[i * s.qStride + h * s.headDim + e] * k[j * dim + h * s.headDim + e];
        scores[j] = d * scale;
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j < visible; j++) sum += (scores[j] = Math.exp(scores[j] - max));
      for (let e = 0; e < s.headDim; e++) {
        let acc = 0;
        for (let j = 0; j < visible; j++) acc += scores[j] * v[j * dim + h * s.headDim + e];
        out[i * dim + h * s.headDim + e] = visible > 0 ? acc / sum : 0;
      }
    }
  }
  return out;
}

/** pcg4d hash (Jarzynski & Olano 2020), u32 arithmetic; the same as in shaders/decide.wgsl. */
export function pcg4d(x: number, y: number, z: number, w: number): [number, number, number, number] {
  let v = [x, y, z, w].map((c) => (Math.imul(c >>> 0, 1664525) + 1013904223) >>> 0);
  const mix = () => {
    v[0] = (v[0] + Math.imul(v[1], v[3])) >>> 0;
    v[1] = (v[1] + Math.imul(v[2], v[0])) >>> 0;
    v[2] = (v[2] + Math.imul(v[0], v[1])) >>> 0;
    v[3] = (v[3] + Math.imul(v[1], v[2])) >>> 0;
  };
  mix();
  v = v.map((c) => (c ^ (c >>> 16)) >>> 0);
  mix();
  return v as [number, number, number, number];
}

/** Gumbel noise of vocabulary entry v at (seed, step, position). */
export function gumbelRef(seed: number, step: number, position: number, v: number): number {
  const h = pcg4d(seed, step, position, v)[0];
  const u = ((h >>> 8) + 0.5) / 16777216;
  return -Math.log(-Math.log(u));
}

export interface DecisionRef {
  token: number;
  prob: number;
  margin: number;
  entropy: number;
  currentProb: number;
}

/** decideRef on each row, packed as an engine's Decisions (models computed from the reference, in tests). */
export function decisionsRef(rows: { logits: Vec; position: number; current: number }[], opts: DecideOptions, maskToken: number): Decisions {
  const n = rows.length;
  const d: Decisions = { token: new Int32Array(n), prob: new Float32Array(n), margin: new Float32Array(n), entropy: new Float32Array(n), currentProb: new Float32Array(n) };
  rows.forEach((row, i) => {
    const r = decideRef(row.logits, { ...opts, position: row.position, current: row.current, maskToken });
    d.token[i] = r.token;
    d.prob[i] = r.prob;
    d.margin[i] = r.margin;
    d.entropy[i] = r.entropy;
    d.currentProb[i] = r.currentProb;
  });
  return d;
}

/** One decision from one row of logits (see shaders/decide.wgsl for the definition). */
export function decideRef(logits: Vec, opts: { temperature: number; seed: number; step: number; position: number; current: number; maskToken: number }): DecisionRef {
  const V = logits.length;
  const sample = opts.temperature > 0;
  const invT = sample ? 1 / opts.temperature : 1;
  const z = new Float64Array(V);
  let max = -Infinity;
  for (let v = 0; v < V; v++) {
    z[v] = v === opts.maskToken ? -Infinity : logits[v] * invT;
    max = Math.max(max, z[v]);
  }
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(z[v] - max);
  const p = Array.from(z, (zv) => Math.exp(zv - max) / sum);
  let entropy = 0;
  for (const pv of p) if (pv > 0) entropy -= pv * Math.log(pv);
  let top1 = -1;
  let top2 = -1;
  for (let v = 0; v < V; v++) {
    if (v === opts.maskToken) continue;
    if (top1 < 0 || z[v] > z[top1]) {
      top2 = top1;
      top1 = v;
    } else if (top2 < 0 || z[v] > z[top2]) top2 = v;
  }
  let token = top1;
  if (sample) {
    let best = -Infinity;
    for (let v = 0; v < V; v++) {
      if (v === opts.maskToken) continue;
      const score = z[v] + gumbelRef(opts.seed, opts.step, opts.position, v);
      if (score > best) {
        best = score;
        token = v;
      }
    }
  }
  const cur = opts.current;
  return {
    token,
    prob: p[token],
    margin: p[top1] - (top2 >= 0 ? p[top2] : 0),
    entropy,
    currentProb: cur >= 0 && cur < V && cur !== opts.maskToken ? p[cur] : 0,
  };
}

/** Float weights by tensor name (int8 tensors already dequantised), PyTorch names and layouts. */
export type RefWeights = Map<string, ArrayLike<number>>;

/**
 * The whole forward pass: tokens (L,) → logits (L, vocab), float64 throughout.
 * Diffusion: bidirectional; autoregressive: causal. Keys at positions >= nValid are ignored.
 */
export function referenceForward(cfg: ModelConfig, w: RefWeights, tokens: ArrayLike<number>, nValid = tokens.length): Float64Array {
  const causal = cfg.kind === 'autoregressive' || cfg.attention === 'block_causal';
  const positions = Array.from({ length: tokens.length }, (_, i) => i);
  return referenceRows(cfg, w, tokens, positions, (i, j) => j < nValid && (!causal || j <= i));
}

/**
 * A block-causal step (types.ts BlockStep) from scratch: rows [context (causal, in cache order) |
 * block (sees every context row and the whole block)] at their positions; returns (B, vocab), row
 * j the prediction of position blockPos0 + j (shift: the last context row for j = 0, else block
 * row j - 1).
 */
export function referenceBlockLogits(cfg: ModelConfig, w: RefWeights, context: ArrayLike<number>, contextPositions: ArrayLike<number>, block: ArrayLike<number>, blockPos0: number): Float64Array {
  const C = context.length;
  const B = block.length;
  const tokens = [...Array.from(context), ...Array.from(block)];
  const positions = [...Array.from(contextPositions), ...Array.from({ length: B }, (_, j) => blockPos0 + j)];
  const all = referenceRows(cfg, w, tokens, positions, (i, j) => (i < C ? j <= i : true));
  const V = cfg.vocab_size;
  return all.slice((C - 1) * V, (C + B - 1) * V);
}

/**
 * The forward pass for rows `tokens` (L,) at RoPE `positions` (L,), query i attending key j where
 * visible(i, j): logits (L, vocab), float64.
 */
export function referenceRows(cfg: ModelConfig, w: RefWeights, tokens: ArrayLike<number>, positions: ArrayLike<number>, visible: (i: number, j: number) => boolean): Float64Array {
  const H = cfg.n_heads;
  return referenceLayers(cfg, w, tokens, positions, (_l, q, k, v) => maskedAttentionRef(q, k, v, tokens.length, H, cfg.dim / H, visible));
}

/**
 * A DualCache step (dualcache.ts) from scratch: a bidirectional forward over `refresh` keeps every
 * layer's keys and values (L rows, rotated); then rows start .. end - 1 of `tokens` run, their keys
 * and values replacing the kept ones there, each attending to all L. Returns (end - start, vocab).
 */
export function referenceDualLogits(cfg: ModelConfig, w: RefWeights, refresh: ArrayLike<number>, tokens: ArrayLike<number>, start: number, end: number): Float64Array {
  const L = refresh.length;
  if (tokens.length !== L) throw new Error(`referenceDualLogits: ${tokens.length} tokens, the refresh had ${L}`);
  const H = cfg.n_heads;
  const hd = cfg.dim / H;
  const D = cfg.dim;
  const kept: { k: Float64Array; v: Float64Array }[] = [];
  referenceLayers(cfg, w, refresh, Array.from({ length: L }, (_, i) => i), (l, q, k, v) => {
    kept[l] = { k: Float64Array.from(k), v: Float64Array.from(v) };
    return maskedAttentionRef(q, k, v, L, H, hd, () => true);
  });
  const T = end - start;
  const rows = Array.from(tokens).slice(start, end);
  return referenceLayers(cfg, w, rows, Array.from({ length: T }, (_, i) => start + i), (l, q, k, v) => {
    const K = Float64Array.from(kept[l].k);
    const V = Float64Array.from(kept[l].v);
    K.set(k, start * D);
    V.set(v, start * D);
    // queries are the window's T rows at their places among L; keys all L (the other rows attend to nothing)
    const Q = new Float64Array(L * D);
    Q.set(q, start * D);
    return maskedAttentionRef(Q, K, V, L, H, hd, (i) => i >= start && i < end).slice(start * D, end * D);
  });
}

/**
 * The layers and head for rows `tokens` (L,) at RoPE `positions`, attention given per layer by
 * attend(layer, q, k, v) → (L, dim) (q, k rotated): logits (L, vocab), float64.
 */
function referenceLayers(cfg: ModelConfig, w: RefWeights, tokens: ArrayLike<number>, positions: ArrayLike<number>,
  attend: (l: number, q: Float64Array, k: Float64Array, v: Float64Array) => Float64Array): Float64Array {
  const L = tokens.length;
  const D = cfg.dim;
  const H = cfg.n_heads;
  const hd = D / H;
  const F = cfg.ffn_dim;
  const get = (name: string) => {
    const t = w.get(name);
    if (!t) throw new Error(`reference: missing ${name}`);
    return t;
  };
  const allRows = Array.from({ length: L }, (_, i) => i);
  const emb = get('tok_embeddings.weight');
  const x = new Float64Array(L * D);
  for (let t = 0; t < L; t++) for (let d = 0; d < D; d++) x[t * D + d] = emb[tokens[t] * D + d];
  const rotate = (m: Float64Array) => {
    for (let t = 0; t < L; t++) ropeRef(m.subarray(t * D, (t + 1) * D), 1, D, 0, positions[t], H, hd, cfg.rope_theta);
  };

  for (let l = 0; l < cfg.n_layers; l++) {
    const p = `layers.${l}.`;
    const xn = rmsnormRef(x, get(p + 'attn_norm.weight'), allRows, D, cfg.norm_eps);
    const q = matmulRef(xn, get(p + 'attn.wq.weight'), L, D, D);
    const k = matmulRef(xn, get(p + 'attn.wk.weight'), L, D, D);
    const v = matmulRef(xn, get(p + 'attn.wv.weight'), L, D, D);
    rotate(q);
    rotate(k);
    const att = attend(l, q, k, v);
    const o = matmulRef(att, get(p + 'attn.wo.weight'), L, D, D);
    for (let i = 0; i < x.length; i++) x[i] += o[i];

    const xn2 = rmsnormRef(x, get(p + 'ffn_norm.weight'), allRows, D, cfg.norm_eps);
    const gate = matmulRef(xn2, get(p + 'ffn.w1.weight'), L, F, D);
    const up = matmulRef(xn2, get(p + 'ffn.w3.weight'), L, F, D);
    const down = matmulRef(swigluRef(gate, up), get(p + 'ffn.w2.weight'), L, D, F);
    for (let i = 0; i < x.length; i++) x[i] += down[i];
  }
  const xf = rmsnormRef(x, get('norm.weight'), allRows, D, cfg.norm_eps);
  const out = cfg.tie_embeddings ? emb : get('output.weight');
  return matmulRef(xf, out, L, cfg.vocab_size, D);
}

/** Attention of L rows over each other with an arbitrary mask; q, k, v (L, H·hd). */
function maskedAttentionRef(q: Vec, k: Vec, v: Vec, L: number, H: number, hd: number, visible: (i: number, j: number) => boolean): Float64Array {
  const D = H * hd;
  const out = new Float64Array(L * D);
  const scale = 1 / Math.sqrt(hd);
  for (let i = 0; i < L; i++) {
    const keys = [];
    for (let j = 0; j < L; j++) if (visible(i, j)) keys.push(j);
    for (let h = 0; h < H; h++) {
      const scores = keys.map((j) => {
        let d = 0;
        for (let e = 0; e < hd; e++) d += q[i * D + h * hd + e] * k[j * D + h * hd + e];
        return d * scale;
      });
      const max = Math.max(...scores);
      const p = scores.map((sc) => Math.exp(sc - max));
      const sum = p.reduce((a, b) => a + b, 0);
      for (let e = 0; e < hd; e++) {
        let acc = 0;
        keys.forEach((j, n) => (acc += p[n] * v[j * D + h * hd + e]));
        out[i * D + h * hd + e] = keys.length > 0 ? acc / sum : 0;
      }
    }
  }
  return out;
}

/** max |a - b| / max |b|: the error measure of the tests (normwise relative). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relError: lengths ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}
