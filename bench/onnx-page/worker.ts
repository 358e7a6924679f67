// Worker of the browser runner of bench/onnx.bench.ts.
import * as ortModule from 'onnxruntime-web/wasm';
import { measure, type OrtLike } from '../onnx-measure';

self.onmessage = async (e: MessageEvent<{ ortThreads: number; reps: number; lengths: number[] }>) => {
  try {
    const ort = ortModule as unknown as OrtLike;
    ort.env.wasm.numThreads = e.data.ortThreads;
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    const read = async (path: string) => {
      const res = await fetch(`/${path.replace(/^public\//, '')}`); // public/ is served at the root
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    const result = await measure({
      ort, ortThreads: e.data.ortThreads, read, reps: e.data.reps, lengths: e.data.lengths,
      models: [
        { id: 'qs-code-diffusion-tiny', onnx: 'bench/onnx/qs-code-diffusion-tiny.onnx', folder: 'public/models/qs-code-diffusion-tiny' },
        { id: 'qs-random-6m', onnx: 'bench/onnx/qs-random-6m.onnx', folder: 'bench/onnx/qs-random-6m' },
      ],
    });
    self.postMessage({ ...result, crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent });
  } catch (err) {
    self.postMessage({ error: String((err as Error)?.stack ?? err) });
  }
};
