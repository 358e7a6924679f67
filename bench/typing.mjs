// Typing with completions on: how soon the suggestion is ready after a pause, and what the completion
// runs cost the typing (issue #16, Complete at cursor; the pause before a request is
// COMPLETION_DEBOUNCE_MS in src/lib/completions.ts). Needs the app served:
//   npm run build && npm run start            (http://localhost:4173/, or PORT=...)
//   node bench/typing.mjs [--url URL] [--delays 450,150,75] [--rounds 2]
// For each round and each pause (the app's ?completionDelay=<ms>, taking turns), a fresh page in
// headless Chromium (Debian's, as the e2e tests) loads the default model, then four lines are
// typed at the end of the sample at 110 ms a key (about 9 keys a second), with 1.5 s after each
// line, as a person reads the suggestion. Measured in the page:
//   ready after last key   ms from the line's last keydown to the end of the first completion
//                          run started after it: the suggestion for the text as it now is (a
//                          ghost shown sooner is an older one that still matches what was typed)
//   key to paint           ms from each keydown to the frame after the editor's text changed
//   runs                   completion requests started (the "completing…" indicator), their ms
//   long tasks             main-thread tasks over 50 ms (PerformanceObserver 'longtask')
// Writes bench/results/typing.json and prints a table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { chromium } from '@playwright/test';

// launched as e2e/chromium.ts launches it (a .ts module Node cannot import from here)
const CHROMIUM_PATH = process.env.QS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

const argv = process.argv.slice(2);
const arg = (k, d) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d);
const url = arg('url', 'http://localhost:4173/');
const delays = arg('delays', '450,150,75').split(',').map(Number);
const rounds = Number(arg('rounds', '2'));
const LINES = ['def total(items, tax_rate):', 's = 0', 'for x in items:', 's += x * (1 + tax_rate)'];
const KEY_MS = 110;

const quantile = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? Math.round(s[Math.floor(p * (s.length - 1))] * 10) / 10 : null;
};

async function session(browser, delay) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${url}${url.includes('?') ? '&' : '?'}completionDelay=${delay}`);
  await page.waitForSelector('[data-testid=model-status][data-state=ready]', { timeout: 120_000 });
  await page.evaluate(() => {
    const m = (window.__m = { lat: [], runs: [], long: 0, lastKey: 0 });
    let down = 0;
    document.addEventListener('keydown', () => (m.lastKey = down = performance.now()), true);
    window.__qs.editor.onDidChangeModelContent(() => {
      const t = down;
      requestAnimationFrame(() => m.lat.push(performance.now() - t));
    });
    const busy = document.querySelector('[data-testid=completing]');
    let since = 0;
    new MutationObserver(() => {
      if (busy.dataset.active === 'true') since = performance.now();
      else if (since) (m.runs.push({ start: since, end: performance.now() }), (since = 0));
    }).observe(busy, { attributes: true });
    new PerformanceObserver((l) => (m.long += l.getEntries().length)).observe({ entryTypes: ['longtask'] });
    const ed = window.__qs.editor;
    ed.focus();
    ed.setPosition({ lineNumber: ed.getModel().getLineCount(), column: 1 });
  });
  const ready = [];
  for (const [i, line] of LINES.entries()) {
    if (i > 0) await page.keyboard.press('Enter');
    await page.keyboard.type(line, { delay: KEY_MS });
    const last = await page.evaluate(() => window.__m.lastKey);
    await page.waitForTimeout(1500);
    const run = await page.evaluate((t) => window.__m.runs.find((r) => r.start > t), last);
    ready.push(run === undefined ? null : Math.round(run.end - last));
  }
  const m = await page.evaluate(() => window.__m);
  await page.close();
  return { delay, readyAfterLastKeyMs: ready, keys: m.lat.length, keyToPaintMs: { p50: quantile(m.lat, 0.5), p95: quantile(m.lat, 0.95) }, runs: m.runs.length, runMsP50: quantile(m.runs.map((r) => r.end - r.start), 0.5), longTasks: m.long };
}

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgBefore: loadavg().map((x) => +x.toFixed(2)), node: process.version };
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
const runs = [];
try {
  for (let r = 0; r < rounds; r++) for (const d of delays) {
    const s = await session(browser, d);
    runs.push({ round: r, ...s });
    console.log(JSON.stringify(runs[runs.length - 1]));
  }
} finally {
  await browser.close();
}
console.log('\n| pause before a request | suggestion ready after the last key, ms (4 lines × rounds) | key to paint p50 / p95, ms | completion runs per session | run ms p50 | long tasks |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const d of delays) {
  const rs = runs.filter((x) => x.delay === d);
  console.log(`| ${d} ms | ${rs.map((x) => x.readyAfterLastKeyMs.join(', ')).join('; ')} | ${rs.map((x) => `${x.keyToPaintMs.p50} / ${x.keyToPaintMs.p95}`).join('; ')} | ${rs.map((x) => x.runs).join(', ')} | ${rs.map((x) => x.runMsP50).join(', ')} | ${rs.map((x) => x.longTasks).join(', ')} |`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/typing.json', JSON.stringify({ command: `node bench/typing.mjs ${argv.join(' ')}`.trim(), date: new Date().toISOString(), machine: { ...machine, loadavgAfter: loadavg().map((x) => +x.toFixed(2)) }, keyMs: KEY_MS, lines: LINES, runs }, null, 1) + '\n');
console.log('wrote bench/results/typing.json');
