// The worker's loaded models: loadModel() by id (a diffusion model and its AR twin may both be
// loaded), with byte progress, offline-cache detection, SHA-256 checks and clear, named errors.
// DOM-free and dependency-injected (fetch, device, engine loader), so Node tests can drive it.

import type { EngineModel, LoadOptions, LoadProgress } from '../engine/load';
import { chooseEngine, type EngineDecision, type EngineRequest, type GpuProbe } from '../engine/cpu/choose';
import type { CpuEngineModel, CpuLoadOptions } from '../engine/cpu/index';
import type { SamplerHost } from '../diffusion/host';
import { CodeTokenizer, type TokenizerJSON } from '../tokenizer/index';
import { ErrorNames, type LoadModelEvent, type LoadModelRequest, type LoadModelResponse } from '../protocol';

/**
 * Header the service worker (src/sw.ts) puts on model files it answers from its cache. Its
 * absence means the bytes came from the network (or no service worker controls this worker).
 */
export const CACHE_HEADER = 'X-Quicksilver-Cache';

/** The engine's loadModel (src/engine/load.ts), injected. */
export type EngineLoader = (
  source: string,
  device: GPUDevice,
  onProgress?: (p: LoadProgress) => void,
  options?: LoadOptions,
) => Promise<EngineModel>;

/** The CPU engine's loadCpuModel (src/engine/cpu/index.ts), injected. */
export type CpuEngineLoader = (source: string, onProgress?: (p: LoadProgress) => void, options?: CpuLoadOptions) => Promise<CpuEngineModel>;

export interface ModelRegistryDeps {
  fetch: typeof fetch;
  /** The worker's device (acquired on first use). */
  device: () => Promise<GPUDevice>;
  load: EngineLoader;
  /** The CPU engine's loader; without it every model runs on WebGPU. */
  loadCpu?: CpuEngineLoader;
  /** What WebGPU offers here (for engine 'auto'); required with loadCpu. */
  probe?: () => Promise<GpuProbe>;
  /** Where generate/infill run; the registry calls setModel(model, tokenizer, id). */
  host: SamplerHost;
  /** SHA-256 of bytes as lowercase hex (the engine's sha256Hex). */
  sha256: (bytes: Uint8Array) => Promise<string>;
  /** Minimum ms between two download/upload progress events (default 50). */
  progressIntervalMs?: number;
  /**
   * Drop the offline cache's copies of files under this base URL (the service worker caches model
   * files on first use, so a corrupt download would otherwise be served again on every retry).
   * `late: false`: no second sweep a moment later (the caller is about to fetch fresh copies,
   * which the service worker is going to cache and which must stay).
   */
  forgetCached?: (baseUrl: string, options?: { late?: boolean }) => Promise<void>;
}

/** An Error with one of the protocol's ErrorNames (the name crosses the worker boundary). */
export function namedError(name: string, message: string, cause?: unknown): Error {
  const err = new Error(message, cause === undefined ? undefined : { cause });
  err.name = name;
  return err;
}

/** Error names that loadModel passes through unchanged; anything else becomes ModelLoadError. */
const PASS_THROUGH = new Set<string>([
  ErrorNames.ModelNotFound,
  ErrorNames.ModelIntegrity,
  ErrorNames.ModelResponse,
  ErrorNames.ModelLoading,
  ErrorNames.ModelLoad,
  ErrorNames.DeviceLost,
  ErrorNames.WebGPUUnavailable,
]);

/** Errors that say a file's bytes are wrong (not the network, not the device): its cached copy must go. */
const BAD_FILE = new Set<string>([ErrorNames.ModelIntegrity, ErrorNames.ModelResponse]);

/** JSON model files: they start with '{' (after white space), so an HTML page in their place shows at once. */
const JSON_FILES = new Set(['manifest.json', 'config.json', 'tokenizer.json']);

/**
 * The first bytes of a response, without consuming it (a clone's first chunk). Used to tell an
 * HTML page served in a model file's place (a CDN's error page with status 200) from the file.
 */
async function firstBytes(res: Response, n = 64): Promise<Uint8Array> {
  const reader = res.clone().body?.getReader();
  if (!reader) return new Uint8Array(0);
  try {
    const { value } = await reader.read();
    return value ? value.subarray(0, n) : new Uint8Array(0);
  } catch {
    // A connection that breaks this early: the download itself reports it, with the file's name.
    return new Uint8Array(0);
  } finally {
    void reader.cancel().catch(() => {});
  }
}

