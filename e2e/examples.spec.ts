// The example pages (examples/), built from scratch against the library package (npm run
// build:lib, then build:examples), served on their own port, in real Chromium with the tiny
// diffusion model on the CPU engine: the textarea page denoises step by step, the Monaco page's
// inline completion respects the auto-closed bracket right of the cursor (the accepted code
// parses), and both work again with the network off (service worker + the library's model cache).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { recordErrors } from './helpers';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Not the app's 4319: the examples are their own site. */
const PORT = 4329;
const BASE = `http://localhost:${PORT}`;
const QUERY = '?model=qs-code-diffusion-tiny&engine=cpu';
/**
 * The Monaco test needs a model that can finish a loop header: the tiny one only ever writes
 * `x, x, x,` there. qs-code-diffusion-small-v3 writes the rest of the line (v2 wrote `n):`, past the
 * auto-closed bracket: the case) and costs ~50 ms a completion on the CPU engine.
 */
const MONACO_QUERY = '?model=qs-code-diffusion-small-v3&engine=cpu';

let server: ChildProcess | null = null;

/** Does `code` parse as Python (ast.parse, Debian's python3)? The error message when not. */
function pythonParses(code: string): true | string {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: code, stdio: ['pipe', 'pipe', 'pipe'] });
    return true;
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n').at(-1) ?? 'does not parse';
  }
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  // A clean build: nothing left from an earlier one.
  rmSync(`${ROOT}dist-lib`, { recursive: true, force: true });
  rmSync(`${ROOT}dist-examples`, { recursive: true, force: true });
  execFileSync('npm', ['run', 'build:lib'], { cwd: ROOT, stdio: 'pipe' });
  execFileSync('npm', ['run', 'build:examples'], { cwd: ROOT, stdio: 'pipe' });
  server = spawn('npx', ['vite', 'preview', '-c', 'examples/vite.config.ts', '--port', String(PORT), '--strictPort', '--host', 'localhost'], {
    cwd: ROOT,
    stdio: 'ignore',
    detached: true,
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${BASE}/`)).ok) break;
    } catch {
      // not up yet
    }
    if (i > 100) throw new Error(`the examples server did not start on ${BASE}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

test.afterAll(() => {
  // Its own process group (detached): npx and vite go together.
  if (server?.pid) process.kill(-server.pid, 'SIGTERM');
});

async function controlled(page: Page) {
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
}

/** With the network off: reload (the page from the service worker, the model from the library's cache), then run `body`. */
async function offlineReload(page: Page, context: BrowserContext, body: () => Promise<void>) {
  await controlled(page);
  await context.setOffline(true);
  try {
    const response = await page.reload();
    expect(response?.fromServiceWorker()).toBe(true);
    await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
    await expect(page.locator('#status')).toHaveAttribute('data-from-cache', 'true');
    await body();
  } finally {
    await context.setOffline(false);
  }
}

/** Click Generate on the textarea page; every (step, masked, text) the textarea shows, and the final state. */
async function denoise(page: Page) {
  await page.evaluate(() => {
    const seen: { step: number; masked: number; text: string }[] = [];
    (window as unknown as { __seen: typeof seen }).__seen = seen;
    const el = document.querySelector<HTMLTextAreaElement>('#code')!;
    new MutationObserver(() => seen.push({ step: Number(el.dataset.step), masked: Number(el.dataset.masked), text: el.value })).observe(el, {
      attributes: true,
      attributeFilter: ['data-step', 'data-masked'],
    });
  });
  const prompt = await page.locator('#code').inputValue();
  await page.locator('#generate').click();
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  const seen = await page.evaluate(() => (window as unknown as { __seen: { step: number; masked: number; text: string }[] }).__seen);
  const status = page.locator('#status');
  return { prompt, seen, steps: Number(await status.getAttribute('data-steps')), text: (await status.getAttribute('data-text')) ?? '', value: await page.locator('#code').inputValue() };
}

test('textarea example: the library denoises step by step into a plain textarea, then again offline from its cache', async ({ page, context }) => {
  test.setTimeout(120_000);
  const errors = recordErrors(page);
  await page.goto(`${BASE}/textarea/${QUERY}`);
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.locator('#status')).toHaveAttribute('data-from-cache', 'false');
  const online = await denoise(page);

  // Intermediate canvases: masked positions (░) that fill in, one picture per step, ending with the result.
  expect(online.text.trim()).not.toBe('');
  expect(online.value).toBe(online.prompt + online.text);
  expect(online.seen[0]).toMatchObject({ step: 0 });
  expect(online.seen[0]!.masked).toBeGreaterThan(0);
  expect(online.seen[0]!.text).toContain('\u2591');
  const last = online.seen.at(-1)!;
  expect(last.step).toBe(online.steps);
  expect(last.masked).toBe(0);
  const masks = online.seen.map((s) => s.masked);
  expect(masks).toEqual([...masks].sort((a, b) => b - a));
  expect(online.seen.length).toBe(online.steps + 1);

  // Offline: the page from the service worker, the model from the library's cache, the same text.
  await offlineReload(page, context, async () => {
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);
    const offline = await denoise(page);
    expect(offline.text).toBe(online.text);
    expect(offline.steps).toBe(online.steps);
  });
  expect(errors).toEqual([]);
});

