// Model loading in the worker (loadModel): byte progress, offline-cache detection, and clear,
// named errors (never a hang) for an unknown id, a corrupt file, a request while loading and a
// lost GPU device; the UI shows each and recovers.

import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const TINY = 'qs-code-diffusion-tiny';
const DIST_MODELS = fileURLToPath(new URL('../dist/models/', import.meta.url));

test('loadModel through the worker: progress, fromCache on the second load, 404 and a busy id are named errors', async ({ page }) => {
  test.setTimeout(60_000);
  // No model in the URL: the app loads the default; this test talks to the worker directly.
  await page.goto(`/?model=${TINY}`);
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });

  const missing = await page.evaluate(() => window.__qs!.loadModel('qs-no-such-model'));
  expect(missing).toMatchObject({ error: 'ModelNotFoundError' });
  expect((missing as { message: string }).message).toContain('qs-no-such-model');

  // Loaded already: answers at once.
  const again = await page.evaluate((id) => window.__qs!.loadModel(id), TINY);
  expect(again).toMatchObject({ modelId: TINY, alreadyLoaded: true });

  // The first visit's worker started before the service worker took over, so not every file went
  // through it. After one reload the whole download goes through the service worker into its
  // cache; after a second, every file comes out of the cache, and the UI says so.
  await page.reload();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await page.reload();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'true');
  await expect(page.getByTestId('model-status-source')).toContainText('offline cache');
  await page.screenshot({ path: 'test-results/screen-model-from-cache.png' });

  // Two loads of one id at once: the second is refused while the first runs; generate meanwhile too.
  const race = await page.evaluate(async () => {
    const qs = window.__qs!;
    const id = 'qs-code-ar-tiny';
    const first = qs.loadModel(id);
    const second = qs.loadModel(id);
    const during = qs.generate({ modelId: id, prompt: 'def f(x):\n', genLength: 4 });
    return { second: await second, during: await during, first: await first, after: await qs.generate({ modelId: id, prompt: 'def f(x):\n', genLength: 4 }) };
  });
  expect(race.second).toMatchObject({ error: 'ModelLoadingError' });
  expect(race.during).toMatchObject({ error: 'ModelLoadingError' });
  expect(race.first).toMatchObject({ modelId: 'qs-code-ar-tiny', kind: 'autoregressive', alreadyLoaded: false });
  expect(race.after).toMatchObject({ modelKind: 'autoregressive', steps: 4 });
  // A model that was never loaded: NoModelError.
  expect(await page.evaluate(() => window.__qs!.generate({ modelId: 'qs-never-loaded', prompt: 'x', genLength: 2 }))).toMatchObject({ error: 'NoModelError' });
});

test('a corrupt weights file is a ModelIntegrityError, shown in the UI with a retry', async ({ page }) => {
  test.setTimeout(60_000);
  // A copy of the tiny model with one byte of the weights changed (manifest unchanged).
  const id = 'e2e-corrupt';
  const dir = `${DIST_MODELS}${id}/`;
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'manifest.json', 'tokenizer.json']) copyFileSync(`${DIST_MODELS}${TINY}/${f}`, dir + f);
  const weights = readFileSync(`${DIST_MODELS}${TINY}/model.safetensors`);
  weights[weights.length - 1] ^= 0xff;
  writeFileSync(`${dir}model.safetensors`, weights);
  try {
    await page.goto(`/?model=${id}`);
    const status = page.getByTestId('model-status');
    await expect(status).toHaveAttribute('data-state', 'error', { timeout: 45_000 });
    await expect(status).toHaveAttribute('data-error', 'ModelIntegrityError');
    await expect(status).toContainText('damaged');
    await expect(page.getByTestId('run')).toBeDisabled();
    await expect(page.getByTestId('status-model')).toHaveAttribute('data-state', 'error');
    await page.screenshot({ path: 'test-results/screen-model-corrupt.png' });
    expect(await page.evaluate((id) => window.__qs!.loadModel(id), id)).toMatchObject({ error: 'ModelIntegrityError' });
    // The corrupt copy is not kept in the offline cache: a retry downloads afresh.
    const cached = () => page.evaluate(async (id) => (await (await caches.open('qs-models')).keys()).filter((r) => r.url.includes(id)).length, id);
    await expect.poll(cached, { timeout: 10_000 }).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown model in the URL falls back to a shipped one, with a note', async ({ page }) => {
  test.setTimeout(60_000);
  await page.goto('/?model=qs-gone-model');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.getByTestId('model-status')).toContainText('qs-code-diffusion-');
  await expect(page.getByTestId('denoise-panel')).toContainText('"qs-gone-model" is not available');
});

test('device loss: the model moves to the CPU engine on its own, the user is told, and it runs', async ({ page }) => {
  test.setTimeout(90_000);
  // On WebGPU explicitly: 'auto' runs models on the CPU engine on this software adapter.
  await page.goto(`/?model=${TINY}&engine=webgpu`);
  const status = page.getByTestId('model-status');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.getByTestId('model-status-engine')).toHaveAttribute('data-engine', 'webgpu');
  await page.evaluate(() => window.__qs!.loseDevice());
  // (It was an error with a "Reload the model" button before issue #13; now nothing to click.)
  await expect(page.getByTestId('model-status-engine')).toHaveAttribute('data-engine', 'cpu', { timeout: 45_000 });
  await expect(status).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('model-status-engine-note')).toContainText('The GPU device was lost');
  await expect(page.getByTestId('status-engine')).toHaveText('CPU engine');
  await page.screenshot({ path: 'test-results/screen-device-lost.png' });
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
});
