// Faults tried (issue #13), what the user feeds in and how fast they click: a prompt longer than
// the context, an empty prompt, a 1 MB paste (item 9); 1,000 random Unicode strings through editor
// → tokenizer → model → editor (item 10); 50 rapid Generate / Stop / Race toggles (item 8).

import { expect, test, type Page } from '@playwright/test';
import { hasLoneSurrogate, randomUnicodeStrings } from '../src/test/unicodeFuzz';
import { recordErrors } from './helpers';

const URL_TINY = '/?model=qs-code-diffusion-tiny&ar=qs-code-ar-tiny&engine=cpu';
/** Short runs: the tests are about what goes in, not about the model. */
const SETTINGS = { genLength: 8, strategy: 'model', autocomplete: false };

/** Open the app with these settings and wait for the model; unhandled rejections are recorded too. */
async function open(page: Page, settings: object = SETTINGS) {
  await page.addInitScript((s) => {
    if (!localStorage.getItem('quicksilver.settings.v2')) localStorage.setItem('quicksilver.settings.v2', JSON.stringify(s));
    const w = window as unknown as { __rejections: string[] };
    w.__rejections = [];
    window.addEventListener('unhandledrejection', (e) => w.__rejections.push(String((e.reason as Error)?.stack ?? e.reason)));
  }, settings);
  const errors = recordErrors(page);
  await page.goto(URL_TINY);
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await page.waitForFunction(() => !!window.__qs?.editor);
  return errors;
}

const rejections = (page: Page) => page.evaluate(() => (window as unknown as { __rejections: string[] }).__rejections);

async function generateInUi(page: Page) {
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', /done|error/, { timeout: 45_000 });
  return (await page.evaluate(() => window.__qs!.runs())).at(-1)!;
}

test('9: a prompt longer than the context is trimmed from the left, visibly; an empty prompt runs; a 1 MB paste runs and is kept', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = await open(page);

  // Longer than the tiny model's 128-token context.
  const long = Array.from({ length: 60 }, (_, i) => `value_${i} = compute(${i}, "${'x'.repeat(i % 7)}")\n`).join('');
  await page.evaluate((t) => window.__qs!.editor!.setValue(t), long);
  const r1 = await generateInUi(page);
  expect(r1).toMatchObject({ status: 'done', error: null });
  expect(r1.tokensGenerated).toBeGreaterThan(0);
  const trimmed = page.getByTestId('run-trimmed');
  await expect(trimmed).toBeVisible();
  await expect(trimmed).toContainText('Trimmed to fit the model’s context: the first');
  const dropped = Number(await trimmed.getAttribute('data-dropped-prefix-chars'));
  expect(dropped).toBeGreaterThan(long.length / 2);
  expect(dropped).toBeLessThan(long.length);
  await expect(page.locator('[data-testid="canvas"] .cell-dropped')).toHaveCount(1);
  expect(await page.evaluate(() => window.__qs!.editor!.getValue())).toBe(long);

  // Empty: the model starts a file from nothing.
  await page.evaluate(() => window.__qs!.editor!.setValue(''));
  const r2 = await generateInUi(page);
  expect(r2).toMatchObject({ status: 'done', error: null });
  expect(r2.tokensGenerated).toBeGreaterThan(0);
  await expect(page.getByTestId('run-trimmed')).toHaveCount(0);

  // A 1 MB paste through Monaco's paste command.
  const line = 'data = [1, 2, 3]  # filler line of a very large paste\n';
  const big = line.repeat(Math.ceil((1 << 20) / line.length));
  await page.evaluate((t) => window.__qs!.editor!.trigger('keyboard', 'paste', { text: t }), big);
  expect(await page.evaluate(() => window.__qs!.editor!.getValue().length)).toBe(big.length);
  const t0 = Date.now();
  const r3 = await generateInUi(page);
  expect(r3).toMatchObject({ status: 'done', error: null });
  expect(Date.now() - t0).toBeLessThan(20_000);
  expect(Number(await page.getByTestId('run-trimmed').getAttribute('data-dropped-prefix-chars'))).toBeGreaterThan(big.length - 128 * 64);
  // The paste is saved like any text, and is there after a reload.
  await expect(page.getByTestId('draft-state')).toHaveAttribute('data-state', 'saved', { timeout: 10_000 });
  await page.reload();
  await page.waitForFunction(() => !!window.__qs?.editor);
  expect(await page.evaluate(() => window.__qs!.editor!.getValue().length)).toBe(big.length);
  expect(await rejections(page)).toEqual([]);
  expect(errors).toEqual([]);
});

