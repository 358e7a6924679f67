// The Web Worker that owns the GPU device. The page never touches WebGPU itself: it calls the
// methods below through comlink (types and rules: src/protocol.ts).

import * as Comlink from 'comlink';
import {
  requestDevice,
  WebGPUUnavailableError,
  type AcquiredDevice,
} from '../engine/device';
import {
  ErrorNames,
  PROTOCOL_VERSION,
  type AddVectorsRequest,
  type AddVectorsResponse,
  type ProbeResponse,
  type QuicksilverWorkerApi,
} from '../protocol';
import { addVectors } from './addVectors';
import { SamplerHost } from '../diffusion/host';

/** Runs generate/infill one at a time on the loaded model; loadModel() gives it model + tokenizer. */
const sampler = new SamplerHost();

/** One device per worker, acquired on first use; a lost device is forgotten so the next call retries. */
let devicePromise: Promise<AcquiredDevice> | null = null;

function acquire(): Promise<AcquiredDevice> {
  if (!devicePromise) {
    const pending = requestDevice(navigator.gpu, { label: 'quicksilver-worker' });
    devicePromise = pending;
    pending.then(
      ({ device }) => {
        void device.lost.then((info) => {
          console.warn(`[worker] GPU device lost (${info.reason}): ${info.message}`);
          if (devicePromise === pending) devicePromise = null;
        });
      },
      () => {
        // Failed acquisition is not cached: the user may enable WebGPU and retry.
        if (devicePromise === pending) devicePromise = null;
      },
    );
  }
  return devicePromise;
}

function notImplemented(method: string): never {
  const err = new Error(`${method}() is not implemented yet`);
  err.name = ErrorNames.NotImplemented;
  throw err;
}

const api: QuicksilverWorkerApi = {
  async probe(): Promise<ProbeResponse> {
    const t0 = performance.now();
    const common = { protocolVersion: PROTOCOL_VERSION, crossOriginIsolated: self.crossOriginIsolated };
    try {
      const { info } = await acquire();
      return { ...common, ok: true, adapter: info, ms: performance.now() - t0 };
    } catch (err) {
      if (err instanceof WebGPUUnavailableError) {
        return { ...common, ok: false, reason: err.reason, message: err.message, ms: performance.now() - t0 };
      }
      throw err;
    }
  },

  async addVectors({ a, b }: AddVectorsRequest): Promise<AddVectorsResponse> {
    const t0 = performance.now();
    const { device } = await acquire();
    const out = await addVectors(device, a, b);
    const response: AddVectorsResponse = { out, ms: performance.now() - t0 };
    return Comlink.transfer(response, [out.buffer]);
  },

  // ---- Filled in by the engine (src/engine/) -------------------------------------------------
  async loadModel() {
    return notImplemented('loadModel');
  },

  // ---- The sampler (src/diffusion/): loadModel() must call sampler.setModel(model, tokenizer) --
  async generate(req, onEvent) {
    return sampler.generate(req, onEvent);
  },
  async infill(req, onEvent) {
    return sampler.infill(req, onEvent);
  },
  async cancel({ requestId }) {
    sampler.cancel(requestId);
  },
};

Comlink.expose(api);
