// The Python worker: Pyodide (self-hosted under /pyodide/<version>/, cached by the service
// worker) runs the tests of generated code (runner.py). It runs untrusted code, so:
//  - network: once Pyodide is loaded, every way out of this worker is removed from its global
//    scope and prototype chain (fetch, XMLHttpRequest, WebSocket, EventSource, importScripts,
//    nested workers, ...), so neither `js.fetch` nor pyodide.http nor urllib (which sits on
//    them) can reach anything; the script is also served with a CSP (vite config, src/sw.ts)
//    whose connect-src allows only this origin (where the browser applies a worker's own CSP),
//    and eval with every other way to turn a string into code is removed too (cutEval), so
//    eval'd `import()` (`pyodide.code.run_js`) cannot fetch a script from anywhere;
//  - time: the page terminates the worker when a run exceeds its wall-clock limit (sandbox.ts);
//  - memory: WebAssembly.Memory.prototype.grow is capped (non-writable, non-configurable) before
//    Pyodide creates its heap, so allocating past the limit fails inside Python as MemoryError.

import type { PyodideAPI } from 'pyodide';
import type { PythonRequest, PythonResponse, TestReport } from './protocol';
import runnerSource from './runner.py?raw';

declare const self: {
  onmessage: ((e: MessageEvent<PythonRequest>) => void) | null;
  postMessage(message: PythonResponse): void;
};

/** Most characters of printed output kept per run. */
const OUTPUT_LIMIT = 10_000;

let pyodide: PyodideAPI | null = null;
let memory: WebAssembly.Memory | null = null;
let output = '';

/** Cap WebAssembly memory growth in this worker (call before Pyodide creates its memory). */
function capMemory(limitBytes: number): void {
  const grow = WebAssembly.Memory.prototype.grow;
  Object.defineProperty(WebAssembly.Memory.prototype, 'grow', {
    value: function (this: WebAssembly.Memory, delta: number) {
      memory = this;
      if (this.buffer.byteLength + delta * 65536 > limitBytes) throw new RangeError(`memory limit of ${limitBytes} bytes`);
      return grow.call(this, delta);
    },
    writable: false,
    configurable: false,
  });
}

/** Names that let code in a worker talk to the outside world. */
const NETWORK = ['fetch', 'XMLHttpRequest', 'WebSocket', 'WebSocketStream', 'EventSource', 'WebTransport', 'importScripts',
  'Worker', 'SharedWorker', 'BroadcastChannel', 'RTCPeerConnection', 'indexedDB', 'caches', 'Request', 'Response'];

/**
 * No string ever becomes code again: eval, the Function constructors (reachable from any
 * function's prototype) and the string forms of setTimeout/setInterval are gone. Otherwise
 * eval'd code could still reach the network through dynamic `import()`, which is syntax and
 * cannot be deleted (pyodide.code.run_js, or ctypes calling emscripten_run_script).
 */
function cutEval(): void {
  const refuse = function () {
    throw new EvalError('code from strings is disabled in the Python sandbox');
  };
  const protos = [function () {}, async function () {}, function* () {}, async function* () {}].map((f) => Object.getPrototypeOf(f) as object);
  for (const proto of protos) Object.defineProperty(proto, 'constructor', { value: refuse, writable: false, configurable: false });
  Reflect.deleteProperty(globalThis, 'eval');
  // Pyodide still needs Function.prototype (it calls JS functions through Function.prototype.apply),
  // so the global stays, as a proxy that cannot be called or constructed.
  Object.defineProperty(globalThis, 'Function', {
    value: new Proxy(Function, { apply: refuse, construct: refuse }),
    writable: false,
    configurable: false,
  });
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const original = globalThis[name] as (handler: unknown, ...rest: unknown[]) => number;
    Object.defineProperty(globalThis, name, {
      value: (handler: unknown, ...rest: unknown[]) => {
        if (typeof handler !== 'function') throw new EvalError(`${name} with a string is disabled in the Python sandbox`);
        return original(handler, ...rest);
      },
      writable: false,
      configurable: false,
    });
  }
}

/** Remove the network APIs from the global object and every prototype above it. */
function cutNetwork(): void {
  for (let o: object | null = globalThis; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of NETWORK) {
      if (!Object.prototype.hasOwnProperty.call(o, name)) continue;
      if (!Reflect.deleteProperty(o, name)) Object.defineProperty(o, name, { value: undefined, writable: false, configurable: false });
    }
  }
  const nav = (globalThis as { navigator?: object }).navigator;
  for (let o: object | null = nav ?? null; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of ['sendBeacon', 'serviceWorker', 'storage']) if (Object.prototype.hasOwnProperty.call(o, name)) Reflect.deleteProperty(o, name);
  }
}

async function init(indexURL: string, memoryLimitBytes: number): Promise<void> {
  const t0 = performance.now();
  capMemory(memoryLimitBytes);
  const mod = (await import(/* @vite-ignore */ `${indexURL}pyodide.mjs`)) as typeof import('pyodide');
  const py = await mod.loadPyodide({ indexURL, stdout: (s) => collect(s), stderr: (s) => collect(s) });
  py.runPython(runnerSource, { filename: 'runner.py' });
  cutNetwork();
  cutEval();
  pyodide = py;
  self.postMessage({ type: 'ready', loadMs: performance.now() - t0, memoryBytes: memoryBytes() });
}

function collect(line: string): void {
  if (output.length < OUTPUT_LIMIT) output += `${line}\n`;
}

function memoryBytes(): number {
  return memory?.buffer.byteLength ?? (pyodide as unknown as { _module?: { HEAPU8?: Uint8Array } } | null)?._module?.HEAPU8?.length ?? 0;
}

self.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'init') {
    init(msg.indexURL, msg.memoryLimitBytes).catch((err: unknown) => self.postMessage({ type: 'init-error', message: String(err) }));
    return;
  }
  if (!pyodide) {
    self.postMessage({ type: 'run-error', id: msg.id, message: 'Python is not loaded yet' });
    return;
  }
  const t0 = performance.now();
  output = '';
  try {
    const run = pyodide.globals.get('run_tests') as (code: string, generated: string, asserts: string) => string;
    const report = JSON.parse(run(msg.code, msg.generated, msg.asserts)) as TestReport;
    if (output) report.output = output.slice(0, OUTPUT_LIMIT);
    self.postMessage({ type: 'result', id: msg.id, report, ms: performance.now() - t0, memoryBytes: memoryBytes() });
  } catch (err) {
    self.postMessage({ type: 'run-error', id: msg.id, message: String(err) });
  }
};
