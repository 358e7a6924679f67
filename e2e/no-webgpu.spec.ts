// Without WebGPU the page explains why, in plain words, instead of failing blank.

import { expect, test } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { recordErrors } from './helpers';

test('browser without navigator.gpu shows the friendly message', async ({ page }) => {
  test.setTimeout(30_000);
  await page.addInitScript(() => {
    // As in a browser that never shipped WebGPU.
    delete (Navigator.prototype as { gpu?: unknown }).gpu;
  });
  const errors = recordErrors(page);
  await page.goto('/');
  const notice = page.getByTestId('no-webgpu');
  await expect(notice).toBeVisible();
  await expect(notice).toHaveAttribute('data-reason', 'no-navigator-gpu');
  await expect(notice).toContainText("doesn't support WebGPU");
  await expect(page.getByTestId('status-adapter')).toContainText('WebGPU unavailable');
  // The rest of the app still works.
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('def fibonacci');
  expect(errors).toEqual([]);
});

test('WebGPU present but no adapter (Chromium without --enable-unsafe-webgpu)', async ({ playwright, baseURL }) => {
  test.setTimeout(45_000);
  const browser = await playwright.chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage();
    await page.goto(baseURL!);
    const notice = page.getByTestId('no-webgpu');
    await expect(notice).toBeVisible();
    await expect(notice).toHaveAttribute('data-reason', 'no-adapter');
    await expect(notice).toContainText('WebGPU is switched off');
    await page.screenshot({ path: 'test-results/no-webgpu.png' });
  } finally {
    await browser.close();
  }
});
