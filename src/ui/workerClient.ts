// The page's handle on the engine: the library's own client (src/lib/client.ts), so the app
// runs on exactly the public API a page outside this repo gets. One client, one worker.

import { createQuicksilver, type Quicksilver } from '../lib';

export type WorkerClient = Quicksilver;

let client: Quicksilver | null = null;

/** Start the worker on first use and return the client. */
export function workerClient(): Quicksilver {
  // cache: false: the app's service worker (src/sw.ts) keeps model files for offline use.
  client ??= createQuicksilver({ baseUrl: '/models/', cache: false });
  return client;
}
