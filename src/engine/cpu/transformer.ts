// The forward pass on the CPU engine: weights packed once into the WebAssembly memory, every
// activation buffer allocated once for max_seq_len, then one kernel call per step of the model
// (the same math as src/engine/reference.ts and training/model.py):
//   embed → per layer [rmsnorm → QKV matmul (wq|wk|wv fused) → rotate-half RoPE on q and k →
//   (AR: append k, v to the layer's cache) → attention → wo matmul accumulated into x (residual)
//   → rmsnorm → w1|w3 matmul → SwiGLU → w2 matmul accumulated into x] → rmsnorm of the requested
//   rows only → output matmul → logits or decide.
// int8 files (docs/MODEL_FORMAT.md): each int8 matrix (and a fused group of them with the same
// group size) is packed into int8 panels with f32 per-group scales and runs on matmul_i8; an
// int8 embedding is packed once as such panels: the gather dequantises rows from them and the
// tied output matmul reads them (no float copy of the table anywhere).

import { readF32, type SafeTensors } from '../safetensors';
import type { DecideOptions, Decisions, ModelConfig } from '../types';
import { joinRows, readLinear, ropeTable, toF32, type HostLinear } from '../weights';
import { CpuRuntime, type PackedI8 } from './runtime';

/** A packed weight (N, K): f32 panels (byte offset) or int8 panels with scales. */
type CpuWeight = { kind: 'f32'; p: number } | { kind: 'i8'; w: PackedI8 };

interface LayerPtrs {
  attnNorm: number;
  wqkv: CpuWeight; // panels of (3·dim, dim)
  wo: CpuWeight; // (dim, dim)
  ffnNorm: number;
  w13: CpuWeight; // (2·ffn, dim): w1 rows, then w3 rows
  w2: CpuWeight; // (dim, ffn)
  kCache: number; // (max_seq_len, dim), with a KV cache (every model but a full-attention one loaded without)
  vCache: number;
}

export function checkCpuConfig(c: ModelConfig): void {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`config.json: ${what}`);
  };
  need(c.kind === 'diffusion' || c.kind === 'autoregressive', `unknown kind ${c.kind}`);
  need(Number.isInteger(c.dim / c.n_heads), 'dim must be a multiple of n_heads');
  need((c.dim / c.n_heads) % 2 === 0, 'head_dim must be even (rotate-half RoPE)');
  need(c.max_seq_len >= 1 && c.vocab_size >= 2 && c.n_layers >= 1 && c.ffn_dim >= 1, 'sizes must be positive');
}

/** The int8 matrices of a file fused into one (same group count), or null (float, or mixed layouts). */
function i8Groups(st: SafeTensors, names: string[]): number | null {
  let groups: number | null = null;
  for (const n of names) {
    const t = st.tensors.get(n);
    const s = st.tensors.get(`${n}_scale`);
    if (!t || t.dtype !== 'I8' || !s || t.shape.length !== 2) return null;
    const g = s.shape.reduce((a, b) => a * b, 1) / t.shape[0];
    if (!CpuRuntime.i8Layout(t.shape[1], g) || (groups !== null && g !== groups)) return null;
    groups = g;
  }
  return groups;
}

export class CpuTransformer {
  readonly parameterCount: number;
  /** Bytes the weights take (WebAssembly panels and scales, plus a float embedding table kept in JS). */
  readonly weightBytes: number;
  private readonly layers: LayerPtrs[] = [];
  private readonly emb: Float32Array | null; // (vocab, dim), row-major, in JS memory (float embedding lookups)
  private readonly embI8: PackedI8 | null; // int8 embedding panels (vocab, dim) (gather and tied output)
  private readonly norm: number;
  private readonly out: CpuWeight; // panels of (vocab, dim)
  private readonly cos: number;
  private readonly sin: number;
  // activations (max_seq_len rows)
  private readonly x: number;
  private readonly xn: number;
  private readonly qkv: number;
  private readonly att: number;
  private readonly h: number;
  private readonly hx: number;
  private readonly logitsBuf: number;
  private readonly req: number;
  private readonly dout: number;

