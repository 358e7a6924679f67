// safetensors: 8-byte little-endian header length N, N bytes of JSON header, then raw tensor data.
// Header: { name: { dtype, shape, data_offsets: [begin, end] } (offsets relative to the data
// start), "__metadata__"?: {...} }. Supported dtypes: F32, F16 (converted to f32 on the CPU),
// BF16 (likewise), I8. Also a writer, for tests that build models in memory.

export type SafeDtype = 'F32' | 'F16' | 'BF16' | 'I8';

export interface TensorInfo {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  /** Bytes of this tensor inside the file's data section. */
  byteOffset: number;
  byteLength: number;
}

export interface SafeTensors {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** The whole file. */
  bytes: Uint8Array;
  /** Offset of the data section inside `bytes`. */
  dataStart: number;
}

const BYTES_PER: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2, I8: 1 };

export function parseSafetensors(file: ArrayBuffer | Uint8Array): SafeTensors {
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(file);
  if (bytes.byteLength < 8) throw new Error('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.byteLength) throw new Error(`safetensors: header length ${headerLen} exceeds file size ${bytes.byteLength}`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const h = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(h.dtype in BYTES_PER)) throw new Error(`safetensors: tensor ${name} has unsupported dtype ${h.dtype}`);
    const dtype = h.dtype as SafeDtype;
    const [begin, end] = h.data_offsets;
    const count = h.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES_PER[dtype]) throw new Error(`safetensors: tensor ${name} byte size ${end - begin} does not match shape ${JSON.stringify(h.shape)} ${dtype}`);
    if (dataStart + end > bytes.byteLength) throw new Error(`safetensors: tensor ${name} runs past the end of the file`);
    tensors.set(name, { name, dtype, shape: h.shape, byteOffset: begin, byteLength: end - begin });
  }
  return { tensors, metadata, bytes, dataStart };
}

/** Raw bytes of a tensor (a view, no copy). */
export function tensorBytes(st: SafeTensors, name: string): Uint8Array {
  const t = requireTensor(st, name);
  return st.bytes.subarray(st.dataStart + t.byteOffset, st.dataStart + t.byteOffset + t.byteLength);
}

export function requireTensor(st: SafeTensors, name: string): TensorInfo {
  const t = st.tensors.get(name);
  if (!t) throw new Error(`safetensors: missing tensor ${name}`);
  return t;
}

/** A float tensor (F32, F16 or BF16) as a new Float32Array. */
export function readF32(st: SafeTensors, name: string): Float32Array {
  const t = requireTensor(st, name);
  const raw = tensorBytes(st, name);
  const n = t.byteLength / BYTES_PER[t.dtype];
  const out = new Float32Array(n);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (t.dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (t.dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
  } else if (t.dtype === 'BF16') {
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    for (let i = 0; i < n; i++) {
      u[0] = view.getUint16(2 * i, true) << 16;
      out[i] = f[0];
    }
  } else {
    throw new Error(`safetensors: tensor ${name} is ${t.dtype}, not a float type`);
  }
  return out;
}

/** An I8 tensor as a new Int8Array. */
export function readI8(st: SafeTensors, name: string): Int8Array {
  const t = requireTensor(st, name);
  if (t.dtype !== 'I8') throw new Error(`safetensors: tensor ${name} is ${t.dtype}, not I8`);
  return new Int8Array(tensorBytes(st, name).slice().buffer);
}

/** IEEE 754 half (bits) to number; handles subnormals, infinities and NaN. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const SCRATCH_F32 = new Float32Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_F32.buffer);

/** number to IEEE 754 half bits, round to nearest even (for tests that write F16 files). */
export function f32ToF16(value: number): number {
  SCRATCH_F32[0] = value;
  const x = SCRATCH_U32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export interface TensorToWrite {
  dtype: SafeDtype;
  shape: number[];
  /** Values; converted to dtype (F16 rounds to nearest even, I8 must hold integers). */
  data: ArrayLike<number>;
}

/** Serialise tensors (in name order, data aligned to 8 bytes like training/export.py). */
export function writeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const len = t.data.length * BYTES_PER[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.byteLength + ((8 - (json.byteLength % 8)) % 8)).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.byteLength;
  for (const name of names) {
    const t = tensors[name];
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i];
      if (t.dtype === 'F32') view.setFloat32(p + 4 * i, v, true);
      else if (t.dtype === 'F16') view.setUint16(p + 2 * i, f32ToF16(v), true);
      else if (t.dtype === 'BF16') {
        SCRATCH_F32[0] = v;
        view.setUint16(p + 2 * i, SCRATCH_U32[0] >>> 16, true); // truncation
      }
      else view.setInt8(p + i, v);
    }
    p += t.data.length * BYTES_PER[t.dtype];
  }
  return out;
}
