// Worker of the browser runner of bench/onnx.bench.ts: mode "wasm" runs `measure` (our CPU engine
// vs ORT's WASM EP with ortThreads threads), mode "webgpu" runs `measureWebGpu`.
import { measure, measureWebGpu, type BenchModel, type OrtLike } from '../onnx-measure';

export interface PageRequest {
  mode: 'wasm' | 'webgpu';
  ortThreads: number;
  reps: number;
  lengths: number[];
  models: BenchModel[];
}

self.onmessage = async (e: MessageEvent<PageRequest>) => {
  try {
    const { mode, ortThreads, reps, lengths, models } = e.data;
    const ort = (mode === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm')) as unknown as OrtLike;
    ort.env.wasm.numThreads = ortThreads;
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    const read = async (path: string) => {
      const res = await fetch(`/${path.replace(/^public\//, '')}`); // public/ is served at the root
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    const result = mode === 'webgpu'
      ? await measureWebGpu({ ort, gpu: navigator.gpu, read, reps, lengths, models })
      : await measure({ ort, ortThreads, read, reps, lengths, models });
    self.postMessage({ ...result, crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent });
  } catch (err) {
    self.postMessage({ error: String((err as Error)?.stack ?? err) });
  }
};
