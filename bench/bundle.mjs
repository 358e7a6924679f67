// Bundles a TypeScript benchmark into one Node ES module (plus the CPU engine's .wasm files next to
// it), for a machine that has node and the `webgpu` package but not this repo's node_modules:
// the GPU machine lent to some tasks (bench/gpu.sh). `node bench/bundle.mjs bench/generate.bench.ts OUTDIR`
// writes OUTDIR/<name>.mjs, run as `node OUTDIR/<name>.mjs [options]` from the repo root (the
// benchmark reads public/models/ and writes bench/results/ relative to it). `webgpu` stays an
// import: the bundle finds it in a node_modules/ above OUTDIR.
import { basename } from 'node:path';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'vite';

const [entry, outDir] = process.argv.slice(2);
if (!entry || !outDir) {
  console.error('usage: node bench/bundle.mjs bench/X.bench.ts OUTDIR');
  process.exit(2);
}
const name = basename(entry).replace(/\.ts$/, '');
// The runner: the bundle's entry imports the benchmark and calls its main, as bench/run.mjs does.
mkdirSync('node_modules/.quicksilver-bundle', { recursive: true });
const runner = `node_modules/.quicksilver-bundle/${name}.run.ts`;
writeFileSync(runner, `import { main } from '../../${entry}';\nawait main(process.argv.slice(2));\nprocess.exit(0);\n`);
await build({
  configFile: false,
  logLevel: 'warn',
  publicDir: false,
  build: {
    ssr: runner,
    outDir,
    emptyOutDir: true,
    target: 'node20',
    assetsInlineLimit: 0,
    rollupOptions: { external: ['webgpu'], output: { entryFileNames: `${name}.mjs`, format: 'es' } },
  },
  ssr: { noExternal: true, external: ['webgpu'] },
});
// The CPU engine finds its kernels as new URL('./kernels*.wasm', import.meta.url): next to the bundle.
for (const f of ['kernels.wasm', 'kernels-mt.wasm']) copyFileSync(`src/engine/cpu/${f}`, `${outDir}/${f}`);
console.log(`${outDir}/${name}.mjs`);
