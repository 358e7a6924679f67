// embed.wgsl — token embedding gather: x[t] = tok_embeddings[tokens[t]].
//   tokens: (n_tokens,) u32 (ids >= vocab are clamped to vocab - 1 rather than read out of range)
//   table:  (vocab, dim) f32         x: (n_tokens, dim)
// Requires dim % 4 == 0. Tiling: one invocation per vec4 of x; dispatch (ceil(n_tokens·dim/4 / 64)).

struct EmbedParams {
  n_tokens: u32,
  dim: u32,
  vocab: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: EmbedParams;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;       // (n_tokens,)
@group(0) @binding(2) var<storage, read> table: array<vec4f>;      // (vocab, dim/4)
@group(0) @binding(3) var<storage, read_write> x: array<vec4f>;    // (n_tokens, dim/4)

@compute @workgroup_size(64)
fn gather_embeddings(@builtin(global_invocation_id) gid: vec3u) {
  let dim4 = params.dim / 4u;
  let t = gid.x / dim4;
  let d = gid.x % dim4;
  if (t >= params.n_tokens) { return; }
  let id = min(tokens[t], params.vocab - 1u);
  x[t * dim4 + d] = table[id * dim4 + d];
}
