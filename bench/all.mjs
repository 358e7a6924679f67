// `npm run bench [-- --quick]`: every benchmark in sequence, each in its own Node process (one
// WebGPU device at a time; never two benchmarks at once on a shared machine). Arguments are passed
// to each (unknown ones are ignored by the others).
import { spawnSync } from 'node:child_process';

const BENCHES = ['bench/generate.bench.ts', 'bench/engine.bench.ts'];
for (const entry of BENCHES) {
  console.log(`\n=== ${entry} ${process.argv.slice(2).join(' ')}`);
  const r = spawnSync(process.execPath, ['bench/run.mjs', entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
