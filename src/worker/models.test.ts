// ModelRegistry: the worker's loadModel with the real engine loader on the Node WebGPU device
// (Dawn + SwiftShader) and the shipped tiny diffusion model, served by a fake fetch that can
// answer 404, HTML (a single-page-app fallback), corrupt bytes and the service worker's cache mark.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SamplerHost } from '../diffusion/host';
import { loadModel, sha256Hex } from '../engine/load';
import { testDevice } from '../engine/testkit';
import type { LoadModelEvent } from '../protocol';
import { CACHE_HEADER, ModelRegistry } from './models';

const ID = 'qs-code-diffusion-tiny';
const DIR = resolve(__dirname, '../../public/models', ID);
const FILES = ['manifest.json', 'config.json', 'model.safetensors', 'tokenizer.json'];
const present = FILES.every((f) => existsSync(join(DIR, f)));

interface Served {
  files: Record<string, Uint8Array>;
  cacheHit?: boolean;
  /** Answer unknown paths with index.html (200, text/html) like vite preview, instead of 404. */
  spaFallback?: boolean;
}

/** fetch over `/models/<id>/<file>` for the given model ids. */
function fakeFetch(models: Record<string, Served>, log: string[] = []): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const url = String(input instanceof Request ? input.url : input);
    log.push(url);
    const m = /^\/models\/([^/]+)\/([^/]+)$/.exec(url);
    const served = m ? models[m[1]!] : undefined;
    const body = served && m ? served.files[m[2]!] : undefined;
    if (!body) {
      const spa = Object.values(models).some((s) => s.spaFallback);
      return spa
        ? new Response('<!doctype html><title>Quicksilver</title>', { status: 200, headers: { 'content-type': 'text/html' } })
        : new Response('not found', { status: 404 });
    }
    const headers: Record<string, string> = { 'content-length': String(body.byteLength) };
    if (served?.cacheHit) headers[CACHE_HEADER] = 'hit';
    return new Response(body.slice(), { status: 200, headers });
  }) as typeof fetch;
}

function tinyFiles(): Record<string, Uint8Array> {
  return Object.fromEntries(FILES.map((f) => [f, new Uint8Array(readFileSync(join(DIR, f)))]));
}

function registry(models: Record<string, Served>, host = new SamplerHost(), log: string[] = []) {
  return new ModelRegistry({
    fetch: fakeFetch(models, log),
    device: testDevice,
    load: loadModel,
    host,
    sha256: sha256Hex,
    progressIntervalMs: 0,
  });
}

const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: Error) => e);

describe.skipIf(!present)('ModelRegistry (worker loadModel) with the tiny model', () => {
  it('loads with byte progress, sets the sampler host model by id, and generates', async () => {
    const host = new SamplerHost();
    const reg = registry({ [ID]: { files: tinyFiles() } }, host);
    const events: LoadModelEvent[] = [];
    const res = await reg.load({ modelId: ID }, (e) => events.push(e));
    expect(res).toMatchObject({ modelId: ID, kind: 'diffusion', fromCache: false, alreadyLoaded: false });
    expect(res.parameterCount).toBeGreaterThan(0);
    const downloads = events.filter((e) => e.type === 'download');
    expect(downloads.length).toBeGreaterThan(0);
    const last = downloads.at(-1)!;
    expect(last.type === 'download' && last.loadedBytes === last.totalBytes).toBe(true);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['download', 'verify', 'upload', 'compile']));
    expect(reg.loadedIds()).toEqual([ID]);
    expect(host.modelIds()).toEqual([ID]);

    const again = await reg.load({ modelId: ID });
    expect(again.alreadyLoaded).toBe(true);

    const out = await host.generate({ requestId: 'r', modelId: ID, prompt: 'def add(a, b):\n', genLength: 8, schedule: { kind: 'fixed', steps: 4 }, commitOrder: 'leftToRight' });
    expect(out.stats.steps).toBe(4);
    expect(out.modelId).toBe(ID);

    reg.unload(ID);
    expect(host.modelIds()).toEqual([]);
  });

  it('reports the offline cache when the service worker marked every file', async () => {
    const reg = registry({ [ID]: { files: tinyFiles(), cacheHit: true } });
    const events: LoadModelEvent[] = [];
    const res = await reg.load({ modelId: ID }, (e) => events.push(e));
    expect(res.fromCache).toBe(true);
    expect(events.find((e) => e.type === 'download')).toMatchObject({ fromCache: true });
    reg.unload(ID);
  });

  it('unknown id: ModelNotFoundError, for a 404 and for an HTML fallback page', async () => {
    const e404 = await errorOf(registry({}).load({ modelId: 'qs-nope' }));
    expect(e404.name).toBe('ModelNotFoundError');
    expect(e404.message).toContain('qs-nope');
    const eSpa = await errorOf(registry({ [ID]: { files: tinyFiles(), spaFallback: true } }).load({ modelId: 'qs-nope' }));
    expect(eSpa.name).toBe('ModelNotFoundError');
  });

  it('corrupt weights or tokenizer: ModelIntegrityError, and nothing stays loaded', async () => {
    const bad = tinyFiles();
    const w = bad['model.safetensors']!;
    w[w.length - 1] = (w[w.length - 1]! + 1) & 255;
    const host = new SamplerHost();
    const forgotten: string[] = [];
    const reg = new ModelRegistry({ fetch: fakeFetch({ [ID]: { files: bad } }), device: testDevice, load: loadModel, host, sha256: sha256Hex, forgetCached: async (b) => void forgotten.push(b) });
    const err = await errorOf(reg.load({ modelId: ID }));
    expect(forgotten).toEqual([`/models/${ID}/`]);
    expect(err.name).toBe('ModelIntegrityError');
    expect(err.message).toMatch(/SHA-256/);
    expect(reg.loadedIds()).toEqual([]);
    expect(host.modelIds()).toEqual([]);

    const badTok = tinyFiles();
    badTok['tokenizer.json'] = badTok['tokenizer.json']!.slice(0, 1000);
    const err2 = await errorOf(registry({ [ID]: { files: badTok } }).load({ modelId: ID }));
    expect(err2.name).toBe('ModelIntegrityError');
    expect(err2.message).toMatch(/tokenizer\.json/);
  });

  it('a missing weights file: ModelLoadError naming the file; a second load while loading: ModelLoadingError', async () => {
    const files = tinyFiles();
    delete files['model.safetensors'];
    const err = await errorOf(registry({ [ID]: { files } }).load({ modelId: ID }));
    expect(err.name).toBe('ModelLoadError');
    expect(err.message).toContain('model.safetensors');

    const reg = registry({ [ID]: { files: tinyFiles() } });
    const first = reg.load({ modelId: ID });
    expect(reg.isLoading(ID)).toBe(true);
    const busy = await errorOf(reg.load({ modelId: ID }));
    expect(busy.name).toBe('ModelLoadingError');
    await first;
    expect(reg.isLoading(ID)).toBe(false);
    reg.unload(ID);

    const invalid = await errorOf(reg.load({ modelId: '../secrets' }));
    expect(invalid.name).toBe('RequestError');
  });

  it('network failure (offline, not cached): ModelLoadError that says so', async () => {
    const reg = new ModelRegistry({
      fetch: (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch,
      device: testDevice,
      load: loadModel,
      host: new SamplerHost(),
      sha256: sha256Hex,
    });
    const err = await errorOf(reg.load({ modelId: ID }));
    expect(err.name).toBe('ModelLoadError');
    expect(err.message).toMatch(/offline/);
  });
});
