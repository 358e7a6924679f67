// CPU reference for shaders/add_vectors.wgsl (used by tests and the page's self-test; kept apart
// from addVectors.ts so the page bundle does not pull in GPU host code).

/** out[i] = a[i] + b[i], rounded to float32 on store exactly as the GPU does. */
export function addVectorsReference(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) + (b[i] as number);
  return out;
}
