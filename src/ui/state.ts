// UI-side state types (page only; what crosses the worker boundary lives in src/protocol.ts).

import type { AdapterReport, WebGPUUnavailableReason } from '../protocol';

/** Why the page has no usable engine: a WebGPU reason from the worker, or a page-side failure. */
export type UnavailableReason = WebGPUUnavailableReason | 'worker-failed';

export type AdapterState =
  | { status: 'probing' }
  | { status: 'ready'; adapter: AdapterReport; crossOriginIsolated: boolean }
  | { status: 'unavailable'; reason: UnavailableReason; message: string };

/** Filled in once model loading exists (engine); the status bar already renders every case. */
export type ModelState =
  | { status: 'none' }
  | { status: 'loading'; modelId: string; fraction: number }
  | { status: 'ready'; modelId: string; parameterCount: number }
  | { status: 'error'; modelId: string; message: string };

/** Service-worker / connectivity state shown in the status bar. */
export interface OfflineState {
  /** The service worker has precached the app shell: it will start without network. */
  offlineReady: boolean;
  online: boolean;
}
