// add_vectors: out[i] = a[i] + b[i] for every i in [0, n).
// Shapes: a, b, out: (n,) f32 storage buffers; params.n = n (u32, uniform).
// Workgroup size 64 (x). Dispatch ceil(n / 64) workgroups, split over x and y when that exceeds
// maxComputeWorkgroupsPerDimension (65535); the flat index is rebuilt from both dimensions,
// and invocations past n do nothing.
// The trivial kernel that proves the path: WGSL file -> ?raw import -> pipeline in the worker.

struct Params {
  n: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let i = gid.y * (nwg.x * WORKGROUP_SIZE) + gid.x;
  if (i >= params.n) {
    return;
  }
  out[i] = a[i] + b[i];
}
