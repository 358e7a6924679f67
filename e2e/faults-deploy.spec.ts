// Faults tried (issue #13, item 6): a new deploy while a page is open. The new service worker
// installs and waits; the page shows an update prompt and keeps working on its own version, even
// for chunks it loads only now and that the server no longer has (no stale-chunk errors); the
// user's "Reload to update" switches to the new version, text kept.
//
// The deploy is simulated in the served dist/: sw.js changes (a new version of the service
// worker, its precache list without the CPU engine's WebAssembly), and the old WebAssembly files
// leave the server, as they do when a new build renames its chunks. Everything is put back after.

import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { recordErrors } from './helpers';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

test('6: a new deploy while the page is open: an update prompt, the open page keeps working, no stale-chunk errors', async ({ page }) => {
  test.setTimeout(90_000);
  // WebGPU first, so the CPU engine's WebAssembly is not fetched until after the deploy.
  await page.addInitScript(() => {
    if (!localStorage.getItem('quicksilver.settings.v2')) localStorage.setItem('quicksilver.settings.v2', JSON.stringify({ engine: 'webgpu', genLength: 8, autocomplete: false }));
  });
  const errors = recordErrors(page);
  await page.goto('/?model=qs-code-diffusion-tiny');
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  // Once more, so the engine worker is a client of the service worker too.
  await page.reload();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.getByTestId('model-status-engine')).toHaveAttribute('data-engine', 'webgpu');
  await page.evaluate(() => window.__qs!.editor!.setValue('def before_the_deploy():\n    pass\n'));
  await expect(page.getByTestId('draft-state')).toHaveAttribute('data-state', 'saved');
  const oldScript = await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);

  const swPath = `${DIST}sw.js`;
  const sw = readFileSync(swPath, 'utf8');
  const wasm = readdirSync(`${DIST}assets`).filter((f) => /^kernels.*\.wasm$/.test(f));
  expect(wasm.length).toBe(2);
  try {
    // The deploy.
    const next = sw.replace(/\{"revision":null,"url":"assets\/kernels[^"]*\.wasm"\},?/g, '') + '\n// deploy 2\n';
    expect(next).not.toContain('kernels-');
    writeFileSync(swPath, next);
    for (const f of wasm) renameSync(`${DIST}assets/${f}`, `${DIST}assets/${f}.gone`);
    // (vite preview answers a missing file with index.html, like many static hosts.)
    const gone = await page.request.get(`/assets/${wasm[0]}`);
    expect(gone.headers()['content-type']).not.toContain('wasm');

    // The browser looks for a new version (the app does so hourly and when the tab shows again).
    await page.evaluate(async () => void (await navigator.serviceWorker.getRegistration())!.update());
    await expect(page.getByTestId('update-prompt')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('update-prompt')).toContainText('A new version of Quicksilver is ready');
    const sw2 = await page.evaluate(async () => {
      const r = (await navigator.serviceWorker.getRegistration())!;
      return { waiting: !!r.waiting, controller: navigator.serviceWorker.controller?.scriptURL };
    });
    expect(sw2).toEqual({ waiting: true, controller: oldScript });

    // The open page keeps working, including chunks it asks for only now: switching to the CPU
    // engine fetches the WebAssembly that the server no longer has.
    await page.getByTestId('settings-button').click();
    await page.getByTestId('settings-engine').selectOption('cpu');
    await page.getByTestId('settings-button').click();
    await expect(page.getByTestId('model-status-engine')).toHaveAttribute('data-engine', 'cpu', { timeout: 45_000 });
    await page.getByTestId('run').click();
    await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 45_000 });
    const served = await page.evaluate(async (u) => {
      const res = await fetch(u);
      return { status: res.status, type: res.headers.get('content-type'), bytes: (await res.arrayBuffer()).byteLength };
    }, `/assets/${wasm[0]}`);
    expect(served).toEqual({ status: 200, type: 'application/wasm', bytes: readFileSync(`${DIST}assets/${wasm[0]}.gone`).byteLength });
    expect(errors).toEqual([]);
  } finally {
    // The new version's files are all on the server from here on (ours keeps the old names).
    writeFileSync(swPath, sw);
    for (const f of wasm) renameSync(`${DIST}assets/${f}.gone`, `${DIST}assets/${f}`);
  }

  // The user takes the update: the new service worker takes over, the page reloads, text kept.
  await Promise.all([page.waitForEvent('load'), page.getByTestId('update-reload').click()]);
  await page.waitForFunction(() => !!window.__qs?.editor);
  expect(await page.evaluate(() => window.__qs!.editor!.getValue())).toBe('def before_the_deploy():\n    pass\n');
  const after = await page.evaluate(async () => {
    const r = (await navigator.serviceWorker.getRegistration())!;
    return { waiting: !!r.waiting, active: r.active?.state };
  });
  expect(after).toEqual({ waiting: false, active: 'activated' });
  await expect(page.getByTestId('update-prompt')).toHaveCount(0);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
});
