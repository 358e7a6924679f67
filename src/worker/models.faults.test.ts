// Faults tried (issue #13, items 2 and 3) at the worker's loadModel, on the CPU engine in Node with
// the shipped tiny model: a download cut mid-file, a web page served in a model file's place (by
// content type and by its bytes), and a stale cached file, which is fetched again on its own.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SamplerHost } from '../diffusion/host';
import { loadCpuModel } from '../engine/cpu/index';
import { loadModel, sha256Hex } from '../engine/load';
import { CACHE_HEADER, looksLikeHtml, ModelRegistry } from './models';

const ID = 'qs-code-diffusion-tiny';
const DIR = resolve(__dirname, '../../public/models', ID);
const FILES = ['manifest.json', 'config.json', 'model.safetensors', 'tokenizer.json'];
const present = FILES.every((f) => existsSync(join(DIR, f)));

type Answer = (file: string, call: number) => Response | undefined;

/** A server for one model: `answer` may replace the response of any call (1-based per file). */
function server(answer: Answer = () => undefined) {
  const files = Object.fromEntries(FILES.map((f) => [f, new Uint8Array(readFileSync(join(DIR, f)))]));
  const calls: string[] = [];
  const count = new Map<string, number>();
  const fetchFn = (async (input: RequestInfo | URL) => {
    const url = String(input instanceof Request ? input.url : input);
    const file = url.slice(url.lastIndexOf('/') + 1);
    calls.push(file);
    const n = (count.get(file) ?? 0) + 1;
    count.set(file, n);
    const special = answer(file, n);
    if (special) return special;
    const body = files[file];
    if (!body) return new Response('not found', { status: 404 });
    return new Response(body.slice(), { status: 200, headers: { 'content-length': String(body.byteLength) } });
  }) as typeof fetch;
  return { files, calls, fetchFn };
}

function registry(fetchFn: typeof fetch, forgotten: Array<{ base: string; late: boolean }> = []) {
  const host = new SamplerHost();
  const reg = new ModelRegistry({
    fetch: fetchFn,
    device: () => Promise.reject(new Error('no GPU in this test')),
    load: loadModel,
    loadCpu: loadCpuModel,
    host,
    sha256: sha256Hex,
    progressIntervalMs: 0,
    forgetCached: async (base, opts) => void forgotten.push({ base, late: opts?.late ?? true }),
  });
  return { reg, host, forgotten };
}

const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: Error) => e);

/** A body that sends `bytes` up to `cut` in chunks of 1000, then fails like a dropped connection. */
function cutBody(bytes: Uint8Array, cut: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    async pull(ctrl) {
      await new Promise((r) => setTimeout(r, 1));
      if (at < cut) {
        ctrl.enqueue(bytes.slice(at, at + 1000));
        at += 1000;
      } else {
        ctrl.error(new TypeError('network error'));
      }
    },
  });
}

const PAGE_404 = '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>';

describe('looksLikeHtml', () => {
  it('knows a page from JSON and safetensors bytes', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(looksLikeHtml(enc(PAGE_404))).toBe(true);
    expect(looksLikeHtml(enc('\uFEFF  <html lang="en">'))).toBe(true);
    expect(looksLikeHtml(enc('{"files": {}}'))).toBe(false);
    // A safetensors file starts with its header length (u64 little endian), then '{'.
    expect(looksLikeHtml(new Uint8Array([0x38, 0x2f, 0, 0, 0, 0, 0, 0, 0x7b, 0x22]))).toBe(false);
  });
});

