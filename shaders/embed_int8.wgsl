// embed_int8.wgsl — token embedding gather from an int8 table with per-group scales:
//   x[t, d] = f32(q[tokens[t], d]) * scale[tokens[t], d / G]
//   tokens: (n_tokens,) u32 (ids >= vocab are clamped to vocab - 1 rather than read out of range)
//   q:      (vocab, dim) int8 packed four per u32 little-endian (the raw bytes of the tensor)
//   scale:  (vocab, dim/G) f32; G % 4 == 0 and divides dim (G = dim: one scale per row)
//   x:      (n_tokens, dim) f32
// The same buffers are the tied output projection's weight (matmul_int8.wgsl), so an int8 model
// holds its embedding once, in int8. Requires dim % 4 == 0. Tiling: one invocation per vec4 of x
// (one u32 word of q, one scale); dispatch (ceil(n_tokens·dim/4 / 64)).

struct EmbedParams {
  n_tokens: u32,
  dim: u32,
  vocab: u32,
  G: u32,   // columns per scale
}

@group(0) @binding(0) var<uniform> params: EmbedParams;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;       // (n_tokens,)
@group(0) @binding(2) var<storage, read> q: array<u32>;            // (vocab, dim/4) packed int8
@group(0) @binding(3) var<storage, read> scale: array<f32>;        // (vocab, dim/G)
@group(0) @binding(4) var<storage, read_write> x: array<vec4f>;    // (n_tokens, dim/4)

// Four sign-extended int8 (little-endian bytes of p) as f32 (as in matmul_int8.wgsl).
fn unpack_i8x4(p: u32) -> vec4f {
  let b = vec4i(bitcast<i32>(p << 24u), bitcast<i32>(p << 16u), bitcast<i32>(p << 8u), bitcast<i32>(p));
  return vec4f(b >> vec4u(24u));
}

@compute @workgroup_size(64)
fn gather_embeddings_int8(@builtin(global_invocation_id) gid: vec3u) {
  let dim4 = params.dim / 4u;
  let t = gid.x / dim4;
  let d = gid.x % dim4;
  if (t >= params.n_tokens) { return; }
  let id = min(tokens[t], params.vocab - 1u);
  let nG = params.dim / params.G;
  x[t * dim4 + d] = unpack_i8x4(q[id * dim4 + d]) * scale[id * nG + (d * 4u) / params.G];
}