/** Does this look like an HTML page (<!doctype, <html, <head, <body, <title, <h1...)? */
export function looksLikeHtml(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head).replace(/^\uFEFF/, '').trimStart().toLowerCase();
  return /^<(!doctype|html|head|body|title|h1|p|div|meta|\?xml)/.test(text);
}

/** Model ids are folder names: no slashes or dots at the start, nothing that escapes /models/. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What one load attempt saw: per file, whether the offline cache answered. */
interface AttemptInfo {
  fromCache: Map<string, boolean>;
}

interface Loaded {
  model: EngineModel | CpuEngineModel;
  response: LoadModelResponse;
}

export class ModelRegistry {
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<LoadModelResponse>>();
  /** Bumped on device loss: a load that started before it fails with DeviceLostError. */
  private epoch = 0;
  /** Base URLs whose files failed their checks: their cached copies are dropped before the next try. */
  private readonly tainted = new Set<string>();

  constructor(private readonly deps: ModelRegistryDeps) {}

  isLoading(modelId: string): boolean {
    return this.loading.has(modelId);
  }

  anyLoading(): boolean {
    return this.loading.size > 0;
  }

  loadedIds(): string[] {
    return [...this.loaded.keys()];
  }

  load(req: LoadModelRequest, onEvent?: (e: LoadModelEvent) => void): Promise<LoadModelResponse> {
    const { modelId } = req ?? {};
    if (typeof modelId !== 'string' || !MODEL_ID.test(modelId)) {
      return Promise.reject(namedError(ErrorNames.InvalidRequest, `invalid model id ${JSON.stringify(modelId)}`));
    }
    if (req.engine !== undefined && req.engine !== 'auto' && req.engine !== 'webgpu' && req.engine !== 'cpu') {
      return Promise.reject(namedError(ErrorNames.InvalidRequest, `unknown engine ${JSON.stringify(req.engine)} (auto, webgpu or cpu)`));
    }
    if (this.loading.has(modelId)) {
      return Promise.reject(namedError(ErrorNames.ModelLoading, `model "${modelId}" is already loading`));
    }
    const ready = this.loaded.get(modelId);
    if (ready) return Promise.resolve({ ...ready.response, alreadyLoaded: true, ms: 0 });
    const pending = this.doLoad(modelId, req.baseUrl ?? `/models/${modelId}/`, req.engine ?? 'auto', onEvent).finally(() => this.loading.delete(modelId));
    this.loading.set(modelId, pending);
    return pending;
  }

  unload(modelId: string): void {
    const entry = this.loaded.get(modelId);
    if (!entry) return;
    this.loaded.delete(modelId);
    this.deps.host.setModel(null, null, modelId);
    entry.model.dispose();
  }

  /** The device is gone: forget every WebGPU model (their buffers died with it). Returns their ids. */
  deviceLost(): string[] {
    this.epoch++;
    const ids = [...this.loaded].filter(([, e]) => e.response.engine === 'webgpu').map(([id]) => id);
    for (const id of ids) {
      this.deps.host.setModel(null, null, id);
      try {
        this.loaded.get(id)?.model.dispose();
      } catch {
        // Buffers of a lost device may refuse destroy(); nothing to free anyway.
      }
    }
    for (const id of ids) this.loaded.delete(id);
    return ids;
  }

  /** Which engine loads the model: the request's override, else chooseEngine's rule on the probe. */
  private async decideEngine(requested: EngineRequest): Promise<EngineDecision> {
    if (!this.deps.loadCpu) return { engine: 'webgpu', reason: 'webgpu: the only engine in this build' };
    if (requested !== 'auto' || !this.deps.probe) return chooseEngine(requested === 'auto' ? 'webgpu' : requested, { ok: false, reason: 'not probed' });
    return chooseEngine('auto', await this.deps.probe());
  }

  private async doLoad(modelId: string, baseUrl: string, requested: EngineRequest, onEvent?: (e: LoadModelEvent) => void): Promise<LoadModelResponse> {
    const t0 = performance.now();
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    if (this.tainted.delete(base)) await this.deps.forgetCached?.(base).catch(() => {});
    const first: AttemptInfo = { fromCache: new Map() };
    try {
      return await this.attempt(modelId, base, requested, onEvent, t0, first);
    } catch (err) {
      // A file that came out of the offline cache and fails its check is stale (the model was
      // republished) or damaged on disk: drop the cached copies and fetch everything once more.
      const fromCacheAny = [...first.fromCache.values()].some(Boolean);
      if (!BAD_FILE.has((err as Error).name) || !fromCacheAny || !this.deps.forgetCached) throw this.badFile(base, err as Error);
      console.warn(`[worker] "${modelId}": a cached file failed its check (${(err as Error).message}); downloading it again`);
      await this.deps.forgetCached(base, { late: false }).catch(() => {});
      const second: AttemptInfo = { fromCache: new Map() };
      try {
        const res = await this.attempt(modelId, base, requested, onEvent, t0, second);
        return { ...res, cacheRepaired: true };
      } catch (err2) {
        throw this.badFile(base, err2 as Error);
      }
    }
  }

