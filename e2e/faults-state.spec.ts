// Faults tried (issue #13), the user's own state: the editor's text and the settings survive a
// reload and a crash of the tab.

import { expect, test, type Page } from '@playwright/test';
import { recordErrors } from './helpers';

const URL_TINY = '/?model=qs-code-diffusion-tiny&ar=qs-code-ar-tiny&engine=cpu';

const editorText = (page: Page) => page.evaluate(() => window.__qs!.editor!.getValue());

async function editorReady(page: Page) {
  await page.waitForFunction(() => !!window.__qs?.editor);
}

async function openSettings(page: Page) {
  if (!(await page.getByTestId('settings').isVisible())) await page.getByTestId('settings-button').click();
  await expect(page.getByTestId('settings')).toBeVisible();
}

/** What the settings panel shows for the fields this test changes. */
async function shownSettings(page: Page) {
  await openSettings(page);
  const s = {
    genLength: await page.getByTestId('settings-gen-length').inputValue(),
    seed: await page.getByLabel('Seed').inputValue(),
    revision: await page.getByTestId('settings-revision').isChecked(),
    autocomplete: await page.getByTestId('settings-autocomplete').isChecked(),
  };
  await page.getByTestId('settings-button').click();
  return s;
}

test('11: the editor text and the settings survive a reload and a crash of the tab', async ({ page, context }) => {
  test.setTimeout(60_000);
  const errors = recordErrors(page);
  await page.goto(URL_TINY);
  await editorReady(page);
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('def fibonacci');

  // Settings through the panel, as a user changes them.
  await openSettings(page);
  await page.getByTestId('settings-autocomplete').uncheck();
  await page.getByTestId('settings-gen-length').fill('40');
  await page.getByLabel('Seed').fill('4242');
  await page.getByTestId('settings-revision').check();
  await page.getByTestId('settings-button').click();
  const settings = { genLength: '40', seed: '4242', revision: true, autocomplete: false };
  expect(await shownSettings(page)).toEqual(settings);

  // Text typed into the editor (replacing the sample), Unicode included.
  await page.locator('.monaco-editor').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  const typed = 'def kept(x):\n    """日本語 ✓ — שלום"""\n    return x * 2  # 😀\n';
  await page.keyboard.insertText(typed);
  // (Monaco indents after a colon on its own: the text is whatever the editor holds now.)
  const text = await editorText(page);
  expect(text).toContain('日本語 ✓ — שלום');
  expect(text).toContain('# 😀');
  expect(text).not.toContain('fibonacci');
  await expect(page.getByTestId('draft-state')).toHaveAttribute('data-state', 'saved');

  // 1. Reload.
  await page.reload();
  await editorReady(page);
  expect(await editorText(page)).toBe(text);
  expect(await shownSettings(page)).toEqual(settings);
  expect(errors).toEqual([]);

  // 2. One more edit, then the tab's renderer crashes (CDP Page.crash) and the user opens it again.
  await page.locator('.monaco-editor').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\nprint(kept(21))\n');
  const edited = await editorText(page);
  expect(edited).toContain('print(kept(21))');
  expect(edited.startsWith(text.trimEnd())).toBe(true);
  await expect(page.getByTestId('draft-state')).toHaveAttribute('data-state', 'saved');
  const crashed = page.waitForEvent('crash');
  const cdp = await context.newCDPSession(page);
  void cdp.send('Page.crash').catch(() => {});
  await crashed;

  const again = await context.newPage();
  await again.goto(URL_TINY);
  await editorReady(again);
  expect(await editorText(again)).toBe(edited);
  expect(await shownSettings(again)).toEqual(settings);
  // The model still loads and runs after all this.
  await expect(again.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
});
