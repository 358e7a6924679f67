// Helper threads for the CPU engine: n − 1 workers, each with its own instance of the shared-
// memory kernel module on the same WebAssembly.Memory. The calling thread is thread 0 and works on
// every parallel operation too.
//
// Work is CLAIMED, not pre-split: an operation's U work units are handed out in chunks through an
// atomic counter, so a thread that is asleep or descheduled (the machine may be busy) takes nothing
// and the others do its share. Control block (Int32 slots at `ctrl` in the shared memory):
//   [0] generation: bumped (and notified) once the op, its arguments and [1..3] are written
//   [1] claim: (generation & 0xfff) << 20 | next unit; a claim only succeeds for its own generation
//   [2] completed units; the caller waits until it reaches U
//   [3] U, and [4..] the op and its arguments (runtime.ts; read by the kernel module's run()).
//   chunk size and quit live in slots 30 and 31; slot 32 + tid counts the units thread tid ran.
//   At most MAX_THREADS threads.
// Why stale threads are harmless: a worker reads the arguments, then claims; the caller rewrites
// the arguments only after all U units completed, i.e. after every successful claim of that
// generation finished, and it stores the next claim word (new generation) before bumping [0].
// Workers spin briefly on [0] (during a forward the next op follows within microseconds), then sleep
// in Atomics.wait. The caller sleeps on [2] if this thread may block (not a browser main thread).
//
// The worker is a small classic script (below, as text) so it runs unchanged as a browser Worker
// (from a Blob URL) and as a Node worker_threads Worker (eval).

export const SLOT = { gen: 0, claim: 1, completed: 2, units: 3, chunk: 30, quit: 31, stats: 32 } as const;
export const MAX_THREADS = 64;
const UNIT_BITS = 20;
const UNIT_MASK = (1 << UNIT_BITS) - 1;
/** Largest unit count one operation may have. */
export const MAX_UNITS = UNIT_MASK;

const WORKER_SOURCE = `
'use strict';
const isNode = typeof require === 'function';
const port = isNode ? require('node:worker_threads').parentPort : self;
const SPIN = 20000;
function start(d) {
  const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory } });
  const run = inst.exports.run;
  const ctl = new Int32Array(d.memory.buffer, d.ctrl, ${SLOT.stats + 64});
  let gen = Atomics.load(ctl, ${SLOT.gen});
  port.postMessage('ready');
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctl, ${SLOT.gen}) === gen) {
      if (++spins > SPIN) Atomics.wait(ctl, ${SLOT.gen}, gen);
    }
    gen = Atomics.load(ctl, ${SLOT.gen});
    if (Atomics.load(ctl, ${SLOT.quit}) !== 0) break;
    const units = Atomics.load(ctl, ${SLOT.units});
    const chunk = Atomics.load(ctl, ${SLOT.chunk});
    const tag = (gen & 0xfff) << ${UNIT_BITS};
    for (;;) {
      const v = Atomics.load(ctl, ${SLOT.claim});
      if ((v & ~${UNIT_MASK}) !== tag) break;
      const u0 = v & ${UNIT_MASK};
      if (u0 >= units) break;
      const u1 = Math.min(u0 + chunk, units);
      if (Atomics.compareExchange(ctl, ${SLOT.claim}, v, tag | u1) !== v) continue;
      try { run(d.ctrl, d.tid, u0, u1); } catch (e) { port.postMessage('error: ' + (e && e.message)); }
      Atomics.add(ctl, ${SLOT.stats} + d.tid, u1 - u0);
      Atomics.add(ctl, ${SLOT.completed}, u1 - u0);
      Atomics.notify(ctl, ${SLOT.completed});
    }
  }
}
if (isNode) port.once('message', start); else self.onmessage = (e) => start(e.data);
`;

interface AnyWorker {
  postMessage(msg: unknown): void;
  terminate(): unknown;
}

/** Can this thread block in Atomics.wait? (Not a browser's main thread.) */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

