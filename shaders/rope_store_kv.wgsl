// rope_store_kv.wgsl — rotary position embedding on q and k, and append k, v to the KV cache.
//   qkv:     (n_tokens, 3·dim) fused projection output, per row [q | k | v], each (n_heads, head_dim)
//   rope:    (max_seq_len, head_dim/2) vec2 (cos, sin) of angle pos · rope_theta^(-2i/head_dim),
//            precomputed in float64 on the CPU and uploaded once (WGSL sin/cos are imprecise
//            for large angles)
//   k_cache, v_cache: (max_seq_len, dim); token t is written at row pos0 + t and rotated by the
//            angle of position rope_pos0 + t (the same, except for a suffix placed first in the
//            cache for infill: its rows hold positions after the hole)
// Convention: ROTATE-HALF (GPT-NeoX / Hugging Face LLaMA) on each head separately: with
// half = head_dim/2, element i < half pairs with element i + half:
//   x'[i]        = x[i] · cos(θ_i) - x[i + half] · sin(θ_i)
//   x'[i + half] = x[i + half] · cos(θ_i) + x[i] · sin(θ_i)      θ_i = pos · rope_theta^(-2i/head_dim)
// (NOT the interleaved (2i, 2i+1) pairing of the original Meta LLaMA code.)
// q is rotated in place; rotated k and unchanged v go to the cache, so attention reads only the
// cache: one pass serves both the diffusion forward (pos0 = 0) and AR decoding (pos0 = cache length).
// Tiling: one invocation per (token, rotation pair); dispatch (ceil(n_tokens · dim/2 / 64)).

struct RopeParams {
  n_tokens: u32,
  pos0: u32,
  dim: u32,
  head_dim: u32,
  rope_pos0: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: RopeParams;
@group(0) @binding(1) var<storage, read> rope: array<vec2f>;          // (max_seq_len, head_dim/2)
@group(0) @binding(2) var<storage, read_write> qkv: array<f32>;       // (n_tokens, 3·dim)
@group(0) @binding(3) var<storage, read_write> k_cache: array<f32>;   // (max_seq_len, dim)
@group(0) @binding(4) var<storage, read_write> v_cache: array<f32>;   // (max_seq_len, dim)

@compute @workgroup_size(64)
fn rotate_and_store_kv(@builtin(global_invocation_id) gid: vec3u) {
  let half_dim = params.dim / 2u;
  let t = gid.x / half_dim;        // token
  let p = gid.x % half_dim;        // rotation pair over all heads
  if (t >= params.n_tokens) { return; }
  let half_head = params.head_dim / 2u;
  let h = p / half_head;           // head
  let i = p % half_head;           // pair within the head
  let pos = params.pos0 + t;                 // cache row
  let cs = rope[(params.rope_pos0 + t) * half_head + i];

  let lo = h * params.head_dim + i;  // column of element i of head h
  let hi = lo + half_head;           // column of element i + half
  let row = t * 3u * params.dim;
  let cache_row = pos * params.dim;

  let q1 = qkv[row + lo];
  let q2 = qkv[row + hi];
  qkv[row + lo] = q1 * cs.x - q2 * cs.y;
  qkv[row + hi] = q2 * cs.x + q1 * cs.y;

  let k1 = qkv[row + params.dim + lo];
  let k2 = qkv[row + params.dim + hi];
  k_cache[cache_row + lo] = k1 * cs.x - k2 * cs.y;
  k_cache[cache_row + hi] = k2 * cs.x + k1 * cs.y;

  v_cache[cache_row + lo] = qkv[row + 2u * params.dim + lo];
  v_cache[cache_row + hi] = qkv[row + 2u * params.dim + hi];
}
