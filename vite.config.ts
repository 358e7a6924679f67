import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { pyodideAssets } from './scripts/pyodide-plugin';

/**
 * Cross-origin isolation (COOP + COEP) so `crossOriginIsolated` is true: multi-threaded WASM
 * (SharedArrayBuffer) needs it. Sent by the dev and preview servers; the service worker adds the
 * same headers to everything it serves from cache (src/sw.ts).
 */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [
    react(),
    // Pyodide's files into dist/pyodide/<version>/ (the Python worker, src/python/)
    pyodideAssets(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      // A new deploy waits for the user (an update prompt, src/ui/useOffline.ts): taking over an
      // open page at once would reload it mid-run, or serve it new chunks it never asked for.
      registerType: 'prompt',
      injectRegister: false, // registered from src/ui/useOffline.ts
      includeManifestIcons: false, // icons/** is already in globPatterns
      manifest: {
        name: 'Quicksilver',
        short_name: 'Quicksilver',
        description: 'A masked-diffusion code model running entirely in your browser on WebGPU.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#0d1117',
        theme_color: '#0d1117',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          {
            src: '/icons/icon-maskable-512.png',
            sizes: '512x512',
            type: 'image/png',
            purpose: 'maskable',
          },
        ],
      },
      injectManifest: {
        // The app shell, including the engine worker and Monaco's chunks and editor worker.
        globPatterns: ['**/*.{html,js,css,wasm,ttf,woff2,svg,png,ico}'],
        // Model weights are large: cached at run time (CacheFirst in src/sw.ts), never precached.
        // So is Pyodide (13 MB, only needed once tests run): cached on first use.
        globIgnores: ['models/**', 'pyodide/**'],
        // Monaco's main chunk is a few MB.
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // Monaco is one big chunk by nature; it is precached once.
    chunkSizeWarningLimit: 4096,
  },
});
