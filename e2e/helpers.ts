// Shared helpers for the e2e specs.

import type { ConsoleMessage, Page } from '@playwright/test';

/** Start recording console errors and uncaught exceptions (page and its workers). */
export function recordErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('worker', (worker) => {
    worker.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`worker console.error: ${msg.text()}`);
    });
  });
  return errors;
}

/** Wait until the status bar reports the adapter probe finished (ready or unavailable). */
export async function waitForProbe(page: Page): Promise<string> {
  const item = page.getByTestId('status-adapter');
  await item.and(page.locator(':not([data-state="probing"])')).waitFor();
  return (await item.getAttribute('data-state')) ?? '';
}
