// window.__qs: a small, stable handle for end-to-end tests (and curious users in DevTools).
// It only forwards to the worker; arguments and results are plain arrays so Playwright can
// pass them through page.evaluate.

import { workerClient } from './workerClient';
import type { ProbeResponse } from '../protocol';

export interface TestHook {
  probe(): Promise<ProbeResponse>;
  /** out = a + b computed by shaders/add_vectors.wgsl in the worker. */
  addVectors(a: ArrayLike<number>, b: ArrayLike<number>): Promise<{ out: number[]; ms: number }>;
  crossOriginIsolated: boolean;
}

declare global {
  interface Window {
    __qs?: TestHook;
  }
}

export function installTestHook(): void {
  window.__qs = {
    probe: () => workerClient().probe(),
    async addVectors(a, b) {
      const res = await workerClient().addVectors({ a: Float32Array.from(a), b: Float32Array.from(b) });
      return { out: Array.from(res.out), ms: res.ms };
    },
    crossOriginIsolated: window.crossOriginIsolated,
  };
}
