// The example pages (examples/README.md), built against the library package as a page outside
// this repo would use it: `import ... from 'quicksilver'` resolves through package.json
// "exports" to dist-lib/ (run `npm run build:lib` first). Output: dist-examples/, served with
// `npx vite preview -c examples/vite.config.ts`.
//  - The model files are the app's public/ folder (models/<id>/), copied as static files.
//  - A small service worker (vite-plugin-pwa, generateSW) precaches the pages and their scripts,
//    so they open offline; the model files are cached by the library itself (cache option).

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  publicDir: here('../public'),
  resolve: {
    // The package itself, by its folder: Vite reads its package.json "exports" like any dependency's.
    alias: { quicksilver: here('..') },
  },
  worker: { format: 'es' },
  build: {
    outDir: here('../dist-examples'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        index: here('index.html'),
        textarea: here('textarea/index.html'),
        monaco: here('monaco/index.html'),
      },
    },
  },
  plugins: [
    VitePWA({
      strategies: 'generateSW',
      injectRegister: false, // each page registers it (examples/registerSW.ts)
      manifest: false,
      workbox: {
        globPatterns: ['**/*.{html,js,css,wasm,ttf,ico}'],
        // Model files are large and optional: the library caches the ones a page loads.
        globIgnores: ['models/**', 'icons/**'],
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        // ?engine=cpu&model=... must still find the precached page.
        ignoreURLParametersMatching: [/.*/],
        navigateFallback: null,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
});