  private constructor(readonly rt: CpuRuntime, readonly config: ModelConfig, st: SafeTensors, readonly kvCache: boolean) {
    const c = config;
    const D = c.dim, F = c.ffn_dim, V = c.vocab_size, S = c.max_seq_len;
    const hd = D / c.n_heads;
    const checkLen = (a: Float32Array, n: number, name: string) => {
      if (a.length !== n) throw new Error(`${name}: expected ${n} values, got ${a.length}`);
      return a;
    };
    const vec = (name: string) => rt.upload(checkLen(readF32(st, name), D, name));
    const lin = (name: string, rows: number, cols: number): HostLinear => {
      const h = readLinear(st, name);
      if (h.rows !== rows || h.cols !== cols) throw new Error(`${name}: expected (${rows}, ${cols}), got (${h.rows}, ${h.cols})`);
      return h;
    };
    /** The parts' rows one after another, packed: int8 panels when all are int8 with one group size. */
    const pack = (...parts: HostLinear[]): CpuWeight => {
      const h = parts.length === 1 ? parts[0] : joinRows(parts);
      if (h.kind === 'i8' && CpuRuntime.i8Layout(h.cols, h.groups)) return { kind: 'i8', w: rt.packPanelsI8(h.q, h.scales, h.rows, h.cols) };
      return { kind: 'f32', p: rt.packPanels(toF32(h).data, h.rows, h.cols) };
    };

    const top0 = rt.allocated;
    const embH = lin('tok_embeddings.weight', V, D);
    this.embI8 = embH.kind === 'i8' && CpuRuntime.i8Layout(D, embH.groups) ? rt.packPanelsI8(embH.q, embH.scales, V, D) : null;
    this.emb = this.embI8 ? null : checkLen(toF32(embH).data, V * D, 'tok_embeddings.weight');
    for (let l = 0; l < c.n_layers; l++) {
      const p = `layers.${l}.`;
      this.layers.push({
        attnNorm: vec(p + 'attn_norm.weight'),
        wqkv: pack(lin(p + 'attn.wq.weight', D, D), lin(p + 'attn.wk.weight', D, D), lin(p + 'attn.wv.weight', D, D)),
        wo: pack(lin(p + 'attn.wo.weight', D, D)),
        ffnNorm: vec(p + 'ffn_norm.weight'),
        w13: pack(lin(p + 'ffn.w1.weight', F, D), lin(p + 'ffn.w3.weight', F, D)),
        w2: pack(lin(p + 'ffn.w2.weight', D, F)),
        kCache: kvCache ? rt.alloc(S * D) : 0,
        vCache: kvCache ? rt.alloc(S * D) : 0,
      });
    }
    this.norm = vec('norm.weight');
    if (!c.tie_embeddings) this.out = pack(lin('output.weight', V, D));
    else if (this.embI8) this.out = { kind: 'i8', w: this.embI8 };
    else this.out = pack(toF32(embH));
    const cacheBytes = kvCache ? c.n_layers * 2 * CpuRuntime.size(S * D) : 0;
    this.weightBytes = rt.allocated - top0 - cacheBytes + (this.emb ? this.emb.byteLength : 0);
    // rotary tables (computed in float64 like the WebGPU engine's), split into cos and sin
    const table = ropeTable(c);
    const half = hd / 2;
    const cos = new Float32Array(S * half);
    const sin = new Float32Array(S * half);
    for (let i = 0; i < S * half; i++) {
      cos[i] = table[2 * i];
      sin[i] = table[2 * i + 1];
    }
    this.cos = rt.upload(cos);
    this.sin = rt.upload(sin);
    this.x = rt.alloc(S * D);
    this.xn = rt.alloc(S * D);
    this.qkv = rt.alloc(S * 3 * D);
    this.att = rt.alloc(S * D);
    this.h = rt.alloc(S * 2 * F);
    this.hx = rt.alloc(S * D);
    this.logitsBuf = rt.alloc(S * V);
    this.req = rt.alloc(S * 2);
    this.dout = rt.alloc(S * 5);
    let params = 0;
    for (const [name, t] of st.tensors) if (!name.endsWith('_scale')) params += t.shape.reduce((a, b) => a * b, 1);
    this.parameterCount = params;
  }