/** Put `text` in the example's editor with the cursor at (line, column), focused. */
async function setEditor(page: Page, text: string, lineNumber: number, column: number) {
  await page.evaluate(
    ([text, lineNumber, column]) => {
      const ed = (window as unknown as { editor: import('monaco-editor/editor/editor.api').editor.IStandaloneCodeEditor }).editor;
      ed.setValue(text);
      ed.focus();
      ed.setPosition({ lineNumber, column });
    },
    [text, lineNumber, column] as const,
  );
}

const editorValue = (page: Page) =>
  page.evaluate(() => (window as unknown as { editor: import('monaco-editor/editor/editor.api').editor.IStandaloneCodeEditor }).editor.getValue());

const GHOST = '.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text';

/** The fixture: a loop header to type on line 3, its body already below it. */
const LOOP = 'def total(n):\n    s = 0\n\n        s += i\n    return s\n';

async function typeLoopAndAccept(page: Page): Promise<{ typed: string; after: string; line: string }> {
  await setEditor(page, LOOP, 3, 1);
  // As a user types it: Monaco auto-closes the bracket, the cursor sits before `)`.
  await page.keyboard.type('    for i in range(', { delay: 20 });
  const typed = await editorValue(page);
  await expect(page.locator(GHOST).first()).toBeVisible({ timeout: 30_000 });
  await page.keyboard.press('Tab');
  const after = await editorValue(page);
  return { typed, after, line: after.split('\n')[2]! };
}

test('monaco example: typing `for i in range(` (auto-closed) and Tab gives code that parses; offline too', async ({ page, context }) => {
  test.setTimeout(150_000);
  const errors = recordErrors(page);
  await page.goto(`${BASE}/monaco/${MONACO_QUERY}`);
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });

  const online = await typeLoopAndAccept(page);
  expect(online.typed.split('\n')[2]).toBe('    for i in range()');
  expect(online.line.startsWith('    for i in range(')).toBe(true);
  expect(online.line.length).toBeGreaterThan('    for i in range()'.length);
  // Nothing else changed, and the auto-closed `)` is not doubled: the whole file parses.
  const lines = online.after.split('\n');
  expect([...lines.slice(0, 2), ...lines.slice(3)]).toEqual([...LOOP.split('\n').slice(0, 2), ...LOOP.split('\n').slice(3)]);
  expect(pythonParses(online.after), online.after).toBe(true);

  // Accept by word (Ctrl+Right, Monaco's binding), then by line (Ctrl+Shift+Right, the
  // library's), then the rest (Tab): each takes a prefix of what is left, in order.
  await setEditor(page, 'def total(numbers):\n    s = 0\n    for x in numbers:\n        s', 4, 10);
  await expect(page.locator(GHOST).first()).toBeVisible({ timeout: 30_000 });
  const before = await editorValue(page);
  await page.keyboard.press('Control+ArrowRight');
  const word = await editorValue(page);
  expect(word.startsWith(before)).toBe(true);
  expect(word.length).toBeGreaterThan(before.length);
  expect(word.slice(before.length)).not.toContain('\n');
  let line = word;
  if ((await page.locator(GHOST).count()) > 0) {
    await page.keyboard.press('Control+Shift+ArrowRight');
    line = await editorValue(page);
    expect(line.startsWith(word)).toBe(true);
    expect(line.length).toBeGreaterThan(word.length);
    expect(line.slice(word.length).replace(/\n$/, '')).not.toContain('\n');
  }
  if ((await page.locator(GHOST).count()) > 0) await page.keyboard.press('Tab');
  const full = await editorValue(page);
  expect(full.startsWith(line)).toBe(true);
  // A suggestion of several lines was only partly taken by the line key.
  if (full.slice(word.length).trim().includes('\n')) expect(line.length).toBeLessThan(full.length);

  await offlineReload(page, context, async () => {
    const offline = await typeLoopAndAccept(page);
    expect(offline.after).toBe(online.after);
  });
  expect(errors).toEqual([]);
});
