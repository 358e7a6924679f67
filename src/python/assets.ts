// Where the Pyodide files live in the built app, and the Python worker's CSP. Shared by the
// page (sandbox URL), the Vite plugin that copies the files (scripts/pyodide-plugin.ts) and the
// service worker (src/sw.ts), so the three never disagree.

import { version } from 'pyodide/package.json';

export const PYODIDE_VERSION: string = version;

/** The folder, relative to the app's base: versioned, so a new Pyodide never meets a stale cached file. */
export const PYODIDE_DIR = `pyodide/${version}/`;

/** What Pyodide needs at run time (no packages beyond the standard library). */
export const PYODIDE_FILES = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json'] as const;

/**
 * Content-Security-Policy of the Python worker's script response (a dedicated worker takes the
 * CSP of its own script). Scripts only from this origin (Pyodide's modules), WebAssembly and the
 * eval that Pyodide's Emscripten glue uses at start-up; connections only to this origin (the
 * Pyodide files); no nested workers. The worker also removes fetch & co. before any user code
 * runs (python.worker.ts), so this is the second wall, against other origins.
 */
export const PYTHON_WORKER_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; connect-src 'self'; worker-src 'none'";

/** Matches the Python worker's script URL, built (assets/python.worker-<hash>.js) or in dev. */
export const PYTHON_WORKER_URL = /\/python\.worker[-.]/;
