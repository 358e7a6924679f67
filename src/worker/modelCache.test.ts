// The worker's own model cache (cachedFetch, forgetUnder) on an in-memory stand-in for Cache
// Storage (Node has none): cache first, hits marked, only whole non-HTML answers stored, forget.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedFetch, forgetUnder } from './modelCache';
import { CACHE_HEADER } from './models';

/** Just what modelCache.ts uses of CacheStorage / Cache. */
function fakeCaches() {
  const stores = new Map<string, Map<string, Response>>();
  const open = async (name: string) => {
    if (!stores.has(name)) stores.set(name, new Map());
    const m = stores.get(name)!;
    return {
      match: async (url: string) => m.get(url)?.clone(),
      put: async (url: string, res: Response) => void m.set(url, new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers })),
      keys: async () => [...m.keys()].map((url) => new Request(url)),
      delete: async (req: Request) => m.delete(req.url),
    };
  };
  return { stores, api: { open, has: async (name: string) => stores.has(name) } };
}

let fake: ReturnType<typeof fakeCaches>;
beforeEach(() => {
  fake = fakeCaches();
  (globalThis as { caches?: unknown }).caches = fake.api;
});
afterEach(() => {
  delete (globalThis as { caches?: unknown }).caches;
});

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('cachedFetch', () => {
  it('stores the first answer and serves it, marked, without the network', async () => {
    let hits = 0;
    const net = (async (input: RequestInfo | URL) => {
      hits++;
      return new Response(`bytes of ${String(input)}`, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    }) as typeof fetch;
    const f = cachedFetch('lib-models', net);
    const url = 'http://x.test/models/m/model.safetensors';
    const first = await f(url);
    expect(await first.text()).toBe(`bytes of ${url}`);
    expect(first.headers.get(CACHE_HEADER)).toBeNull();
    await settle();
    const second = await f(url);
    expect(await second.text()).toBe(`bytes of ${url}`);
    expect(second.headers.get(CACHE_HEADER)).toBe('hit');
    expect(hits).toBe(1);
  });

  it('does not store errors, partial answers or web pages; forgetUnder drops one folder only', async () => {
    const answers: Record<string, Response> = {
      'http://x.test/a/404': new Response('no', { status: 404 }),
      'http://x.test/a/range': new Response('part', { status: 206 }),
      'http://x.test/a/page': new Response('<html>', { status: 200, headers: { 'content-type': 'text/html' } }),
      'http://x.test/a/ok': new Response('ok', { status: 200 }),
      'http://x.test/b/ok': new Response('ok', { status: 200 }),
    };
    const f = cachedFetch('lib-models', (async (input: RequestInfo | URL) => answers[String(input)]!.clone()) as typeof fetch);
    for (const url of Object.keys(answers)) await f(url);
    await settle();
    expect([...fake.stores.get('lib-models')!.keys()].sort()).toEqual(['http://x.test/a/ok', 'http://x.test/b/ok']);
    await forgetUnder(['lib-models', 'absent'], 'http://x.test/a/');
    expect([...fake.stores.get('lib-models')!.keys()]).toEqual(['http://x.test/b/ok']);
    expect(fake.stores.has('absent')).toBe(false);
  });
});