function spawn(onMessage: (msg: string) => void): AnyWorker {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  if (proc?.versions?.node && proc.getBuiltinModule) {
    const { Worker: NodeWorker } = proc.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
    const w = new NodeWorker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (m) => onMessage(String(m)));
    w.on('error', (e: Error) => onMessage(`error: ${e.message}`));
    return w;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url, { name: 'quicksilver-cpu-thread' });
  URL.revokeObjectURL(url);
  w.onmessage = (e) => onMessage(String(e.data));
  w.onerror = (e) => onMessage(`error: ${e.message}`);
  return w;
}

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly block = canBlock();
  private gen = 0;
  private disposed = false;
  /** Error text a worker reported (a kernel trap): thrown by the next run(). */
  private failure: string | null = null;

  private constructor(readonly n: number, private readonly workers: AnyWorker[], memory: WebAssembly.Memory, ctrl: number) {
    this.ctl = new Int32Array(memory.buffer, ctrl, SLOT.stats + MAX_THREADS);
    this.gen = Atomics.load(this.ctl, SLOT.gen);
  }

  /** Start n − 1 workers on `memory` (shared) running `module`; resolves when all are ready. */
  static async start(n: number, module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number): Promise<ThreadPool> {
    const workers: AnyWorker[] = [];
    const ready: Promise<void>[] = [];
    const holder: { pool: ThreadPool | null } = { pool: null };
    for (let tid = 1; tid < n; tid++) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      ready.push(new Promise<void>((res, rej) => ((resolve = res), (reject = rej))));
      const w = spawn((msg) => {
        if (msg === 'ready') resolve();
        else if (msg.startsWith('error')) {
          reject(new Error(`CPU engine thread ${tid}: ${msg}`));
          if (holder.pool) holder.pool.failure = msg;
        }
      });
      w.postMessage({ module, memory, ctrl, tid, n });
      workers.push(w);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error('CPU engine: threads did not start within 20 s')), 20_000)));
    try {
      await Promise.race([Promise.all(ready), timeout]);
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    const pool = new ThreadPool(n, workers, memory, ctrl);
    holder.pool = pool;
    return pool;
  }

  /**
   * Run `units` work units of the op already written to the control block, in chunks of `chunk`,
   * on every thread that claims some; `runRange(u0, u1)` runs a range on this thread.
   */
  run(units: number, chunk: number, runRange: (u0: number, u1: number) => void): void {
    if (this.disposed) throw new Error('CPU engine: thread pool disposed');
    if (units > MAX_UNITS) throw new Error(`CPU engine: ${units} work units exceed ${MAX_UNITS}`);
    const ctl = this.ctl;
    const gen = (this.gen = (this.gen + 1) | 0);
    const tag = (gen & 0xfff) << UNIT_BITS;
    Atomics.store(ctl, SLOT.units, units);
    Atomics.store(ctl, SLOT.chunk, Math.max(1, chunk));
    Atomics.store(ctl, SLOT.completed, 0);
    Atomics.store(ctl, SLOT.claim, tag);
    Atomics.store(ctl, SLOT.gen, gen);
    Atomics.notify(ctl, SLOT.gen);
    // our own claims
    for (;;) {
      const v = Atomics.load(ctl, SLOT.claim);
      const u0 = v & UNIT_MASK;
      if (u0 >= units) break;
      const u1 = Math.min(u0 + chunk, units);
      if (Atomics.compareExchange(ctl, SLOT.claim, v, tag | u1) !== v) continue;
      runRange(u0, u1);
      Atomics.add(ctl, SLOT.stats, u1 - u0);
      Atomics.add(ctl, SLOT.completed, u1 - u0);
    }
    // wait for chunks other threads claimed
    let spins = 0;
    let since = 0;
    for (;;) {
      const done = Atomics.load(ctl, SLOT.completed);
      if (done >= units) break;
      if (++spins > 20_000) {
        if (this.block) Atomics.wait(ctl, SLOT.completed, done, 20);
        since ||= performance.now();
        if (this.failure || performance.now() - since > 120_000) {
          this.dispose();
          throw new Error(`CPU engine: helper threads stopped answering${this.failure ? ` (${this.failure})` : ''}`);
        }
      }
    }
    if (this.failure) throw new Error(`CPU engine thread failed: ${this.failure}`);
  }

  /** Work units each thread ran so far (index = thread id; 0 = the calling thread). */
  unitsByThread(): number[] {
    return Array.from({ length: this.n }, (_, t) => Atomics.load(this.ctl, SLOT.stats + t));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctl, SLOT.quit, 1);
    Atomics.add(this.ctl, SLOT.gen, 1);
    Atomics.notify(this.ctl, SLOT.gen);
    for (const w of this.workers) void w.terminate();
  }
}
