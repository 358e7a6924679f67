// The compiled kernel modules (built from assembly/kernels.ts by build-wasm.mjs; the .wasm files
// are committed next to this file). Vite turns the `new URL(..., import.meta.url)` below into
// asset URLs; in Node (tests, benchmarks) they are file: URLs, read from disk.

export type KernelFlavor = 'single' | 'shared';

const cache = new Map<KernelFlavor, Promise<WebAssembly.Module>>();

function urlOf(flavor: KernelFlavor): URL {
  // Literal `new URL('./x.wasm', import.meta.url)` expressions, so the bundler sees both files.
  return flavor === 'shared' ? new URL('./kernels-mt.wasm', import.meta.url) : new URL('./kernels.wasm', import.meta.url);
}

async function compile(flavor: KernelFlavor): Promise<WebAssembly.Module> {
  const url = urlOf(flavor);
  if (url.protocol === 'file:') {
    // Node: no fetch for file: URLs. getBuiltinModule keeps `node:fs` out of the browser bundle.
    const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
    return WebAssembly.compile(fs.readFileSync(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`CPU engine: ${url.href}: HTTP ${res.status}`);
  return WebAssembly.compile(await res.arrayBuffer());
}

/** The kernel module of one flavor, compiled once per realm. */
export function kernelModule(flavor: KernelFlavor): Promise<WebAssembly.Module> {
  let m = cache.get(flavor);
  if (!m) {
    m = compile(flavor);
    cache.set(flavor, m);
    m.catch(() => cache.delete(flavor));
  }
  return m;
}

/** WebAssembly with 128-bit SIMD (a tiny module using one v128 instruction validates). */
export function wasmSimdSupported(): boolean {
  try {
    // (module (func (result v128) i32.const 0 i8x16.splat))
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Shared memory and threads are usable: cross-origin isolated (browser) or Node. */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  const g = globalThis as { crossOriginIsolated?: boolean; process?: { versions?: { node?: string } } };
  if (g.process?.versions?.node) return true;
  return g.crossOriginIsolated === true && typeof Worker !== 'undefined';
}
