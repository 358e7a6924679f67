// decide.wgsl — turn logits into a decision per requested position, on the device, so only
// five numbers per position are read back instead of vocab logits.
//   logits:  (n_rows, vocab) f32
//   request: (n_rows,) vec2u (position in the sequence, token currently there or 0xffffffff)
//   out:     (n_rows, 5) f32: [token (u32 bits), prob, margin, entropy, current_prob]
// With z = logit / temperature (temperature 0: greedy, and z = logit):
//   distribution p = softmax(z) over the vocabulary WITHOUT the mask token (its probability is 0
//                    and it is never chosen)
//   token        = argmax z (greedy), or argmax (z + g_v) with Gumbel noise g_v = -log(-log(u_v))
//                  (Gumbel-max: an exact sample from p). u_v comes from a counter-based hash,
//                  pcg4d(seed, step, position, v) (Jarzynski & Olano 2020), so a draw depends only
//                  on those four numbers: reproducible, and independent of request order.
//   prob         = p[token]         margin = p[top1] - p[top2]
//   entropy      = -Σ p log p (nats)   current_prob = p[current token] (0 if none / the mask)
// Ties go to the lowest token id.
// Tiling: one workgroup of 64 invocations per requested row; each invocation streams every 64th
// logit keeping an online softmax (running max, Σ exp, Σ exp·(z - max) for the entropy), the top
// two and the best perturbed score; a 6-step tree in workgroup memory merges them.
// Dispatch (n_rows).

