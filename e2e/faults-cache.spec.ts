// Faults tried (issue #13), the model files and their offline cache, in real Chromium through a
// fault-injecting proxy (e2e/faultProxy.ts): a storage quota too small (CDP
// Storage.overrideQuotaForOrigin), a download cut mid-file, a web page in a model file's place,
// a stale cached file, and two tabs loading at once. Each test checks what is in Cache Storage.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { FaultProxy } from './faultProxy';
import { recordErrors } from './helpers';

const TINY = 'qs-code-diffusion-tiny';
const AR = 'qs-code-ar-tiny';
const FILES = ['manifest.json', 'config.json', 'model.safetensors', 'tokenizer.json'];
const MODELS = fileURLToPath(new URL('../dist/models/', import.meta.url));
const manifest = (id: string) =>
  (JSON.parse(readFileSync(`${MODELS}${id}/manifest.json`, 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> }).files;

let proxy: FaultProxy;
test.beforeEach(async () => {
  proxy = await FaultProxy.start();
});
test.afterEach(async () => {
  await proxy.close();
});

const appUrl = (extra = '') => `${proxy.origin}/?model=${TINY}&ar=${AR}&engine=cpu${extra}`;

/** Open the app, wait for the service worker, reload so the engine worker's fetches go through it. */
async function openControlled(page: Page) {
  await page.goto(appUrl());
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await page.reload();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
}

/** Every entry of the models cache under /models/<id>/: file name, size and SHA-256. */
function cached(page: Page, id: string) {
  return page.evaluate(async (id) => {
    const out: Record<string, { bytes: number; sha256: string }> = {};
    if (!(await caches.has('qs-models'))) return out;
    const cache = await caches.open('qs-models');
    for (const req of await cache.keys()) {
      const path = new URL(req.url).pathname;
      if (!path.startsWith(`/models/${id}/`)) continue;
      const res = await cache.match(req);
      if (!res) continue; // deleted between keys() and match(): the worker dropping a bad entry
      const buf = await res.arrayBuffer();
      const hash = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', buf)), (b) => b.toString(16).padStart(2, '0')).join('');
      out[path.slice(path.lastIndexOf('/') + 1)] = { bytes: buf.byteLength, sha256: hash };
    }
    return out;
  }, id);
}

/** The cached files of `id` that match its manifest (size and SHA-256), sorted. */
async function intactFiles(page: Page, id: string): Promise<string[]> {
  const m = manifest(id);
  const c = await cached(page, id);
  return Object.keys(c)
    .filter((f) => f === 'manifest.json' || (m[f] && c[f]!.bytes === m[f]!.bytes && c[f]!.sha256 === m[f]!.sha256))
    .sort();
}

test('1: storage quota too small for the model: it runs from memory, and the user is told with the browser’s figures', async ({ page }) => {
  test.setTimeout(60_000);
  // A first visit with the weights failing (404): the app shell is stored, the weights are not,
  // so the usage read next leaves them out (a deleted cache can stay counted for a while).
  for (const id of [TINY, AR]) proxy.fault(`/models/${id}/model.safetensors`, { kind: 'replace', status: 404, contentType: 'text/plain', body: 'gone' }, 1000);
  await page.goto(appUrl());
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'error', { timeout: 45_000 });
  expect(await intactFiles(page, TINY)).not.toContain('model.safetensors');
  proxy.clearFaults();
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  const quota = usage + 200_000; // the weights are 0.73 MB, the other files 0.12 MB
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: proxy.origin, quotaSize: quota });
  // (Chromium enforces the override on writes; navigator.storage.estimate() in a private context
  // still reports its padded quota, so the figures shown are the browser's, not `quota`.)
  expect(await cdp.send('Storage.getUsageAndQuota', { origin: proxy.origin })).toMatchObject({ quota, overrideActive: true });

  const errors = recordErrors(page);
  await page.reload();
  const status = page.getByTestId('model-status');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  const problem = page.getByTestId('model-status-offline-problem');
  await expect(problem).toBeVisible({ timeout: 15_000 });
  await expect(problem).toContainText('Not kept for offline use: the browser’s storage quota for this site is full');
  await expect(problem).toContainText('model.safetensors');
  await expect(problem).toContainText('QuotaExceededError');
  await expect(problem).toContainText(/Storage for this site: \d+\.\d MB used of \d+\.\d [MG]B \(navigator\.storage\.estimate\(\)\)/);
  await expect(page.getByTestId('status-model')).toHaveAttribute('data-offline-cached', 'false');
  expect(await intactFiles(page, TINY)).not.toContain('model.safetensors');
  // The model still runs (from memory).
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
  const run = (await page.evaluate(() => window.__qs!.runs())).at(-1)!;
  expect(run.tokensGenerated).toBeGreaterThan(0);
  expect(errors).toEqual([]);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: proxy.origin });
});

