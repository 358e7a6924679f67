// Host side of shaders/add_vectors.wgsl: out = a + b on the GPU.
// DOM-free (runs in the browser worker and in Node tests with the `webgpu` package).
// It exists to prove the whole path: WGSL text via `?raw` -> pipeline -> dispatch -> readback.

import addVectorsWgsl from '../../shaders/add_vectors.wgsl?raw';

const WORKGROUP_SIZE = 64; // must match WORKGROUP_SIZE in add_vectors.wgsl

/** Pipeline compilation can take a second on SwiftShader: compile once per device. */
const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();

function pipelineFor(device: GPUDevice): GPUComputePipeline {
  let pipeline = pipelines.get(device);
  if (!pipeline) {
    const module = device.createShaderModule({ label: 'add_vectors', code: addVectorsWgsl });
    pipeline = device.createComputePipeline({
      label: 'add_vectors',
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    pipelines.set(device, pipeline);
  }
  return pipeline;
}

/** Split `workgroups` over (x, y) so neither exceeds the per-dimension limit. */
export function dispatchGrid(workgroups: number, maxPerDim: number): [number, number] {
  if (workgroups <= maxPerDim) return [Math.max(workgroups, 1), 1];
  const y = Math.ceil(workgroups / maxPerDim);
  if (y > maxPerDim) throw new RangeError(`${workgroups} workgroups exceed a ${maxPerDim}² grid`);
  return [Math.ceil(workgroups / y), y];
}

export interface AddVectorsOptions {
  /** Fill the output buffer with this value before the dispatch (tests poison it with NaN). */
  poison?: number;
}

/**
 * out[i] = a[i] + b[i]. a, b: (n,) float32, same length. Returns a new (n,) Float32Array.
 * Validation errors inside the dispatch are surfaced as a rejected promise, not swallowed.
 */
export async function addVectors(
  device: GPUDevice,
  a: Float32Array,
  b: Float32Array,
  options: AddVectorsOptions = {},
): Promise<Float32Array> {
  if (a.length !== b.length) {
    throw new RangeError(`addVectors: length mismatch, a has ${a.length}, b has ${b.length}`);
  }
  const n = a.length;
  if (n === 0) return new Float32Array(0);
  const bytes = n * 4;
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const [gx, gy] = dispatchGrid(
    Math.ceil(n / WORKGROUP_SIZE),
    device.limits.maxComputeWorkgroupsPerDimension,
  );

  device.pushErrorScope('validation');
  let scopeOpen = true;
  const bufA = device.createBuffer({ label: 'a', size: bytes, usage: storage });
  const bufB = device.createBuffer({ label: 'b', size: bytes, usage: storage });
  const bufOut = device.createBuffer({
    label: 'out',
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    mappedAtCreation: options.poison !== undefined,
  });
  if (options.poison !== undefined) {
    new Float32Array(bufOut.getMappedRange()).fill(options.poison);
    bufOut.unmap();
  }
  const bufParams = device.createBuffer({
    label: 'params',
    size: 16, // Params { n: u32 } padded to the 16-byte uniform minimum
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const readback = device.createBuffer({
    label: 'readback',
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });

  try {
    device.queue.writeBuffer(bufA, 0, a.buffer, a.byteOffset, bytes);
    device.queue.writeBuffer(bufB, 0, b.buffer, b.byteOffset, bytes);
    device.queue.writeBuffer(bufParams, 0, new Uint32Array([n, 0, 0, 0]));

    const pipeline = pipelineFor(device);
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: bufA } },
        { binding: 1, resource: { buffer: bufB } },
        { binding: 2, resource: { buffer: bufOut } },
        { binding: 3, resource: { buffer: bufParams } },
      ],
    });
    const encoder = device.createCommandEncoder({ label: 'add_vectors' });
    const pass = encoder.beginComputePass({ label: 'add_vectors' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    encoder.copyBufferToBuffer(bufOut, 0, readback, 0, bytes);
    device.queue.submit([encoder.finish()]);

    scopeOpen = false;
    const error = await device.popErrorScope();
    if (error) throw new Error(`add_vectors: WebGPU validation error: ${error.message}`);

    await readback.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    return out;
  } finally {
    if (scopeOpen) void device.popErrorScope();
    for (const buf of [bufA, bufB, bufOut, bufParams, readback]) buf.destroy();
  }
}
