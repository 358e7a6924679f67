// The Quicksilver UI with the tiny models (?model=qs-code-diffusion-tiny&ar=qs-code-ar-tiny) on
// the WebGPU engine (SwiftShader here; 'auto' would pick the CPU engine on a software adapter):
// live denoising view, timeline, Race, ghost-text completion at the cursor, settings. Each test
// saves screenshots of its screen into test-results/ (not committed) for people to look at.

import { expect, test, type Page } from '@playwright/test';
import { recordErrors } from './helpers';

const TINY = '/?model=qs-code-diffusion-tiny&ar=qs-code-ar-tiny&engine=webgpu';

/**
 * Settings the tests run with (stored before the app starts). Small blocks: the tiny test model
 * only writes real tokens (rather than ending the text at once) when decoding nearly left to right.
 */
const TEST_SETTINGS = { genLength: 48, strategy: 'blocks', steps: 24, blockLength: 4, temperature: 0, seed: 0, revision: false, autocomplete: true };

async function open(page: Page, opts: { url?: string; settings?: object; theme?: 'dark' | 'light' } = {}) {
  await page.addInitScript(
    ([settings, theme]) => {
      localStorage.setItem('quicksilver.settings.v2', JSON.stringify(settings));
      localStorage.setItem('quicksilver.theme', theme);
    },
    [{ ...TEST_SETTINGS, ...opts.settings }, opts.theme ?? 'dark'] as const,
  );
  await page.goto(opts.url ?? TINY);
}

/** Wait until the diffusion model is loaded and the main action is enabled. */
async function ready(page: Page) {
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await expect(page.getByTestId('run')).toBeEnabled();
}

interface Seen {
  text: string;
  masked: number;
  step: number;
  /** Where the stats, canvas box and timeline sit (to check nothing jumps while steps stream). */
  layout: string;
}

/** Record every distinct canvas the page shows from now on (text, masked count, step). */
async function watchCanvas(page: Page, testId = 'canvas'): Promise<() => Promise<Seen[]>> {
  await page.evaluate((testId) => {
    const seen: Seen[] = [];
    (window as unknown as { __canvases: Seen[] }).__canvases = seen;
    const snap = () => {
      const el = document.querySelector(`[data-testid="${testId}"]`);
      if (!el) return;
      const box = (sel: string) => {
        const r = document.querySelector(sel)?.getBoundingClientRect();
        return r ? [r.top, r.height, r.width].map(Math.round).join(',') : '';
      };
      const layout = [box('.run-stats'), box('.canvas-scroll'), box('.timeline')].join(' ');
      const s = { text: el.textContent ?? '', masked: Number(el.getAttribute('data-masked')), step: Number(el.getAttribute('data-step')), layout };
      const last = seen[seen.length - 1];
      if (!last || last.text !== s.text || last.masked !== s.masked || last.step !== s.step) seen.push(s);
    };
    new MutationObserver(snap).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-masked', 'data-step'] });
  }, testId);
  return () => page.evaluate(() => (window as unknown as { __canvases: Seen[] }).__canvases);
}

async function lastRun(page: Page, label: string) {
  const runs = await page.evaluate(() => window.__qs!.runs());
  const run = runs.filter((r) => r.label === label).at(-1);
  expect(run, `a finished ${label} run`).toBeTruthy();
  return run!;
}