  /** Bytes of WebAssembly memory the model needs (weights as the file stores them, activations, caches). */
  static bytesNeeded(c: ModelConfig, kvCache: boolean, st?: SafeTensors): number {
    const D = c.dim, F = c.ffn_dim, V = c.vocab_size, S = c.max_seq_len;
    const half = D / c.n_heads / 2;
    const floats = (n: number) => CpuRuntime.size(n);
    /** Bytes of one packed weight (N, K) fused from `names`. */
    const weight = (names: string[], N: number, K: number) => {
      const groups = st ? i8Groups(st, names) : null;
      if (groups === null) return floats(CpuRuntime.panelFloats(N, K));
      return CpuRuntime.panelBytesI8(N, K, groups).reduce((s, b) => s + CpuRuntime.sizeBytes(b), 0);
    };
    let bytes = 0;
    for (let l = 0; l < c.n_layers; l++) {
      const p = `layers.${l}.`;
      bytes += 2 * floats(D) + weight(['wq', 'wk', 'wv'].map((m) => `${p}attn.${m}.weight`), 3 * D, D) + weight([`${p}attn.wo.weight`], D, D)
        + weight([`${p}ffn.w1.weight`, `${p}ffn.w3.weight`], 2 * F, D) + weight([`${p}ffn.w2.weight`], D, F) + (kvCache ? 2 * floats(S * D) : 0);
    }
    const embI8 = st ? i8Groups(st, ['tok_embeddings.weight']) !== null : false;
    bytes += embI8 ? weight(['tok_embeddings.weight'], V, D) : 0;
    bytes += c.tie_embeddings ? (embI8 ? 0 : floats(CpuRuntime.panelFloats(V, D))) : weight(['output.weight'], V, D);
    return bytes + CpuRuntime.size(D, S * half, S * half, S * D, S * D, S * 3 * D, S * D, S * 2 * F, S * D, S * V, S * 2, S * 5);
  }

  static async create(config: ModelConfig, st: SafeTensors, opts: { threads: number; kvCache: boolean; parallelWork?: number }): Promise<CpuTransformer> {
    checkCpuConfig(config);
    const rt = await CpuRuntime.create({ bytes: CpuTransformer.bytesNeeded(config, opts.kvCache, st), threads: opts.threads, maxKeys: config.max_seq_len, maxHeadDim: config.dim / config.n_heads, maxInputs: Math.max(config.dim, config.ffn_dim), parallelWork: opts.parallelWork });
    try {
      return new CpuTransformer(rt, config, st, opts.kvCache);
    } catch (e) {
      rt.dispose();
      throw e;
    }
  }

  /**
   * Run tokens (T,) at cache rows pos0 .. pos0+T (rotated as positions ropePos0 + t) through every
   * layer; leaves the final residual stream in x. causal: causal attention (with nCausal, only the
   * first nCausal rows: a block-causal step); with the KV cache, keys are cache[0 .. pos0+T), or
   * cache[0 .. nKeys) (a DualCache window: rows after the window are cached too).
   */
  layersForward(tokens: ArrayLike<number>, pos0: number, causal: boolean, opts: { nCausal?: number; ropePos0?: number; nKeys?: number } = {}): void {
    const { rt, config: c } = this;
    const T = tokens.length;
    const D = c.dim, F = c.ffn_dim, H = c.n_heads, hd = D / H;
    const f = rt.f32;
    const x0 = this.x >> 2;
    if (this.embI8) for (let t = 0; t < T; t++) rt.gatherRowI8(this.embI8, D, tokens[t], this.x + 4 * t * D);
    else for (let t = 0; t < T; t++) f.set(this.emb!.subarray(tokens[t] * D, (tokens[t] + 1) * D), x0 + t * D);
    for (const L of this.layers) {
      rt.rmsnorm(this.x, D, L.attnNorm, this.xn, D, T, D, c.norm_eps);
      this.mm(this.xn, D, L.wqkv, this.qkv, 3 * D, T, 3 * D, D, false);
      rt.rope(this.qkv, 3 * D, T, 2 * H, hd, this.cos, this.sin, opts.ropePos0 ?? pos0); // q and k heads side by side
      let k = this.qkv + 4 * D, v = this.qkv + 8 * D, kvStride = 3 * D, nK = T;
      if (this.kvCache) {
        const q0 = this.qkv >> 2;
        for (let t = 0; t < T; t++) {
          const src = q0 + t * 3 * D;
          f.copyWithin((L.kCache >> 2) + (pos0 + t) * D, src + D, src + 2 * D);
          f.copyWithin((L.vCache >> 2) + (pos0 + t) * D, src + 2 * D, src + 3 * D);
        }
        k = L.kCache;
        v = L.vCache;
        kvStride = D;
        nK = opts.nKeys ?? pos0 + T;
      }
      rt.attention({ q: this.qkv, qStride: 3 * D, k, v, kvStride, out: this.att, outStride: D, nQ: T, nK, nHeads: H, hd, qPos0: pos0, causal, nCausal: opts.nCausal, scale: 1 / Math.sqrt(hd) });
      this.mm(this.att, D, L.wo, this.x, D, T, D, D, true);
      rt.rmsnorm(this.x, D, L.ffnNorm, this.xn, D, T, D, c.norm_eps);
      this.mm(this.xn, D, L.w13, this.h, 2 * F, T, 2 * F, D, false);
      rt.swiglu(this.h, 2 * F, T, F);
      this.mm(this.h, 2 * F, L.w2, this.x, D, T, D, F, true);
    }
  }

