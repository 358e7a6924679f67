// Faults tried (issue #13, item 4): the GPU device is lost in the middle of a generation. The run
// completes on the CPU engine without a page reload, and the user is told.

import { expect, test } from '@playwright/test';
import { recordErrors } from './helpers';

test('4: the GPU device lost during a generation: the run restarts and completes on the CPU engine, no reload, the user is told', async ({ page }) => {
  test.setTimeout(120_000);
  // A long run on WebGPU (SwiftShader), so that the loss lands mid-run: 96 tokens, 48 steps.
  await page.addInitScript(() => {
    localStorage.setItem('quicksilver.settings.v2', JSON.stringify({ genLength: 96, strategy: 'blocks', steps: 48, blockLength: 4, temperature: 0, seed: 0, autocomplete: false }));
  });
  const errors = recordErrors(page);
  await page.goto('/?model=qs-code-diffusion-tiny&engine=webgpu');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.getByTestId('model-status-engine')).toHaveAttribute('data-engine', 'webgpu');
  await page.evaluate(() => ((window as unknown as { __sameDocument: number }).__sameDocument = 1));

  await page.getByTestId('run').click();
  // A few steps in, then the device goes.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="canvas"]')?.getAttribute('data-step') ?? 0) >= 2, null, { timeout: 30_000 });
  expect(await page.getByTestId('run-view').getAttribute('data-status')).toBe('running');
  await page.evaluate(() => window.__qs!.loseDevice());

  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(page.getByTestId('run-notice')).toContainText('The GPU was lost during this run: it was started again on the CPU engine');
  await expect(page.getByTestId('model-status-engine')).toHaveAttribute('data-engine', 'cpu');
  await expect(page.getByTestId('model-status-engine-note')).toContainText('The GPU device was lost');
  await expect(page.getByTestId('status-engine')).toHaveText('CPU engine');
  const run = (await page.evaluate(() => window.__qs!.runs())).at(-1)!;
  expect(run).toMatchObject({ label: 'generate', status: 'done', restarted: true, error: null });
  expect(run.tokensGenerated).toBeGreaterThan(0);
  // The same page all along: no reload, and the editor's text is untouched.
  expect(await page.evaluate(() => (window as unknown as { __sameDocument?: number }).__sameDocument)).toBe(1);
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('def fibonacci');
  // The result goes into the editor as usual.
  await page.getByTestId('apply-result').click();
  expect(await page.evaluate(() => window.__qs!.editor!.getValue())).toContain(run.text);
  // The device loss itself is reported as a warning, not an error.
  expect(errors).toEqual([]);
});
