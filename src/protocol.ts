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
//   - Failures reject the promise with an Error. Comlink carries `name` and `message` across,
//     so callers switch on `error.name` (e.g. 'NotImplementedError', 'CancelledError'), never on
//     message text. Expected conditions (no WebGPU) are results, not errors: see ProbeResponse.

import type { AdapterReport, WebGPUUnavailableReason } from './engine/device';
import type { EngineCounters, ModelConfig } from './engine/types';

// The adapter types are defined next to the code that produces them (DOM-free, used by Node tests
// too) and re-exported here so the page only ever imports from the protocol.
export type { AdapterReport, WebGPUUnavailableReason, EngineCounters, ModelConfig };

/** Bumped on any incompatible change; the page refuses a worker of another version. */
export const PROTOCOL_VERSION = 1;

/** Error names that cross the boundary (see the file comment). */
export const ErrorNames = {
  NotImplemented: 'NotImplementedError',
  Cancelled: 'CancelledError',
  WebGPUUnavailable: 'WebGPUUnavailableError',
  NoModel: 'NoModelError',
  InvalidRequest: 'RequestError',
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
// addVectors(): the trivial kernel (shaders/add_vectors.wgsl), proving WGSL -> worker -> result.
// ---------------------------------------------------------------------------------------------

export interface AddVectorsRequest {
  /** (n,) float32 */
  a: Float32Array;
  /** (n,) float32, same length as a */
  b: Float32Array;
}

export interface AddVectorsResponse {
  /** (n,) float32, out[i] = a[i] + b[i], computed on the GPU. Transferred. */
  out: Float32Array;
  /** Wall time in the worker (upload, dispatch, readback), ms. */
  ms: number;
}

// ---------------------------------------------------------------------------------------------
// loadModel(): NOT IMPLEMENTED YET (engine). Types are a first proposal; the engine owner may
// reshape them, changing page and worker in the same commit.
// ---------------------------------------------------------------------------------------------

export interface LoadModelRequest {
  /** Folder name under public/models/, e.g. "qs-code-diffusion-6m" (shared/MODEL_FORMAT.md). */
  modelId: string;
  /** Where the model's files live; default `/models/<modelId>/`. */
  baseUrl?: string;
}

export type LoadModelEvent =
  | { type: 'download'; file: string; loadedBytes: number; totalBytes: number }
  | { type: 'verify'; file: string }
  | { type: 'upload'; uploadedBytes: number; totalBytes: number }
  | { type: 'compile'; kernel: string };

export interface LoadModelResponse {
  modelId: string;
  config: ModelConfig;
  parameterCount: number;
  /** Bytes of weights resident on the device. */
  deviceBytes: number;
  ms: number;
}

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

  /** Run shaders/add_vectors.wgsl. Rejects with WebGPUUnavailableError when there is no device. */
  addVectors(req: AddVectorsRequest): Promise<AddVectorsResponse>;

  /** NOT IMPLEMENTED YET (engine): rejects with NotImplementedError. */
  loadModel(
    req: LoadModelRequest,
    onEvent?: (event: LoadModelEvent) => void,
  ): Promise<LoadModelResponse>;

  /**
   * Generate after `req.prompt` with the loaded model (diffusion sampler, or the autoregressive
   * twin). Streams a `start` event, then one `step` event per step. Rejects with NoModelError
   * before loadModel(), RequestError for a bad request, CancelledError after cancel().
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
