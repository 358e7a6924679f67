// matmul_blocked.wgsl — out = A · Wᵀ, register-blocked, no workgroup memory, no barriers.
//   A:   (M, K) activations, row-major             W: (N, K) weights, PyTorch [out, in] layout
//   out: (M, N), or (M, N/2) for EPILOGUE SWIGLU (see matmul_epilogue.wgsl)
// Requires K % 4 == 0 (rows are read as vec4); the engine uses matmul_tiled otherwise.
// Tiling: each invocation computes an 8×8 block of outputs (8 rows of A × 8 rows of W) entirely
// in registers: per step of 4 along K it loads 8 + 8 vec4 and does 64 vec4 dot products.
// Workgroup 8×4 invocations = a 32-row × 64-column tile; dispatch (ceil(N/64), ceil(M/32)).
// Fastest design on SwiftShader (CPU), where barriers and workgroup memory are expensive; the
// loop body is unrolled by hand because SwiftShader keeps indexed private arrays in memory.
// Sizes that are not multiples of the tile: row indices are clamped for loading (a valid, wasted
// load) and rows/columns past M/N are never written.

struct MatmulParams {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;        // (M, K/4)
@group(0) @binding(2) var<storage, read> w: array<vec4f>;        // (N, K/4)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // (M, N) or (M, N/2)

// Four dot products of one A vector with four W vectors.
fn dot4(x: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return vec4f(dot(x, w0), dot(x, w1), dot(x, w2), dot(x, w3));
}

@compute @workgroup_size(8, 4)
fn matmul_blocked(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 8u;
  let m0 = gid.y * 8u;
  if (n0 >= params.N || m0 >= params.M) { return; }
  let k4 = params.K / 4u;

  // Row starts (in vec4) of the 8 A rows and 8 W rows, clamped into range.
  let ra0 = min(m0 + 0u, params.M - 1u) * k4;
  let ra1 = min(m0 + 1u, params.M - 1u) * k4;
  let ra2 = min(m0 + 2u, params.M - 1u) * k4;
  let ra3 = min(m0 + 3u, params.M - 1u) * k4;
  let ra4 = min(m0 + 4u, params.M - 1u) * k4;
  let ra5 = min(m0 + 5u, params.M - 1u) * k4;
  let ra6 = min(m0 + 6u, params.M - 1u) * k4;
  let ra7 = min(m0 + 7u, params.M - 1u) * k4;
  let rw0 = min(n0 + 0u, params.N - 1u) * k4;
  let rw1 = min(n0 + 1u, params.N - 1u) * k4;
  let rw2 = min(n0 + 2u, params.N - 1u) * k4;
  let rw3 = min(n0 + 3u, params.N - 1u) * k4;
  let rw4 = min(n0 + 4u, params.N - 1u) * k4;
  let rw5 = min(n0 + 5u, params.N - 1u) * k4;
  let rw6 = min(n0 + 6u, params.N - 1u) * k4;
  let rw7 = min(n0 + 7u, params.N - 1u) * k4;

  // acc{i}lo = outputs (m0 + i, n0 .. n0 + 3), acc{i}hi = outputs (m0 + i, n0 + 4 .. n0 + 7)
  var acc0lo = vec4f(0.0); var acc0hi = vec4f(0.0);
  var acc1lo = vec4f(0.0); var acc1hi = vec4f(0.0);
  var acc2lo = vec4f(0.0); var acc2hi = vec4f(0.0);
  var acc3lo = vec4f(0.0); var acc3hi = vec4f(0.0);
  var acc4lo = vec4f(0.0); var acc4hi = vec4f(0.0);
  var acc5lo = vec4f(0.0); var acc5hi = vec4f(0.0);
  var acc6lo = vec4f(0.0); var acc6hi = vec4f(0.0);
  var acc7lo = vec4f(0.0); var acc7hi = vec4f(0.0);

  for (var k = 0u; k < k4; k++) {
    let w0 = w[rw0 + k]; let w1 = w[rw1 + k]; let w2 = w[rw2 + k]; let w3 = w[rw3 + k];
    let w4 = w[rw4 + k]; let w5 = w[rw5 + k]; let w6 = w[rw6 + k]; let w7 = w[rw7 + k];
    let x0 = a[ra0 + k]; acc0lo += dot4(x0, w0, w1, w2, w3); acc0hi += dot4(x0, w4, w5, w6, w7);
    let x1 = a[ra1 + k]; acc1lo += dot4(x1, w0, w1, w2, w3); acc1hi += dot4(x1, w4, w5, w6, w7);
    let x2 = a[ra2 + k]; acc2lo += dot4(x2, w0, w1, w2, w3); acc2hi += dot4(x2, w4, w5, w6, w7);
    let x3 = a[ra3 + k]; acc3lo += dot4(x3, w0, w1, w2, w3); acc3hi += dot4(x3, w4, w5, w6, w7);
    let x4 = a[ra4 + k]; acc4lo += dot4(x4, w0, w1, w2, w3); acc4hi += dot4(x4, w4, w5, w6, w7);
    let x5 = a[ra5 + k]; acc5lo += dot4(x5, w0, w1, w2, w3); acc5hi += dot4(x5, w4, w5, w6, w7);
    let x6 = a[ra6 + k]; acc6lo += dot4(x6, w0, w1, w2, w3); acc6hi += dot4(x6, w4, w5, w6, w7);
    let x7 = a[ra7 + k]; acc7lo += dot4(x7, w0, w1, w2, w3); acc7hi += dot4(x7, w4, w5, w6, w7);
  }

  write_out4(m0 + 0u, n0, acc0lo); write_out4(m0 + 0u, n0 + 4u, acc0hi);
  write_out4(m0 + 1u, n0, acc1lo); write_out4(m0 + 1u, n0 + 4u, acc1hi);
  write_out4(m0 + 2u, n0, acc2lo); write_out4(m0 + 2u, n0 + 4u, acc2hi);
  write_out4(m0 + 3u, n0, acc3lo); write_out4(m0 + 3u, n0 + 4u, acc3hi);
  write_out4(m0 + 4u, n0, acc4lo); write_out4(m0 + 4u, n0 + 4u, acc4hi);
  write_out4(m0 + 5u, n0, acc5lo); write_out4(m0 + 5u, n0 + 4u, acc5hi);
  write_out4(m0 + 6u, n0, acc6lo); write_out4(m0 + 6u, n0 + 4u, acc6hi);
  write_out4(m0 + 7u, n0, acc7lo); write_out4(m0 + 7u, n0 + 4u, acc7hi);
}
