// Node-side WebGPU for tests: Dawn through the `webgpu` npm package (SwiftShader on CI).
// Installs the WebGPU globals (GPUBufferUsage, GPUMapMode, ...) that kernel host code uses.

import { create, globals } from 'webgpu';

let gpu: GPU | undefined;

export function nodeGPU(): GPU {
  if (!gpu) {
    Object.assign(globalThis, globals);
    gpu = create([]);
  }
  return gpu;
}
