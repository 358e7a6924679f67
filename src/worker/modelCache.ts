// Model files kept in Cache Storage by the worker itself (WorkerConfig.modelCache), for pages that
// use the library without a service worker that caches models (the app's src/sw.ts does it for
// the app). Cache first: files under one model folder are immutable (docs/MODEL_FORMAT.md), so a
// stored copy is always right, and the next start needs no network. A copy that fails its size
// or SHA-256 check is dropped by forgetCached (ModelRegistry), so a retry downloads it again.

import { CACHE_HEADER } from './models';

/** Only whole, successful, non-HTML answers are stored (an SPA server answers 404s with index.html). */
function storable(res: Response): boolean {
  return res.status === 200 && !(res.headers.get('content-type') ?? '').includes('text/html');
}

/** `fetch` with a cache-first Cache Storage layer; cache hits carry `CACHE_HEADER: hit` like the service worker's. */
export function cachedFetch(cacheName: string, fetchFn: typeof fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (typeof caches === 'undefined' || method !== 'GET') return fetchFn(input, init);
    const cache = await caches.open(cacheName);
    const hit = await cache.match(url);
    if (hit) {
      const headers = new Headers(hit.headers);
      headers.set(CACHE_HEADER, 'hit');
      return new Response(hit.body, { status: hit.status, statusText: hit.statusText, headers });
    }
    const res = await fetchFn(input, init);
    // The already-cached case (a service worker answered from its own cache) is stored too: the
    // library's cache must not depend on another one.
    // Not awaited: put() reads its copy while the loader streams the original (with progress).
    if (storable(res)) void cache.put(url, res.clone()).catch(() => {});
    return res;
  }) as typeof fetch;
}

/** Delete every entry under `baseUrl` (absolute) from the named caches. */
export async function forgetUnder(cacheNames: string[], baseUrl: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  for (const name of cacheNames) {
    if (!(await caches.has(name))) continue;
    const cache = await caches.open(name);
    for (const req of await cache.keys()) if (req.url.startsWith(baseUrl)) await cache.delete(req);
  }
}
