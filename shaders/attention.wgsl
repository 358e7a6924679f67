// attention.wgsl — fused multi-head attention with online (streaming) softmax:
//   out[i, h] = Σ_j softmax_j(q[i, h] · k[j, h] / sqrt(head_dim)) · v[j, h]
// over the visible keys j; the (queries × keys) score matrix is never materialised.
//   q:       (n_queries, q_stride) — head h of query i is q[i * q_stride + h * head_dim ..]
//            (q_stride = 3·dim when q is the first third of the fused QKV buffer)
//   k_cache: (max_seq_len, dim)    — rows 0 .. n_keys - 1 are valid (padding-aware)
//   v_cache: (max_seq_len, dim)
//   out:     (n_queries, dim)
// Visible keys: j < n_keys; for the first n_causal queries also j <= q_pos0 + i, where q_pos0 is
// the cache row of query 0 (0 for a full causal forward, the cache length for a decode step: the
// KV-cache path is the same kernel with n_queries = 1). Bidirectional (diffusion): n_causal = 0;
// causal (AR): n_causal = n_queries; a block-causal step (clean rows, then a noisy block that sees
// every key): n_causal = the number of clean rows.
// Tiling: one invocation per (4 consecutive queries, head), register-blocked like matmul_blocked:
// it streams the keys four at a time, so each step loads 4 K and 4 V vectors per head_dim/4 and
// uses each for 4 queries; the 4 × 4 scores are four vec4, and the online-softmax update costs one
// vector exp per query per four keys. Running max, normaliser and weighted sums of values
// (4 × head_dim floats) stay in the invocation: no workgroup memory, no barriers. On SwiftShader
// this measured 5× faster than one query and one key at a time (0.75 vs 0.15 GFLOP/s); on a real
// GPU a flash-attention design with K/V tiles in workgroup memory would be faster.
// Workgroup 32 invocations = 128 queries; dispatch (ceil(n_queries/128), n_heads).
// HD4 = head_dim / 4 is a compile-time constant (array size, loop bounds): the engine rewrites the
// `const HD4` line below to the model's value before compiling (head_dim % 4 == 0).

const HD4: u32 = 8u;  // head_dim / 4 — replaced by the engine