  /** C (M, N) (+)= A (M, K) · Wᵀ on the weight's kernel (matmul or matmul_i8). */
  private mm(a: number, lda: number, w: CpuWeight, c: number, ldc: number, M: number, N: number, K: number, acc: boolean): void {
    if (w.kind === 'i8') this.rt.matmulI8(a, lda, w.w, c, ldc, M, N, K, acc);
    else this.rt.matmul(a, lda, w.p, c, ldc, M, N, K, acc);
  }

  /** Final norm of rows `rows` of x and the output matmul: logits (rows.length, vocab) in logitsBuf. */
  head(rows: ArrayLike<number>): void {
    const { rt, config: c } = this;
    const D = c.dim;
    const f = rt.f32;
    const n = rows.length;
    for (let i = 0; i < n; i++) f.copyWithin((this.hx >> 2) + i * D, (this.x >> 2) + rows[i] * D, (this.x >> 2) + (rows[i] + 1) * D);
    rt.rmsnorm(this.hx, D, this.norm, this.hx, D, n, D, c.norm_eps);
    this.mm(this.hx, D, this.out, this.logitsBuf, c.vocab_size, n, c.vocab_size, D, false);
  }

  /** A copy of the first n rows of logits. */
  readLogits(n: number): Float32Array {
    const o = this.logitsBuf >> 2;
    return this.rt.f32.slice(o, o + n * this.config.vocab_size);
  }

  /** Decisions for the first n logits rows; position (RNG counter) and current token per row. */
  decide(positions: ArrayLike<number>, current: ArrayLike<number>, opts: DecideOptions): Decisions {
    const { rt, config: c } = this;
    const n = positions.length;
    const r0 = this.req >> 2;
    for (let i = 0; i < n; i++) {
      rt.i32[r0 + 2 * i] = positions[i];
      rt.i32[r0 + 2 * i + 1] = current[i];
    }
    rt.decide(this.logitsBuf, c.vocab_size, c.vocab_size, c.special_tokens.mask, opts.temperature, opts.seed, opts.step, this.req, this.dout, n);
    const d: Decisions = { token: new Int32Array(n), prob: new Float32Array(n), margin: new Float32Array(n), entropy: new Float32Array(n), currentProb: new Float32Array(n) };
    const o = this.dout >> 2;
    for (let i = 0; i < n; i++) {
      d.token[i] = rt.i32[o + 5 * i];
      d.prob[i] = rt.f32[o + 5 * i + 1];
      d.margin[i] = rt.f32[o + 5 * i + 2];
      d.entropy[i] = rt.f32[o + 5 * i + 3];
      d.currentProb[i] = rt.f32[o + 5 * i + 4];
    }
    return d;
  }

  dispose(): void {
    this.rt.dispose();
  }
}
