// The worker boundary: every request, response and event type that crosses it, in one file.
//
// The page talks to src/worker/worker.ts through comlink: the worker exposes an object of type
// `QuicksilverWorkerApi`; the page holds a `Comlink.Remote<QuicksilverWorkerApi>` and calls its
// methods as async functions. Rules for everything in this file:
//   - Payloads are structured-cloneable plain data (objects, arrays, typed arrays, strings,
//     numbers). No classes, no functions inside payloads, no GPU objects.
//   - Large typed arrays are transferred, not copied, where the sender no longer needs them
//     (`Comlink.transfer(value, [array.buffer])`).
//   - Progress/streaming uses an optional callback parameter. The page must wrap it with
//     `Comlink.proxy(fn)`; the worker calls it fire-and-forget (do not await it in hot loops).
//     The callback's messages travel on their own MessagePort: the promise's result (or error)
//     can arrive before the last events. Count on `stats.steps` (generate) to know when every
//     step event is in, and ignore load progress that arrives after loadModel settled.
//   - Failures reject the promise with an Error. Comlink carries `name` and `message` across,
//     so callers switch on `error.name` (e.g. 'NotImplementedError', 'CancelledError'), never on
//     message text. Expected conditions (no WebGPU) are results, not errors: see ProbeResponse.

import type { AdapterReport, WebGPUUnavailableReason } from './engine/device';
import type { EngineCounters, ModelConfig } from './engine/types';

// The adapter types are defined next to the code that produces them (DOM-free, used by Node tests
// too) and re-exported here so the page only ever imports from the protocol.
export type { AdapterReport, WebGPUUnavailableReason, EngineCounters, ModelConfig };

/** Bumped on any incompatible change; the page refuses a worker of another version. */
export const PROTOCOL_VERSION = 4;

/** Error names that cross the boundary (see the file comment). */
export const ErrorNames = {
  NotImplemented: 'NotImplementedError',
  Cancelled: 'CancelledError',
  WebGPUUnavailable: 'WebGPUUnavailableError',
  NoModel: 'NoModelError',
  InvalidRequest: 'RequestError',
  /** loadModel(): no model with that id is served (manifest.json answered 404, or not a model). */
  ModelNotFound: 'ModelNotFoundError',
  /** loadModel(): a file's size or SHA-256 differs from manifest.json (partial or corrupt download). */
  ModelIntegrity: 'ModelIntegrityError',
  /** loadModel(): the server sent a web page (HTML, an error page with status 200) in a model file's place. */
  ModelResponse: 'ModelResponseError',
  /** A request for a model that is still loading (generate/infill, or a second loadModel of it). */
  ModelLoading: 'ModelLoadingError',
  /** loadModel(): any other failure (network, bad config, upload, compile); message says which. */
  ModelLoad: 'ModelLoadError',
  /** The GPU device was lost: loaded models are gone, load them again. */
  DeviceLost: 'DeviceLostError',
} as const;

// ---------------------------------------------------------------------------------------------
// probe(): is WebGPU usable in the worker, and on what adapter?
// ---------------------------------------------------------------------------------------------

interface ProbeCommon {
  protocolVersion: number;
  /** True when the page is cross-origin isolated (COOP/COEP), needed by threaded WASM later. */
  crossOriginIsolated: boolean;
  /** Time spent acquiring the adapter and device, in ms. */
  ms: number;
}

export interface ProbeOk extends ProbeCommon {
  ok: true;
  adapter: AdapterReport;
}

export interface ProbeUnavailable extends ProbeCommon {
  ok: false;
  /** Which step failed; the UI picks its friendly explanation from this. */
  reason: WebGPUUnavailableReason;
  /** Technical detail, shown under the friendly text. */
  message: string;
}

export type ProbeResponse = ProbeOk | ProbeUnavailable;

// ---------------------------------------------------------------------------------------------
// loadModel() / unloadModel(): model files -> engine model on the device, plus its tokenizer.
// Several models may be loaded at once (a diffusion model and its autoregressive twin for Race
// mode); generate/infill pick one with `modelId`.
// ---------------------------------------------------------------------------------------------

export interface LoadModelRequest {
  /** Folder name under public/models/, e.g. "qs-code-diffusion-tiny" (docs/MODEL_FORMAT.md). */
  modelId: string;
  /** Where the model's files live; default `/models/<modelId>/`. */
  baseUrl?: string;
  /**
   * Which engine runs it (src/engine/cpu/choose.ts): 'auto' (default) = the CPU engine
   * (WebAssembly SIMD) when there is no WebGPU or the adapter is a software fallback, else
   * WebGPU; 'webgpu' / 'cpu' force one.
   */
  engine?: 'auto' | 'webgpu' | 'cpu';
}

/** Progress of loadModel(), in order: download (bytes), verify, upload, tune, compile. */
export type LoadModelEvent =
  | {
      type: 'download';
      modelId: string;
      file: string;
      /** Bytes of config.json + model.safetensors received so far, of `totalBytes`. */
      loadedBytes: number;
      totalBytes: number;
      /** This file came from the service worker's offline cache (no network). */
      fromCache: boolean;
    }
  | { type: 'verify'; modelId: string; file: string }
  | { type: 'upload'; modelId: string; uploadedBytes: number; totalBytes: number }
  | { type: 'tune'; modelId: string }
  | { type: 'compile'; modelId: string; kernel: string; done: number; total: number };

