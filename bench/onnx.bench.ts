// The onnxruntime-web peer benchmark: `npm run bench:onnx [-- --quick] [-- --no-node] [-- --no-browser]`.
// Our CPU engine (WASM SIMD, 1 and 2 threads) next to onnxruntime-web's WASM execution provider
// (1 and 2 threads) at 128 / 256 tokens, full logits per forward, on
//   - the shipped tiny diffusion model (public/models/qs-code-diffusion-tiny; max_seq_len 128)
//   - a random model of the 6M shape (dim 256, 6 layers, ffn 704, vocab 4096) in both formats
// exported by `/usr/bin/python3 training/export_onnx.py --random-6m` (into bench/onnx/, ignored
// by git). Needs onnxruntime-web, not a project dependency: `npm i --no-save onnxruntime-web@1.30.0`.
// Two runners, because ORT reads numThreads once per process/page:
//   node:    one child process per ORT thread count (Node's V8)
//   browser: headless Chromium (Vite dev server, cross-origin isolated), one page per thread count,
//            everything in a module Worker as in the app
// Reports ratios ours/ORT (< 1: ours is faster) and the max relative logits difference.
// Writes bench/results/onnx-cpu.json. The dev machine is a shared 2-core box: noisy.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { measure, type OrtLike } from './onnx-measure';

const MODELS = [
  { id: 'qs-code-diffusion-tiny', onnx: 'bench/onnx/qs-code-diffusion-tiny.onnx', folder: 'public/models/qs-code-diffusion-tiny' },
  { id: 'qs-random-6m', onnx: 'bench/onnx/qs-random-6m.onnx', folder: 'bench/onnx/qs-random-6m' },
];
const LENGTHS = [128, 256];

interface Result {
  rows: Record<string, string | number | undefined>[];
  logitsRelError: Record<string, number>;
  [k: string]: unknown;
}

async function child(threads: number, reps: number): Promise<void> {
  const ort = (await import('onnxruntime-web')) as unknown as OrtLike;
  ort.env.wasm.numThreads = threads;
  const result = await measure({ ort, ortThreads: threads, read: async (p) => new Uint8Array(readFileSync(p)), models: MODELS, lengths: LENGTHS, reps });
  console.log(`RESULT ${JSON.stringify(result)}`);
}

async function browser(threadCounts: number[], reps: number): Promise<Result[]> {
  const { createServer } = await import('vite');
  const { chromium } = await import('@playwright/test');
  const { CHROMIUM_ARGS, CHROMIUM_PATH } = await import('../e2e/chromium');
  const port = 4337;
  // The page is written here, into the git-ignored bench/onnx/, and not kept in the tree: Vite's
  // dev server scans every .html for dependencies and onnxruntime-web is not a project dependency.
  writeFileSync('bench/onnx/page.html', '<!doctype html>\n<meta charset="utf-8">\n<title>CPU engine vs onnxruntime-web</title>\n<pre id="out">running…</pre>\n<script type="module" src="/bench/onnx-page/main.ts"></script>\n');
  const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { port, strictPort: true, host: 'localhost' } });
  await server.listen();
  const browserApp = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const out: Result[] = [];
  try {
    for (const t of threadCounts) {
      const page = await browserApp.newPage();
      page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text()}`); });
      await page.goto(`http://localhost:${port}/bench/onnx/page.html?ortThreads=${t}&reps=${reps}&lengths=${LENGTHS.join(',')}`);
      await page.waitForFunction(() => (window as unknown as { __onnxBench?: unknown }).__onnxBench !== undefined, null, { timeout: 600_000, polling: 500 });
      const r = (await page.evaluate(() => (window as unknown as { __onnxBench: unknown }).__onnxBench)) as Result & { error?: string };
      if (r.error) throw new Error(`browser runner (ORT ${t} threads): ${r.error}`);
      out.push(r);
      await page.close();
    }
  } finally {
    await browserApp.close();
    await server.close();
  }
  return out;
}

