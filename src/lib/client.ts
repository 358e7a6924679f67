// createQuicksilver(): the library's handle on one engine worker (src/worker/worker.ts). It wraps
// the worker's comlink API (src/protocol.ts) in plain async functions: callbacks need no
// Comlink.proxy, model URLs are resolved against the page, request ids are made up when not
// given, an AbortSignal cancels a run, and a run's promise resolves only after every one of its
// step events was delivered (they travel on their own MessagePort and can trail the result).

import * as Comlink from 'comlink';
import {
  PROTOCOL_VERSION,
  type GenerationEvent,
  type GenerationResult,
  type LoadModelEvent,
  type LoadModelResponse,
  type ProbeResponse,
  type QuicksilverWorkerApi,
  type SamplerKnobs,
  type StepEvent,
  type WorkerEvent,
} from '../protocol';
import { CancelledError } from '../diffusion/types';
import { SpanText, type SpanView } from './spanText';

export type EngineChoice = 'auto' | 'webgpu' | 'cpu';

export interface QuicksilverOptions {
  /**
   * Model id: the folder name under `baseUrl` (docs/MODEL_FORMAT.md), e.g.
   * 'qs-code-diffusion-tiny'. It is what load(), generate() and infill() use when they are not
   * given another. Optional for pages that pick models later.
   */
  model?: string;
  /**
   * Which engine runs the models: 'auto' (default) picks the CPU engine (WebAssembly SIMD) when
   * WebGPU is missing or only a software adapter, else WebGPU; 'webgpu' / 'cpu' force one.
   */
  engine?: EngineChoice;
  /** URL of the folder that holds the model folders; default '/models/' (resolved against the page). */
  baseUrl?: string;
  /**
   * Keep downloaded model files in this Cache Storage cache, so the next start loads them with
   * no network (offline). `false`: no caching by the library (the app's service worker does it).
   * Default 'quicksilver-models'.
   */
  cache?: string | false;
  /** A worker running src/worker/worker.ts to use instead of starting one (tests, custom bundles). */
  worker?: Worker;
}

/** Options of one generate()/infill() call: the sampler's knobs (src/diffusion/types.ts) plus callbacks. */
export interface RunOptions extends Partial<SamplerKnobs> {
  /** Which loaded model runs it; default the client's model. */
  model?: string;
  /** Id for cancel(requestId) and the events; default a fresh one. Unique among live runs. */
  requestId?: string;
  /** Aborting cancels the run (its promise rejects with a CancelledError). */
  signal?: AbortSignal;
  /** After the start event and after every step: the span's text with masks (StepUpdate). */
  onStep?: (update: StepUpdate) => void;
  /** Every raw event (start, step) as the worker sends it; replay with applyStep. */
  onEvent?: (event: GenerationEvent) => void;
}

/** What onStep receives. `step` is null for the starting canvas (every position masked). */
export interface StepUpdate extends SpanView {
  requestId: string;
  step: StepEvent | null;
}

export interface LoadOptions {
  /** Model id; default the client's model. */
  model?: string;
  /** URL of this model's own folder; default `<baseUrl><model>/`. */
  url?: string;
  /** Engine for this model; default the client's engine. */
  engine?: EngineChoice;
  /** Progress, in order: download (bytes), verify, upload, tune, compile. */
  onProgress?: (event: LoadModelEvent) => void;
}

export interface Quicksilver {
  /** The client's default model id ('' when none was given). */
  readonly model: string;
  /** Is WebGPU usable in the worker, and on what adapter? Never rejects for "no WebGPU". */
  probe(): Promise<ProbeResponse>;
  /**
   * Download (with progress), verify, upload and compile a model. Resolves at once when it is
   * loaded already (`alreadyLoaded`); rejects with a named error (ModelNotFoundError,
   * ModelIntegrityError, ModelLoadingError, ModelLoadError, DeviceLostError, ...).
   */
  load(options?: LoadOptions): Promise<LoadModelResponse>;
  /** Free a model (default the client's); no-op when it is not loaded. */
  unload(model?: string): Promise<void>;
  /** Ids of the models loaded now. */
  loadedModels(): Promise<string[]>;
  /** Continue `prompt`: the diffusion sampler, or left-to-right decoding for an AR model. */
  generate(prompt: string, options?: RunOptions): Promise<GenerationResult>;
  /** Fill the hole between `prefix` and `suffix` (diffusion models). */
  infill(prefix: string, suffix: string, options?: RunOptions): Promise<GenerationResult>;
  /** Cancel one run by id, or (no id) every run this client started that is still going. */
  cancel(requestId?: string): void;
  /** Called when the GPU device is lost (its models are unloaded). Returns an unsubscribe. */
  onDeviceLost(listener: (event: WorkerEvent) => void): () => void;
  /** Testing aid: destroy the worker's GPU device, as if it were lost. */
  loseDevice(): Promise<void>;
  /** Stop the worker (only one this client started); the client is unusable afterwards. */
  terminate(): void;
}

/** Default genLength of generate()/infill() when none is given. */
export const DEFAULT_GEN_LENGTH = 32;

/** Longest wait for step events still in flight after a run's result arrived. */
const TRAILING_EVENTS_MS = 2000;