struct AttentionParams {
  n_queries: u32,
  n_keys: u32,
  q_stride: u32,   // floats between consecutive query rows
  dim: u32,        // floats per K/V cache row and per output row = n_heads * head_dim
  q_pos0: u32,
  n_causal: u32,   // queries 0 .. n_causal - 1 are causal, the rest see all n_keys keys
  scale: f32,      // 1 / sqrt(head_dim)
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: AttentionParams;
@group(0) @binding(1) var<storage, read> q: array<vec4f>;         // (n_queries, q_stride/4)
@group(0) @binding(2) var<storage, read> k_cache: array<vec4f>;   // (max_seq_len, dim/4)
@group(0) @binding(3) var<storage, read> v_cache: array<vec4f>;   // (max_seq_len, dim/4)
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>; // (n_queries, dim/4)

// Online-softmax state of one query: running max, normaliser Σ exp(s - max).
struct Running {
  max: f32,
  sum: f32,
}

// Fold four new scores s (already masked) into r; returns the factor by which the weighted sum of
// values must be rescaled and writes the four weights exp(s - new max) to p.
fn fold_scores(r: ptr<function, Running>, s: vec4f, p: ptr<function, vec4f>) -> f32 {
  let new_max = max((*r).max, max(max(s.x, s.y), max(s.z, s.w)));
  let correction = exp((*r).max - new_max);
  *p = exp(s - vec4f(new_max));
  (*r).sum = (*r).sum * correction + ((*p).x + (*p).y + (*p).z + (*p).w);
  (*r).max = new_max;
  return correction;
}

@compute @workgroup_size(32)
fn attend(@builtin(global_invocation_id) gid: vec3u) {
  let h = gid.y;                 // head
  let i0 = gid.x * 4u;           // queries i0 .. i0 + 3
  if (i0 >= params.n_queries) { return; }
  let last = params.n_queries - 1u;
  // queries past the end recompute the last one and are not written
  let i1 = min(i0 + 1u, last);
  let i2 = min(i0 + 2u, last);
  let i3 = min(i0 + 3u, last);
  let dim4 = params.dim / 4u;
  let qs4 = params.q_stride / 4u;
  let q0 = i0 * qs4 + h * HD4; let q1 = i1 * qs4 + h * HD4;
  let q2 = i2 * qs4 + h * HD4; let q3 = i3 * qs4 + h * HD4;

  // keys visible to each query
  var vis = vec4u(params.n_keys);
  let qi = vec4u(i0, i1, i2, i3);
  vis = select(vis, min(vis, vec4u(params.q_pos0 + 1u) + qi), qi < vec4u(params.n_causal));
  let n_loop = max(max(vis.x, vis.y), max(vis.z, vis.w));

  var acc0: array<vec4f, HD4>; var acc1: array<vec4f, HD4>;   // Σ_j exp(s_j - max) · v_j per query
  var acc2: array<vec4f, HD4>; var acc3: array<vec4f, HD4>;
  var r0 = Running(-3.0e38, 0.0); var r1 = Running(-3.0e38, 0.0);
  var r2 = Running(-3.0e38, 0.0); var r3 = Running(-3.0e38, 0.0);
  for (var j0 = 0u; j0 < n_loop; j0 += 4u) {
    let js = vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u);
    // K/V rows of the four keys; keys past n_loop read row 0 (valid memory) and get weight 0
    let k0 = j0 * dim4 + h * HD4;
    let k1 = select(h * HD4, k0 + dim4, js.y < n_loop);
    let k2 = select(h * HD4, k0 + 2u * dim4, js.z < n_loop);
    let k3 = select(h * HD4, k0 + 3u * dim4, js.w < n_loop);
    var s0 = vec4f(0.0); var s1 = vec4f(0.0); var s2 = vec4f(0.0); var s3 = vec4f(0.0);
    for (var d = 0u; d < HD4; d++) {
      let c0 = k_cache[k0 + d]; let c1 = k_cache[k1 + d]; let c2 = k_cache[k2 + d]; let c3 = k_cache[k3 + d];
      let x0 = q[q0 + d]; s0 += vec4f(dot(x0, c0), dot(x0, c1), dot(x0, c2), dot(x0, c3));
      let x1 = q[q1 + d]; s1 += vec4f(dot(x1, c0), dot(x1, c1), dot(x1, c2), dot(x1, c3));
      let x2 = q[q2 + d]; s2 += vec4f(dot(x2, c0), dot(x2, c1), dot(x2, c2), dot(x2, c3));
      let x3 = q[q3 + d]; s3 += vec4f(dot(x3, c0), dot(x3, c1), dot(x3, c2), dot(x3, c3));
    }
    var p0: vec4f; var p1: vec4f; var p2: vec4f; var p3: vec4f;
    let f0 = fold_scores(&r0, select(vec4f(-3.0e38), s0 * params.scale, js < vec4u(vis.x)), &p0);
    let f1 = fold_scores(&r1, select(vec4f(-3.0e38), s1 * params.scale, js < vec4u(vis.y)), &p1);
    let f2 = fold_scores(&r2, select(vec4f(-3.0e38), s2 * params.scale, js < vec4u(vis.z)), &p2);
    let f3 = fold_scores(&r3, select(vec4f(-3.0e38), s3 * params.scale, js < vec4u(vis.w)), &p3);
    for (var d = 0u; d < HD4; d++) {
      let v0 = v_cache[k0 + d]; let v1 = v_cache[k1 + d]; let v2 = v_cache[k2 + d]; let v3 = v_cache[k3 + d];
      acc0[d] = acc0[d] * f0 + p0.x * v0 + p0.y * v1 + p0.z * v2 + p0.w * v3;
      acc1[d] = acc1[d] * f1 + p1.x * v0 + p1.y * v1 + p1.z * v2 + p1.w * v3;
      acc2[d] = acc2[d] * f2 + p2.x * v0 + p2.y * v1 + p2.z * v2 + p2.w * v3;
      acc3[d] = acc3[d] * f3 + p3.x * v0 + p3.y * v1 + p3.z * v2 + p3.w * v3;
    }
  }

  // no visible key (n_keys = 0): output 0
  let inv = select(vec4f(0.0), vec4f(1.0) / vec4f(r0.sum, r1.sum, r2.sum, r3.sum), vec4f(r0.sum, r1.sum, r2.sum, r3.sum) > vec4f(0.0));
  let o0 = i0 * dim4 + h * HD4;
  for (var d = 0u; d < HD4; d++) { out[o0 + d] = acc0[d] * inv.x; }
  if (i0 + 1u <= last) { let o = i1 * dim4 + h * HD4; for (var d = 0u; d < HD4; d++) { out[o + d] = acc1[d] * inv.y; } }
  if (i0 + 2u <= last) { let o = i2 * dim4 + h * HD4; for (var d = 0u; d < HD4; d++) { out[o + d] = acc2[d] * inv.z; } }
  if (i0 + 3u <= last) { let o = i3 * dim4 + h * HD4; for (var d = 0u; d < HD4; d++) { out[o + d] = acc3[d] * inv.w; } }
}
