// Service worker (built by vite-plugin-pwa, strategy injectManifest).
//  - Precaches the app shell: index.html, JS (page, engine worker, Monaco + its editor worker),
//    CSS, fonts, icons, manifest. The list is injected at build time as self.__WB_MANIFEST.
//  - Serves model files under models/ CacheFirst at run time. They are large and optional, so
//    they are never precached: a model is stored the first time the app downloads it. Files under
//    one model id are expected to stay the same; when one changes anyway, its fresh manifest.json
//    no longer matches the cached file, and the engine worker drops the cache and fetches again.
//  - Marks every model file it answers from its cache with `X-Quicksilver-Cache: hit`, so the
//    engine worker can tell the user the weights came from the offline cache.
//  - models/index.json (the list of shipped models) and each model's manifest.json are
//    NetworkFirst: new models show up, a republished model's new hashes are seen, and the last
//    known copies still work offline.
//  - Serves Pyodide's files (pyodide/<version>/) CacheFirst at run time, cached the first time
//    the Python worker loads; the Python worker's script gets its CSP (src/python/assets.ts).
//  - Adds COOP/COEP to everything it serves, so the page stays crossOriginIsolated when it is
//    loaded from the cache (offline) and on static hosts that cannot set headers.

import { clientsClaim, type WorkboxPlugin } from 'workbox-core';
import { CacheableResponsePlugin } from 'workbox-cacheable-response';
import {
  addPlugins,
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { RangeRequestsPlugin } from 'workbox-range-requests';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkFirst } from 'workbox-strategies';
import { PYODIDE_DIR, PYTHON_WORKER_CSP, PYTHON_WORKER_URL } from './python/assets';

// The DOM lib types `self` as Window; this file runs in a ServiceWorkerGlobalScope. Declare just
// what we use rather than pulling the conflicting WebWorker lib into the whole project.
declare const self: {
  __WB_MANIFEST: Array<string | { url: string; revision: string | null }>;
  registration: { scope: string };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
};

/** Cache holding downloaded model files (the engine may delete entries from it). */
const MODELS_CACHE = 'qs-models';

/** Set on model files served from MODELS_CACHE (src/worker/models.ts reads it). */
const CACHE_HEADER = 'X-Quicksilver-Cache';

const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Re-wrap a response with the cross-origin-isolation headers (opaque responses pass through). */
const isolationHeaders: WorkboxPlugin = {
  handlerWillRespond: async ({ response }) => {
    if (response.type === 'opaque' || response.type === 'opaqueredirect') return response;
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  },
};

/** Mark responses that come out of the cache (the network path never passes through here). */
const markCacheHit: WorkboxPlugin = {
  cachedResponseWillBeUsed: async ({ cachedResponse }) => {
    if (!cachedResponse) return cachedResponse;
    const headers = new Headers(cachedResponse.headers);
    headers.set(CACHE_HEADER, 'hit');
    return new Response(cachedResponse.body, {
      status: cachedResponse.status,
      statusText: cachedResponse.statusText,
      headers,
    });
  },
};

/** Never cache an HTML page as a model file (a single-page-app server's answer for a missing one). */
const notHtml: WorkboxPlugin = {
  cacheWillUpdate: async ({ response }) => ((response.headers.get('content-type') ?? '').includes('text/html') ? null : response),
};

// A new version waits until the page says the user wants it (workbox-window's
// messageSkipWaiting from the update prompt): until then the open page keeps the old version's
// precache, so every chunk it loads later (a Monaco language, the CPU engine's WebAssembly)
// is still there after the server has dropped it. The first install takes over at once.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
clientsClaim();

/** The Python worker's script keeps its CSP when served from the precache (src/python/assets.ts). */
const pythonWorkerCsp: WorkboxPlugin = {
  handlerWillRespond: async ({ request, response }) => {
    if (!PYTHON_WORKER_URL.test(new URL(request.url).pathname) || response.type === 'opaque') return response;
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', PYTHON_WORKER_CSP);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  },
};

addPlugins([isolationHeaders, pythonWorkerCsp]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

const modelsPath = new URL('models/', self.registration.scope).pathname;

// Single-page app: every navigation gets the precached index.html (offline too).
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [new RegExp(`^${modelsPath}`)],
  }),
);

// The model list changes when models are added, and a model's manifest.json when it is
// republished: fresh when online, the cached copy offline. A fresh manifest is what lets the
// engine worker notice a stale cached file (its SHA-256 no longer matches) and fetch it again.
registerRoute(
  ({ url, sameOrigin }) => sameOrigin && (url.pathname === `${modelsPath}index.json` || (url.pathname.startsWith(modelsPath) && url.pathname.endsWith('/manifest.json'))),
  new NetworkFirst({
    cacheName: MODELS_CACHE,
    networkTimeoutSeconds: 5,
    plugins: [new CacheableResponsePlugin({ statuses: [200] }), notHtml, isolationHeaders],
  }),
);

// Pyodide (src/python/): 13 MB, so not precached; CacheFirst from the first time tests run. The
// folder is versioned (pyodide/<version>/), so a cached file never outlives its release.
const pyodidePath = new URL(PYODIDE_DIR, self.registration.scope).pathname;
registerRoute(
  ({ url, sameOrigin }) => sameOrigin && url.pathname.startsWith(pyodidePath),
  new CacheFirst({
    cacheName: 'qs-pyodide',
    plugins: [new CacheableResponsePlugin({ statuses: [200] }), notHtml, isolationHeaders],
  }),
);

registerRoute(
  ({ url, sameOrigin }) => sameOrigin && url.pathname.startsWith(modelsPath),
  new CacheFirst({
    cacheName: MODELS_CACHE,
    plugins: [
      // Store only complete responses: a 206 from a Range request must not become "the file".
      new CacheableResponsePlugin({ statuses: [200] }),
      notHtml,
      // Before RangeRequestsPlugin, which keeps the headers of the response it slices.
      markCacheHit,
      // Answer Range requests from the cached full file.
      new RangeRequestsPlugin(),
      isolationHeaders,
    ],
  }),
);
