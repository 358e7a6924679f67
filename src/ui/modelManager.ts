// Page-side model loading: one state per model id, shared by every component (useModel), so
// React StrictMode's double effects or two panels asking for the same model start one load.
// Device loss moves every model the GPU held to the CPU engine, without a page reload: they load
// again there at once (runs in flight restart on them, src/ui/runner.ts), and the user is told.

import { ErrorNames, type LoadModelEvent, type WorkerEvent } from '../protocol';
import type { EngineChoice, LoadPhase, ModelState } from './state';
import { workerClient } from './workerClient';

type Ready = Extract<ModelState, { status: 'ready' }>;

/** Where each phase sits on the progress bar (download dominates). */
const PHASES: Record<LoadPhase, [number, number]> = {
  download: [0, 0.7],
  verify: [0.7, 0.76],
  upload: [0.76, 0.84],
  tune: [0.84, 0.9],
  compile: [0.9, 1],
};

const NONE: ModelState = { status: 'none' };

export class ModelManager {
  private readonly states = new Map<string, ModelState>();
  private readonly pending = new Map<string, Promise<Ready>>();
  private readonly listeners = new Set<() => void>();
  private subscribed = false;
  /** Set when the GPU device was lost (cleared by the next successful load). */
  deviceLost: { reason: string; message: string } | null = null;
  /** Device losses seen so far (a run that started before one knows its failure was that). */
  lossCount = 0;
  /** After a device loss every load asks for the CPU engine, until the engine setting changes. */
  private cpuAfterLoss: string | null = null;
  /** Which engine new loads ask for (LoadModelRequest.engine). */
  private engine: EngineChoice = 'auto';

  /**
   * Use this engine from now on. Models loaded with another preference are unloaded in the worker
   * and forgotten here, so the next ensure() loads them again on the right engine.
   */
  setEngine(engine: EngineChoice): void {
    if (engine === this.engine) return;
    this.engine = engine;
    this.cpuAfterLoss = null;
    const client = workerClient();
    for (const [id, state] of this.states) {
      if (state.status === 'loading') continue;
      if (state.status === 'ready') void client.unload(id);
      this.states.delete(id);
    }
    for (const fn of this.listeners) fn();
  }

