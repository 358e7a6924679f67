// The onnxruntime-web peer benchmark:
//   npm run bench:onnx [-- --quick] [-- --no-node] [-- --no-browser] [-- --no-webgpu]
//                      [-- --models id,id] [-- --lengths 128,256] [-- --optional]
// (--optional: missing onnxruntime-web or ONNX files are a skip, exit 0; `npm run bench` uses it)
// Ours next to onnxruntime-web, same weights, same tokens, full logits per forward, at 128 / 256 /
// 512 tokens, load (ours) and session creation (ORT) timed separately:
//   CPU class:    our CPU engine (WASM SIMD, 1 and 2 threads) vs ORT's WASM EP (1 and 2 threads)
//   WebGPU class: our WebGPU engine vs ORT's WebGPU EP (browser only; SwiftShader on these machines)
// Models:
//   - the shipped base diffusion model (public/models/qs-code-diffusion-base; 128, 256 tokens)
//   - a random model of the same shape with max_seq_len 512 (512 tokens only)
//   - the shipped tiny diffusion model (128 tokens)
// The .onnx files (and the random model's folder) are written by
//   /usr/bin/python3 training/export_onnx.py --model public/models/qs-code-diffusion-base --random-6m
//   /usr/bin/python3 training/export_onnx.py
// into bench/onnx/ (ignored by git). Needs onnxruntime-web, not a project dependency:
// `npm i --no-save onnxruntime-web@1.30.0`.
// Runners, because ORT reads numThreads once per process/page:
//   node:    one child process per ORT thread count (Node's V8; CPU class only)
//   browser: headless Chromium (Vite dev server, cross-origin isolated), one page per ORT thread
//            count and one for WebGPU, everything in a module Worker as in the app
// Reports ratios ours/ORT (< 1: ours is faster) and the max relative logits difference.
// Writes bench/results/onnx-cpu.json. The dev machine is a shared 2-core box: pause other work.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { measure, type BenchModel, type OrtLike } from './onnx-measure';

const ALL_MODELS: BenchModel[] = [
  { id: 'qs-code-diffusion-base', onnx: 'bench/onnx/qs-code-diffusion-base.onnx', folder: 'public/models/qs-code-diffusion-base' },
  { id: 'qs-random-6m', onnx: 'bench/onnx/qs-random-6m.onnx', folder: 'bench/onnx/qs-random-6m', lengths: [512] },
  { id: 'qs-code-diffusion-tiny', onnx: 'bench/onnx/qs-code-diffusion-tiny.onnx', folder: 'public/models/qs-code-diffusion-tiny' },
];
const arg = (name: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };
const MODELS = arg('--models') ? ALL_MODELS.filter((m) => arg('--models')!.split(',').includes(m.id)) : ALL_MODELS;
const LENGTHS = (arg('--lengths') ?? '128,256,512').split(',').map(Number);

interface Result {
  rows: Record<string, string | number | undefined>[];
  logitsRelError: Record<string, number>;
  loadMs: Record<string, number>;
  [k: string]: unknown;
}

async function child(threads: number, reps: number): Promise<void> {
  const ort = (await import('onnxruntime-web')) as unknown as OrtLike;
  ort.env.wasm.numThreads = threads;
  const result = await measure({ ort, ortThreads: threads, read: async (p) => new Uint8Array(readFileSync(p)), models: MODELS, lengths: LENGTHS, reps });
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/** One page per request: { mode: 'wasm', ortThreads } for each thread count, then { mode: 'webgpu' }. */
async function browser(requests: { mode: 'wasm' | 'webgpu'; ortThreads: number }[], reps: number): Promise<Result[]> {
  const { createServer } = await import('vite');
  const { chromium } = await import('@playwright/test');
  const { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_FLAG } = await import('../e2e/chromium');
  const port = 4337;
  // The page is written here, into the git-ignored bench/onnx/, and not kept in the tree: Vite's
  // dev server scans every .html for dependencies and onnxruntime-web is not a project dependency.
  writeFileSync('bench/onnx/page.html', '<!doctype html>\n<meta charset="utf-8">\n<title>CPU engine vs onnxruntime-web</title>\n<pre id="out">running…</pre>\n<script type="module" src="/bench/onnx-page/main.ts"></script>\n');
  const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { port, strictPort: true, host: 'localhost' } });
  await server.listen();
  const browserApp = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [WEBGPU_FLAG, ...CHROMIUM_ARGS], headless: true });
  const out: Result[] = [];
  try {
    for (const req of requests) {
      const page = await browserApp.newPage();
      page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text()}`); });
      const request = { ...req, reps: req.mode === 'webgpu' ? Math.min(reps, 3) : reps, lengths: LENGTHS, models: MODELS };
      await page.goto(`http://localhost:${port}/bench/onnx/page.html?request=${encodeURIComponent(JSON.stringify(request))}`);
      await page.waitForFunction(() => (window as unknown as { __onnxBench?: unknown }).__onnxBench !== undefined, null, { timeout: 1_800_000, polling: 500 });
      const r = (await page.evaluate(() => (window as unknown as { __onnxBench: unknown }).__onnxBench)) as Result & { error?: string };
      if (r.error) throw new Error(`browser runner (${req.mode}, ORT ${req.ortThreads} threads): ${r.error}`);
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
      for (const k of ['ours_1T_ms', 'ours_2T_ms', 'step_ours_1T_ms', 'step_ours_2T_ms']) if (m[k] === undefined && row[k] !== undefined) m[k] = row[k];
      for (const [k, v] of Object.entries(row)) if (k.startsWith('ort') || k.startsWith('step_ort') || k.includes('/') || k.includes('webgpu')) m[k] = v;
      rows.set(key, m);
    }
  }
  const order = ['model', 'tokens', 'ours_1T_ms', 'ours_2T_ms', 'ort_1T_ms', 'ort_2T_ms', 'ours_1T/ort_1T', 'ours_2T/ort_1T', 'ours_1T/ort_2T', 'ours_2T/ort_2T',
    'step_ours_1T_ms', 'step_ours_2T_ms', 'step_ort_1T_ms', 'step_ort_2T_ms', 'step ours_1T/ort_1T', 'step ours_2T/ort_2T',
    'ours_webgpu_ms', 'ort_webgpu_ms', 'ours_webgpu/ort_webgpu', 'step_ours_webgpu_ms', 'step_ort_webgpu_ms', 'step ours_webgpu/ort_webgpu'];
  return [...rows.values()].map((m) => Object.fromEntries(order.filter((k) => k in m).map((k) => [k, m[k]])));
}

