// `npm run bench [-- --quick]`: every benchmark in sequence, each in its own Node process (one
// WebGPU device at a time; never two benchmarks at once on a shared machine). Arguments are passed
// to each (unknown ones are ignored by the others).
import { spawnSync } from 'node:child_process';

// The onnxruntime-web peer runs last and is skipped (with how to enable it) when onnxruntime-web or
// its exported graphs are missing: it is not a project dependency.
const BENCHES = ['bench/generate.bench.ts', 'bench/engine.bench.ts', 'bench/cpu.bench.ts', 'bench/onnx.bench.ts'];
for (const entry of BENCHES) {
  const args = [...process.argv.slice(2), ...(entry.includes('onnx') ? ['--optional'] : [])];
  console.log(`\n=== ${entry} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['bench/run.mjs', entry, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