  /** A file failed its check: its cached copy goes now, and again before the next attempt. */
  private badFile(base: string, error: Error): Error {
    if (BAD_FILE.has(error.name)) {
      // The service worker may still be writing the bad copy into its cache.
      this.tainted.add(base);
      void this.deps.forgetCached?.(base).catch(() => {});
    }
    return error;
  }

  /** One try at loading: fetch (through the offline cache), verify, upload, tokenizer. */
  private async attempt(
    modelId: string,
    base: string,
    requested: EngineRequest,
    onEvent: ((e: LoadModelEvent) => void) | undefined,
    t0: number,
    info: AttemptInfo,
  ): Promise<LoadModelResponse> {
    const epoch = this.epoch;
    const fromCache = info.fromCache;
    let manifestText: string | null = null;
    let fetchedBytes = 0;

    // Every model file goes through here: HTTP errors become named errors, the cache header is
    // recorded per file, and the manifest is kept to verify tokenizer.json (the engine checks the rest).
    const trackedFetch = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = input instanceof Request ? input.url : String(input);
      const file = url.slice(url.lastIndexOf('/') + 1);
      let res: Response;
      try {
        res = await this.deps.fetch(input, init);
      } catch (err) {
        throw namedError(
          ErrorNames.ModelLoad,
          `could not download ${file} of "${modelId}" (${err instanceof Error ? err.message : String(err)}): offline, and not in the offline cache yet?`,
          err,
        );
      }
      // A single-page-app server may answer unknown paths with index.html (200, text/html); a
      // CDN or proxy may send its error page with status 200 and any content type. Both are
      // caught here by the content type or by the first bytes, before anything is parsed.
      let html = (res.headers.get('content-type') ?? '').includes('text/html');
      if (res.ok && !html) {
        const head = await firstBytes(res);
        html = looksLikeHtml(head) || (JSON_FILES.has(file) && head.length > 0 && !/^\s*[{[]/.test(new TextDecoder().decode(head)));
      }
      if (file === 'manifest.json' && (res.status === 404 || (res.ok && html))) {
        throw namedError(ErrorNames.ModelNotFound, `no model "${modelId}" here: ${url} was not found${res.ok ? ' (the server answered with a web page)' : ''}`);
      }
      if (res.ok && html) {
        throw namedError(ErrorNames.ModelResponse, `${file} of "${modelId}": the server sent a web page (HTTP ${res.status}), not the file, at ${url}`);
      }
      if (!res.ok) {
        throw namedError(ErrorNames.ModelLoad, `${file} of "${modelId}": HTTP ${res.status} at ${url}`);
      }
      fromCache.set(file, res.headers.get(CACHE_HEADER) === 'hit');
      if (file === 'manifest.json') {
        manifestText = await res.clone().text();
        fetchedBytes += manifestText.length;
      }
      return res;
    }) as typeof fetch;

    const interval = this.deps.progressIntervalMs ?? 50;
    let lastEmit = -Infinity;
    const throttled = (done: boolean, e: LoadModelEvent) => {
      const now = performance.now();
      if (done || now - lastEmit >= interval) {
        lastEmit = now;
        onEvent?.(e);
      }
    };
    let downloaded = 0;
    const onProgress = (p: LoadProgress) => {
      switch (p.phase) {
        case 'download':
          downloaded = p.loaded;
          throttled(p.loaded >= p.total, { type: 'download', modelId, file: p.file ?? '', loadedBytes: p.loaded, totalBytes: p.total, fromCache: fromCache.get(p.file ?? '') ?? false });
          break;
        case 'verify':
          if (p.loaded === 0) onEvent?.({ type: 'verify', modelId, file: p.file ?? '' });
          break;
        case 'upload':
          throttled(p.loaded >= p.total, { type: 'upload', modelId, uploadedBytes: p.loaded, totalBytes: p.total });
          break;
        case 'tune':
          if (p.loaded === 0) onEvent?.({ type: 'tune', modelId });
          break;
        case 'compile':
          onEvent?.({ type: 'compile', modelId, kernel: p.file ?? '', done: p.loaded, total: p.total });
          break;
        case 'ready':
          break;
      }
    };

    let model: EngineModel | CpuEngineModel | null = null;
    let decision: EngineDecision = { engine: 'webgpu', reason: '' };
    try {
      decision = await this.decideEngine(requested);
      if (decision.engine === 'cpu' && this.deps.loadCpu) {
        model = await this.deps.loadCpu(base, onProgress, { fetch: trackedFetch, verify: true });
      } else {
        const device = await this.deps.device();
        model = await this.deps.load(base, device, onProgress, { fetch: trackedFetch, verify: true });
      }
      fetchedBytes += downloaded;

      const tokRes = await trackedFetch(`${base}tokenizer.json`);
      const tokBytes = new Uint8Array(await tokRes.arrayBuffer());
      fetchedBytes += tokBytes.byteLength;
      await this.verifyTokenizer(modelId, manifestText, tokBytes);
      let tokenizer: CodeTokenizer;
      try {
        tokenizer = new CodeTokenizer(JSON.parse(new TextDecoder().decode(tokBytes)) as TokenizerJSON);
      } catch (err) {
        throw namedError(ErrorNames.ModelLoad, `tokenizer.json of "${modelId}" is not a valid tokenizer: ${err instanceof Error ? err.message : String(err)}`, err);
      }
      if (tokenizer.vocabSize > model.config.vocab_size) {
        throw namedError(ErrorNames.ModelLoad, `tokenizer.json of "${modelId}" has ${tokenizer.vocabSize} tokens, the model only ${model.config.vocab_size}`);
      }
      if (decision.engine === 'webgpu' && epoch !== this.epoch) throw namedError(ErrorNames.DeviceLost, `the GPU device was lost while "${modelId}" was loading`);

      const response: LoadModelResponse = {
        modelId,
        kind: model.config.kind,
        engine: decision.engine,
        engineReason: decision.reason,
        config: model.config,
        parameterCount: model.parameterCount,
        deviceBytes: model.deviceBytes,
        weightBytes: model.weightBytes,
        downloadBytes: fetchedBytes,
        // The files that matter: manifest.json is fetched from the network first when online.
        fromCache: [...fromCache].filter(([f]) => f !== 'manifest.json').length > 0 && [...fromCache].filter(([f]) => f !== 'manifest.json').every(([, hit]) => hit),
        matmulVariant: model.matmulVariant,
        ...('rowCost' in model && model.rowCost !== undefined ? { rowCost: model.rowCost } : {}),
        alreadyLoaded: false,
        ms: performance.now() - t0,
      };
      this.loaded.set(modelId, { model, response });
      this.deps.host.setModel(model, tokenizer, modelId);
      return response;
    } catch (err) {
      try {
        model?.dispose();
      } catch {
        // A lost device may refuse; nothing to free.
      }
      throw this.classify(modelId, err, decision.engine === 'webgpu' ? epoch : this.epoch);
    }
  }