test('10: 1,000 random Unicode strings round-trip editor → tokenizer → model → editor without an exception', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = await open(page);
  const strings = randomUnicodeStrings(1000);
  expect(strings.filter(hasLoneSurrogate).length).toBeGreaterThan(50);
  const out = await page.evaluate(async (strings) => {
    const qs = window.__qs!;
    const ed = qs.editor!;
    const eol = (s: string) => s.replace(/\r\n?/g, '\n');
    const failures: string[] = [];
    let lone = 0;
    let generated = 0;
    for (const s of strings) {
      try {
        if (/[\ud800-\udfff]/.test(s) && s.normalize() === s) lone++;
        ed.setValue(s);
        const prompt = ed.getValue();
        const r = await qs.generate({ modelId: 'qs-code-diffusion-tiny', prompt, genLength: 2, truncate: true });
        if ('error' in r) {
          failures.push(`${JSON.stringify(s)}: ${r.error}: ${r.message}`);
          continue;
        }
        generated++;
        // The app's own "Append to editor" (src/ui/editorText.ts).
        qs.appendToEditor(r.text);
        if (eol(ed.getValue()) !== eol(prompt + r.text)) failures.push(`${JSON.stringify(s)}: editor holds ${JSON.stringify(ed.getValue())}`);
      } catch (err) {
        failures.push(`${JSON.stringify(s)}: threw ${String(err)}`);
      }
    }
    return { failures, lone, generated };
  }, strings);
  expect(out.failures.slice(0, 5)).toEqual([]);
  expect(out.generated).toBe(1000);
  // The strings arrived in the page with their lone surrogates.
  expect(out.lone).toBeGreaterThan(50);
  expect(await rejections(page)).toEqual([]);
  expect(errors).toEqual([]);
});

test('8: 50 rapid Generate / Stop / Race toggles: no stuck state, no unhandled rejection', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = await open(page, { ...SETTINGS, genLength: 24 });
  await page.getByTestId('mode-race').click();
  await expect(page.getByTestId('run')).toBeEnabled({ timeout: 45_000 }); // the AR twin loads
  await page.getByTestId('mode-generate').click();
  // Clicks as fast as the page takes them, in a seeded random order, with 0-30 ms between.
  const clicks = await page.evaluate(async () => {
    let seed = 13;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const click = (id: string) => {
      const el = document.querySelector<HTMLButtonElement>(`[data-testid="${id}"]`);
      if (el && !el.disabled) {
        el.click();
        return id;
      }
      return '';
    };
    const done: string[] = [];
    for (let i = 0; i < 50; i++) {
      for (const id of ['run', 'stop', rand() < 0.5 ? 'mode-race' : 'mode-generate', 'run', rand() < 0.5 ? 'stop' : '']) {
        const c = id ? click(id) : '';
        if (c) done.push(c);
        await new Promise((r) => setTimeout(r, Math.floor(rand() * 30)));
      }
    }
    return done;
  });
  expect(clicks.filter((c) => c === 'run').length).toBeGreaterThanOrEqual(50);
  expect(clicks.filter((c) => c === 'stop').length).toBeGreaterThan(10);
  // Everything settles: no Stop button left, the action is enabled again.
  await expect(page.getByTestId('stop')).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId('run')).toBeEnabled();
  const runs = await page.evaluate(() => window.__qs!.runs());
  expect(runs.filter((r) => r.status !== 'done' && r.status !== 'cancelled')).toEqual([]);
  // And it still works: one Generate and one Race to the end.
  await page.getByTestId('mode-generate').click();
  const last = await generateInUi(page);
  expect(last).toMatchObject({ status: 'done', label: 'generate' });
  await page.getByTestId('mode-race').click();
  await page.getByTestId('run').click();
  await expect(page.getByTestId('race-diffusion')).toHaveAttribute('data-status', 'done', { timeout: 45_000 });
  await expect(page.getByTestId('race-ar')).toHaveAttribute('data-status', 'done', { timeout: 45_000 });
  expect(await rejections(page)).toEqual([]);
  expect(errors).toEqual([]);
});
