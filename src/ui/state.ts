// UI-side state types (page only; what crosses the worker boundary lives in src/protocol.ts).

import type { AdapterReport, WebGPUUnavailableReason } from '../protocol';

/** Why the page has no usable engine: a WebGPU reason from the worker, or a page-side failure. */
export type UnavailableReason = WebGPUUnavailableReason | 'worker-failed';

export type AdapterState =
  | { status: 'probing' }
  | { status: 'ready'; adapter: AdapterReport; crossOriginIsolated: boolean }
  | { status: 'unavailable'; reason: UnavailableReason; message: string };

export type LoadPhase = 'download' | 'verify' | 'upload' | 'tune' | 'compile';

/** Which engine runs the models: 'auto' lets the worker pick (CPU on software adapters). */
export type EngineChoice = 'auto' | 'webgpu' | 'cpu';

/** One model's loading state (src/ui/modelManager.ts). */
export type ModelState =
  | { status: 'none' }
  | {
      status: 'loading';
      modelId: string;
      phase: LoadPhase;
      /** Overall progress in [0, 1]. */
      fraction: number;
      loadedBytes: number;
      totalBytes: number;
      /** The bytes so far came from the offline cache. */
      fromCache: boolean;
    }
  | {
      status: 'ready';
      modelId: string;
      kind: 'diffusion' | 'autoregressive';
      /** The engine that runs it, and why (LoadModelResponse). */
      engine: 'webgpu' | 'cpu';
      engineReason: string;
      parameterCount: number;
      downloadBytes: number;
      /** Bytes of weights in the engine's memory (LoadModelResponse.weightBytes). */
      weightBytes?: number;
      /** A draft row's cost in single-row steps on this engine (LoadModelResponse.rowCost). */
      rowCost?: number;
      fromCache: boolean;
      /** Every file of the model is in the service worker's cache: it loads offline next time. */
      offlineCached: boolean;
      /** Why the files could not be kept for offline use (storage quota, with figures); null when they were or are not tried yet. */
      offlineProblem: string | null;
      /** A cached file failed its check and was downloaded again (LoadModelResponse.cacheRepaired). */
      cacheRepaired: boolean;
      /** Why it runs on the engine it does, when that is not what was asked (the GPU was lost). */
      engineNote: string | null;
      maxSeqLen: number;
      /** config.attention 'block_causal' (decoded against a KV cache; infill candidates need it). */
      blockCausal: boolean;
      specials: { mask: number; pad: number; eos: number };
      ms: number;
    }
  | {
      status: 'error';
      modelId: string;
      /** An ErrorNames value (src/protocol.ts), e.g. 'ModelNotFoundError', 'DeviceLostError'. */
      errorName: string;
      message: string;
    };

/** Service-worker / connectivity state shown in the status bar. */
export interface OfflineState {
  /** The service worker has precached the app shell: it will start without network. */
  offlineReady: boolean;
  online: boolean;
  /** A new version is installed and waits: the update prompt shows (applyUpdate() reloads into it). */
  updateReady: boolean;
}
