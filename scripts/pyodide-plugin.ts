// Vite plugin: Pyodide is self-hosted from the npm package, never committed. `vite build` copies
// its run-time files into dist/<PYODIDE_DIR>; `vite dev` serves them straight from
// node_modules/pyodide. Both servers (dev, preview) send the Python worker's script with its CSP.

import { copyFileSync, createReadStream, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { PYODIDE_DIR, PYODIDE_FILES, PYTHON_WORKER_CSP, PYTHON_WORKER_URL } from '../src/python/assets';

const TYPES: Record<string, string> = { mjs: 'text/javascript', wasm: 'application/wasm', zip: 'application/zip', json: 'application/json' };

function pyodideRoot(): string {
  return dirname(createRequire(import.meta.url).resolve('pyodide/package.json'));
}

/** Adds the CSP to the Python worker's script. */
const workerCsp: Connect.NextHandleFunction = (req, res, next) => {
  if (req.url && PYTHON_WORKER_URL.test(req.url)) res.setHeader('Content-Security-Policy', PYTHON_WORKER_CSP);
  next();
};

export function pyodideAssets(): Plugin {
  let outDir = 'dist';
  return {
    name: 'quicksilver-pyodide',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    configureServer(server) {
      server.middlewares.use(workerCsp);
      const prefix = `${server.config.base}${PYODIDE_DIR}`;
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0]?.slice(prefix.length);
        if (!req.url?.startsWith(prefix) || !name || !(PYODIDE_FILES as readonly string[]).includes(name)) return next();
        res.setHeader('Content-Type', TYPES[name.split('.').pop()!] ?? 'application/octet-stream');
        createReadStream(join(pyodideRoot(), name)).pipe(res);
      });
    },
    configurePreviewServer(server) {
      server.middlewares.use(workerCsp);
    },
    // Only the app build (not the library or the examples, which have no Python worker).
    writeBundle() {
      const root = pyodideRoot();
      const dest = join(outDir, PYODIDE_DIR);
      mkdirSync(dest, { recursive: true });
      for (const name of PYODIDE_FILES) {
        if (!existsSync(join(root, name))) throw new Error(`node_modules/pyodide has no ${name}`);
        copyFileSync(join(root, name), join(dest, name));
      }
    },
  };
}
