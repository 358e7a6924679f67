// `npm run build:lib`: the library (src/lib/index.ts) in Vite's library mode, into dist-lib/.
// One ES module entry plus its chunks: the engine worker (with the WGSL kernels and the
// WebAssembly engine's .wasm files next to it) is emitted as its own file and started with
// `new URL(..., import.meta.url)`, so the package works from any URL it is served at. comlink and
// the tokenizer are bundled (a page can import the file with no bundler); Monaco is not (the
// page passes its own to registerCompletions). Type declarations: tsconfig.lib.json (tsc).

import { defineConfig, type Plugin } from 'vite';

/**
 * Vite writes the worker's URL as `new URL(new URL("assets/worker-….js", import.meta.url).href,
 * "" + import.meta.url)`, marked `@vite-ignore` in other bases. Rewritten to the plain
 * `new URL("./assets/worker-….js", import.meta.url)`, a page's own bundler (Vite, webpack 5)
 * recognises the worker and bundles it like any of its own; served as is, it loads relative to
 * the package's file.
 */
function bundlerVisibleWorker(): Plugin {
  const nested = /new URL\(\s*(?:\/\*\s*@vite-ignore\s*\*\/\s*)?new URL\(\s*"(assets\/worker-[\w-]+\.js)",\s*import\.meta\.url\s*\)\.href,\s*""\s*\+\s*import\.meta\.url\s*\)/g;
  return {
    name: 'quicksilver-bundler-visible-worker',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk' || !chunk.isEntry) continue;
        chunk.code = chunk.code.replace(nested, 'new URL("./$1", import.meta.url)');
        if (!/new URL\("\.\/assets\/worker-[\w-]+\.js", import\.meta\.url\)/.test(chunk.code)) {
          this.error('the engine worker URL was not found in the library entry (did Vite change how it writes it?)');
        }
      }
    },
  };
}

export default defineConfig({
  // Chunks refer to each other relative to import.meta.url: the package works under any path.
  base: './',
  plugins: [bundlerVisibleWorker()],
  // public/ is the app's (icons, models): nothing of it belongs in the package.
  publicDir: false,
  worker: { format: 'es' },
  build: {
    outDir: 'dist-lib',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The .wasm kernels stay files next to the worker (not base64 in it).
    assetsInlineLimit: 0,
    lib: {
      entry: 'src/lib/index.ts',
      formats: ['es'],
      fileName: 'quicksilver',
    },
    rollupOptions: {
      external: [/^monaco-editor(\/|$)/],
    },
  },
});