test('generate: the live view shows intermediate canvases with masks, then the final one; step counter = sampler steps', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = recordErrors(page);
  await open(page);
  await ready(page);
  await page.screenshot({ path: 'test-results/screen-generate-idle.png' });

  const canvases = await watchCanvas(page);
  await page.getByTestId('run').click();
  // Mid-run picture (best effort: the tiny model is quick).
  await page.getByTestId('canvas').waitFor();
  await page.screenshot({ path: 'test-results/screen-generate-running.png' });
  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });

  const run = await lastRun(page, 'generate');
  expect(run.status).toBe('done');
  expect(run.tokensGenerated).toBeGreaterThan(0);
  expect(run.recordedSteps).toBe(run.steps);
  const seen = await canvases();
  const intermediate = new Set(seen.filter((c) => c.masked > 0 && c.step > 0).map((c) => c.text));
  expect(intermediate.size).toBeGreaterThanOrEqual(3);
  expect(seen.at(-1)!.masked).toBe(0);
  // No layout jumps while steps stream: stats, canvas box and timeline keep their place and size.
  expect(new Set(seen.filter((c) => c.step > 0).map((c) => c.layout)).size).toBe(1);
  const counter = page.getByTestId('step-counter');
  await expect(counter).toHaveAttribute('data-step', String(run.steps));
  await expect(counter).toHaveAttribute('data-total', String(run.steps));
  await expect(counter).toContainText(`${run.steps} / ${run.steps}`);
  await expect(page.getByTestId('canvas')).toContainText(run.text.trim().split('\n')[0]!.trim());
  await page.screenshot({ path: 'test-results/screen-generate-done.png' });

  // The result goes into the editor after the prompt.
  const before = await page.evaluate(() => window.__qs!.editor!.getValue());
  await page.getByTestId('apply-result').click();
  expect(await page.evaluate(() => window.__qs!.editor!.getValue())).toBe(before + run.text);
  expect(errors).toEqual([]);
});

test('a long prompt: the canvas opens scrolled to the generated span, with a few lines before it', async ({ page }) => {
  test.setTimeout(90_000);
  await open(page);
  await ready(page);
  const prompt = Array.from({ length: 40 }, (_, i) => `x${i} = ${i}`).join('\n') + '\n\n\ndef total(values):\n';
  await page.evaluate((text) => window.__qs!.editor!.setValue(text), prompt);
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  const where = (id: string) => page.evaluate((id) => {
    const box = document.querySelector(`[data-testid="${id}"]`)!;
    const first = box.querySelector('[data-position]')!;
    const b = box.getBoundingClientRect();
    const f = first.getBoundingClientRect();
    return { boxTop: b.top, boxBottom: b.bottom, top: f.top, scrolled: box.scrollTop, fits: box.scrollHeight > box.clientHeight };
  }, id);
  const check = async (id: string) => {
    const w = await where(id);
    expect(w.fits, `${id}: the canvas is taller than its box`).toBe(true);
    expect(w.scrolled, id).toBeGreaterThan(0);
    expect(w.top, id).toBeGreaterThan(w.boxTop);
    expect(w.top, id).toBeLessThan(w.boxBottom - 20);
  };
  await check('canvas-scroll');
  // both Race lanes too (the second lane's box is laid out only once its run starts)
  await page.getByTestId('mode-race').click();
  await page.getByTestId('run').click();
  for (const side of ['diffusion', 'ar']) await expect(page.getByTestId(`race-${side}-result`)).toHaveAttribute('data-done', 'true', { timeout: 60_000 });
  for (const side of ['diffusion', 'ar']) await check(`race-${side}-canvas-scroll`);
});

test('timeline: step 1 is mostly masked, the end is the final code; keyboard and buttons scrub', async ({ page }) => {
  test.setTimeout(90_000);
  await open(page);
  await ready(page);
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  const run = await lastRun(page, 'generate');
  const canvas = page.getByTestId('canvas');
  const slider = page.getByTestId('timeline-slider');
  const span = TEST_SETTINGS.genLength;

  await slider.focus();
  await page.keyboard.press('Home');
  await expect(canvas).toHaveAttribute('data-step', '0');
  await expect(canvas).toHaveAttribute('data-masked', String(span));
  await page.keyboard.press('ArrowRight');
  await expect(canvas).toHaveAttribute('data-step', '1');
  const masked1 = Number(await canvas.getAttribute('data-masked'));
  expect(masked1).toBeGreaterThan(span / 2);
  await expect(page.getByTestId('step-counter')).toHaveAttribute('data-step', '1');
  await page.screenshot({ path: 'test-results/screen-timeline-step1.png' });

  // Buttons: next step, then play to the end.
  await page.getByRole('button', { name: 'Next step' }).click();
  await expect(canvas).toHaveAttribute('data-step', '2');
  await page.getByTestId('timeline-play').click();
  await expect(canvas).toHaveAttribute('data-step', String(run.steps), { timeout: 30_000 });
  await expect(canvas).toHaveAttribute('data-masked', '0');

  await slider.focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('End');
  await expect(canvas).toHaveAttribute('data-step', String(run.steps));
  await expect(canvas).toHaveAttribute('data-masked', '0');
  await expect(page.getByTestId('step-counter')).toHaveAttribute('data-step', String(run.steps));
  const finalText = await canvas.textContent();
  expect(finalText).toContain(run.text.trim().split('\n')[0]!.trim());
});

