// The add_vectors kernel on Dawn + SwiftShader in Node, against the CPU reference.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDevice } from '../engine/device';
import { nodeGPU } from '../test/nodeGpu';
import { addVectors, dispatchGrid } from './addVectors';
import { addVectorsReference } from './addVectorsReference';

const GPU_TIMEOUT = 60_000;

/** Deterministic xorshift32 in [-range, range), so failures reproduce. */
function randomVector(n: number, seed: number, range = 100): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 * range - range;
  }
  return out;
}

describe('dispatchGrid', () => {
  it('uses one row while the count fits in x', () => {
    expect(dispatchGrid(1, 65535)).toEqual([1, 1]);
    expect(dispatchGrid(65535, 65535)).toEqual([65535, 1]);
  });
  it('splits over y, covering every workgroup', () => {
    const [x, y] = dispatchGrid(65536, 65535);
    expect(y).toBe(2);
    expect(x * y).toBeGreaterThanOrEqual(65536);
    expect(x).toBeLessThanOrEqual(65535);
  });
  it('rejects a count beyond the 2-D grid', () => {
    expect(() => dispatchGrid(10 * 10 + 1, 10)).toThrow(RangeError);
  });
});

describe('add_vectors.wgsl on WebGPU (Node, Dawn)', () => {
  let device: GPUDevice;

  beforeAll(async () => {
    ({ device } = await requestDevice(nodeGPU(), { label: 'vitest' }));
  }, GPU_TIMEOUT);

  afterAll(() => device?.destroy());

  // Sizes: not a multiple of the workgroup (64), one element, and a few workgroups.
  it.each([1, 63, 64, 1000, 4099])(
    'n = %i matches the CPU exactly, with the output poisoned by NaN first',
    async (n) => {
      const a = randomVector(n, 1234 + n);
      const b = randomVector(n, 99 + n);
      const out = await addVectors(device, a, b, { poison: Number.NaN });
      expect(out).toHaveLength(n);
      // Any element the kernel skipped would still be NaN.
      expect(out.some(Number.isNaN)).toBe(false);
      expect(Array.from(out)).toEqual(Array.from(addVectorsReference(a, b)));
    },
    GPU_TIMEOUT,
  );

  it('covers a 2-D dispatch (more workgroups than one dimension allows)', async () => {
    // 65536 workgroups of 64 > 65535 per dimension: forces y = 2. 4M floats = 16 MiB per buffer.
    const n = 65536 * 64 + 5;
    const a = randomVector(n, 7);
    const b = randomVector(n, 8);
    const out = await addVectors(device, a, b, { poison: Number.NaN });
    const ref = addVectorsReference(a, b);
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (!Object.is(out[i], ref[i])) mismatches++;
    expect(mismatches).toBe(0);
  }, GPU_TIMEOUT);

  it('rejects vectors of different lengths', async () => {
    await expect(addVectors(device, new Float32Array(3), new Float32Array(4))).rejects.toThrow(
      /length mismatch/,
    );
  });
});