describe.skipIf(!present)('loadModel faults (CPU engine, tiny model)', () => {
  it('2: a download cut mid-file is a ModelLoadError saying how far it got; the next load fetches again and works', async () => {
    const { files, calls, fetchFn } = server((file, n) => {
      if (file !== 'model.safetensors' || n !== 1) return undefined;
      const w = files[file]!;
      return new Response(cutBody(w, 10_000), { status: 200, headers: { 'content-length': String(w.byteLength) } });
    });
    const { reg, host, forgotten } = registry(fetchFn);
    const err = await errorOf(reg.load({ modelId: ID, engine: 'cpu' }));
    expect(err.name).toBe('ModelLoadError');
    expect(err.message).toMatch(new RegExp(`model\\.safetensors: the download was cut off after \\d+ of ${files['model.safetensors']!.byteLength} bytes`));
    expect(reg.loadedIds()).toEqual([]);
    // A cut is the network's fault, not the file's: nothing to forget, nothing partial was kept.
    expect(forgotten).toEqual([]);

    const res = await reg.load({ modelId: ID, engine: 'cpu' });
    expect(res).toMatchObject({ modelId: ID, engine: 'cpu', alreadyLoaded: false });
    expect(calls.filter((f) => f === 'model.safetensors')).toHaveLength(2);
    const out = await host.generate({ requestId: 'r', modelId: ID, prompt: 'def f(x):\n', genLength: 4 });
    expect(out.stats.tokensGenerated).toBeGreaterThan(0);
    reg.unload(ID);
  });

  it('3: a web page with status 200 in place of config.json (text/html) or the weights (any type): ModelResponseError, cached copies dropped', async () => {
    const html = server((file) => (file === 'config.json' ? new Response(PAGE_404, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } }) : undefined));
    const a = registry(html.fetchFn);
    const e1 = await errorOf(a.reg.load({ modelId: ID, engine: 'cpu' }));
    expect(e1.name).toBe('ModelResponseError');
    expect(e1.message).toContain('config.json');
    expect(e1.message).toContain('web page');
    expect(a.forgotten.map((f) => f.base)).toContain(`/models/${ID}/`);

    // A CDN's error page with the wrong content type: caught by its first bytes.
    const sniffed = server((file) => (file === 'model.safetensors' ? new Response(PAGE_404, { status: 200, headers: { 'content-type': 'application/octet-stream' } }) : undefined));
    const b = registry(sniffed.fetchFn);
    const e2 = await errorOf(b.reg.load({ modelId: ID, engine: 'cpu' }));
    expect(e2.name).toBe('ModelResponseError');
    expect(e2.message).toContain('model.safetensors');
    expect(b.reg.loadedIds()).toEqual([]);

    // A soft 404 in plain text where JSON belongs.
    const soft = server((file) => (file === 'tokenizer.json' ? new Response('404: Not Found', { status: 200, headers: { 'content-type': 'text/plain' } }) : undefined));
    const e3 = await errorOf(registry(soft.fetchFn).reg.load({ modelId: ID, engine: 'cpu' }));
    expect(e3.name).toBe('ModelResponseError');
    expect(e3.message).toContain('tokenizer.json');
  });

  it('3: a stale cached weights file (SHA-256 no longer matches) is dropped and fetched again, once, without an error', async () => {
    const { files, calls, fetchFn } = server((file, n) => {
      if (file !== 'model.safetensors' || n !== 1) return undefined;
      // The offline cache's old copy: same size, other bytes.
      const old = files[file]!.slice();
      old[old.length - 1] ^= 0xff;
      return new Response(old, { status: 200, headers: { 'content-length': String(old.byteLength), [CACHE_HEADER]: 'hit' } });
    });
    const { reg, forgotten } = registry(fetchFn);
    const res = await reg.load({ modelId: ID, engine: 'cpu' });
    expect(res.cacheRepaired).toBe(true);
    expect(res.fromCache).toBe(false);
    expect(calls.filter((f) => f === 'model.safetensors')).toHaveLength(2);
    // Dropped once, without the late second sweep that would delete the fresh copies.
    expect(forgotten).toEqual([{ base: `/models/${ID}/`, late: false }]);
    reg.unload(ID);
  });

  it('3: a cached file that is still wrong after the refetch is a ModelIntegrityError (no loop)', async () => {
    const { files, calls, fetchFn } = server((file) => {
      if (file !== 'model.safetensors') return undefined;
      const bad = files[file]!.slice();
      bad[0] ^= 1;
      return new Response(bad, { status: 200, headers: { [CACHE_HEADER]: 'hit' } });
    });
    const { reg, forgotten } = registry(fetchFn);
    const err = await errorOf(reg.load({ modelId: ID, engine: 'cpu' }));
    expect(err.name).toBe('ModelIntegrityError');
    expect(calls.filter((f) => f === 'model.safetensors')).toHaveLength(2);
    expect(forgotten.map((f) => f.late)).toEqual([false, true]);
  });
});
