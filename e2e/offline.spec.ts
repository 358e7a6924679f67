// Offline PWA: after one visit the service worker serves the whole app shell (page, engine
// worker, Monaco), with the cross-origin-isolation headers, while the network is off.

import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { recordErrors, waitForProbe } from './helpers';

test('after one visit the app and its worker run with the network off', async ({ page, context }) => {
  test.setTimeout(60_000);
  await page.goto('/');
  // The SW precaches during install, then claims this page (clients.claim).
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });

  // Precache holds the shell (engine worker and Monaco's editor worker included), no models
  // (those go to the runtime cache 'qs-models' when the app loads one).
  const cached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of (await caches.keys()).filter((n) => n.includes('precache'))) {
      for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
    }
    return urls;
  });
  expect(cached).toContain('/index.html');
  expect(cached.some((u) => /\/assets\/worker-[\w-]+\.js$/.test(u))).toBe(true);
  expect(cached.some((u) => /\/assets\/editor\.worker-[\w-]+\.js$/.test(u))).toBe(true);
  expect(cached.some((u) => u.startsWith('/models/'))).toBe(false);
  // The app loads its default model and, once the service worker controls the page, makes sure
  // the model's files are in the offline cache too.
  await expect(page.getByTestId('status-model')).toHaveAttribute('data-offline-cached', 'true', { timeout: 45_000 });

  await context.setOffline(true);
  const errors = recordErrors(page);
  const response = await page.reload();
  expect(response?.fromServiceWorker()).toBe(true);
  expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');

  await expect(page.locator('.monaco-editor .view-lines')).toContainText('def fibonacci');
  expect(await waitForProbe(page)).toBe('ready');
  expect(await page.evaluate(() => ({ online: navigator.onLine, coi: window.crossOriginIsolated }))).toEqual({
    online: false,
    coi: true,
  });
  await expect(page.getByTestId('status-offline')).toContainText('offline');
  // The model loads from the cache with the network off.
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'true');

  // ...and the worker runs it offline: a few tokens after a prompt.
  const gen = await page.evaluate(() => window.__qs!.generate({ prompt: 'def add(a, b):\n', genLength: 8 }));
  expect(gen).not.toHaveProperty('error');
  expect('steps' in gen && gen.steps).toBeGreaterThan(0);
  expect(errors).toEqual([]);

  await context.setOffline(false);
});

test('model files are cached on first use (not precached) and served offline, Range included', async ({
  page,
  context,
}) => {
  test.setTimeout(60_000);
  // A stand-in model file, written into the served dist/ (vite preview looks files up per request).
  const dir = fileURLToPath(new URL('../dist/models/e2e-fixture/', import.meta.url));
  const bytes = randomBytes(300_000);
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}weights.bin`, bytes);
  try {
    await page.goto('/');
    await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
    const url = '/models/e2e-fixture/weights.bin';
    /** Fetch in the page (through the service worker); `range` e.g. 'bytes=0-7'. */
    const digest = (u: string, range = '') =>
      page.evaluate(
        async ([u, range]) => {
          const res = await fetch(u, range ? { headers: { Range: range } } : {});
          const buf = new Uint8Array(await res.arrayBuffer());
          return { status: res.status, length: buf.length, head: Array.from(buf.slice(0, 8)) };
        },
        [u, range] as const,
      );

    const online = await digest(url);
    expect(online).toEqual({ status: 200, length: bytes.length, head: Array.from(bytes.subarray(0, 8)) });
    // Workbox's CacheFirst answers first and stores the copy in the event's waitUntil: poll for it
    const inCache = () => page.evaluate(async (u) => !!(await (await caches.open('qs-models')).match(u)), url);
    await expect.poll(inCache, { timeout: 10_000 }).toBe(true);

    await context.setOffline(true);
    expect(await digest(url)).toEqual(online);
    const range = await digest(url, 'bytes=1000-1007');
    expect(range).toEqual({ status: 206, length: 8, head: Array.from(bytes.subarray(1000, 1008)) });
  } finally {
    await context.setOffline(false);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('is installable: manifest, icons and service worker pass Chromium’s checks', async ({ page }) => {
  test.setTimeout(45_000);
  await page.goto('/');
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  const manifestHref = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(manifestHref).toBeTruthy();
  const manifest = await (await page.request.get(manifestHref!)).json();
  expect(manifest).toMatchObject({ name: 'Quicksilver', display: 'standalone', start_url: '/' });
  for (const icon of manifest.icons as { src: string; sizes: string }[]) {
    const res = await page.request.get(icon.src);
    expect(res.status(), icon.src).toBe(200);
    expect(res.headers()['content-type']).toBe('image/png');
  }
  const cdp = await page.context().newCDPSession(page);
  const { errors: manifestErrors } = await cdp.send('Page.getAppManifest');
  expect(manifestErrors).toEqual([]);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  // Playwright's browser contexts are incognito-like, which alone blocks installing; anything
  // else (missing icon, no fetch handler, bad manifest) is ours.
  expect(installabilityErrors.filter((e) => e.errorId !== 'in-incognito')).toEqual([]);
});
