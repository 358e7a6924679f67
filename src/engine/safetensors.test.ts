import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16, parseSafetensors, readF32, readI8, writeSafetensors } from './safetensors';

describe('safetensors', () => {
  it('round-trips F32, F16, BF16 and I8 tensors', () => {
    const bytes = writeSafetensors({
      'a.weight': { dtype: 'F32', shape: [2, 3], data: [1, -2, 3.5, 1e-8, 0, -0] },
      'b.weight': { dtype: 'F16', shape: [4], data: [1, -2.5, 65504, 6e-8] },
      'c.weight': { dtype: 'BF16', shape: [2], data: [1.5, -3] },
      'q.weight': { dtype: 'I8', shape: [1, 5], data: [-128, -1, 0, 1, 127] },
    }, { format: 'pt' });
    const st = parseSafetensors(bytes);
    expect(new DataView(bytes.buffer).getBigUint64(0, true) % 8n).toBe(0n);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect([...st.tensors.keys()].sort()).toEqual(['a.weight', 'b.weight', 'c.weight', 'q.weight']);
    expect(st.tensors.get('a.weight')!.shape).toEqual([2, 3]);
    expect(Array.from(readF32(st, 'a.weight'))).toEqual(Array.from(new Float32Array([1, -2, 3.5, 1e-8, 0, -0])));
    expect(Array.from(readF32(st, 'b.weight'))).toEqual([1, -2.5, 65504, 2 ** -24]);
    expect(Array.from(readF32(st, 'c.weight'))).toEqual([1.5, -3]);
    expect(Array.from(readI8(st, 'q.weight'))).toEqual([-128, -1, 0, 1, 127]);
  });

  it('converts half floats exactly, including subnormals, infinities and NaN', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    for (let h = 0; h < 0x7c00; h += 37) expect(f32ToF16(f16ToF32(h))).toBe(h); // every finite half round-trips
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00);   // tie to even
    expect(f32ToF16(70000)).toBe(0x7c00);          // overflow to inf
  });

  it('rejects truncated files and inconsistent headers', () => {
    const bytes = writeSafetensors({ 'a.weight': { dtype: 'F32', shape: [4], data: [1, 2, 3, 4] } });
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(/past the end/);
    expect(() => parseSafetensors(bytes.subarray(0, 4))).toThrow();
    const bad = new TextEncoder().encode(JSON.stringify({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }));
    const file = new Uint8Array(8 + bad.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(bad.length), true);
    file.set(bad, 8);
    expect(() => parseSafetensors(file)).toThrow(/does not match shape/);
  });
});
