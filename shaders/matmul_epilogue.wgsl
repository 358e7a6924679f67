// matmul_epilogue.wgsl — what every matmul kernel does with a finished output value.
// The engine prepends this file to each matmul kernel's source (WGSL has no #include); it uses
// the kernel's `params` (M, N, K) and its `out` buffer, declared in the kernel file.
//
// EPILOGUE (pipeline-overridable constant) picks the operation, so one kernel serves three uses:
//   0 STORE       out[m, n]  = acc                                   out: (M, N)
//   1 ACCUMULATE  out[m, n] += acc                                   out: (M, N)
//      Fuses the residual add `x = x + f(x) · Wᵀ` into the projection: the (M, N) product is never
//      written and re-read by a separate add pass. (Each element is read and written by the same
//      invocation, so reading `out` here is race-free.)
//   2 SWIGLU      out[m, j]  = silu(acc[m, 2j]) * acc[m, 2j + 1]     out: (M, N / 2)
//      The weight rows are interleaved at load time, (gate_0, up_0, gate_1, up_1, ...) =
//      (w1[0], w3[0], w1[1], w3[1], ...), so gate and up of column j land in one invocation.
//      Fuses SwiGLU into the gate/up projection: the (M, 2·ffn) activations never reach memory.
//      Requires N even; kernels hand pairs that start at an even column.
override EPILOGUE: u32 = 0u;

fn silu(x: f32) -> f32 {
  return x / (1.0 + exp(-x));
}

// One output value (EPILOGUE 0 or 1). Skips columns past N.
fn write_out(m: u32, n: u32, v: f32) {
  if (n >= params.N) { return; }
  let i = m * params.N + n;
  if (EPILOGUE == 1u) {
    out[i] = out[i] + v;
  } else {
    out[i] = v;
  }
}

// One SwiGLU output from the (gate, up) pair at columns (n, n + 1), n even (EPILOGUE 2).
fn write_swiglu(m: u32, n: u32, gate: f32, up: f32) {
  if (n + 1u >= params.N) { return; }
  out[m * (params.N / 2u) + n / 2u] = silu(gate) * up;
}

// Four consecutive outputs of row m starting at column n0 (n0 even). Rows past M are skipped.
fn write_out4(m: u32, n0: u32, v: vec4f) {
  if (m >= params.M) { return; }
  if (EPILOGUE == 2u) {
    write_swiglu(m, n0, v.x, v.y);
    write_swiglu(m, n0 + 2u, v.z, v.w);
  } else {
    write_out(m, n0, v.x);
    write_out(m, n0 + 1u, v.y);
    write_out(m, n0 + 2u, v.z);
    write_out(m, n0 + 3u, v.w);
  }
}
