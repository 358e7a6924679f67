// matmul_int8.wgsl — out = A · Wᵀ with int8 weights and f32 scales per group of G input columns,
// dequantised in the kernel: W[n, k] = f32(q[n, k]) * scale[n, k / G].
//   A:     (M, K) f32 activations
//   q:     (N, K) int8, packed four per u32 little-endian (byte k%4 of word k/4), i.e. the raw
//          bytes of a row-major int8 tensor viewed as u32; requires K % 4 == 0
//   scale: (N, K/G) f32, one per output row and group; G % 4 == 0, G divides K (G = K: per row)
//   out:   (M, N), or (M, N/2) for EPILOGUE SWIGLU (see matmul_epilogue.wgsl)
// Tiling: identical to matmul_blocked.wgsl (8×8 outputs per invocation, workgroup 8×4, no
// workgroup memory, dispatch (ceil(N/64), ceil(M/32))), with the same accumulation order (the k
// loop split at group boundaries, where the 8 rows' scales are loaded), so the result equals
// matmul_blocked run on the dequantised f32 weights.
// Weight traffic is a quarter of f32's; the dequantisation costs one vec4 multiply per loaded W
// vector (8 per 64 dot products) and 8 scale loads per group.

struct MatmulParams {
  M: u32,
  N: u32,
  K: u32,
  G: u32,   // input columns per scale
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;        // (M, K/4)
@group(0) @binding(2) var<storage, read> q: array<u32>;          // (N, K/4) packed int8
@group(0) @binding(3) var<storage, read> scale: array<f32>;      // (N, K/G)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (M, N) or (M, N/2)

// Four sign-extended int8 (little-endian bytes of p) as f32.
fn unpack_i8x4(p: u32) -> vec4f {
  let b = vec4i(bitcast<i32>(p << 24u), bitcast<i32>(p << 16u), bitcast<i32>(p << 8u), bitcast<i32>(p));
  return vec4f(b >> vec4u(24u));
}

fn dot4(x: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return vec4f(dot(x, w0), dot(x, w1), dot(x, w2), dot(x, w3));
}

@compute @workgroup_size(8, 4)
fn matmul_int8(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 8u;
  let m0 = gid.y * 8u;
  if (n0 >= params.N || m0 >= params.M) { return; }
  let k4 = params.K / 4u;

  let ra0 = min(m0 + 0u, params.M - 1u) * k4;
  let ra1 = min(m0 + 1u, params.M - 1u) * k4;
  let ra2 = min(m0 + 2u, params.M - 1u) * k4;
  let ra3 = min(m0 + 3u, params.M - 1u) * k4;
  let ra4 = min(m0 + 4u, params.M - 1u) * k4;
  let ra5 = min(m0 + 5u, params.M - 1u) * k4;
  let ra6 = min(m0 + 6u, params.M - 1u) * k4;
  let ra7 = min(m0 + 7u, params.M - 1u) * k4;
  let n_0 = min(n0 + 0u, params.N - 1u); let n_1 = min(n0 + 1u, params.N - 1u);
  let n_2 = min(n0 + 2u, params.N - 1u); let n_3 = min(n0 + 3u, params.N - 1u);
  let n_4 = min(n0 + 4u, params.N - 1u); let n_5 = min(n0 + 5u, params.N - 1u);
  let n_6 = min(n0 + 6u, params.N - 1u); let n_7 = min(n0 + 7u, params.N - 1u);
  let g4 = params.G / 4u;        // u32 words per group
  let nG = params.K / params.G;  // groups per row
  let rs0 = n_0 * nG; let rs1 = n_1 * nG; let rs2 = n_2 * nG; let rs3 = n_3 * nG;
  let rs4 = n_4 * nG; let rs5 = n_5 * nG; let rs6 = n_6 * nG; let rs7 = n_7 * nG;
  let rw0 = n_0 * k4; let rw1 = n_1 * k4; let rw2 = n_2 * k4; let rw3 = n_3 * k4;
  let rw4 = n_4 * k4; let rw5 = n_5 * k4; let rw6 = n_6 * k4; let rw7 = n_7 * k4;

  var acc0lo = vec4f(0.0); var acc0hi = vec4f(0.0);
  var acc1lo = vec4f(0.0); var acc1hi = vec4f(0.0);
  var acc2lo = vec4f(0.0); var acc2hi = vec4f(0.0);
  var acc3lo = vec4f(0.0); var acc3hi = vec4f(0.0);
  var acc4lo = vec4f(0.0); var acc4hi = vec4f(0.0);
  var acc5lo = vec4f(0.0); var acc5hi = vec4f(0.0);
  var acc6lo = vec4f(0.0); var acc6hi = vec4f(0.0);
  var acc7lo = vec4f(0.0); var acc7hi = vec4f(0.0);

  for (var g = 0u; g < nG; g++) {
  let s0 = scale[rs0 + g]; let s1 = scale[rs1 + g]; let s2 = scale[rs2 + g]; let s3 = scale[rs3 + g];
  let s4 = scale[rs4 + g]; let s5 = scale[rs5 + g]; let s6 = scale[rs6 + g]; let s7 = scale[rs7 + g];
  let kEnd = (g + 1u) * g4;
  for (var k = g * g4; k < kEnd; k++) {
    let w0 = unpack_i8x4(q[rw0 + k]) * s0; let w1 = unpack_i8x4(q[rw1 + k]) * s1;
    let w2 = unpack_i8x4(q[rw2 + k]) * s2; let w3 = unpack_i8x4(q[rw3 + k]) * s3;
    let w4 = unpack_i8x4(q[rw4 + k]) * s4; let w5 = unpack_i8x4(q[rw5 + k]) * s5;
    let w6 = unpack_i8x4(q[rw6 + k]) * s6; let w7 = unpack_i8x4(q[rw7 + k]) * s7;
    let x0 = a[ra0 + k]; acc0lo += dot4(x0, w0, w1, w2, w3); acc0hi += dot4(x0, w4, w5, w6, w7);
    let x1 = a[ra1 + k]; acc1lo += dot4(x1, w0, w1, w2, w3); acc1hi += dot4(x1, w4, w5, w6, w7);
    let x2 = a[ra2 + k]; acc2lo += dot4(x2, w0, w1, w2, w3); acc2hi += dot4(x2, w4, w5, w6, w7);
    let x3 = a[ra3 + k]; acc3lo += dot4(x3, w0, w1, w2, w3); acc3hi += dot4(x3, w4, w5, w6, w7);
    let x4 = a[ra4 + k]; acc4lo += dot4(x4, w0, w1, w2, w3); acc4hi += dot4(x4, w4, w5, w6, w7);
    let x5 = a[ra5 + k]; acc5lo += dot4(x5, w0, w1, w2, w3); acc5hi += dot4(x5, w4, w5, w6, w7);
    let x6 = a[ra6 + k]; acc6lo += dot4(x6, w0, w1, w2, w3); acc6hi += dot4(x6, w4, w5, w6, w7);
    let x7 = a[ra7 + k]; acc7lo += dot4(x7, w0, w1, w2, w3); acc7hi += dot4(x7, w4, w5, w6, w7);
  }
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
