// What the CPU engine's int8 matmul kernel reaches on this machine, by rows (issue #16: is a
// block step's row cost the kernel's ceiling?). `node bench/matmul.bench.mjs [--reps 9]`:
// src/engine/cpu/kernels.wasm alone (no model, one thread), matmul_i8 on the small models'
// weight shapes (K inputs, N outputs; group 64) for M = 1 .. 64 rows of activations, random int8
// weights and scales. Median over `reps` timings of a loop of ~1e8 multiply-adds; GMAC/s =
// M·N·K / time. Writes bench/results/matmul-cpu.json and prints a table.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const argv = process.argv.slice(2);
const reps = Number(argv.includes('--reps') ? argv[argv.indexOf('--reps') + 1] : 9);
const SHAPES = [['qkv', 192, 576], ['attention out', 192, 192], ['ffn gate + up', 192, 1024], ['ffn down', 512, 192], ['output head', 192, 4096]];
const ROWS = [1, 2, 4, 8, 9, 16, 64];
const G = 64;

const memory = new WebAssembly.Memory({ initial: 512, maximum: 65536 });
const { instance } = await WebAssembly.instantiate(readFileSync(new URL('../src/engine/cpu/kernels.wasm', import.meta.url)), { env: { memory } });
const { matmul_i8: mm } = instance.exports;
const u8 = new Uint8Array(memory.buffer), f32 = new Float32Array(memory.buffer);

/** Median µs of one matmul_i8 of M rows against an (N, K) int8 weight laid out as its panels. */
function time(M, N, K) {
  // [q panels: N·K bytes][scales: N·K/G f32][A: M·K f32][C: M·N f32][scratch] (byte offsets, 4 KB apart)
  const wq = 1 << 20, ws = wq + N * K + 4096, a = ws + (N * K / G) * 4 + 4096, c = a + M * K * 4 + 4096, scratch = c + M * N * 4 + 4096;
  for (let i = 0; i < N * K; i++) u8[wq + i] = (Math.random() * 255) | 0;
  for (let i = 0; i < N * K / G; i++) f32[(ws >> 2) + i] = 0.01 + 0.01 * Math.random();
  for (let i = 0; i < M * K; i++) f32[(a >> 2) + i] = Math.random() - 0.5;
  const panels = Math.ceil(N / 16), loops = Math.max(20, Math.round(1e8 / (M * N * K)));
  const run = () => mm(a, K, wq, ws, c, N, M, N, K, G, 0, scratch, 0, panels);
  for (let i = 0; i < 5; i++) run();
  const t = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < loops; i++) run();
    t.push(((performance.now() - t0) / loops) * 1000);
  }
  return t.sort((x, y) => x - y)[Math.floor(t.length / 2)];
}

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgBefore: loadavg().map((x) => +x.toFixed(2)), node: process.version };
const rows = [];
for (const [name, K, N] of SHAPES) {
  const row = { weight: name, K, N };
  for (const M of ROWS) row[`gmacs_${M}`] = +((M * N * K) / time(M, N, K) / 1000).toFixed(1);
  rows.push(row);
}
console.log(`| weight (K × N) | ${ROWS.map((m) => `${m} row${m > 1 ? 's' : ''}`).join(' | ')} |`);
console.log(`| --- |${ROWS.map(() => ' --- |').join('')}`);
for (const r of rows) console.log(`| ${r.weight} (${r.K} × ${r.N}) | ${ROWS.map((m) => r[`gmacs_${m}`]).join(' | ')} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/matmul-cpu.json', JSON.stringify({ command: `node bench/matmul.bench.mjs ${argv.join(' ')}`.trim(), date: new Date().toISOString(), machine: { ...machine, loadavgAfter: loadavg().map((x) => +x.toFixed(2)) }, unit: 'GMAC/s (multiply-adds per second / 1e9), matmul_i8, 1 thread', rows }, null, 1) + '\n');
console.log('wrote bench/results/matmul-cpu.json');
