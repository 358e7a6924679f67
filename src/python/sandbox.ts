// The page's handle on the Python worker (python.worker.ts): starts it on first use (or ahead of
// time with warm()), runs one program at a time, and enforces the wall-clock limit by
// terminating the worker. A terminated, crashed or failed worker is simply replaced: the next
// run (or warm()) starts a fresh one, so a runaway program never takes the app down with it.

import type { PythonRequest, PythonResponse, TestReport } from './protocol';

export interface SandboxOptions {
  /** Folder of the Pyodide files (see the pyodide plugin in vite.config.ts). */
  indexURL: string;
  /** Wall-clock limit of one run, ms (Pyodide's start-up is not counted). */
  timeLimitMs: number;
  /** WebAssembly memory the worker may use, bytes. */
  memoryLimitBytes: number;
  /** Creates the worker (tests may substitute their own). */
  spawn?: () => Worker;
}

export type RunOutcome =
  | { status: 'done'; report: TestReport; ms: number; memoryBytes: number }
  /** Stopped at the wall-clock limit (the worker was terminated). */
  | { status: 'timeout'; ms: number }
  | { status: 'error'; message: string };

/** How the Python worker's start went: ms from spawn to ready (cold start, download included). */
export interface WarmInfo {
  startMs: number;
  loadMs: number;
}

interface Live {
  worker: Worker;
  ready: Promise<WarmInfo>;
  busy: boolean;
}

let runIds = 0;

export class PythonSandbox {
  private live: Live | null = null;
  /** Every cold start so far, newest last (ms from spawn to ready). */
  readonly starts: WarmInfo[] = [];

  constructor(private readonly options: SandboxOptions) {}

  /** Whether a worker is loaded and idle (the next run starts at once). */
  get warm(): boolean {
    return this.live !== null && !this.live.busy && this.starts.length > 0;
  }

  /** Start the worker and load Pyodide now, if that has not happened yet. */
  warmUp(): Promise<WarmInfo> {
    return this.ensure().ready;
  }

  /** Run the tests of `code + generated` (+ `asserts`); never rejects. */
  async run(code: string, generated = '', asserts = ''): Promise<RunOutcome> {
    let live = this.ensure();
    if (live.busy) {
      // One run at a time: a new request replaces the running one.
      this.kill();
      live = this.ensure();
    }
    live.busy = true;
    try {
      await live.ready;
    } catch (err) {
      this.kill();
      return { status: 'error', message: err instanceof Error ? err.message : String(err) };
    }
    if (this.live !== live) return { status: 'error', message: 'replaced by a newer run' };
    const id = ++runIds;
    const t0 = performance.now();
    return new Promise<RunOutcome>((resolve) => {
      const finish = (outcome: RunOutcome, keep: boolean) => {
        clearTimeout(timer);
        live.worker.removeEventListener('message', onMessage);
        live.worker.removeEventListener('error', onError);
        if (keep && this.live === live) live.busy = false;
        else if (this.live === live) this.kill();
        resolve(outcome);
      };
      const onMessage = (e: MessageEvent<PythonResponse>) => {
        const m = e.data;
        if (m.type === 'result' && m.id === id) finish({ status: 'done', report: m.report, ms: m.ms, memoryBytes: m.memoryBytes }, true);
        // A failure outside the runner's own error handling may have left Pyodide broken: start afresh.
        else if (m.type === 'run-error' && m.id === id) finish({ status: 'error', message: m.message }, false);
      };
      const onError = (e: ErrorEvent) => finish({ status: 'error', message: e.message || 'the Python worker crashed' }, false);
      const timer = setTimeout(() => finish({ status: 'timeout', ms: performance.now() - t0 }, false), this.options.timeLimitMs);
      live.worker.addEventListener('message', onMessage);
      live.worker.addEventListener('error', onError);
      this.post(live.worker, { type: 'run', id, code, generated, asserts });
    });
  }

  /** Terminate the worker (a run in progress ends as it is); the next call starts a fresh one. */
  kill(): void {
    this.live?.worker.terminate();
    this.live = null;
  }

  private ensure(): Live {
    if (this.live) return this.live;
    const started = performance.now();
    const worker = this.options.spawn?.() ?? new Worker(new URL('./python.worker.ts', import.meta.url), { type: 'module', name: 'python' });
    const ready = new Promise<WarmInfo>((resolve, reject) => {
      const onMessage = (e: MessageEvent<PythonResponse>) => {
        if (e.data.type === 'ready') {
          const info = { startMs: performance.now() - started, loadMs: e.data.loadMs };
          this.starts.push(info);
          resolve(info);
        } else if (e.data.type === 'init-error') reject(new Error(`Python did not start: ${e.data.message}`));
        else return;
        worker.removeEventListener('message', onMessage);
      };
      worker.addEventListener('message', onMessage);
      worker.addEventListener('error', (e) => reject(new Error(`Python did not start: ${e.message || 'worker error'}`)), { once: true });
    });
    // A start that fails is not kept: the next call tries again.
    ready.catch(() => {
      if (this.live?.worker === worker) this.kill();
    });
    this.live = { worker, ready, busy: false };
    this.post(worker, { type: 'init', indexURL: this.options.indexURL, memoryLimitBytes: this.options.memoryLimitBytes });
    return this.live;
  }

  private post(worker: Worker, msg: PythonRequest): void {
    worker.postMessage(msg);
  }
}
