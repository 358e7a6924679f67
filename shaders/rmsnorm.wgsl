// rmsnorm.wgsl — RMSNorm of rows, optionally gathering the rows first:
//   out[r] = x[src] / sqrt(mean(x[src]²) + eps) * weight,   src = rows[r] if gather else r
//   x:      (n_src_rows, dim)      weight: (dim,)
//   rows:   (n_rows,) u32 source-row indices (read only when gather != 0)
//   out:    (n_rows, dim)
// The gather fuses "pick the requested positions" into the final norm, so the output projection
// and the decision kernel run on those rows only (not all L × vocab logits).
// Requires dim % 4 == 0. Tiling: one invocation per row (two vec4 passes over it: sum of squares,
// then scale), workgroup 64 rows; dispatch (ceil(n_rows/64)). Norms are a small share of the
// forward's time on any device.

struct NormParams {
  n_rows: u32,
  dim: u32,
  gather: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: NormParams;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;           // (n_src_rows, dim/4)
@group(0) @binding(2) var<storage, read> weight: array<vec4f>;      // (dim/4,)
@group(0) @binding(3) var<storage, read> rows: array<u32>;          // (n_rows,)
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;   // (n_rows, dim/4)

@compute @workgroup_size(64)
fn normalize_rows(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= params.n_rows) { return; }
  let dim4 = params.dim / 4u;
  var src = r;
  if (params.gather != 0u) { src = rows[r]; }
  let xb = src * dim4;

  var ss = vec4f(0.0);
  for (var d = 0u; d < dim4; d++) {
    let v = x[xb + d];
    ss += v * v;
  }
  let inv_rms = inverseSqrt((ss.x + ss.y + ss.z + ss.w) / f32(params.dim) + params.eps);

  let ob = r * dim4;
  for (var d = 0u; d < dim4; d++) {
    out[ob + d] = x[xb + d] * inv_rms * weight[d];
  }
}