test('race on the CPU engine: short runs are run again silently, the verdict gives their median', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = recordErrors(page);
  await open(page, { url: '/?model=qs-code-diffusion-tiny&ar=qs-code-ar-tiny&engine=cpu&mode=race' });
  await expect(page.getByTestId('run')).toBeEnabled({ timeout: 45_000 });
  await page.getByTestId('run').click();
  const verdict = page.getByTestId('race-verdict');
  await expect(verdict).toHaveAttribute('data-median', /^\d+\.\d+$/, { timeout: 60_000 });
  const runs = Number(await verdict.getAttribute('data-runs'));
  expect(runs).toBeGreaterThanOrEqual(3);
  await expect(verdict).toContainText(`a median ${await verdict.getAttribute('data-median')}× the autoregressive twin's tokens/s here over ${runs} more runs each`);
  // the rematches are silent: only the two visible runs are in the app's log
  expect((await page.evaluate(() => window.__qs!.runs())).map((r) => r.label)).toEqual(['race-diffusion', 'race-ar']);
  expect(errors).toEqual([]);
});

test('race: diffusion and its AR twin both finish and show tokens/s', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = recordErrors(page);
  await open(page);
  await ready(page);
  await page.getByTestId('mode-race').click();
  await expect(page.getByTestId('race-panel')).toBeVisible();
  await expect(page.getByTestId('run')).toBeEnabled({ timeout: 45_000 });
  await page.getByTestId('run').click();
  for (const side of ['diffusion', 'ar']) {
    await expect(page.getByTestId(`race-${side}-result`)).toHaveAttribute('data-done', 'true', { timeout: 90_000 });
    const tps = Number(await page.getByTestId(`race-${side}-tps`).getAttribute('data-value'));
    expect(tps, `${side} tokens/s`).toBeGreaterThan(0);
    await expect(page.getByTestId(`race-${side}-tpf`)).not.toHaveText('–');
  }
  const d = await lastRun(page, 'race-diffusion');
  const a = await lastRun(page, 'race-ar');
  expect(d.modelKind).toBe('diffusion');
  expect(a.modelKind).toBe('autoregressive');
  // AR: one forward pass per token.
  expect(a.forwards).toBe(a.steps);
  await expect(page.getByTestId('race-verdict')).toContainText('tokens per forward pass');
  await expect(page.getByTestId('race-verdict')).toContainText('The diffusion model ran first');
  await page.screenshot({ path: 'test-results/screen-race.png' });
  // the next Race runs the twin first (the worker runs one at a time, so runs finish in that order)
  await expect(page.getByTestId('race-first')).toHaveAttribute('data-first', 'diffusion');
  const firstRace = await page.evaluate(() => window.__qs!.runs());
  expect(firstRace.slice(-2).map((r) => r.label)).toEqual(['race-diffusion', 'race-ar']);
  const before = firstRace.length;
  await page.getByTestId('run').click();
  await expect(page.getByTestId('race-first')).toHaveAttribute('data-first', 'ar');
  await expect.poll(async () => (await page.evaluate(() => window.__qs!.runs())).length, { timeout: 90_000 }).toBe(before + 2);
  const order = (await page.evaluate(() => window.__qs!.runs())).slice(before).map((r) => r.label);
  expect(order).toEqual(['race-ar', 'race-diffusion']);
  await expect(page.getByTestId('race-verdict')).toContainText('The twin ran first');
  expect(errors).toEqual([]);
});