  get(modelId: string | null): ModelState {
    return (modelId && this.states.get(modelId)) || NONE;
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** Load `modelId` unless it is loaded or loading; resolves when ready, rejects with the named error. */
  ensure(modelId: string): Promise<Ready> {
    const state = this.states.get(modelId);
    if (state?.status === 'ready') return Promise.resolve(state);
    const running = this.pending.get(modelId);
    if (running) return running;
    const p = this.load(modelId).finally(() => this.pending.delete(modelId));
    this.pending.set(modelId, p);
    return p;
  }

  /** Try ids in order; a missing one (ModelNotFoundError) moves on to the next. Resolves with the one loaded. */
  async ensureFirst(ids: string[], onSkip?: (id: string, message: string) => void): Promise<Ready> {
    let last: unknown = new Error('no model to load');
    for (const id of ids) {
      try {
        return await this.ensure(id);
      } catch (err) {
        last = err;
        if ((err as { name?: string }).name !== ErrorNames.ModelNotFound) throw err;
        onSkip?.(id, (err as Error).message);
      }
    }
    throw last;
  }

  private set(modelId: string, state: ModelState): void {
    this.states.set(modelId, state);
    for (const fn of this.listeners) fn();
  }

  private async load(modelId: string): Promise<Ready> {
    const client = workerClient();
    if (!this.subscribed) {
      this.subscribed = true;
      client.onDeviceLost((e: WorkerEvent) => this.onWorkerEvent(e));
    }
    let fromCache = true;
    let anyDownload = false;
    this.set(modelId, { status: 'loading', modelId, phase: 'download', fraction: 0, loadedBytes: 0, totalBytes: 0, fromCache: false });
    // Progress travels on the callback's own MessagePort and can arrive after the result (or the
    // error): once settled, late events must not turn the state back into 'loading'.
    let settled = false;
    const onEvent = (e: LoadModelEvent) => {
      if (settled) return;
      const prev = this.states.get(modelId);
      const base = prev?.status === 'loading' ? prev : { loadedBytes: 0, totalBytes: 0 };
      let phase: LoadPhase = e.type;
      let within = 0;
      let { loadedBytes, totalBytes } = base;
      switch (e.type) {
        case 'download':
          anyDownload = true;
          fromCache &&= e.fromCache;
          loadedBytes = e.loadedBytes;
          totalBytes = e.totalBytes;
          within = e.totalBytes > 0 ? e.loadedBytes / e.totalBytes : 0;
          break;
        case 'upload':
          within = e.totalBytes > 0 ? e.uploadedBytes / e.totalBytes : 0;
          break;
        case 'compile':
          within = e.total > 0 ? e.done / e.total : 0;
          break;
        default:
          phase = e.type;
      }
      const [lo, hi] = PHASES[phase];
      this.set(modelId, { status: 'loading', modelId, phase, fraction: lo + (hi - lo) * within, loadedBytes, totalBytes, fromCache: anyDownload && fromCache });
    };
    const engine = this.cpuAfterLoss ? 'cpu' : this.engine;
    try {
      const res = await client.load({ model: modelId, engine, onProgress: onEvent }).finally(() => {
        settled = true;
      });
      const ready: Ready = {
        status: 'ready',
        modelId,
        kind: res.kind,
        parameterCount: res.parameterCount,
        downloadBytes: res.downloadBytes,
        weightBytes: res.weightBytes ?? res.deviceBytes,
        rowCost: res.rowCost,
        fromCache: res.fromCache,
        offlineCached: res.fromCache,
        offlineProblem: null,
        cacheRepaired: res.cacheRepaired ?? false,
        engineNote: this.cpuAfterLoss && res.engine === 'cpu' ? this.cpuAfterLoss : null,
        engine: res.engine,
        engineReason: res.engineReason,
        maxSeqLen: res.config.max_seq_len,
        blockCausal: res.config.attention === 'block_causal',
        specials: res.config.special_tokens,
        ms: res.ms,
      };
      this.deviceLost = null;
      this.set(modelId, ready);
      if (!res.fromCache) void this.warmCache(modelId);
      return ready;
    } catch (err) {
      const e = err as { name?: string; message?: string };
      // A GPU load that the device loss cut short: once more, on the CPU engine.
      if (e.name === ErrorNames.DeviceLost && this.cpuAfterLoss && engine !== 'cpu') return this.load(modelId);
      this.set(modelId, { status: 'error', modelId, errorName: e.name ?? 'Error', message: e.message ?? String(err) });
      throw err;
    }
  }

  /**
   * Make sure the model's files are in the service worker's cache so the next start works
   * offline. On a first visit the engine worker starts before the service worker takes over, so
   * its downloads bypass the cache: fetch the files once more through the page (controlled by
   * then; usually answered by the HTTP cache), which stores them.
   */
  private async warmCache(modelId: string): Promise<void> {
    const sw = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
    if (!sw) return;
    if (!sw.controller) {
      await new Promise<void>((resolve) => sw.addEventListener('controllerchange', () => resolve(), { once: true }));
    }
    if (!navigator.onLine) return;
    const urls = [...MODEL_FILES.map((f) => `/models/${modelId}/${f}`), '/models/index.json'];
    // What the cache already holds needs no second download through the page (every later load).
    const pending = await missingFromCache(urls, 0);
    const fetched = new Map<string, { bytes: ArrayBuffer; headers: Headers }>();
    try {
      for (const url of pending) {
        const res = await fetch(url);
        if (!res.ok) return;
        fetched.set(url, { bytes: await res.arrayBuffer(), headers: res.headers });
      }
    } catch {
      // Offline meanwhile: the next online start tries again.
      return;
    }
    // The service worker stores what it served a moment later, and may be refused (a full
    // storage quota): look in the cache rather than trust that it worked, and store what is
    // missing from here, which names the browser's reason when it is refused again.
    const missing = pending.length > 0 ? await missingFromCache(pending) : [];
    const refused: string[] = [];
    let reason = '';
    if (missing.length > 0 && typeof caches !== 'undefined') {
      const cache = await caches.open(MODELS_CACHE);
      for (const url of missing) {
        const f = fetched.get(url)!;
        try {
          await cache.put(url, new Response(f.bytes, { status: 200, headers: f.headers }));
        } catch (err) {
          refused.push(url);
          reason ||= (err as { name?: string }).name ?? String(err);
        }
      }
    } else {
      refused.push(...missing);
    }
    const state = this.states.get(modelId);
    if (state?.status !== 'ready') return;
    if (refused.length === 0) {
      this.set(modelId, { ...state, offlineCached: true, offlineProblem: null });
      return;
    }
    const bytes = refused.reduce((n, u) => n + (fetched.get(u)?.bytes.byteLength ?? 0), 0);
    this.set(modelId, { ...state, offlineCached: false, offlineProblem: await storageProblem(refused, bytes, reason) });
  }

  private onWorkerEvent(e: WorkerEvent): void {
    if (e.type !== 'device-lost') return;
    this.deviceLost = { reason: e.reason, message: e.message };
    this.lossCount++;
    this.cpuAfterLoss = `The GPU device was lost (${e.reason}${e.message ? `: ${e.message}` : ''}): the model now runs on the CPU engine. Reload the page to use the GPU again.`;
    const gone = new Set(e.unloaded);
    for (const [id, state] of this.states) {
      // Models on the CPU engine survive; loads in flight on the GPU retry on the CPU (load()).
      if (state.status === 'ready' && gone.has(id)) {
        this.states.delete(id);
        this.ensure(id).catch(() => {});
      }
    }
    for (const fn of this.listeners) fn();
  }

  /**
   * A run on `modelId` failed: was it the device loss? Waits briefly for the worker's event (it
   * can arrive after the run's rejection) and resolves with the model once it is ready again on
   * the CPU engine, or null when the failure was something else.
   */
  async recoverAfterLoss(modelId: string, lossCountAtStart: number, waitMs = 2000): Promise<Ready | null> {
    if (this.lossCount === lossCountAtStart) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        const off = this.subscribe(() => this.lossCount !== lossCountAtStart && done());
        function done() {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    }
    if (this.lossCount === lossCountAtStart) return null;
    try {
      return await this.ensure(modelId);
    } catch {
      return null;
    }
  }
}

/** A model's files (docs/MODEL_FORMAT.md), all needed to load it offline. */
const MODEL_FILES = ['manifest.json', 'config.json', 'model.safetensors', 'tokenizer.json'];

/** The service worker's cache of model files (src/sw.ts). */
const MODELS_CACHE = 'qs-models';

/** Which of `urls` are not in the models cache, after giving the service worker's writes up to `waitMs`. */
async function missingFromCache(urls: string[], waitMs = 4000): Promise<string[]> {
  if (typeof caches === 'undefined') return urls;
  const t0 = Date.now();
  for (;;) {
    const cache = await caches.open(MODELS_CACHE);
    const missing: string[] = [];
    for (const url of urls) if (!(await cache.match(url))) missing.push(url);
    if (missing.length === 0 || Date.now() - t0 >= waitMs) return missing;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The user-facing reason the files were not kept, with the browser's own storage figures. */
async function storageProblem(refused: string[], bytes: number, reason: string): Promise<string> {
  const mb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${(n / 1e6).toFixed(1)} MB`);
  const files = refused.map((u) => u.slice(u.lastIndexOf('/') + 1)).join(', ');
  const quota = reason === 'QuotaExceededError' ? 'the browser’s storage quota for this site is full' : `the browser refused to store them${reason ? ` (${reason})` : ''}`;
  // estimate() is the browser's own account (private windows may report a padded quota).
  const est = await navigator.storage?.estimate?.().catch(() => undefined);
  const figures = est?.usage !== undefined && est.quota !== undefined ? ` Storage for this site: ${mb(est.usage)} used of ${mb(est.quota)} (navigator.storage.estimate()).` : '';
  return `Not kept for offline use: ${quota} (${files}, ${mb(bytes)}: ${reason || 'not stored'}).${figures} The model runs from memory now and is downloaded again next time; free space for this site to keep it offline.`;
}

let manager: ModelManager | null = null;

export function modelManager(): ModelManager {
  manager ??= new ModelManager();
  return manager;
}