/** One runner's results merged, printed (table, logits differences, load times) and returned. */
function summarize(title: string, results: Result[]): { rows: Record<string, string | number | undefined>[]; logitsRelError: Record<string, number>; loadMs: Record<string, number> } {
  const rows = merge(results);
  console.log(`\n${title}: ms per forward (full logits)`);
  console.table(rows);
  const logitsRelError = Object.assign({}, ...results.map((r) => r.logitsRelError)) as Record<string, number>;
  console.log('max |ours - ort| / max |ort| per case:', Object.fromEntries(Object.entries(logitsRelError).map(([k, v]) => [k, +v.toExponential(2)])));
  const loadMs = Object.assign({}, ...results.map((r) => r.loadMs)) as Record<string, number>;
  console.log('load / session creation, ms:', loadMs);
  return { rows, logitsRelError, loadMs };
}

export async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const reps = quick ? 3 : 7;
  const ci = argv.indexOf('--child-ort');
  if (ci >= 0) return child(Number(argv[ci + 1]), reps);

  for (const m of MODELS) {
    if (!existsSync(m.onnx) || !existsSync(`${m.folder}/model.safetensors`)) {
      console.log(`missing ${m.onnx} or ${m.folder}: run /usr/bin/python3 training/export_onnx.py --model public/models/qs-code-diffusion-base --random-6m; /usr/bin/python3 training/export_onnx.py`);
      process.exitCode = argv.includes('--optional') ? 0 : 1;
      return;
    }
  }
  try {
    await import('onnxruntime-web');
  } catch {
    console.log('onnxruntime-web is not installed: npm i --no-save onnxruntime-web@1.30.0');
    process.exitCode = argv.includes('--optional') ? 0 : 1;
    return;
  }
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgBefore: loadavg().map((x) => +x.toFixed(2)), node: process.version };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadavgBefore.join(' ')}`);
  const report: Record<string, unknown> = { date: new Date().toISOString(), machine, note: 'ms: medians of interleaved runs, full logits per forward; ours/ort < 1: ours is faster. loadMs: files in memory -> ready (ours), session creation (ORT). Shared 2-core machine: noisy.' };

  if (!argv.includes('--no-node')) {
    const results: Result[] = [];
    for (const t of [1, 2]) {
      const p = spawnSync(process.execPath, ['bench/run.mjs', 'bench/onnx.bench.ts', '--child-ort', String(t), ...argv.filter((a) => a !== '--child-ort')], { encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 26 });
      const line = p.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`node runner (ORT ${t} threads) failed:\n${p.stdout}\n${p.stderr}`);
      results.push(JSON.parse(line.slice(7)) as Result);
    }
    report.node = { v8: process.versions.v8, ...summarize(`Node ${process.version} (V8 ${process.versions.v8})`, results) };
  }
  if (!argv.includes('--no-browser')) {
    const requests: { mode: 'wasm' | 'webgpu'; ortThreads: number }[] = [{ mode: 'wasm', ortThreads: 1 }, { mode: 'wasm', ortThreads: 2 }];
    if (!argv.includes('--no-webgpu')) requests.push({ mode: 'webgpu', ortThreads: 1 });
    const results = await browser(requests, reps);
    const webgpu = results.find((r) => typeof r.adapter === 'string');
    const title = `headless Chromium (${String(results[0]?.userAgent ?? '').match(/Chrome\/[\d.]+/)?.[0] ?? '?'}), cross-origin isolated: ${results[0]?.crossOriginIsolated}`;
    const summary = summarize(title, results);
    if (webgpu) console.log(`WebGPU adapter: ${String(webgpu.adapter)}`);
    report.browser = { userAgent: results[0]?.userAgent, crossOriginIsolated: results[0]?.crossOriginIsolated, hardwareConcurrency: results[0]?.hardwareConcurrency, webgpuAdapter: webgpu?.adapter, ...summary };
  }
  (report.machine as Record<string, unknown>).loadavgAfter = loadavg().map((x) => +x.toFixed(2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/onnx-cpu.json', JSON.stringify(report, null, 1));
  console.log('\nwrote bench/results/onnx-cpu.json');
}