test('complete at cursor: a pause shows ghost text, Tab inserts it, the code around the cursor is unchanged', async ({ page }) => {
  test.setTimeout(90_000);
  await open(page);
  await ready(page);
  // A new line after is_prime's docstring (line 11): the body is what the suggestion writes.
  await page.evaluate(() => {
    const ed = window.__qs!.editor!;
    ed.focus();
    ed.setPosition({ lineNumber: 11, column: ed.getModel()!.getLineMaxColumn(11) });
  });
  await page.keyboard.press('Enter');
  const before = await page.evaluate(() => {
    const ed = window.__qs!.editor!;
    return { value: ed.getValue(), offset: ed.getModel()!.getOffsetAt(ed.getPosition()!) };
  });
  const ghost = page.locator('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text').first();
  await expect(ghost).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: 'test-results/screen-ghost-text.png' });
  await page.keyboard.press('Tab');
  const after = await page.evaluate(() => window.__qs!.editor!.getValue());
  const prefix = before.value.slice(0, before.offset);
  const suffix = before.value.slice(before.offset);
  expect(after.length).toBeGreaterThan(before.value.length);
  expect(after.startsWith(prefix)).toBe(true);
  expect(after.endsWith(suffix)).toBe(true);
  const inserted = after.slice(prefix.length, after.length - suffix.length);
  expect(inserted.trim()).not.toBe('');
});

test('fill selection: the selected code is replaced by an infill of the hole', async ({ page }) => {
  test.setTimeout(90_000);
  // the model's default decoding, with which Fill ranks candidates (settings fillCandidates)
  await open(page, { settings: { strategy: 'model' } });
  await ready(page);
  const before = await page.evaluate(() => {
    const ed = window.__qs!.editor!;
    ed.focus();
    ed.setSelection({ startLineNumber: 6, startColumn: 9, endLineNumber: 6, endColumn: ed.getModel()!.getLineMaxColumn(6) });
    return ed.getValue();
  });
  await page.keyboard.press('Control+Shift+Enter');
  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  const run = await lastRun(page, 'fill');
  expect(run.status).toBe('done');
  const lines = before.split('\n');
  const after = await page.evaluate(() => window.__qs!.editor!.getValue());
  const prefix = [...lines.slice(0, 5), lines[5]!.slice(0, 8)].join('\n');
  const suffix = '\n' + lines.slice(6).join('\n');
  expect(after.startsWith(prefix)).toBe(true);
  expect(after.endsWith(suffix)).toBe(true);
  if (run.text) expect(after).toBe(prefix + run.text + suffix);
  // and says how the ranking went
  await expect(page.getByTestId('run-status')).toContainText(/(replaced the decoded one|the decoded fill is the likeliest candidates' consensus) \(\d+ candidates ranked/);
  // and how many of the run's passes the ranking took (the rest decoded the hole): the run's own counts
  const passes = (await page.getByTestId('run-status').textContent())!.match(/\((\d+) candidates ranked in (\d+) of the (\d+) passes/);
  expect(passes, 'the ranking\'s passes in the status').toBeTruthy();
  expect(run.candidates).toBeTruthy();
  expect(passes!.slice(1).map(Number)).toEqual([run.candidates!.ranked, run.candidates!.forwards, run.forwards]);
  expect(run.candidates!.forwards).toBeGreaterThan(0);
  expect(run.candidates!.forwards).toBeLessThan(run.forwards);
});

test('the entropy-budget strategy (EB-sampler): γ in the settings, a larger budget commits more per step', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = recordErrors(page);
  // the small model: the tiny one is unsure everywhere (every position above any budget here)
  await open(page, { url: '/?model=qs-code-diffusion-small-v3-int8&ar=qs-code-ar-small-v3-int8&engine=cpu', settings: { genLength: 32, blockLength: 8 } });
  await ready(page);
  const steps: number[] = [];
  for (const gamma of ['0.01', '4']) {
    await page.getByTestId('settings-button').click();
    const settings = page.getByTestId('settings');
    await settings.getByText('Entropy budget', { exact: true }).click();
    await settings.getByTestId('settings-gamma').fill(gamma);
    await expect(settings).toContainText(`${Number(gamma).toFixed(2)} nats`);
    await page.keyboard.press('Escape');
    await page.getByTestId('run').click();
    await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    const run = await lastRun(page, 'generate');
    expect(run.status).toBe('done');
    steps.push(run.steps);
  }
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('quicksilver.settings.v2')!));
  expect(stored).toMatchObject({ strategy: 'entropy', gamma: 4 });
  expect(steps[1]).toBeLessThan(steps[0]);
  expect(errors).toEqual([]);
});