function merge(results: Result[]): Record<string, string | number | undefined>[] {
  const rows = new Map<string, Record<string, string | number | undefined>>();
  for (const r of results) {
    for (const row of r.rows) {
      const key = `${row.model} ${row.tokens}`;
      const m = rows.get(key) ?? { model: row.model, tokens: row.tokens };
      // ours: the first runner's numbers (each runner's ratios use the ours it measured next to its ORT)
      for (const k of ['ours_1T_ms', 'ours_2T_ms']) if (m[k] === undefined && row[k] !== undefined) m[k] = row[k];
      for (const [k, v] of Object.entries(row)) if (k.startsWith('ort') || k.includes('/')) m[k] = v;
      rows.set(key, m);
    }
  }
  const order = ['model', 'tokens', 'ours_1T_ms', 'ours_2T_ms', 'ort_1T_ms', 'ort_2T_ms', 'ours_1T/ort_1T', 'ours_2T/ort_1T', 'ours_1T/ort_2T', 'ours_2T/ort_2T'];
  return [...rows.values()].map((m) => Object.fromEntries(order.filter((k) => k in m).map((k) => [k, m[k]])));
}

export async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const reps = quick ? 3 : 7;
  const ci = argv.indexOf('--child-ort');
  if (ci >= 0) return child(Number(argv[ci + 1]), reps);

  for (const m of MODELS) {
    if (!existsSync(m.onnx) || !existsSync(`${m.folder}/model.safetensors`)) {
      console.log(`missing ${m.onnx} or ${m.folder}: run /usr/bin/python3 training/export_onnx.py --random-6m`);
      process.exitCode = 1;
      return;
    }
  }
  try {
    await import('onnxruntime-web');
  } catch {
    console.log('onnxruntime-web is not installed: npm i --no-save onnxruntime-web@1.30.0');
    process.exitCode = 1;
    return;
  }
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgBefore: loadavg().map((x) => +x.toFixed(2)), node: process.version };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadavgBefore.join(' ')}`);
  const report: Record<string, unknown> = { date: new Date().toISOString(), machine, note: 'ms: medians of interleaved runs, full logits per forward; ours/ort < 1: our CPU engine is faster. Shared 2-core machine: noisy.' };

  if (!argv.includes('--no-node')) {
    const results: Result[] = [];
    for (const t of [1, 2]) {
      const p = spawnSync(process.execPath, ['bench/run.mjs', 'bench/onnx.bench.ts', '--child-ort', String(t), ...(quick ? ['--quick'] : [])], { encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 26 });
      const line = p.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`node runner (ORT ${t} threads) failed:\n${p.stdout}\n${p.stderr}`);
      results.push(JSON.parse(line.slice(7)) as Result);
    }
    const rows = merge(results);
    console.log(`\nNode ${process.version} (V8 ${process.versions.v8}): ms per forward (full logits)`);
    console.table(rows);
    const err = Object.assign({}, ...results.map((r) => r.logitsRelError)) as Record<string, number>;
    console.log('max |ours - ort| / max |ort| per case:', Object.fromEntries(Object.entries(err).map(([k, v]) => [k, +v.toExponential(2)])));
    report.node = { v8: process.versions.v8, rows, logitsRelError: err };
  }
  if (!argv.includes('--no-browser')) {
    const results = await browser([1, 2], reps);
    const rows = merge(results);
    console.log(`\nheadless Chromium (${String(results[0]?.userAgent ?? '').match(/Chrome\/[\d.]+/)?.[0] ?? '?'}), cross-origin isolated: ${results[0]?.crossOriginIsolated}: ms per forward (full logits)`);
    console.table(rows);
    const err = Object.assign({}, ...results.map((r) => r.logitsRelError)) as Record<string, number>;
    console.log('max |ours - ort| / max |ort| per case:', Object.fromEntries(Object.entries(err).map(([k, v]) => [k, +v.toExponential(2)])));
    report.browser = { userAgent: results[0]?.userAgent, crossOriginIsolated: results[0]?.crossOriginIsolated, hardwareConcurrency: results[0]?.hardwareConcurrency, rows, logitsRelError: err };
  }
  (report.machine as Record<string, unknown>).loadavgAfter = loadavg().map((x) => +x.toFixed(2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/onnx-cpu.json', JSON.stringify(report, null, 1));
  console.log('\nwrote bench/results/onnx-cpu.json');
}
