// matmul_rows.wgsl — out = A · Wᵀ for a few rows of A (autoregressive decode: one token).
//   A:   (M, K) activations, M small (1 for decode)   W: (N, K) weights, PyTorch [out, in] layout
//   out: (M, N), or (M, N/2) for EPILOGUE SWIGLU (see matmul_epilogue.wgsl)
// Requires K % 4 == 0. A matrix-vector product reads every weight once and does 2 flops per
// weight, so it is bound by reading W. Tiling: each invocation computes 4 consecutive output
// columns of one row (one vec4 of A and four of W per step along K), no workgroup memory, no
// barriers. Workgroup 64 invocations = 256 columns; dispatch (ceil(N/256), M).
// Measured on SwiftShader: 4× faster than splitting each column's K over 8 lanes with a
// workgroup-memory reduction (the coalesced design a real GPU prefers; at this model size a real
// GPU's decode step is bound by dispatch latency, not by this kernel).

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

@compute @workgroup_size(64)
fn matmul_rows(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let m = gid.y;
  if (n0 >= params.N || m >= params.M) { return; }
  let k4 = params.K / 4u;
  let ra = m * k4;
  // W rows of the 4 columns, clamped into range (columns past N are computed, never written)
  let r0 = min(n0 + 0u, params.N - 1u) * k4;
  let r1 = min(n0 + 1u, params.N - 1u) * k4;
  let r2 = min(n0 + 2u, params.N - 1u) * k4;
  let r3 = min(n0 + 3u, params.N - 1u) * k4;
  var acc = vec4f(0.0);  // outputs (m, n0 .. n0 + 3)
  for (var k = 0u; k < k4; k++) {
    let x = a[ra + k];
    acc += vec4f(dot(x, w[r0 + k]), dot(x, w[r1 + k]), dot(x, w[r2 + k]), dot(x, w[r3 + k]));
  }
  write_out4(m, n0, acc);
}
