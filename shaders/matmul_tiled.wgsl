// matmul_tiled.wgsl — out = A · Wᵀ, classic workgroup-shared-memory tiling (the fast design on
// real GPUs; slow on SwiftShader, which pays heavily for barriers).
//   A:   (M, K) activations, row-major             W: (N, K) weights, PyTorch [out, in] layout
//   out: (M, N), or (M, N/2) for EPILOGUE SWIGLU (see matmul_epilogue.wgsl)
// Any M, N, K (scalar loads, bounds-checked; out-of-range tile elements are loaded as 0).
// Tiling: workgroup 16×16 invocations computes a 64×64 output tile; each invocation a 4×4 block
// (rows 4·ty.., columns 4·tx..). K is walked in slabs of 16: the workgroup stages a 64×16 slab
// of A and of W in workgroup memory, stored k-major so each invocation reads its 4 rows and its
// 4 columns as one vec4 each. Dispatch (ceil(N/64), ceil(M/64)).

struct MatmulParams {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;          // (M, K)
@group(0) @binding(2) var<storage, read> w: array<f32>;          // (N, K)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // (M, N) or (M, N/2)

const TILE: u32 = 64u;   // output rows and columns per workgroup
const SLAB: u32 = 16u;   // K per staging step

var<workgroup> a_slab: array<vec4f, 256>;  // (SLAB, TILE/4): a_slab[k * 16 + r / 4][r % 4] = A[m_base + r, k0 + k]
var<workgroup> w_slab: array<vec4f, 256>;  // (SLAB, TILE/4): w_slab[k * 16 + c / 4][c % 4] = W[n_base + c, k0 + k]

@compute @workgroup_size(16, 16)
fn matmul_tiled(@builtin(local_invocation_id) lid: vec3u,
                @builtin(workgroup_id) wid: vec3u) {
  let tid = lid.y * 16u + lid.x;
  let m_base = wid.y * TILE;
  let n_base = wid.x * TILE;

  var acc0 = vec4f(0.0);  // row m_base + 4·ty + 0, columns n_base + 4·tx .. + 3
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);

  for (var k0 = 0u; k0 < params.K; k0 += SLAB) {
    // Stage: 64 × 16 elements of A and of W, 4 each per invocation; 16 consecutive invocations
    // read 16 consecutive k of one row.
    for (var e = 0u; e < 4u; e++) {
      let idx = tid + e * 256u;
      let r = idx / SLAB;
      let k = idx % SLAB;
      let m = m_base + r;
      let n = n_base + r;
      var av = 0.0;
      var wv = 0.0;
      if (m < params.M && k0 + k < params.K) { av = a[m * params.K + k0 + k]; }
      if (n < params.N && k0 + k < params.K) { wv = w[n * params.K + k0 + k]; }
      a_slab[k * 16u + r / 4u][r % 4u] = av;
      w_slab[k * 16u + r / 4u][r % 4u] = wv;
    }
    workgroupBarrier();
    for (var k = 0u; k < SLAB; k++) {
      let av = a_slab[k * 16u + lid.y];
      let wv = w_slab[k * 16u + lid.x];
      acc0 += av.x * wv;
      acc1 += av.y * wv;
      acc2 += av.z * wv;
      acc3 += av.w * wv;
    }
    workgroupBarrier();
  }

  let m0 = m_base + lid.y * 4u;
  let n0 = n_base + lid.x * 4u;
  write_out4(m0 + 0u, n0, acc0);
  write_out4(m0 + 1u, n0, acc1);
  write_out4(m0 + 2u, n0, acc2);
  write_out4(m0 + 3u, n0, acc3);
}