test('settings persist across reloads; dark and light themes; narrow window', async ({ page }) => {
  test.setTimeout(90_000);
  await open(page, { theme: 'dark' });
  await ready(page);
  await page.getByTestId('settings-button').click();
  const settings = page.getByTestId('settings');
  await expect(settings).toBeVisible();
  await settings.getByText('Confidence threshold').click();
  await page.getByTestId('settings-gen-length').fill('40');
  await page.getByTestId('settings-revision').check();
  await page.screenshot({ path: 'test-results/screen-settings-dark.png' });
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('quicksilver.settings.v2')!));
  expect(stored).toMatchObject({ strategy: 'threshold', genLength: 40, revision: true });
  await page.keyboard.press('Escape');
  await expect(settings).toBeHidden();

  // Reload without the init script's overrides: the stored settings come back.
  await page.goto('about:blank');
  const page2 = await page.context().newPage();
  await page2.goto(TINY);
  await page2.getByTestId('settings-button').click();
  await expect(page2.getByTestId('settings-gen-length')).toHaveValue('40');
  await expect(page2.getByTestId('settings-revision')).toBeChecked();
  await page2.keyboard.press('Escape');

  // A run with these settings (threshold + revision) in the dark theme, then light.
  await expect(page2.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 45_000 });
  await page2.getByTestId('run').click();
  await expect(page2.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await page2.screenshot({ path: 'test-results/screen-generate-dark.png' });
  await page2.getByTestId('theme-toggle').click();
  await expect(page2.locator('html')).toHaveAttribute('data-theme', 'light');
  await page2.screenshot({ path: 'test-results/screen-generate-light.png' });

  await page2.setViewportSize({ width: 420, height: 860 });
  await page2.screenshot({ path: 'test-results/screen-narrow.png', fullPage: true });
  const overflow = await page2.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page2.close();
});

// Both engines behind one model interface: forcing each by URL, the page says which one runs,
// and the generation's steps reach the UI: the timeline holds every recorded step, step 1 still
// has masks, the last has none. (The CPU engine can finish before the page paints intermediate
// steps live, so the steps are checked through the timeline, not by watching the DOM.)
for (const engine of ['cpu', 'webgpu'] as const) {
  test(`engine ${engine} forced: generation shows steps in the UI`, async ({ page }) => {
    test.setTimeout(90_000);
    const errors = recordErrors(page);
    await open(page, { url: `/?model=qs-code-diffusion-tiny&ar=qs-code-ar-tiny&engine=${engine}` });
    await ready(page);
    await expect(page.getByTestId('model-status-engine')).toHaveAttribute('data-engine', engine);
    await page.getByTestId('run').click();
    await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    const run = await lastRun(page, 'generate');
    expect(run.tokensGenerated).toBeGreaterThan(0);
    expect(run.recordedSteps).toBe(run.steps);
    expect(run.steps).toBeGreaterThanOrEqual(3);
    const canvas = page.getByTestId('canvas');
    await page.getByTestId('timeline-slider').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await expect(canvas).toHaveAttribute('data-step', '1');
    expect(Number(await canvas.getAttribute('data-masked'))).toBeGreaterThan(0);
    await page.keyboard.press('End');
    await expect(canvas).toHaveAttribute('data-step', String(run.steps));
    await expect(canvas).toHaveAttribute('data-masked', '0');
    expect(errors).toEqual([]);
  });
}
