// Probe WebGPU once on mount: a quick page-side check, then the worker's real adapter request.

import { useEffect, useState } from 'react';
import type { AdapterState } from './state';
import { workerClient } from './workerClient';

export function useAdapter(): AdapterState {
  const [state, setState] = useState<AdapterState>({ status: 'probing' });

  useEffect(() => {
    let live = true;
    probeAdapter().then((next) => {
      if (live) setState(next);
    });
    return () => {
      live = false;
    };
  }, []);

  return state;
}

export async function probeAdapter(): Promise<AdapterState> {
  // Without navigator.gpu in the page there is no point starting the worker (a worker sees the
  // same browser); this also keeps the message instant.
  if (!('gpu' in navigator) || !navigator.gpu) {
    return {
      status: 'unavailable',
      reason: 'no-navigator-gpu',
      message: window.isSecureContext
        ? 'navigator.gpu is undefined in this browser.'
        : 'navigator.gpu is undefined: this page is not a secure context (use https or localhost).',
    };
  }
  try {
    // The client refuses a worker of another protocol version (a stale cached chunk): caught below.
    const res = await workerClient().probe();
    if (!res.ok) return { status: 'unavailable', reason: res.reason, message: res.message };
    return { status: 'ready', adapter: res.adapter, crossOriginIsolated: res.crossOriginIsolated };
  } catch (err) {
    return {
      status: 'unavailable',
      reason: 'worker-failed',
      message: `The engine worker failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
