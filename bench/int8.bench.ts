// int8 vs float on the CPU engine (issue #12): `npm run bench:int8 [-- --quick] [-- --threads 2]`.
// The shipped default pair in float16 (the engine expands it to f32: matmul) and its int8 export
// (export.py --int8: int8 panels + per-group scales: matmul_i8), loaded side by side, timed in
// alternation (f32, int8, f32, int8, ...) so load changes on this shared machine hit both alike:
//   forward   AR twin: prefill of 128 and 256 tokens (one causal forward + decide at the last row)
//             diffusion: an uncached block step, context 128 / 248 + block of 8 (the first step)
//   step      AR twin: one decodeStep with the KV cache (1 row)
//             diffusion: a cached block step (context cached, 8 block rows: the decoding loop)
// Also each model's weight memory on both engines (weightBytes: WASM panels + scales; WebGPU
// buffers on this machine's adapter, unless --no-gpu) and WebAssembly memory. Medians of `reps`;
// ratios = f32 ms / int8 ms (> 1: int8 faster). Writes bench/results/cpu-int8.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadCpuModel, type CpuAutoregressiveModel, type CpuDiffusionModel } from '../src/engine/cpu';
import { requestDevice } from '../src/engine/device';
import { loadModel, type ModelFiles } from '../src/engine/load';
import { nodeGPU } from '../src/test/nodeGpu';

const PAIRS = [
  ['qs-code-ar-small-v3', 'qs-code-ar-small-v3-int8'],
  ['qs-code-diffusion-small-v3', 'qs-code-diffusion-small-v3-int8'],
] as const;

function files(id: string): ModelFiles {
  const out: ModelFiles = {};
  for (const n of ['config.json', 'model.safetensors', 'manifest.json']) out[n] = new Uint8Array(readFileSync(join('public/models', id, n)));
  return out;
}

const round = (x: number, d = 2) => +x.toFixed(d);
const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)];

/** Median ms of fa and fb, run alternately (after one warm-up each). */
async function alternate(reps: number, fa: () => Promise<unknown>, fb: () => Promise<unknown>): Promise<[number, number]> {
  await fa();
  await fb();
  const ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now();
    await fa();
    ta.push(performance.now() - t0);
    t0 = performance.now();
    await fb();
    tb.push(performance.now() - t0);
  }
  return [median(ta), median(tb)];
}

export async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const ti = argv.indexOf('--threads');
  const threads = ti >= 0 ? Number(argv[ti + 1]) : 1;
  const reps = quick ? 5 : 21;
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgBefore: loadavg().map((x) => round(x)), node: process.version, threads };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadavgBefore.join(' ')}, ${threads} thread(s), ${reps} reps`);
  const opts = { temperature: 0, seed: 1, step: 0 };
  const rows: Record<string, string | number>[] = [];
  const memory: Record<string, Record<string, number>> = {};
  for (const [fid, qid] of PAIRS) {
    const f = await loadCpuModel(files(fid), undefined, { threads });
    const q = await loadCpuModel(files(qid), undefined, { threads });
    for (const [id, m] of [[fid, f], [qid, q]] as const) {
      memory[id] = { weightBytes: m.weightBytes, wasmBytes: m.deviceBytes, fileBytes: readFileSync(join('public/models', id, 'model.safetensors')).byteLength };
    }
    const V = f.config.vocab_size - 3;
    const toks = (n: number, s = 7) => Int32Array.from({ length: n }, (_, i) => (i * 131 + s) % V);
    const add = (what: string, [a, b]: [number, number]) => {
      rows.push({ model: fid, what, f32_ms: round(a), int8_ms: round(b), f32_over_int8: round(a / b) });
      console.log(`${fid.padEnd(28)} ${what.padEnd(34)} f32 ${a.toFixed(2).padStart(8)} ms   int8 ${b.toFixed(2).padStart(8)} ms   ×${(a / b).toFixed(2)}`);
    };
    if (f.config.kind === 'autoregressive') {
      const fa = f as CpuAutoregressiveModel, qa = q as CpuAutoregressiveModel;
      for (const L of [128, 256]) add(`forward: prefill ${L}`, await alternate(reps, () => fa.prefill(toks(L), opts), () => qa.prefill(toks(L), opts)));
      await fa.prefill(toks(128), opts);
      await qa.prefill(toks(128), opts);
      let nf = 128, nq = 128;
      add('step: decodeStep (1 row, cache 128+)', await alternate(reps * 4, async () => {
        if (nf >= 250) { await fa.prefill(toks(128), opts); nf = 128; }
        nf++;
        return fa.decodeStep(5, opts);
      }, async () => {
        if (nq >= 250) { await qa.prefill(toks(128), opts); nq = 128; }
        nq++;
        return qa.decodeStep(5, opts);
      }));
    } else {
      const fd = f as CpuDiffusionModel, qd = q as CpuDiffusionModel;
      const mask = f.config.special_tokens.mask;
      const step = (C: number, salt: number) => ({
        context: toks(C, salt), contextPositions: Int32Array.from({ length: C }, (_, i) => i),
        block: Int32Array.from({ length: 8 }, () => mask), blockPos0: C, offsets: Int32Array.from({ length: 8 }, (_, i) => i),
      });
      let salt = 0;
      for (const C of [128, 248]) {
        // a new context each time: nothing cached, the whole C + 8 rows run (the first step)
        add(`forward: block step, context ${C} uncached`, await alternate(reps, () => fd.decideBlock!(step(C, ++salt), opts), () => qd.decideBlock!(step(C, salt), opts)));
      }
      const s = step(128, 999);
      await fd.decideBlock!(s, opts);
      await qd.decideBlock!(s, opts);
      add('step: block step, context 128 cached', await alternate(reps * 2, () => fd.decideBlock!(s, opts), () => qd.decideBlock!(s, opts)));
    }
    f.dispose();
    q.dispose();
  }
  if (!argv.includes('--no-gpu')) {
    const { device } = await requestDevice(nodeGPU());
    for (const id of PAIRS.flat()) {
      const m = await loadModel(files(id), device, undefined, { matmulVariant: 'blocked' });
      memory[id].gpuWeightBytes = m.weightBytes;
      m.dispose();
    }
    device.destroy();
  }
  for (const [id, m] of Object.entries(memory)) console.log(`${id.padEnd(32)} CPU weights ${(m.weightBytes / 1e6).toFixed(2)} MB, WebGPU weights ${((m.gpuWeightBytes ?? NaN) / 1e6).toFixed(2)} MB, WASM memory ${(m.wasmBytes / 1e6).toFixed(2)} MB, file ${(m.fileBytes / 1e6).toFixed(2)} MB`);
  const out = { date: new Date().toISOString(), machine: { ...machine, loadavgAfter: loadavg().map((x) => round(x)) }, reps, rows, memory };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/cpu-int8${threads > 1 ? `-${threads}T` : ''}.json`, JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote bench/results/cpu-int8${threads > 1 ? `-${threads}T` : ''}.json`);
}
