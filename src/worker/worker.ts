// The Web Worker that owns the GPU device. The page never touches WebGPU itself: it calls the
// methods below through comlink (types and rules: src/protocol.ts).

import * as Comlink from 'comlink';
import {
  requestDevice,
  WebGPUUnavailableError,
  type AcquiredDevice,
} from '../engine/device';
import { loadModel as engineLoadModel, sha256Hex } from '../engine/load';
import { loadCpuModel } from '../engine/cpu/index';
import {
  ErrorNames,
  PROTOCOL_VERSION,
  type ProbeResponse,
  type QuicksilverWorkerApi,
  type WorkerConfig,
  type WorkerEvent,
} from '../protocol';
import { SamplerHost } from '../diffusion/host';
import { ModelRegistry, namedError } from './models';
import { cachedFetch, forgetUnder } from './modelCache';

/** Runs generate/infill one at a time on the loaded models; the registry gives it models + tokenizers. */
const sampler = new SamplerHost();

/** Page listeners for worker-initiated events (device loss). */
const listeners: Array<(e: WorkerEvent) => void> = [];

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
          const unloaded = models.deviceLost();
          const event: WorkerEvent = { type: 'device-lost', reason: String(info.reason), message: info.message, unloaded };
          for (const listener of listeners) listener(event);
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

/** configure(): where the worker keeps model files itself (null: it leaves that to a service worker). */
let config: WorkerConfig = { modelCache: null };

const models = new ModelRegistry({
  fetch: (input, init) => (config.modelCache ? cachedFetch(config.modelCache, fetch)(input, init) : fetch(input, init)),
  device: async () => (await acquire()).device,
  load: engineLoadModel,
  // The CPU engine (WebAssembly SIMD; threads when cross-origin isolated): chosen for engine 'cpu',
  // or for 'auto' when WebGPU is missing or a software fallback adapter.
  loadCpu: loadCpuModel,
  probe: async () => {
    try {
      const { info } = await acquire();
      return { ok: true, isFallbackAdapter: info.isFallbackAdapter, description: info.architecture || info.description };
    } catch (err) {
      if (err instanceof WebGPUUnavailableError) return { ok: false, reason: err.reason, message: err.message };
      throw err;
    }
  },
  host: sampler,
  sha256: sha256Hex,
  forgetCached,
});

/** The service worker's cache of model files (src/sw.ts MODELS_CACHE). */
const MODELS_CACHE = 'qs-models';

async function forgetCached(baseUrl: string, { late = true }: { late?: boolean } = {}): Promise<void> {
  const base = new URL(baseUrl, self.location.origin).href;
  const names = config.modelCache ? [MODELS_CACHE, config.modelCache] : [MODELS_CACHE];
  await forgetUnder(names, base);
  // The service worker stores a response after handing it over; catch a write still in flight
  // (not when fresh copies are about to be fetched and cached: those must stay).
  if (late) setTimeout(() => void forgetUnder(names, base).catch(() => {}), 1500);
}

/** generate/infill must not silently run on another model while the requested one loads. */
function checkNotLoading(modelId: string | undefined): void {
  if (modelId !== undefined ? models.isLoading(modelId) : models.loadedIds().length === 0 && models.anyLoading()) {
    throw namedError(ErrorNames.ModelLoading, `model ${modelId !== undefined ? `"${modelId}" ` : ''}is still loading: wait for loadModel() to finish`);
  }
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

  async configure(next) {
    config = { modelCache: typeof next?.modelCache === 'string' && next.modelCache !== '' ? next.modelCache : null };
  },

  // ---- Models (src/engine/ loader + src/tokenizer/, by id; ./models.ts) ------------------------
  async loadModel(req, onEvent) {
    return models.load(req, onEvent);
  },
  async unloadModel(modelId) {
    models.unload(modelId);
  },
  async loadedModels() {
    return models.loadedIds();
  },
  async subscribe(onEvent) {
    listeners.push(onEvent);
  },
  async loseDevice() {
    const { device } = await acquire();
    device.destroy();
  },

  // ---- The sampler (src/diffusion/) ------------------------------------------------------------
  async generate(req, onEvent) {
    checkNotLoading(req?.modelId);
    return sampler.generate(req, onEvent);
  },
  async infill(req, onEvent) {
    checkNotLoading(req?.modelId);
    return sampler.infill(req, onEvent);
  },
  async cancel({ requestId }) {
    sampler.cancel(requestId);
  },
};

Comlink.expose(api);
