// The page's handle on the engine worker: one module worker, wrapped by comlink.

import * as Comlink from 'comlink';
import type { QuicksilverWorkerApi } from '../protocol';

export type WorkerClient = Comlink.Remote<QuicksilverWorkerApi>;

let client: WorkerClient | null = null;

/** Start the worker on first use and return its typed remote. */
export function workerClient(): WorkerClient {
  if (!client) {
    // `new URL(..., import.meta.url)` with `type: 'module'` lets Vite bundle the worker as its
    // own chunk (precached by the service worker like any other asset).
    const worker = new Worker(new URL('../worker/worker.ts', import.meta.url), {
      type: 'module',
      name: 'quicksilver-engine',
    });
    client = Comlink.wrap<QuicksilverWorkerApi>(worker);
  }
  return client;
}