  private async verifyTokenizer(modelId: string, manifestText: string | null, bytes: Uint8Array): Promise<void> {
    if (manifestText === null) return;
    const entry = (JSON.parse(manifestText) as { files?: Record<string, { bytes?: number; size?: number; sha256?: string }> }).files?.['tokenizer.json'];
    if (!entry) return; // Older manifests list only the engine's files.
    const size = Number(entry.bytes ?? entry.size);
    if (bytes.byteLength !== size) {
      throw namedError(ErrorNames.ModelIntegrity, `tokenizer.json of "${modelId}": ${bytes.byteLength} bytes, manifest says ${size} (partial download?)`);
    }
    const hash = await this.deps.sha256(bytes);
    if (entry.sha256 && hash !== entry.sha256.toLowerCase()) {
      throw namedError(ErrorNames.ModelIntegrity, `tokenizer.json of "${modelId}": SHA-256 ${hash} does not match the manifest's ${entry.sha256}`);
    }
  }

  private classify(modelId: string, err: unknown, epoch: number): Error {
    const name = typeof err === 'object' && err !== null ? String((err as { name?: unknown }).name ?? '') : '';
    const message = err instanceof Error ? err.message : String(err);
    if (epoch !== this.epoch && name !== ErrorNames.DeviceLost) {
      return namedError(ErrorNames.DeviceLost, `the GPU device was lost while "${modelId}" was loading (${message})`, err);
    }
    if (PASS_THROUGH.has(name)) {
      if (name === ErrorNames.ModelIntegrity && !message.includes(modelId)) {
        return namedError(name, `"${modelId}" is corrupt or incomplete: ${message}`, err);
      }
      return err as Error;
    }
    return namedError(ErrorNames.ModelLoad, `loading "${modelId}" failed: ${message}`, err);
  }
}