test('2: a download cut mid-file: a named error saying how far it got, nothing partial cached, the next load fetches again and works', async ({ page }) => {
  test.setTimeout(60_000);
  await openControlled(page);
  const path = `/models/${AR}/model.safetensors`;
  proxy.fault(path, { kind: 'cut', afterBytes: 200_000 });
  const first = await page.evaluate((id) => window.__qs!.loadModel(id), AR);
  expect(first).toMatchObject({ error: 'ModelLoadError' });
  expect((first as { message: string }).message).toMatch(/model\.safetensors: the download was cut off after \d+ of 727384 bytes/);
  // Give the service worker time to (not) store it: nothing of the weights is cached.
  await page.waitForTimeout(1500);
  expect(Object.keys(await cached(page, AR))).not.toContain('model.safetensors');

  const second = await page.evaluate((id) => window.__qs!.loadModel(id), AR);
  expect(second).toMatchObject({ modelId: AR, kind: 'autoregressive', alreadyLoaded: false });
  expect(proxy.count(path)).toBe(2);
  const gen = await page.evaluate((id) => window.__qs!.generate({ modelId: id, prompt: 'def f(x):\n', genLength: 4 }), AR);
  expect(gen).toMatchObject({ modelKind: 'autoregressive', steps: 4 });
  // What is cached now is the whole file.
  await expect.poll(() => intactFiles(page, AR), { timeout: 10_000 }).toEqual([...FILES].sort());
});

test('3: a web page served with status 200 in place of config.json or the weights: a named error, nothing cached; the retry works', async ({ page }) => {
  test.setTimeout(60_000);
  const page404 = '<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>';
  // The app's own model, on the first visit: the UI names the error and offers a retry.
  proxy.fault(`/models/${TINY}/config.json`, { kind: 'replace', status: 200, contentType: 'text/html; charset=utf-8', body: page404 });
  await page.goto(appUrl());
  const status = page.getByTestId('model-status');
  await expect(status).toHaveAttribute('data-state', 'error', { timeout: 45_000 });
  await expect(status).toHaveAttribute('data-error', 'ModelResponseError');
  await expect(status).toContainText('The server sent a web page, not the model');
  await expect(status).toContainText('config.json');
  await page.getByTestId('model-status-retry').click();
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });

  // Through the service worker: an error page with a binary content type in place of the weights,
  // then one with text/html in place of config.json. Neither leaves anything in the cache.
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  await page.reload();
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  proxy.fault(`/models/${AR}/model.safetensors`, { kind: 'replace', status: 200, contentType: 'application/octet-stream', body: page404 });
  const binary = await page.evaluate((id) => window.__qs!.loadModel(id), AR);
  expect(binary).toMatchObject({ error: 'ModelResponseError' });
  expect((binary as { message: string }).message).toContain('model.safetensors');
  await expect.poll(async () => Object.keys(await cached(page, AR)), { timeout: 10_000 }).toEqual([]);

  proxy.fault(`/models/${AR}/config.json`, { kind: 'replace', status: 200, contentType: 'text/html', body: page404 });
  const html = await page.evaluate((id) => window.__qs!.loadModel(id), AR);
  expect(html).toMatchObject({ error: 'ModelResponseError' });
  await expect.poll(async () => Object.keys(await cached(page, AR)), { timeout: 10_000 }).toEqual([]);

  const ok = await page.evaluate((id) => window.__qs!.loadModel(id), AR);
  expect(ok).toMatchObject({ modelId: AR, alreadyLoaded: false });
  await expect.poll(() => intactFiles(page, AR), { timeout: 10_000 }).toEqual([...FILES].sort());
});