struct DecideParams {
  n_rows: u32,
  vocab: u32,
  sample: u32,           // 1: Gumbel-max sampling, 0: greedy
  mask_token: u32,       // excluded; 0xffffffff for none
  inv_temperature: f32,  // 1 / temperature (1 when greedy)
  seed: u32,
  step: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: DecideParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;      // (n_rows, vocab)
@group(0) @binding(2) var<storage, read> request: array<vec2u>;   // (n_rows,)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;   // (n_rows, 5)

const NONE: u32 = 0xffffffffu;
const LOW: f32 = -3.0e38;  // stands for -infinity (WGSL has no infinity literal)

// Per-invocation partial state, merged across the workgroup.
var<workgroup> wg_max: array<f32, 64>;
var<workgroup> wg_sum: array<f32, 64>;
var<workgroup> wg_ent: array<f32, 64>;
var<workgroup> wg_top1: array<f32, 64>;
var<workgroup> wg_top1_id: array<u32, 64>;
var<workgroup> wg_top2: array<f32, 64>;
var<workgroup> wg_best: array<f32, 64>;
var<workgroup> wg_best_id: array<u32, 64>;
var<workgroup> wg_best_z: array<f32, 64>;

fn pcg4d(seed: vec4u) -> vec4u {
  var v = seed * 1664525u + 1013904223u;
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  v ^= v >> vec4u(16u);
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  return v;
}

// Standard Gumbel noise for vocabulary entry v at (seed, step, position).
fn gumbel(position: u32, v: u32) -> f32 {
  let h = pcg4d(vec4u(params.seed, params.step, position, v)).x;
  let u = (f32(h >> 8u) + 0.5) * (1.0 / 16777216.0);  // uniform in (0, 1)
  return -log(-log(u));
}

// True if (value a, id ia) ranks above (b, ib): larger value, ties to the lower id.
fn ranks_above(a: f32, ia: u32, b: f32, ib: u32) -> bool {
  return a > b || (a == b && ia < ib);
}

@compute @workgroup_size(64)
fn decide(@builtin(local_invocation_index) tid: u32,
          @builtin(workgroup_id) wid: vec3u) {
  let row = wid.x;
  let base = row * params.vocab;
  let position = request[row].x;

  var run_max = LOW;   // max z seen
  var run_sum = 0.0;   // Σ exp(z - run_max)
  var run_ent = 0.0;   // Σ exp(z - run_max) · (z - run_max)
  var top1 = LOW; var top1_id = NONE; var top2 = LOW;
  var best = LOW; var best_id = NONE; var best_z = LOW;

  for (var v = tid; v < params.vocab; v += 64u) {
    if (v == params.mask_token) { continue; }
    let z = logits[base + v] * params.inv_temperature;
    if (z > run_max) {
      let c = exp(run_max - z);
      run_ent = c * (run_ent + (run_max - z) * run_sum);
      run_sum *= c;
      run_max = z;
    }
    let e = exp(z - run_max);
    run_sum += e;
    run_ent += e * (z - run_max);
    if (z > top1) { top2 = top1; top1 = z; top1_id = v; } else if (z > top2) { top2 = z; }
    if (params.sample != 0u) {
      let score = z + gumbel(position, v);
      if (score > best) { best = score; best_id = v; best_z = z; }
    }
  }
  wg_max[tid] = run_max; wg_sum[tid] = run_sum; wg_ent[tid] = run_ent;
  wg_top1[tid] = top1; wg_top1_id[tid] = top1_id; wg_top2[tid] = top2;
  wg_best[tid] = best; wg_best_id[tid] = best_id; wg_best_z[tid] = best_z;
  workgroupBarrier();

  for (var stride = 32u; stride > 0u; stride /= 2u) {
    if (tid < stride) {
      let o = tid + stride;
      // softmax statistics: rescale both to the larger max (skip an empty side: its max is LOW)
      if (wg_sum[o] > 0.0) {
        if (wg_sum[tid] == 0.0) {
          wg_max[tid] = wg_max[o]; wg_sum[tid] = wg_sum[o]; wg_ent[tid] = wg_ent[o];
        } else {
          let m1 = wg_max[tid]; let m2 = wg_max[o];
          let mx = max(m1, m2);
          let c1 = exp(m1 - mx); let c2 = exp(m2 - mx);
          wg_ent[tid] = c1 * (wg_ent[tid] + (m1 - mx) * wg_sum[tid]) + c2 * (wg_ent[o] + (m2 - mx) * wg_sum[o]);
          wg_sum[tid] = c1 * wg_sum[tid] + c2 * wg_sum[o];
          wg_max[tid] = mx;
        }
      }
      // top two
      if (ranks_above(wg_top1[o], wg_top1_id[o], wg_top1[tid], wg_top1_id[tid])) {
        wg_top2[tid] = max(wg_top1[tid], wg_top2[o]);
        wg_top1[tid] = wg_top1[o]; wg_top1_id[tid] = wg_top1_id[o];
      } else {
        wg_top2[tid] = max(wg_top2[tid], wg_top1[o]);
      }
      // best perturbed score
      if (ranks_above(wg_best[o], wg_best_id[o], wg_best[tid], wg_best_id[tid])) {
        wg_best[tid] = wg_best[o]; wg_best_id[tid] = wg_best_id[o]; wg_best_z[tid] = wg_best_z[o];
      }
    }
    workgroupBarrier();
  }

  if (tid != 0u) { return; }
  let mx = wg_max[0];
  let sum = wg_sum[0];
  var token = wg_top1_id[0];
  var z_token = wg_top1[0];
  if (params.sample != 0u) { token = wg_best_id[0]; z_token = wg_best_z[0]; }
  let current = request[row].y;
  var current_prob = 0.0;
  if (current < params.vocab && current != params.mask_token) {
    current_prob = exp(logits[base + current] * params.inv_temperature - mx) / sum;
  }
  let ob = row * 5u;
  out[ob + 0u] = bitcast<f32>(token);
  out[ob + 1u] = exp(z_token - mx) / sum;
  out[ob + 2u] = (exp(wg_top1[0] - mx) - exp(wg_top2[0] - mx)) / sum;
  out[ob + 3u] = log(sum) - wg_ent[0] / sum;
  out[ob + 4u] = current_prob;
}