let runCounter = 0;

function startWorker(): Worker {
  // `new URL(..., import.meta.url)` with `type: 'module'`: the bundler (Vite, in the app and in
  // library mode) emits the worker as its own chunk next to this one.
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'quicksilver-engine' });
}

/** A folder URL, absolute (the worker resolves relative URLs against its own script, not the page). */
function folderUrl(url: string): string {
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  const abs = new URL(url, base).href;
  return abs.endsWith('/') ? abs : `${abs}/`;
}

export function createQuicksilver(options: QuicksilverOptions = {}): Quicksilver {
  const ownWorker = !options.worker;
  const worker = options.worker ?? startWorker();
  const api = Comlink.wrap<QuicksilverWorkerApi>(worker);
  const model = options.model ?? '';
  const engine = options.engine ?? 'auto';
  const baseUrl = folderUrl(options.baseUrl ?? '/models/');
  /** Runs of this client not finished yet; true once cancel() was asked before the run was sent. */
  const live = new Map<string, boolean>();
  const deviceListeners = new Set<(e: WorkerEvent) => void>();
  let subscribed = false;

  // The worker keeps model files in Cache Storage only when asked (configure is idempotent).
  const configured = api.configure({ modelCache: options.cache === undefined ? 'quicksilver-models' : options.cache || null });

  const modelOf = (id: string | undefined): string | undefined => (id ?? model) || undefined;

  async function run(kind: 'generate' | 'infill', text: { prompt: string } | { prefix: string; suffix: string }, opts: RunOptions = {}): Promise<GenerationResult> {
    const { model: id, requestId: givenId, signal, onStep, onEvent, ...knobs } = opts;
    const requestId = givenId ?? `qs-${++runCounter}-${Date.now().toString(36)}`;
    signal?.throwIfAborted();
    live.set(requestId, false);
    try {
      await configured;
    } catch (err) {
      live.delete(requestId);
      throw err;
    }
    // cancel() or the signal may have come while the run was not sent yet.
    if (live.get(requestId) || signal?.aborted) {
      live.delete(requestId);
      throw new CancelledError();
    }
    const span = new SpanText();
    let steps = 0;
    let stepsWanted = Infinity;
    let allSteps: () => void = () => {};
    const stepsIn = new Promise<void>((resolve) => (allSteps = resolve));
    const listener = (e: GenerationEvent) => {
      onEvent?.(e);
      if (onStep) onStep({ requestId, step: e.type === 'step' ? e.step : null, ...span.apply(e) });
      if (e.type === 'step' && ++steps >= stepsWanted) allSteps();
    };
    const callback = onStep || onEvent ? Comlink.proxy(listener) : undefined;
    const req = { ...knobs, genLength: knobs.genLength ?? DEFAULT_GEN_LENGTH, requestId, modelId: modelOf(id), ...text };
    const abort = () => void api.cancel({ requestId });
    signal?.addEventListener('abort', abort);
    try {
      const result = 'prompt' in req ? await api.generate(req, callback) : await api.infill(req, callback);
      stepsWanted = result.stats.steps;
      if (callback && steps < stepsWanted) await Promise.race([stepsIn, new Promise((r) => setTimeout(r, TRAILING_EVENTS_MS))]);
      return result;
    } finally {
      live.delete(requestId);
      signal?.removeEventListener('abort', abort);
    }
  }

  return {
    model,
    async probe() {
      const res = await api.probe();
      if (res.protocolVersion !== PROTOCOL_VERSION) {
        throw new Error(`the engine worker speaks protocol ${res.protocolVersion}, this library ${PROTOCOL_VERSION}`);
      }
      return res;
    },
    async load(opts = {}) {
      const id = modelOf(opts.model);
      if (!id) throw Object.assign(new Error('load(): no model id (give createQuicksilver({ model }) or load({ model }))'), { name: 'RequestError' });
      await configured;
      const onProgress = opts.onProgress;
      return api.loadModel(
        { modelId: id, baseUrl: opts.url ? folderUrl(opts.url) : `${baseUrl}${id}/`, engine: opts.engine ?? engine },
        onProgress ? Comlink.proxy(onProgress) : undefined,
      );
    },
    async unload(id) {
      const which = modelOf(id);
      if (which) await api.unloadModel(which);
    },
    loadedModels: () => api.loadedModels(),
    generate: (prompt, opts) => run('generate', { prompt }, opts),
    infill: (prefix, suffix, opts) => run('infill', { prefix, suffix }, opts),
    cancel(requestId) {
      for (const id of requestId !== undefined ? [requestId] : [...live.keys()]) {
        if (live.has(id)) live.set(id, true);
        void api.cancel({ requestId: id });
      }
    },
    onDeviceLost(listener) {
      deviceListeners.add(listener);
      if (!subscribed) {
        subscribed = true;
        void api.subscribe(Comlink.proxy((e: WorkerEvent) => deviceListeners.forEach((fn) => fn(e))));
      }
      return () => void deviceListeners.delete(listener);
    },
    loseDevice: () => api.loseDevice(),
    terminate() {
      api[Comlink.releaseProxy]();
      if (ownWorker) worker.terminate();
    },
  };
}