export interface LoadModelResponse {
  modelId: string;
  kind: ModelConfig['kind'];
  /** The engine that runs the model. */
  engine: 'webgpu' | 'cpu';
  /** Why that engine, e.g. "auto: the WebGPU adapter is a software fallback (swiftshader)". */
  engineReason: string;
  config: ModelConfig;
  parameterCount: number;
  /** Bytes of weights resident on the device. */
  deviceBytes: number;
  /** Bytes the weights take in the engine that runs them (an int8 model stays int8 on both). */
  weightBytes?: number;
  /** Bytes of model files fetched (manifest, config, weights, tokenizer). */
  downloadBytes: number;
  /** Every file came from the service worker's offline cache (false on first download). */
  fromCache: boolean;
  /** Matmul variant the engine chose for this adapter. */
  matmulVariant: string;
  /**
   * Block-causal models where the engine knows it (the CPU engine): what one more row of a block
   * step costs in single-row steps; the sampler sizes its drafts by it (rowCost).
   */
  rowCost?: number;
  /** True when the model was already loaded and this call returned at once. */
  alreadyLoaded: boolean;
  /** A cached file failed its check (stale or damaged): the cache was dropped and the files fetched again. */
  cacheRepaired?: boolean;
  ms: number;
}

/** configure(): worker-wide settings (the library, src/lib/client.ts, sends them first). */
export interface WorkerConfig {
  /**
   * Name of a Cache Storage cache in which the worker keeps every model file it downloads and
   * from which it answers later loads first (offline without a service worker); null: no caching
   * by the worker (the app's service worker caches models/ itself). Default null.
   */
  modelCache: string | null;
}

/** Events the worker pushes without a request (subscribe()). */
export type WorkerEvent = {
  type: 'device-lost';
  reason: string;
  message: string;
  /** Ids of the models that were loaded and are now gone. */
  unloaded: string[];
};

// ---------------------------------------------------------------------------------------------
// generate() / infill() / cancel(): the sampler (src/diffusion/; knobs documented in its types.ts).
// Step events are small deltas: the page replays them with applyStep onto the start event's canvas.
// ---------------------------------------------------------------------------------------------

import type { GenerateTextRequest, GenerationEvent, GenerationResult, InfillTextRequest } from './diffusion/types';

export type GenerateRequest = GenerateTextRequest;
export type InfillRequest = InfillTextRequest;
export type {
  GenerationEvent,
  GenerationResult,
  SamplerKnobs,
  UnmaskSchedule,
  ConfidenceMeasure,
  RevisionOptions,
  CanvasLayout,
  StepEvent,
  TokenChange,
  ChangeState,
  SampleStats,
} from './diffusion/types';
export { applyStep } from './diffusion/request';

export interface CancelRequest {
  requestId: string;
}

// ---------------------------------------------------------------------------------------------
// The API object the worker exposes.
// ---------------------------------------------------------------------------------------------

export interface QuicksilverWorkerApi {
  /** Acquire (once) and describe the WebGPU adapter/device. Never rejects for "no WebGPU". */
  probe(): Promise<ProbeResponse>;

  /** Worker-wide settings (WorkerConfig); applies to loads that start afterwards. */
  configure(config: WorkerConfig): Promise<void>;

  /**
   * Download (with byte progress), verify against manifest.json (size + SHA-256), upload and
   * compile model `req.modelId`, and load its tokenizer. Loading an id that is already loaded
   * resolves at once (`alreadyLoaded`). A cached file that fails its check is fetched again once
   * (`cacheRepaired`). Rejects with ModelNotFoundError (unknown id), ModelIntegrityError (size/SHA
   * mismatch), ModelResponseError (a web page served in a file's place), ModelLoadingError (this id is loading already),
   * WebGPUUnavailableError, DeviceLostError or ModelLoadError (anything else).
   */
  loadModel(
    req: LoadModelRequest,
    onEvent?: (event: LoadModelEvent) => void,
  ): Promise<LoadModelResponse>;

  /** Free model `modelId` on the device (no-op when it is not loaded). */
  unloadModel(modelId: string): Promise<void>;

  /** Ids of the models loaded now. */
  loadedModels(): Promise<string[]>;

  /** Receive worker-initiated events (device loss). Call once; later calls add listeners. */
  subscribe(onEvent: (event: WorkerEvent) => void): Promise<void>;

  /** Testing aid: destroy the GPU device, as if it were lost (listeners get `device-lost`). */
  loseDevice(): Promise<void>;

  /**
   * Generate after `req.prompt` with model `req.modelId` (default: the last one loaded): the
   * diffusion sampler, or autoregressive decoding for an AR model. Streams a `start` event, then
   * one `step` event per step. Rejects with NoModelError when that model is not loaded,
   * ModelLoadingError while it is still loading, RequestError for a bad request, CancelledError
   * after cancel(), DeviceLostError when the GPU went away.
   */
  generate(
    req: GenerateRequest,
    onEvent?: (event: GenerationEvent) => void,
  ): Promise<GenerationResult>;

  /** Fill the hole between `req.prefix` and `req.suffix` (diffusion models only); as generate(). */
  infill(
    req: InfillRequest,
    onEvent?: (event: GenerationEvent) => void,
  ): Promise<GenerationResult>;

  /**
   * Stop the run `requestId` after its current step (or before it starts, if queued: runs go one
   * at a time); its promise then rejects with CancelledError. Cancelling an unknown id is a no-op.
   */
  cancel(req: CancelRequest): Promise<void>;
}