test('3: a stale cached weights file (its SHA-256 no longer matches) is fetched again on its own', async ({ page }) => {
  test.setTimeout(60_000);
  await openControlled(page);
  await expect(page.getByTestId('status-model')).toHaveAttribute('data-offline-cached', 'true', { timeout: 20_000 });
  expect(await intactFiles(page, TINY)).toEqual([...FILES].sort());
  // Replace the cached weights with an "older version": same size, other bytes.
  await page.evaluate(async (id) => {
    const cache = await caches.open('qs-models');
    const url = `/models/${id}/model.safetensors`;
    const res = (await cache.match(url))!;
    const bytes = new Uint8Array(await res.arrayBuffer());
    bytes[bytes.length - 1] ^= 0xff;
    await cache.put(url, new Response(bytes, { status: 200, headers: res.headers }));
  }, TINY);
  expect(await intactFiles(page, TINY)).not.toContain('model.safetensors');
  const before = proxy.count(`/models/${TINY}/model.safetensors`);

  const errors = recordErrors(page);
  await page.reload();
  const status = page.getByTestId('model-status');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.getByTestId('model-status-repaired')).toBeVisible();
  expect(proxy.count(`/models/${TINY}/model.safetensors`)).toBeGreaterThan(before);
  await expect.poll(() => intactFiles(page, TINY), { timeout: 10_000 }).toEqual([...FILES].sort());
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
  expect(errors).toEqual([]);
});

test('5: two tabs load and generate at once: both work, the cache stays intact, each keeps its own text', async ({ page, context }) => {
  test.setTimeout(60_000);
  await page.goto(appUrl());
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await page.evaluate(() => caches.delete('qs-models'));
  const other = await context.newPage();
  const tabs = [page, other];
  const errors = tabs.map((p) => recordErrors(p));
  // Both start at once, both download every file through the one service worker.
  await Promise.all([page.reload(), other.goto(appUrl())]);
  await Promise.all(tabs.map((p) => expect(p.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 })));
  // Each tab its own text, then both generate at once.
  for (const [i, p] of tabs.entries()) {
    await p.waitForFunction(() => !!window.__qs?.editor);
    await p.evaluate((i) => window.__qs!.editor!.setValue(`# tab ${i}\ndef tab_${i}(x):\n`), i);
    await expect(p.getByTestId('draft-state')).toHaveAttribute('data-state', 'saved');
  }
  await Promise.all(tabs.map((p) => p.getByTestId('run').click()));
  await Promise.all(tabs.map((p) => expect(p.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 45_000 })));
  for (const p of tabs) {
    const run = (await p.evaluate(() => window.__qs!.runs())).at(-1)!;
    expect(run.status).toBe('done');
    expect(run.tokensGenerated).toBeGreaterThan(0);
  }
  await expect.poll(() => intactFiles(page, TINY), { timeout: 10_000 }).toEqual([...FILES].sort());
  await expect.poll(() => intactFiles(other, TINY), { timeout: 10_000 }).toEqual([...FILES].sort());
  // A reload of either tab brings back its own text, not the other's.
  for (const [i, p] of tabs.entries()) {
    await p.reload();
    await p.waitForFunction(() => !!window.__qs?.editor);
    expect(await p.evaluate(() => window.__qs!.editor!.getValue())).toBe(`# tab ${i}\ndef tab_${i}(x):\n`);
  }
  expect(errors.flat()).toEqual([]);
});
