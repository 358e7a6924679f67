// Compute pipelines, compiled once per device and shared by every model and test on it.
// Compilation is slow on SwiftShader (up to a second or more per kernel): `prepare` compiles a
// set up front (asynchronously, in parallel); `get` then returns them synchronously while
// commands are being encoded.

import { attentionSource, Epilogue, matmulSource, SOURCES, type MatmulKernel } from './shaders';

export type PipelineName =
  | 'embed'
  | 'embed_int8'
  | 'rmsnorm'
  | 'rope'
  | 'decide'
  | `attention:${number}`
  | `matmul:${MatmulKernel}:${Epilogue}`;

export function matmulPipelineName(kernel: MatmulKernel, epilogue: Epilogue): PipelineName {
  return `matmul:${kernel}:${epilogue}`;
}

export function attentionPipelineName(headDim: number): PipelineName {
  return `attention:${headDim}`;
}

function describe(name: PipelineName): { code: string; entryPoint: string; constants?: Record<string, number> } {
  if (name.startsWith('matmul:')) {
    const [, kernel, epilogue] = name.split(':');
    return { ...matmulSource(kernel as MatmulKernel), constants: { EPILOGUE: Number(epilogue) } };
  }
  if (name.startsWith('attention:')) return attentionSource(Number(name.split(':')[1]));
  return SOURCES[name as keyof typeof SOURCES];
}

export class Pipelines {
  private readonly ready = new Map<PipelineName, GPUComputePipeline>();
  private readonly pending = new Map<PipelineName, Promise<GPUComputePipeline>>();
  private readonly modules = new Map<string, GPUShaderModule>();

  private constructor(readonly device: GPUDevice) {}

  private static readonly perDevice = new WeakMap<GPUDevice, Pipelines>();

  /** The one pipeline cache of this device. */
  static of(device: GPUDevice): Pipelines {
    let p = Pipelines.perDevice.get(device);
    if (!p) {
      p = new Pipelines(device);
      Pipelines.perDevice.set(device, p);
    }
    return p;
  }

  /** Compile (once) every named pipeline; `onCompiled` reports each as it finishes. */
  async prepare(names: Iterable<PipelineName>, onCompiled?: (name: PipelineName) => void): Promise<void> {
    await Promise.all([...new Set(names)].map(async (name) => {
      await this.compile(name);
      onCompiled?.(name);
    }));
  }

  /** A compiled pipeline; throws if `prepare` has not compiled it. */
  get(name: PipelineName): GPUComputePipeline {
    const p = this.ready.get(name);
    if (!p) throw new Error(`pipeline ${name} was not prepared`);
    return p;
  }

  private compile(name: PipelineName): Promise<GPUComputePipeline> {
    let p = this.pending.get(name);
    if (!p) {
      const d = describe(name);
      let module = this.modules.get(d.code);
      if (!module) {
        module = this.device.createShaderModule({ label: name, code: d.code });
        this.modules.set(d.code, module);
      }
      const compute: GPUProgrammableStage = { module, entryPoint: d.entryPoint };
      if (d.constants) compute.constants = d.constants;
      p = this.device
        .createComputePipelineAsync({ label: name, layout: 'auto', compute })
        .then((pipeline) => {
          this.ready.set(name, pipeline);
          return pipeline;
        });
      this.pending.set(name, p);
      p.catch(() => this.pending.delete(name));
    }
    return p;
  }
}
