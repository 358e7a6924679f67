// Builds the CPU engine's WebAssembly kernels from src/engine/cpu/assembly/kernels.ts with the
// AssemblyScript compiler (npm package `assemblyscript`, a devDependency: nothing else needed).
//
//   node src/engine/cpu/build-wasm.mjs           write kernels.wasm and kernels-mt.wasm
//   node src/engine/cpu/build-wasm.mjs --check   exit 1 if the committed files differ from a
//                                                fresh build (what the unit test checks too)
//
// Two variants of the same source:
//   kernels.wasm     imports a plain memory: single-threaded (pages that are not cross-origin
//                    isolated cannot create shared memory)
//   kernels-mt.wasm  imports a shared memory: one instance per thread, all on the same memory
// The built files are committed, so the app works without running this step; `npm run
// build:wasm` (also run by `prebuild`) rebuilds them.

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, 'assembly', 'kernels.ts');

const COMMON = [
  '--runtime', 'stub', // no garbage collector: the kernels never allocate
  '-O3', '--noAssert',
  '--use', 'abort=', // no abort import (nothing can abort: no bounds-checked accesses)
  '--enable', 'simd',
  '--importMemory', // the host creates the memory (sized for the model) and shares it with threads
  '--noExportMemory',
  '--initialMemory', '1',
  '--maximumMemory', '65536',
];

export const VARIANTS = {
  'kernels.wasm': [...COMMON],
  'kernels-mt.wasm': [...COMMON, '--sharedMemory', '--enable', 'threads'],
};

/** Compile one variant in memory; returns the .wasm bytes. */
export async function buildVariant(name) {
  const source = await readFile(SOURCE, 'utf8');
  let binary = null;
  const stderr = [];
  const { error } = await asc.main(['kernels.ts', '--outFile', 'out.wasm', ...VARIANTS[name]], {
    readFile: (file) => (file === 'kernels.ts' ? source : null),
    writeFile: (file, contents) => {
      if (file === 'out.wasm') binary = contents;
    },
    listFiles: () => [],
    stdout: { write: () => true },
    stderr: { write: (s) => (stderr.push(String(s)), true) },
  });
  if (error || !binary) throw new Error(`asc failed for ${name}: ${error?.message ?? 'no output'}\n${stderr.join('')}`);
  return binary;
}

export async function buildAll() {
  const out = {};
  for (const name of Object.keys(VARIANTS)) out[name] = await buildVariant(name);
  return out;
}

async function cli() {
  const check = process.argv.includes('--check');
  const built = await buildAll();
  let stale = 0;
  for (const [name, bytes] of Object.entries(built)) {
    const path = join(here, name);
    if (check) {
      const old = await readFile(path).catch(() => null);
      const same = old !== null && Buffer.compare(Buffer.from(old), Buffer.from(bytes)) === 0;
      if (!same) {
        stale++;
        console.error(`${name}: differs from a fresh build of assembly/kernels.ts (run npm run build:wasm)`);
      }
    } else {
      await writeFile(path, bytes);
      console.log(`${name}: ${bytes.byteLength} bytes`);
    }
  }
  if (stale) process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await cli();
